"""The run store's verbs: `runs`, `show`, `regenerate`, `diff` (over `runs.store`)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Annotated

import typer

from reportsum.cli.common import (
    ApiKeyOpt,
    BackendName,
    Format,
    Mode,
    NoCacheOpt,
    QuietOpt,
    ShowFormat,
    StoreOpt,
    app,
    echo_stdout,
    err,
    fail_usage,
    finish,
    one_line,
    open_store,
    run_guarded,
    settings_or_exit,
    value,
)
from reportsum.models import DocumentSummary, FileSummary
from reportsum.outputs.render import render
from reportsum.pipeline import FileOutcome
from reportsum.runs.outfolder import OutputCollision, OutputFolder
from reportsum.runs.runner import run_batch, settings_from_record
from reportsum.runs.store import StoreError
from reportsum.stages.ingest import RawDocument


def _fmt_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


_RUN_COLUMNS = ("id", "time", "backend", "model", "prompt", "docs", "items", "rejected", "tokens",
                "prompt_tokens", "completion_tokens", "cached_tokens", "calls", "cache_hits", "cost",
                "outcome")


@app.command()
def runs(
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: the store's "
                                          "path and size, and the runs.")] = False,
) -> None:
    """List runs, newest first: id, time, backend, model, prompt, documents, items, rejected,
    tokens (total, prompt, completion, cached), calls, cache hits, estimated cost and outcome
    (tab-separated), then the store's size on stderr. Calls and tokens are what the run paid:
    every model call, failed ones included.

    **Example:** reportsum runs -n 5
    """
    from reportsum.runs.prices import estimate_cost, load_prices

    with open_store(store, create=False) as st:
        rows = st.runs(limit)
        prices = load_prices(st.path.parent)
        stats = st.stats()
        path = st.path
    table = []
    for r in rows:
        cost = estimate_cost(r.model, r.usage, prices)
        table.append((
            r.id, _fmt_time(r.created), r.backend, r.model or "-",
            f"{r.prompt_name}@{r.prompt_version}" if r.prompt_name else "-", r.documents, r.items,
            r.rejected, r.usage.get("total_tokens", 0), r.usage.get("prompt_tokens", 0),
            r.usage.get("completion_tokens", 0), r.usage.get("cached_tokens", 0),
            r.usage.get("calls", 0), r.usage.get("cache_hits", 0),
            "-" if cost is None else f"{cost:.4f}", r.outcome,
        ))
    if as_json:
        typer.echo(json.dumps({
            "store": str(path), "size_bytes": stats.size_bytes, "runs_total": stats.runs,
            "documents": stats.documents, "text_bytes": stats.text_bytes,
            "cache_entries": stats.cache_entries,
            "runs": [
                {**dict(zip(_RUN_COLUMNS, row, strict=True)), "time": r.created,
                 "cost": None if row[14] == "-" else float(row[14]),
                 "model": r.model, "prompt": row[4] if r.prompt_name else None}
                for r, row in zip(rows, table, strict=True)
            ],
        }, ensure_ascii=False, indent=2))
        return
    typer.echo("\t".join(_RUN_COLUMNS))
    for row in table:
        typer.echo("\t".join(one_line(str(x)) for x in row))
    err(f"reportsum: store {path}: {human_size(stats.size_bytes)}, {stats.runs} runs, "
        f"{stats.documents} document texts ({human_size(stats.text_bytes)} compressed), "
        f"{stats.cache_entries} cached answers; `reportsum prune` frees space")


_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")
_AGE_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}


def parse_age(text: str) -> float:
    """`30d`, `12h`, `2w`, `90m`, `45s` or a bare number of days -> seconds."""
    m = _AGE.match(text.strip().lower())
    if m is None:
        raise ValueError(f"cannot read age {text!r}: give e.g. 30d, 12h, 2w")
    return float(m.group(1)) * _AGE_SECONDS[m.group(2)]


@app.command()
def prune(
    older_than: Annotated[str, typer.Option("--older-than", metavar="AGE",
                                            help="Remove runs started longer ago than this: 30d, 12h, 2w, "
                                            "90m (a bare number is days); 0 removes every finished run.")] = "30d",
    keep_texts: Annotated[bool, typer.Option("--keep-texts", help="Keep the documents' full texts "
                                             "(so later runs can still be regenerated from them).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Say what would be removed; remove nothing.")] = False,
    store: StoreOpt = None,
) -> None:
    """Free store space: forget old runs (with their results, rejections and model calls),
    cached model answers as old, and the texts of documents no remaining run refers to.

    **Example:** reportsum prune --older-than 30d --dry-run
    """
    try:
        age = parse_age(older_than)
    except ValueError as exc:
        raise fail_usage(str(exc)) from None
    with open_store(store, create=False) as st:
        report = st.prune(before=time.time() - age, keep_texts=keep_texts, dry_run=dry_run)
        path = st.path
    texts = "texts kept" if keep_texts else f"{report.texts} document texts"
    if dry_run:
        typer.echo(f"would remove {report.runs} runs, {texts}, {report.cache_entries} cached answers "
                   f"from {path} ({human_size(report.bytes_before)}); nothing removed (--dry-run)")
    else:
        typer.echo(f"removed {report.runs} runs, {texts}, {report.cache_entries} cached answers from "
                   f"{path}: {human_size(report.bytes_before)} -> {human_size(report.bytes_after)}")


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run id (a unique prefix, or 'last').")],
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="Output format.")] = ShowFormat.json,
    store: StoreOpt = None,
) -> None:
    """Print a run's summaries: one JSON object per input file (an array when the run had
    several), or Markdown.

    **Example:** reportsum show last -f md
    """
    fmt_s = value(fmt) or "json"
    with open_store(store, create=False) as st:
        try:
            rid = st.run(run_id).id
        except StoreError as exc:
            raise fail_usage(str(exc)) from None
        docs = st.results(rid)
        failed = st.failures(rid)
    by_source: dict[str, list[DocumentSummary]] = {}
    for d in docs:
        by_source.setdefault(d.document.source, []).append(d)
    files = [FileSummary(source=source, documents=items) for source, items in by_source.items()]
    if fmt_s == "json" and len(files) > 1:
        echo_stdout("[\n" + ",\n".join(render(f, "json").rstrip("\n") for f in files) + "\n]\n")
    else:
        for f in files:
            echo_stdout(render(f, fmt_s))
    for source, error in failed:
        err(f"reportsum: {source}: failed in that run: {_strip_path(error, source)}")


def _strip_path(error: str, source: str) -> str:
    """An error without the file's path or name in front (the line names the file once)."""
    for prefix in (f"{source}: ", f"{Path(source).name}: "):
        if error.startswith(prefix):
            return error[len(prefix):]
    return error


@app.command()
def regenerate(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run whose documents to redo.")],
    prompt: Annotated[str | None, typer.Option("--prompt", metavar="NAME|PATH", help="The other prompt (name or path).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model (default: the run's).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Endpoint (default: the run's).")] = None,
    api_key: ApiKeyOpt = None,
    mode: Annotated[Mode | None, typer.Option("--mode", help="Default: the run's.", show_default=False)] = None,
    backend: Annotated[BackendName | None, typer.Option("--backend", help="Default: the run's.",
                                                        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="DIR", help="Also write outputs into this folder, "
                                             "named as `summarise -o` names them (html: with an index page).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format (with --out).")] = Format.json,
    store: StoreOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Re-run a run's documents with another prompt or model, as a new run (see `reportsum diff`);
    the documents' texts come from the store. Prints the new run's id.

    **Example:** reportsum regenerate last --prompt strict -o redo/
    """
    fmt_s = value(fmt) or "json"
    with open_store(store, create=False) as st:
        try:
            row = st.run(run_id)
        except StoreError as exc:
            raise fail_usage(str(exc)) from None
        old = row.settings
        settings = settings_or_exit(settings_from_record(
            old,
            backend=value(backend) or row.backend,
            model=model or row.model,
            base_url=base_url or old.get("base_url"),
            api_key=api_key,
            mode=value(mode) or row.mode or "tools",
            prompt=prompt or str(old.get("prompt") or "default"),
        ))
        raws = []
        unread = 0
        for source, sha in st.run_sources(row.id):
            text = st.document_text(sha)
            if text is None:
                err(f"reportsum: {source}: text not in the store (pruned?), skipped")
                unread += 1
                continue
            raws.append(RawDocument(path=Path(source), text=text, encoding="utf-8", kind="stored", sha256=sha))
        if not raws:
            raise fail_usage(f"run {row.id} has no stored documents to regenerate")
        try:
            folder = (OutputFolder(out, fmt_s, inputs=[r.path for r in raws]) if out is not None else None)
        except OutputCollision as exc:
            raise fail_usage(f"outputs would collide, nothing written: {exc}") from None
        except OSError as exc:
            raise fail_usage(f"cannot use output folder {out}: {exc.strerror}") from None

        def done(outcome: FileOutcome) -> None:
            if outcome.error is not None or outcome.summary is None:
                err(f"reportsum: {outcome.path}: failed: {_strip_path(outcome.error or 'no summary', str(outcome.path))}")
                return
            error = folder.write(outcome) if folder is not None else None
            if error is not None:
                err(f"reportsum: {outcome.path}: failed: {error}")

        result = run_guarded(
            lambda: run_batch(st, settings, raws=raws, command="regenerate", use_cache=not no_cache,
                              parent_run=row.id, on_done=done),
            resume=f"run `reportsum regenerate {row.id}` again (answers received come from the cache)",
        )
    if folder is not None:
        folder.close()
        if fmt_s == "html":
            error = folder.write_index(result.outcomes)
            if error is not None:
                err(f"reportsum: failed: {error}")
    typer.echo(result.run_id)
    finish(result, folder.failures if folder is not None else [], unread=unread, quiet=quiet)


@app.command()
def diff(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="The run to compare from (id, prefix or 'last').")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="The run to compare to.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    store: StoreOpt = None,
) -> None:
    """Per document and section: items added and removed, numbers gained and lost, rejections.

    **Example:** reportsum diff 3f2a last
    """
    from reportsum.runs.rundiff import diff_runs, format_diff

    with open_store(store, create=False) as st:
        try:
            a, b = st.run(run_a).id, st.run(run_b).id
        except StoreError as exc:
            raise fail_usage(str(exc)) from None
        diffs = diff_runs(st.results(a), st.results(b))
    if as_json:
        typer.echo(json.dumps([d.to_dict() for d in diffs], ensure_ascii=False, indent=2))
    else:
        typer.echo(format_diff(diffs, a, b))
