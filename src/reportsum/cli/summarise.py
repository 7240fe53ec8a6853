"""`reportsum summarise`: a batch of report files into summaries (over `runs.run_batch`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reportsum.cli.common import (
    RULES_HINT,
    ApiKeyOpt,
    BackendOpt,
    BaseUrlOpt,
    ConcurrencyOpt,
    MaxTokensOpt,
    ModelOpt,
    ModeOpt,
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
from reportsum.cli.progress import BatchProgress
from reportsum.outputs.export import EXPORT_FORMATS, ExportError, export
from reportsum.outputs.render import FORMATS, render
from reportsum.outputs.tables import build_tables
from reportsum.pipeline import ConfigError, FileOutcome, Settings
from reportsum.runs.outfolder import OutputFolder
from reportsum.runs.runner import run_batch
from reportsum.stages.ingest import IngestError, iter_inputs


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
                          "document per line), md (Markdown), html (a page per file, evidence "
                          "highlighted in the source), or the run's tables: xlsx, csv, parquet "
                          "(see `reportsum export`; --out names the workbook or folder).")
    ] = "json",
    backend: BackendOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = "tools",
    concurrency: ConcurrencyOpt = 4,
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
) -> None:
    """Summarise every report in PATHS into achievements, measures, problems and plans.

    Every number in the output is checked against the source; items that fail go to `rejected`.
    Each run is recorded in the store (see `reportsum runs`). With --out, a run that was
    stopped can be started again: inputs whose output is done (same input bytes, same backend,
    model, prompt, mode and chunk size; logged in OUT/.reportsum-done.jsonl) are skipped.
    Progress goes to stderr: a live bar on a terminal, one line per file otherwise.
    """
    table_out: Path | None = None
    if fmt in EXPORT_FORMATS:
        # A shortcut for `summarise` then `export` of the run: the tables go to --out.
        if out is None:
            raise fail_usage(f"--format {fmt} writes tables: give --out (a file for xlsx, a folder for {fmt})")
        table_out, out = out, None
    elif fmt not in FORMATS:
        raise fail_usage(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS + EXPORT_FORMATS)}")
    if workers is not None and workers < 1:
        raise fail_usage("workers must be at least 1")
    settings = settings_or_exit(Settings(
        backend=backend, model=model, base_url=base_url, api_key=api_key, mode=mode,
        concurrency=concurrency, chunk_chars=chunk_chars, prompt=prompt, max_reasks=max_reasks,
        max_retries=retries, timeout=timeout, all_items=all_items, max_tokens=max_tokens,
    ))
    try:
        inputs = iter_inputs(paths)
    except IngestError as exc:
        raise fail_usage(str(exc)) from None
    if not inputs:
        raise fail_usage("no input files found")
    if settings.backend == "rules":
        err(RULES_HINT)
    try:
        folder = OutputFolder(out, fmt, inputs=inputs, roots=paths, settings=settings,
                              resume=not no_resume, echo=None if table_out else echo_stdout)
    except ConfigError as exc:
        raise fail_usage(str(exc)) from None
    except OSError as exc:
        raise fail_usage(f"cannot use output folder {out}: {exc.strerror}") from None
    with folder:
        todo = folder.todo(inputs)
        skipped = len(inputs) - len(todo)
        if not todo:
            err(f"reportsum: nothing to do: 0 of {len(inputs)} files summarised, {skipped} skipped "
                "(done); 0 model calls, 0 cache hits, 0 tokens, 0.0s; --no-resume redoes them")
            return
        if skipped:
            err(f"reportsum: {skipped} of {len(inputs)} files already done in {out}, skipped "
                "(--no-resume redoes them)")
        with open_store(store) as st, BatchProgress(len(todo)) as progress:

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
                lambda: run_batch(st, settings, paths=todo, use_cache=not no_cache, on_done=done,
                                  on_chunks=progress.chunks, workers=workers,
                                  render=None if table_out else lambda summary, text: render(summary, fmt, text)),
                resume=resume,
            )
            store_folder = st.path.parent
    if out is not None and fmt == "html":
        error = folder.write_index(result.outcomes)
        if error is not None:
            err(f"reportsum: failed: {error}")
    if table_out is not None:
        tables = build_tables(d for o in result.outcomes if o.summary for d in o.summary.documents)
        try:
            export(tables, fmt, table_out)
        except ExportError as exc:
            folder.failures.append(str(exc))
            err(f"reportsum: failed: {exc}")
    finish(result, folder.failures, skipped, model=settings.model, store_folder=store_folder)
