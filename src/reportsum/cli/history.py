"""The run store's verbs: `runs`, `show`, `regenerate`, `diff` (over `runs.store`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from reportsum.cli.common import (
    ApiKeyOpt,
    NoCacheOpt,
    StoreOpt,
    app,
    echo_stdout,
    err,
    fail_usage,
    finish,
    open_store,
    run_guarded,
    settings_or_exit,
)
from reportsum.models import DocumentSummary, FileSummary
from reportsum.outputs.render import FORMATS, render
from reportsum.pipeline import FileOutcome, Settings
from reportsum.runs.outfolder import OutputFolder
from reportsum.runs.runner import run_batch
from reportsum.runs.store import StoreError
from reportsum.stages.ingest import RawDocument


def _fmt_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


@app.command()
def runs(
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to list.")] = 20,
) -> None:
    """List runs, newest first: id, time, backend, model, prompt, documents, items, rejected,
    tokens (total, prompt, completion, cached), calls, cache hits, estimated cost and outcome.
    Calls and tokens are what the run paid: every model call, failed ones included."""
    from reportsum.runs.prices import estimate_cost, load_prices

    with open_store(store) as st:
        rows = st.runs(limit)
        prices = load_prices(st.path.parent)
    typer.echo("id\ttime\tbackend\tmodel\tprompt\tdocs\titems\trejected\ttokens\tprompt_tokens"
               "\tcompletion_tokens\tcached_tokens\tcalls\tcache_hits\tcost\toutcome")
    for r in rows:
        cost = estimate_cost(r.model, r.usage, prices)
        prompt = f"{r.prompt_name}@{r.prompt_version}" if r.prompt_name else "-"
        typer.echo("\t".join(str(x) for x in (
            r.id, _fmt_time(r.created), r.backend, r.model or "-", prompt, r.documents, r.items,
            r.rejected, r.usage.get("total_tokens", 0), r.usage.get("prompt_tokens", 0),
            r.usage.get("completion_tokens", 0), r.usage.get("cached_tokens", 0),
            r.usage.get("calls", 0), r.usage.get("cache_hits", 0),
            "-" if cost is None else f"{cost:.4f}", r.outcome,
        )))


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run id (a unique prefix, or 'last').")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or md.")] = "json",
    store: StoreOpt = None,
) -> None:
    """Print a run's summaries."""
    if fmt not in ("json", "md"):
        raise fail_usage("--format must be json or md")
    with open_store(store) as st:
        try:
            rid = st.run(run_id).id
        except StoreError as exc:
            raise fail_usage(str(exc)) from None
        docs = st.results(rid)
        failed = st.failures(rid)
    by_source: dict[str, list[DocumentSummary]] = {}
    for d in docs:
        by_source.setdefault(d.document.source, []).append(d)
    for source, items in by_source.items():
        echo_stdout(render(FileSummary(source=source, documents=items), fmt))
    for source, error in failed:
        err(f"reportsum: {source}: failed in that run: {error}")


@app.command()
def regenerate(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run whose documents to redo.")],
    prompt: Annotated[str | None, typer.Option("--prompt", help="The other prompt (name or path).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model (default: the run's).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Endpoint (default: the run's).")] = None,
    api_key: ApiKeyOpt = None,
    mode: Annotated[str | None, typer.Option("--mode", help="tools, json, md_json or json_schema (default: the run's).")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="openai or rules (default: the run's).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write outputs into this folder.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, jsonl or md (with --out).")] = "json",
    store: StoreOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Re-run a run's documents with another prompt or model, as a new run (see `reportsum diff`)."""
    if fmt not in FORMATS:
        raise fail_usage(f"unknown format {fmt!r}")
    with open_store(store) as st:
        try:
            row = st.run(run_id)
        except StoreError as exc:
            raise fail_usage(str(exc)) from None
        old = row.settings
        settings = settings_or_exit(Settings(
            backend=backend or row.backend,
            model=model or row.model,
            base_url=base_url or old.get("base_url"),
            api_key=api_key,
            mode=mode or row.mode or "tools",
            concurrency=int(old.get("concurrency") or 4),
            chunk_chars=int(old.get("chunk_chars") or 1800),
            prompt=prompt or str(old.get("prompt") or "default"),
            max_reasks=int(old.get("max_reasks") or 2),
            all_items=bool(old.get("all_items") or False),
            max_tokens=int(old["max_tokens"]) if old.get("max_tokens") else None,
        ))
        raws = []
        for source, sha in st.run_sources(row.id):
            text = st.document_text(sha)
            if text is None:
                err(f"reportsum: {source}: text not in the store, skipped")
                continue
            raws.append(RawDocument(path=Path(source), text=text, encoding="utf-8", kind="stored", sha256=sha))
        if not raws:
            raise fail_usage(f"run {row.id} has no stored documents to regenerate")
        folder = OutputFolder(out, fmt) if out is not None else None

        def done(outcome: FileOutcome) -> None:
            assert folder is not None
            if outcome.error is not None or outcome.summary is None:
                err(f"reportsum: failed: {outcome.error}")
                return
            error = folder.write(outcome)
            if error is not None:
                err(f"reportsum: failed: {error}")

        result = run_guarded(
            lambda: run_batch(st, settings, raws=raws, command="regenerate", use_cache=not no_cache,
                              parent_run=row.id, on_done=done if folder is not None else None),
            resume=f"run `reportsum regenerate {row.id}` again (answers received come from the cache)",
        )
    typer.echo(result.run_id)
    finish(result, folder.failures if folder is not None else [])


@app.command()
def diff(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    store: StoreOpt = None,
) -> None:
    """Per document and section: items added and removed, numbers gained and lost, rejections."""
    from reportsum.runs.rundiff import diff_runs, format_diff

    with open_store(store) as st:
        try:
            a, b = st.run(run_a).id, st.run(run_b).id
        except StoreError as exc:
            raise fail_usage(str(exc)) from None
        diffs = diff_runs(st.results(a), st.results(b))
    if as_json:
        typer.echo(json.dumps([d.to_dict() for d in diffs], ensure_ascii=False, indent=2))
    else:
        typer.echo(format_diff(diffs, a, b))
