"""The `reportsum` command: a thin typer layer over the Python API.

Exit codes: 0 all done, 1 some input failed (or, for verify, some number ungrounded),
2 usage or configuration error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from reportsum import __version__
from reportsum.atomic import write_text_atomic
from reportsum.ingest import IngestError, iter_inputs
from reportsum.pipeline import (
    ConfigError,
    FileOutcome,
    Settings,
    make_backend,
    resolve_backend,
    summarise_paths,
)
from reportsum.render import FORMATS, SUFFIX, render

app = typer.Typer(
    name="reportsum",
    help="Structured, number-grounded summaries of Chinese work reports (工作总结).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RULES_HINT = (
    "reportsum: no model configured, using the offline rules backend. To use a model, give "
    "--base-url/--api-key (or set OPENAI_BASE_URL/OPENAI_API_KEY) and --model (or REPORTSUM_MODEL)."
)


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


def _fail_usage(msg: str) -> typer.Exit:
    _err(f"reportsum: error: {msg}")
    return typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reportsum {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Structured, number-grounded summaries of Chinese work reports (工作总结)."""


def output_names(paths: list[Path], roots: list[Path], fmt: str) -> dict[Path, Path]:
    """Relative output path for each input: its path under the folder given, with the format's
    suffix; the input's own suffix is kept only where two inputs would otherwise collide."""
    rel: dict[Path, Path] = {}
    for p in paths:
        base = Path(p.name)
        for root in roots:
            if root.is_dir():
                try:
                    base = p.resolve().relative_to(root.resolve())
                    break
                except ValueError:
                    continue
        rel[p] = base
    out: dict[Path, Path] = {}
    stems: dict[Path, int] = {}
    for r in rel.values():
        k = r.with_suffix("")
        stems[k] = stems.get(k, 0) + 1
    for p, r in rel.items():
        k = r.with_suffix("")
        name = r.name + SUFFIX[fmt] if stems[k] > 1 else k.name + SUFFIX[fmt]
        out[p] = r.parent / name
    return out


@app.command()
def summarise(
    paths: Annotated[
        list[Path], typer.Argument(help="Report files or folders (searched recursively).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write one output file per input file into this folder "
                     "(atomically). Default: print to stdout."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json (one object per file), jsonl (one "
                          "document per line) or md (Markdown).")
    ] = "json",
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="openai or rules. Default: openai when a base URL or API "
                     "key is configured, otherwise rules (offline)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model name (env REPORTSUM_MODEL).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="API key (env OPENAI_API_KEY). Never logged or stored.")
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="How the model returns structure: tools, json or md_json.")
    ] = "tools",
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", help="Model calls in flight at once, across documents.")
    ] = 4,
    chunk_chars: Annotated[
        int, typer.Option("--chunk-chars", help="Character budget of one chunk sent to the model.")
    ] = 1800,
    prompt: Annotated[
        str, typer.Option("--prompt", help="Prompt name (see `reportsum prompts`) or a path to a prompt file.")
    ] = "default",
    max_reasks: Annotated[
        int, typer.Option("--max-reasks", help="Times a model is asked to fix ungrounded items.")
    ] = 2,
) -> None:
    """Summarise every report in PATHS into achievements, measures, problems and plans.

    Every number in the output is checked against the source; items that fail go to `rejected`.
    """
    if fmt not in FORMATS:
        raise _fail_usage(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    try:
        settings = resolve_backend(
            Settings(
                backend=backend, model=model, base_url=base_url, api_key=api_key, mode=mode,
                concurrency=concurrency, chunk_chars=chunk_chars, prompt=prompt, max_reasks=max_reasks,
            )
        )
        inputs = iter_inputs(paths)
        engine = make_backend(settings)
    except (ConfigError, IngestError) as exc:
        raise _fail_usage(str(exc)) from None
    if not inputs:
        raise _fail_usage("no input files found")
    if settings.backend == "rules":
        _err(RULES_HINT)
    names = output_names(inputs, paths, fmt) if out is not None else {}
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _fail_usage(f"cannot create output folder {out}: {exc.strerror}") from None

    failures: list[str] = []

    def done(outcome: FileOutcome) -> None:
        if outcome.error is not None or outcome.summary is None:
            failures.append(outcome.error or str(outcome.path))
            _err(f"reportsum: failed: {outcome.error}")
            return
        text = render(outcome.summary, fmt)
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        target = out / names[outcome.path]
        try:
            write_text_atomic(target, text)
        except OSError as exc:
            failures.append(f"{target}: {exc.strerror}")
            _err(f"reportsum: failed: cannot write {target}: {exc.strerror}")

    outcomes = asyncio.run(
        summarise_paths(inputs, engine, chunk_chars=settings.chunk_chars, on_done=done)
    )
    ok = sum(1 for o in outcomes if o.error is None)
    docs = sum(len(o.summary.documents) for o in outcomes if o.summary is not None)
    _err(f"reportsum: {ok} of {len(outcomes)} files summarised ({docs} documents), {len(failures)} failed")
    if failures:
        raise typer.Exit(1)


@app.command()
def verify(
    source: Annotated[Path, typer.Argument(help="The source report (txt, docx, pdf, html).")],
    summary: Annotated[
        Path, typer.Argument(help="A summary: reportsum JSON, any JSON with the four lists, or text/Markdown.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Check every number of SUMMARY against SOURCE. Exit 0: all grounded; 1: some not; 2: bad input."""
    from reportsum.ingest import read_file
    from reportsum.verify import VerifyInputError, load_summary
    from reportsum.verify import verify as run_verify

    try:
        raw = read_file(source)
        items = load_summary(summary)
    except (IngestError, VerifyInputError) as exc:
        raise _fail_usage(str(exc)) from None
    report = run_verify(raw.text, items)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(report.format_text())
    if not report.ok:
        raise typer.Exit(1)


@app.command("prompts")
def prompts_cmd() -> None:
    """List the bundled prompts: name, version, description."""
    from reportsum.prompts import list_prompts

    for p in list_prompts():
        typer.echo(f"{p.name}\tv{p.version}\t{p.description}")


def main() -> None:
    """Entry point of the `reportsum` script."""
    try:
        app()
    except KeyboardInterrupt:
        _err("reportsum: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
