"""Measuring and checking: `verify` (over `grounding.verify`), `eval` (over
`evaluation.evaluate`) and `prompts` (over `backends.prompts`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reportsum.cli.common import (
    ApiKeyOpt,
    BackendOpt,
    BaseUrlOpt,
    ConcurrencyOpt,
    Mode,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    StoreOpt,
    app,
    err,
    fail_usage,
    open_store,
    settings_or_exit,
    value,
)
from reportsum.outputs.atomic import write_text_atomic
from reportsum.pipeline import ConfigError, Settings
from reportsum.runs.store import StoreError
from reportsum.stages.ingest import IngestError


@app.command()
def verify(
    source: Annotated[Path, typer.Argument(
        metavar="SOURCE", show_default=False,
        help="The source report (txt, docx, doc, wps, pdf, html, or an image with the ocr extra).")],
    summary: Annotated[
        Path, typer.Argument(metavar="SUMMARY", show_default=False,
                             help="A summary: reportsum JSON, any JSON with the four lists, or text/Markdown.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Check every number of SUMMARY against SOURCE. Exit 0: all grounded; 1: some not; 2: bad input.

    **Example:** reportsum verify report.txt summary.md
    """
    from reportsum.grounding.verify import VerifyInputError, load_summary
    from reportsum.grounding.verify import verify as run_verify
    from reportsum.stages.ingest import read_file

    try:
        raw = read_file(source)
        items = load_summary(summary)
    except (IngestError, VerifyInputError) as exc:
        raise fail_usage(str(exc)) from None
    report = run_verify(raw.text, items)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(report.format_text())
    if not report.ok:
        raise typer.Exit(1)


@app.command("eval")
def eval_cmd(
    gold: Annotated[list[Path], typer.Argument(metavar="GOLD...", help="Gold files or folders "
                                              "(see schemas/gold.schema.json).", show_default=False)],
    prompt: Annotated[
        list[str] | None,
        typer.Option("--prompt", metavar="NAME|PATH",
                     help="A prompt to evaluate; repeat to compare prompts side by side."),
    ] = None,
    run: Annotated[
        list[str] | None, typer.Option("--run", metavar="RUN", help="Score an existing run instead; repeatable.")
    ] = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = Mode.tools,
    concurrency: ConcurrencyOpt = 4,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every figure as JSON here.")] = None,
    min_f1: Annotated[
        float | None, typer.Option("--min-f1", help="Exit 1 when any contender's overall F1 is lower.")
    ] = None,
    store: StoreOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Score summaries against gold files: P/R/F1 per section, number recall/precision,
    rejections, calls, tokens and time, with prompts (or runs) side by side.

    **Example:** reportsum eval eval/gold --prompt default --prompt strict --json scores.json
    """
    from rich.console import Console

    from reportsum.evaluation.evaluate import Contender, collect_gold, evaluate
    from reportsum.evaluation.gold import GoldError

    try:
        golds = collect_gold(gold)
    except GoldError as exc:
        raise fail_usage(str(exc)) from None
    if not golds:
        raise fail_usage("no gold files found")
    contenders: list[Contender] = [Contender(label=f"run {r}", run_id=r) for r in run or []]
    if not contenders or prompt:
        for name in prompt or ["default"]:
            settings = settings_or_exit(Settings(
                backend=value(backend), model=model, base_url=base_url, api_key=api_key,
                mode=value(mode) or "tools",
                concurrency=concurrency, prompt=name,
            ))
            label = settings.backend if settings.backend == "rules" else f"{settings.model}:{name}"
            contenders.append(Contender(label=label, settings=settings))
    # Scoring existing runs only reads the store; evaluating a prompt records runs in it.
    with open_store(store, create=bool(prompt) or not run) as st:
        try:
            report = evaluate(golds, contenders, st, use_cache=not no_cache)
        except (ConfigError, StoreError) as exc:
            raise fail_usage(str(exc)) from None
    Console(width=160).print(report.table())
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    if min_f1 is not None and report.min_f1() < min_f1:
        err(f"reportsum: overall F1 {report.min_f1():.3f} is below --min-f1 {min_f1}")
        raise typer.Exit(1)


@app.command("prompts")
def prompts_cmd() -> None:
    """List the bundled prompts: name, version, description (tab-separated).

    **Example:** reportsum prompts
    """
    from reportsum.backends.prompts import list_prompts

    for p in list_prompts():
        typer.echo(f"{p.name}\tv{p.version}\t{p.description}")
