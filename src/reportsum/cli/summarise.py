"""`reportsum summarise`: a batch of report files into summaries (over `runs.run_batch`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from reportsum.cli.common import (
    ApiKeyOpt,
    BackendOpt,
    BaseUrlOpt,
    ChunkCharsOpt,
    ConcurrencyOpt,
    Evidence,
    EvidenceOpt,
    Format,
    MaxReasksOpt,
    MaxTokensOpt,
    Mode,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    PromptOpt,
    QuietOpt,
    RetriesOpt,
    StoreOpt,
    VerboseOpt,
    app,
    echo_stdout,
    err,
    fail_usage,
    finish,
    open_store,
    rules_hint,
    run_guarded,
    settings_or_exit,
    value,
)
from reportsum.cli.progress import BatchProgress
from reportsum.outputs.export import EXPORT_FORMATS, ExportError, export
from reportsum.outputs.render import render
from reportsum.outputs.tables import build_tables
from reportsum.pipeline import DEFAULT_CHUNK_CHARS, ConfigError, FileOutcome, Settings
from reportsum.runs.outfolder import OutputCollision, OutputFolder
from reportsum.runs.runner import run_batch
from reportsum.stages.ingest import IngestError, RawDocument, read_text_bytes, scan_inputs

STDIN = Path("-")


def _is_tty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


@app.command()
def summarise(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Report files or folders (searched "
                                   "recursively); - reads one report from stdin.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Write one output file per input file into this folder, mirroring the inputs' folders "
                     "(atomically). Default: print to stdout."),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", metavar="FORMAT", help="json: one object per file (on stdout, "
                             "several files make one JSON array); jsonl: one document per line; "
                             "md: Markdown; html: a page per file, evidence highlighted in the "
                             "source, and an index page; or the run's tables: xlsx, csv, parquet "
                             "(see `reportsum export`; --out names the workbook or folder).")
    ] = Format.json,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = Mode.tools,
    evidence: EvidenceOpt = Evidence.quote,
    concurrency: ConcurrencyOpt = 4,
    chunk_chars: ChunkCharsOpt = DEFAULT_CHUNK_CHARS,
    prompt: PromptOpt = "default",
    max_reasks: MaxReasksOpt = 2,
    retries: RetriesOpt = 4,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for one model answer.")
    ] = 120.0,
    max_tokens: MaxTokensOpt = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Processes to spread the files over; --concurrency is "
                     "shared between them. Default: for 8 files or more, one per core (a model "
                     "backend one more), at most 4; else 1."),
    ] = None,
    all_items: Annotated[
        bool, typer.Option("--all-items", help="Keep every item in its section: a long report's "
                           "items ranked out by the salience cap (normally listed under `minor`).")
    ] = False,
    store: StoreOpt = None,
    no_cache: NoCacheOpt = False,
    no_resume: Annotated[
        bool, typer.Option("--no-resume", "--force", help="With --out, redo inputs whose output is "
                           "already done (by default they are skipped).")
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Summarise reports into achievements, measures, problems and plans.

    Every number in the output is checked against the source; items that fail go to `rejected`.
    Each run is recorded in the store (see `reportsum runs`). With --out, a run that was
    stopped can be started again: inputs whose output is done (same input bytes, same backend,
    model, prompt, mode and chunk size; logged in OUT/.reportsum-done.jsonl) are skipped.
    Every file under the paths given is accounted for: what is not read (unsupported type, broken link,
    symlink loop, unreadable folder) is named on stderr and counted as skipped; hidden files
    and the --out folder are never read. Outputs mirror the inputs' folders under --out.
    Progress goes to stderr: a live bar on a terminal, one line per file otherwise.

    **Examples:**

    ```
    reportsum summarise reports/ -o summaries/
    reportsum summarise a.docx b.pdf -f md > summaries.md
    cat report.txt | reportsum summarise - --base-url http://127.0.0.1:8080/v1 -m qwen
    ```
    """
    fmt_s = value(fmt) or "json"
    table_out: Path | None = None
    if fmt_s in EXPORT_FORMATS:
        # A shortcut for `summarise` then `export` of the run: the tables go to --out.
        if out is None:
            raise fail_usage(f"--format {fmt_s} writes tables: give --out (a file for xlsx, a folder for {fmt_s})")
        table_out, out = out, None
    if workers is not None and workers < 1:
        raise fail_usage("workers must be at least 1")
    # Everything the user can get wrong is checked before any work or hint: settings (whatever
    # the backend), inputs, output names, the store.
    settings = settings_or_exit(Settings(
        backend=value(backend), model=model, base_url=base_url, api_key=api_key,
        mode=value(mode) or "tools", evidence=value(evidence) or "quote", concurrency=concurrency, chunk_chars=chunk_chars,
        prompt=prompt, max_reasks=max_reasks, max_retries=retries, timeout=timeout,
        all_items=all_items, max_tokens=max_tokens,
    ))
    from_stdin = STDIN in paths
    files = [p for p in paths if p != STDIN]
    try:
        scan = scan_inputs(files, exclude=[out] if out is not None else [])
    except IngestError as exc:
        raise fail_usage(str(exc)) from None
    for s in scan.skipped:
        err(f"reportsum: {s.path}: skipped: {s.reason}")
    inputs = scan.files
    unread = len(scan.skipped)
    if not inputs and not from_stdin:
        if unread:
            raise fail_usage(f"no input files to summarise: {unread} skipped (named above)")
        raise fail_usage("no input files found")
    stdin_raw: list[RawDocument] = []
    if from_stdin:
        try:
            stdin_raw = [read_text_bytes(sys.stdin.buffer.read(), "stdin", STDIN)]
        except IngestError as exc:
            raise fail_usage(str(exc)) from None
    try:
        folder = OutputFolder(out, fmt_s, inputs=inputs + [r.path for r in stdin_raw], roots=files,
                              settings=settings, resume=not no_resume,
                              echo=None if table_out else echo_stdout,
                              array=len(inputs) + len(stdin_raw) > 1)
    except OutputCollision as exc:
        raise fail_usage(f"outputs would collide, nothing written: {exc}") from None
    except ConfigError as exc:
        raise fail_usage(str(exc)) from None
    except OSError as exc:
        raise fail_usage(f"cannot use output folder {out}: {exc.strerror}") from None
    st = open_store(store)
    rules_hint(settings, backend, quiet)
    with st, folder:
        todo = folder.todo(inputs)
        skipped = len(inputs) - len(todo)
        if not todo and not stdin_raw:
            more = f", {unread} skipped" if unread else ""
            if unread or not quiet:
                err(f"reportsum: nothing to do: 0 of {len(inputs) + unread} files summarised, {skipped} "
                    f"skipped (done){more}; 0 model calls, 0 cache hits, 0 tokens, 0.0s; --no-resume "
                    "redoes them")
            if unread:
                raise typer.Exit(1)
            return
        if skipped and not quiet:
            err(f"reportsum: {skipped} of {len(inputs)} files already done in {out}, skipped "
                "(--no-resume redoes them)")
        # Outputs printed on the terminal the bar would redraw: plain lines instead of a bar.
        live = False if out is None and _is_tty(sys.stdout) else None
        with BatchProgress(len(todo) + len(stdin_raw), quiet=quiet, verbose=verbose, live=live) as progress:

            def done(outcome: FileOutcome) -> None:
                error = None
                if outcome.error is None and outcome.summary is not None and table_out is None:
                    error = folder.write(outcome)
                progress.file_done(outcome, error)

            resume = ("run the same command again: files already written to the output folder "
                      "are skipped, answers already received come from the cache"
                      if out is not None else
                      "run the same command with --out FOLDER to keep finished files; answers "
                      "already received come from the cache")
            result = run_guarded(
                lambda: run_batch(st, settings, paths=todo, raws=stdin_raw, use_cache=not no_cache,
                                  on_done=done, on_chunks=progress.chunks, workers=workers,
                                  render=None if table_out else lambda summary, text: render(summary, fmt_s, text)),
                resume=resume,
            )
            store_folder = st.path.parent
    if out is not None and fmt_s == "html":
        error = folder.write_index(result.outcomes)
        if error is not None:
            err(f"reportsum: failed: {error}")
    if table_out is not None:
        tables = build_tables(d for o in result.outcomes if o.summary for d in o.summary.documents)
        try:
            export(tables, fmt_s, table_out)
        except ExportError as exc:
            folder.failures.append(str(exc))
            err(f"reportsum: failed: {exc}")
    finish(result, folder.failures, skipped, unread, quiet, model=settings.model, store_folder=store_folder)
