"""The `reportsum` command: a thin typer layer over the Python API.

Exit codes: 0 all done, 1 some input failed (or, for verify, some number ungrounded),
2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from reportsum import __version__
from reportsum.atomic import write_text_atomic
from reportsum.ingest import IngestError, RawDocument, iter_inputs
from reportsum.models import DocumentSummary, FileSummary
from reportsum.pipeline import ConfigError, FileOutcome, Settings, resolve_backend
from reportsum.progress import BatchProgress
from reportsum.render import FORMATS, SUFFIX, render
from reportsum.resume import DoneLog, remove_stale_temps, settings_fingerprint
from reportsum.runner import BatchResult, run_batch
from reportsum.store import Store, StoreError, default_store_path

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


StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="SQLite run store (default: $REPORTSUM_HOME/reportsum.db or the "
                 "user data directory)."),
]


def _open_store(path: Path | None) -> Store:
    try:
        return Store(path or default_store_path())
    except StoreError as exc:
        raise _fail_usage(str(exc)) from None


def _write_outcome(
    outcome: FileOutcome, out: Path | None, fmt: str, names: dict[Path, Path]
) -> tuple[str | None, str | None]:
    """Render a summarised file and write it into `out` (or print it): (text, write error)."""
    assert outcome.summary is not None
    text = outcome.rendered
    if text is None:
        text = render(outcome.summary, fmt, outcome.raw.text if outcome.raw else None)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return text, None
    target = out / names.get(outcome.path, Path(outcome.path.name + SUFFIX[fmt]))
    try:
        write_text_atomic(target, text)
    except OSError as exc:
        return None, f"{target}: {exc.strerror}"
    return text, None


def _write_outcomes(
    out: Path | None, fmt: str, names: dict[Path, Path], failures: list[str]
) -> Callable[[FileOutcome], None]:
    def done(outcome: FileOutcome) -> None:
        if outcome.error is not None or outcome.summary is None:
            _err(f"reportsum: failed: {outcome.error}")
            return
        _, error = _write_outcome(outcome, out, fmt, names)
        if error is not None:
            failures.append(error)
            _err(f"reportsum: failed: cannot write {error}")

    return done


INDEX_SIDECAR = ".reportsum-index.json"


def _write_index(out: Path, names: dict[Path, Path], result: BatchResult, failures: list[str]) -> None:
    """Write OUT/index.html linking every page in the folder, in input order.

    Pages skipped as already done (resume) are listed from the sidecar file earlier runs
    left, so the index always covers every page, not only this run's."""
    from dataclasses import asdict
    from pathlib import PurePath

    from reportsum.html import IndexEntry, index_entry, index_name, render_index

    sidecar = out / INDEX_SIDECAR
    try:
        known: dict[str, dict[str, object]] = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    summaries = {o.path: o.summary for o in result.outcomes if o.error is None and o.summary}
    for p, rel in names.items():
        if p in summaries and not any(f.startswith(f"{out / rel}: ") for f in failures):
            known[rel.as_posix()] = {**asdict(index_entry(rel, summaries[p])), "href": rel.as_posix()}
    entries = []
    for rel in names.values():
        fields = known.get(rel.as_posix())
        if fields is not None and (out / rel).exists():
            entries.append(IndexEntry(**{**fields, "href": PurePath(str(fields["href"]))}))  # type: ignore[arg-type]
    target = out / index_name(names.values())
    try:
        write_text_atomic(sidecar, json.dumps(known, ensure_ascii=False, indent=1))
        write_text_atomic(target, render_index(entries))
    except OSError as exc:
        failures.append(f"{target}: {exc.strerror}")
        _err(f"reportsum: failed: cannot write {target}: {exc.strerror}")


def _finish(result: BatchResult, extra_failures: list[str], skipped: int = 0) -> None:
    u = result.usage
    done = f", {skipped} skipped (done)" if skipped else ""
    _err(
        f"reportsum: run {result.run_id}: {len(result.outcomes) - len(result.failures)} of "
        f"{len(result.outcomes) + skipped} files summarised ({result.documents} documents), "
        f"{len(result.failures)} failed{done}; {u.calls} model calls, {u.cache_hits} cache hits, "
        f"{u.total_tokens} tokens, {result.seconds:.1f}s"
    )
    if result.failures or extra_failures:
        raise typer.Exit(1)


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
                          "document per line), md (Markdown) or html (a page per file, evidence "
                          "highlighted in the source).")
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
    retries: Annotated[
        int, typer.Option("--retries", help="Retries of a failed HTTP call (429, 5xx, timeouts), "
                          "with backoff; Retry-After is honoured.")
    ] = 4,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for one model answer.")
    ] = 120.0,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Processes to spread the files over; --concurrency is "
                     "shared between them. Default: for 8 files or more, one per core (a model "
                     "backend one more), at most 4; else 1."),
    ] = None,
    store: StoreOpt = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Call the model even when the cache has the answer.")
    ] = False,
    no_resume: Annotated[
        bool, typer.Option("--no-resume", "--force", help="With --out, redo inputs whose output is "
                           "already done (by default they are skipped).")
    ] = False,
) -> None:
    """Summarise every report in PATHS into achievements, measures, problems and plans.

    Every number in the output is checked against the source; items that fail go to `rejected`.
    Each run is recorded in the store (see `reportsum runs`). With --out, a run that was
    stopped can be started again: inputs whose output is done (same input bytes, same backend,
    model, prompt, mode and chunk size; logged in OUT/.reportsum-done.jsonl) are skipped.
    Progress goes to stderr: a live bar on a terminal, one line per file otherwise.
    """
    if fmt not in FORMATS:
        raise _fail_usage(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if workers is not None and workers < 1:
        raise _fail_usage("workers must be at least 1")
    try:
        settings = resolve_backend(
            Settings(
                backend=backend, model=model, base_url=base_url, api_key=api_key, mode=mode,
                concurrency=concurrency, chunk_chars=chunk_chars, prompt=prompt, max_reasks=max_reasks,
                max_retries=retries, timeout=timeout,
            )
        )
        inputs = iter_inputs(paths)
    except (ConfigError, IngestError) as exc:
        raise _fail_usage(str(exc)) from None
    if not inputs:
        raise _fail_usage("no input files found")
    if settings.backend == "rules":
        _err(RULES_HINT)
    names = output_names(inputs, paths, fmt) if out is not None else {}
    done_log: DoneLog | None = None
    todo = inputs
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            fingerprint = settings_fingerprint(settings)
            remove_stale_temps(out, list(names.values()))
            done_log = DoneLog(out)
        except ConfigError as exc:
            raise _fail_usage(str(exc)) from None
        except OSError as exc:
            raise _fail_usage(f"cannot use output folder {out}: {exc.strerror}") from None
        if not no_resume:
            todo = [p for p in inputs if not done_log.is_done(names[p], p, fingerprint)]
    skipped = len(inputs) - len(todo)
    if not todo:
        _err(f"reportsum: nothing to do: 0 of {len(inputs)} files summarised, {skipped} skipped "
             "(done); 0 model calls, 0 cache hits, 0 tokens, 0.0s; --no-resume redoes them")
        return
    if skipped:
        _err(f"reportsum: {skipped} of {len(inputs)} files already done in {out}, skipped "
             "(--no-resume redoes them)")
    failures: list[str] = []
    with _open_store(store) as st, BatchProgress(len(todo)) as progress:

        def done(outcome: FileOutcome) -> None:
            error = None
            if outcome.error is None and outcome.summary is not None:
                text, error = _write_outcome(outcome, out, fmt, names)
                if error is not None:
                    failures.append(error)
                    error = f"cannot write {error}"
                elif done_log is not None and text is not None and outcome.raw is not None:
                    done_log.record(names[outcome.path], outcome.raw.sha256, text, fingerprint)
            progress.file_done(outcome, error)

        try:
            result = run_batch(st, settings, paths=todo, use_cache=not no_cache, on_done=done,
                               on_chunks=progress.chunks, workers=workers,
                               render=lambda summary, text: render(summary, fmt, text))
        except ConfigError as exc:
            raise _fail_usage(str(exc)) from None
        finally:
            if done_log is not None:
                done_log.close()
    if out is not None and fmt == "html":
        _write_index(out, names, result, failures)
    _finish(result, failures, skipped)


def _fmt_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


@app.command()
def runs(
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to list.")] = 20,
) -> None:
    """List runs, newest first: id, time, backend, model, prompt, documents, items, rejected,
    tokens, calls, cache hits and estimated cost."""
    from reportsum.prices import estimate_cost, load_prices

    with _open_store(store) as st:
        rows = st.runs(limit)
        prices = load_prices(st.path.parent)
    typer.echo("id\ttime\tbackend\tmodel\tprompt\tdocs\titems\trejected\ttokens\tcalls\tcache_hits\tcost\toutcome")
    for r in rows:
        cost = estimate_cost(r.model, r.usage, prices)
        prompt = f"{r.prompt_name}@{r.prompt_version}" if r.prompt_name else "-"
        typer.echo("\t".join(str(x) for x in (
            r.id, _fmt_time(r.created), r.backend, r.model or "-", prompt, r.documents, r.items,
            r.rejected, r.usage.get("total_tokens", 0), r.usage.get("calls", 0),
            r.usage.get("cache_hits", 0), "-" if cost is None else f"{cost:.4f}", r.outcome,
        )))


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run id (a unique prefix, or 'last').")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or md.")] = "json",
    store: StoreOpt = None,
) -> None:
    """Print a run's summaries."""
    if fmt not in ("json", "md"):
        raise _fail_usage("--format must be json or md")
    with _open_store(store) as st:
        try:
            rid = st.run(run_id).id
        except StoreError as exc:
            raise _fail_usage(str(exc)) from None
        docs = st.results(rid)
        failed = st.failures(rid)
    by_source: dict[str, list[DocumentSummary]] = {}
    for d in docs:
        by_source.setdefault(d.document.source, []).append(d)
    for source, items in by_source.items():
        sys.stdout.write(render(FileSummary(source=source, documents=items), fmt))
    for source, error in failed:
        _err(f"reportsum: {source}: failed in that run: {error}")


@app.command()
def regenerate(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run whose documents to redo.")],
    prompt: Annotated[str | None, typer.Option("--prompt", help="The other prompt (name or path).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model (default: the run's).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Endpoint (default: the run's).")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key (env OPENAI_API_KEY).")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="tools, json or md_json (default: the run's).")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="openai or rules (default: the run's).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write outputs into this folder.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, jsonl or md (with --out).")] = "json",
    store: StoreOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Bypass the response cache.")] = False,
) -> None:
    """Re-run a run's documents with another prompt or model, as a new run (see `reportsum diff`)."""
    if fmt not in FORMATS:
        raise _fail_usage(f"unknown format {fmt!r}")
    with _open_store(store) as st:
        try:
            row = st.run(run_id)
        except StoreError as exc:
            raise _fail_usage(str(exc)) from None
        old = row.settings
        try:
            settings = resolve_backend(Settings(
                backend=backend or row.backend,
                model=model or row.model,
                base_url=base_url or old.get("base_url"),
                api_key=api_key,
                mode=mode or row.mode or "tools",
                concurrency=int(old.get("concurrency") or 4),
                chunk_chars=int(old.get("chunk_chars") or 1800),
                prompt=prompt or str(old.get("prompt") or "default"),
                max_reasks=int(old.get("max_reasks") or 2),
            ))
        except ConfigError as exc:
            raise _fail_usage(str(exc)) from None
        raws = []
        for source, sha in st.run_sources(row.id):
            text = st.document_text(sha)
            if text is None:
                _err(f"reportsum: {source}: text not in the store, skipped")
                continue
            raws.append(RawDocument(path=Path(source), text=text, encoding="utf-8", kind="stored", sha256=sha))
        if not raws:
            raise _fail_usage(f"run {row.id} has no stored documents to regenerate")
        failures: list[str] = []
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        try:
            result = run_batch(st, settings, raws=raws, command="regenerate", use_cache=not no_cache,
                               parent_run=row.id,
                               on_done=_write_outcomes(out, fmt, {}, failures) if out else None)
        except ConfigError as exc:
            raise _fail_usage(str(exc)) from None
    typer.echo(result.run_id)
    _finish(result, failures)


@app.command()
def diff(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    store: StoreOpt = None,
) -> None:
    """Per document and section: items added and removed, numbers gained and lost, rejections."""
    from reportsum.rundiff import diff_runs, format_diff

    with _open_store(store) as st:
        try:
            a, b = st.run(run_a).id, st.run(run_b).id
        except StoreError as exc:
            raise _fail_usage(str(exc)) from None
        diffs = diff_runs(st.results(a), st.results(b))
    if as_json:
        typer.echo(json.dumps([d.to_dict() for d in diffs], ensure_ascii=False, indent=2))
    else:
        typer.echo(format_diff(diffs, a, b))


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


@app.command("eval")
def eval_cmd(
    gold: Annotated[list[Path], typer.Argument(metavar="GOLD_PATH...", help="Gold files or folders.")],
    prompt: Annotated[
        list[str] | None,
        typer.Option("--prompt", help="A prompt to evaluate; repeat to compare prompts side by side."),
    ] = None,
    run: Annotated[
        list[str] | None, typer.Option("--run", help="Score an existing run instead; repeatable.")
    ] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="openai or rules.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model name.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key (env OPENAI_API_KEY).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="tools, json or md_json.")] = "tools",
    concurrency: Annotated[int, typer.Option("--concurrency", "-j")] = 4,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every figure as JSON here.")] = None,
    min_f1: Annotated[
        float | None, typer.Option("--min-f1", help="Exit 1 when any contender's overall F1 is lower.")
    ] = None,
    store: StoreOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Bypass the response cache.")] = False,
) -> None:
    """Score summaries against gold files: P/R/F1 per section, number recall/precision,
    rejections, calls, tokens and time, with prompts (or runs) side by side."""
    from rich.console import Console

    from reportsum.evaluate import Contender, collect_gold, evaluate
    from reportsum.gold import GoldError

    try:
        golds = collect_gold(gold)
    except GoldError as exc:
        raise _fail_usage(str(exc)) from None
    if not golds:
        raise _fail_usage("no gold files found")
    contenders: list[Contender] = [Contender(label=f"run {r}", run_id=r) for r in run or []]
    if not contenders or prompt:
        try:
            for name in prompt or ["default"]:
                settings = resolve_backend(Settings(
                    backend=backend, model=model, base_url=base_url, api_key=api_key, mode=mode,
                    concurrency=concurrency, prompt=name,
                ))
                label = settings.backend if settings.backend == "rules" else f"{settings.model}:{name}"
                contenders.append(Contender(label=label, settings=settings))
        except ConfigError as exc:
            raise _fail_usage(str(exc)) from None
    with _open_store(store) as st:
        try:
            report = evaluate(golds, contenders, st, use_cache=not no_cache)
        except (ConfigError, StoreError) as exc:
            raise _fail_usage(str(exc)) from None
    Console(width=160).print(report.table())
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    if min_f1 is not None and report.min_f1() < min_f1:
        _err(f"reportsum: overall F1 {report.min_f1():.3f} is below --min-f1 {min_f1}")
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
