"""`reportsum batch submit|status|collect|cancel`: a corpus through a provider's Batch API or an
offline engine's request file (over `engines.batch`)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from reportsum.cli.common import (
    ApiKeyOpt,
    BaseUrlOpt,
    ChunkCharsOpt,
    Command,
    ConcurrencyOpt,
    Evidence,
    EvidenceOpt,
    Format,
    Group,
    MaxReasksOpt,
    MaxTokensOpt,
    Mode,
    ModelOpt,
    ModeOpt,
    PromptOpt,
    RetriesOpt,
    StoreOpt,
    app,
    echo_stdout,
    err,
    fail_usage,
    open_store,
    settings_or_exit,
    value,
)
from reportsum.engines.batch import (
    BatchAPIError,
    BatchError,
    FileRow,
    Job,
    cancel,
    collect,
    find_job,
    status,
    submit,
)
from reportsum.engines.batchapi import DEFAULT_MAX_BYTES, DEFAULT_MAX_REQUESTS, Provider
from reportsum.outputs.render import FORMATS
from reportsum.pipeline import DEFAULT_CHUNK_CHARS, ConfigError, FileOutcome, Settings
from reportsum.runs.outfolder import OutputFolder
from reportsum.runs.store import Store
from reportsum.stages.ingest import IngestError, iter_inputs

batch_app = typer.Typer(
    name="batch", no_args_is_help=True, cls=Group,
    help="Summarise a corpus through a provider's Batch API (OpenAI format, about half price, "
         "answers within 24 h) or vLLM's run-batch: submit, status, collect.",
)
app.add_typer(batch_app, name="batch")

JobArg = Annotated[
    str | None, typer.Argument(metavar="JOB", help="Job id (a unique prefix), one of its batch ids, "
                               "or 'last' (default).")
]
WriteJsonlOpt = Annotated[
    Path | None, typer.Option("--write-jsonl", help="Write the request file here for an offline "
                              "engine (vLLM run-batch) instead of uploading it.")
]
MaxRequestsOpt = Annotated[
    int, typer.Option("--max-requests", help="Requests per uploaded file at most.")
]
MaxBytesOpt = Annotated[
    int, typer.Option("--max-bytes", help="Bytes per uploaded file at most (DashScope and Zhipu: "
                      "100000000).")
]


def _provider(job: Job, base_url: str | None, api_key: str | None) -> Provider:
    s = job.settings
    url = base_url or s.base_url or os.environ.get("OPENAI_BASE_URL") or None
    key = api_key or os.environ.get("OPENAI_API_KEY") or None
    return Provider(url, key, max_retries=s.max_retries, timeout=max(s.timeout, 300.0))


def _files_line(files: list[FileRow]) -> None:
    for f in files:
        where = f.batch_id or f.path
        counts = f.counts
        done = f" {counts.get('completed', 0)}/{counts.get('total', f.requests)} done" if counts else ""
        failed = f", {counts.get('failed')} failed" if counts.get("failed") else ""
        typer.echo(f"{where}\t{f.batch_status or f.state}\t{f.requests} requests\t{f.bytes} bytes"
                   f"\tround {f.round}{done}{failed}")


def _job_or_exit(st: Store, ident: str | None) -> Job:
    try:
        return find_job(st, ident)
    except BatchError as exc:
        raise fail_usage(str(exc)) from None


@batch_app.command("submit", cls=Command)
def submit_cmd(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...",
                                                help="Report files or folders (searched recursively).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where `batch collect` writes one output per "
                                  "input (as `summarise --out`). Default: collect prints them.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format of collect: json, "
                                        "jsonl, md or html.")] = Format.json,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = Mode.tools,
    concurrency: ConcurrencyOpt = 4,
    evidence: EvidenceOpt = Evidence.quote,
    chunk_chars: ChunkCharsOpt = DEFAULT_CHUNK_CHARS,
    prompt: PromptOpt = "default",
    max_reasks: MaxReasksOpt = 2,
    retries: RetriesOpt = 4,
    max_tokens: MaxTokensOpt = None,
    write_jsonl: WriteJsonlOpt = None,
    max_requests: MaxRequestsOpt = DEFAULT_MAX_REQUESTS,
    max_bytes: MaxBytesOpt = DEFAULT_MAX_BYTES,
    store: StoreOpt = None,
) -> None:
    """Write one request per chunk not already in the cache, upload and start the batches.

    Prints the job id, then each batch (or the request file with --write-jsonl). Run again
    after a kill: nothing is uploaded or started twice.

    **Examples:**

    ```
    reportsum batch submit reports/ -m qwen-plus -o summaries/
    reportsum batch submit reports/ -m Qwen/Qwen2.5-7B-Instruct --write-jsonl requests.jsonl
    ```
    """
    fmt_s = value(fmt) or "json"
    if fmt_s not in FORMATS:
        raise fail_usage(f"unknown format {fmt_s!r}: choose one of {', '.join(FORMATS)}")
    settings = settings_or_exit(Settings(
        backend="openai", model=model, base_url=base_url, api_key=api_key, mode=value(mode) or "tools",
        evidence=value(evidence) or "quote", concurrency=concurrency, chunk_chars=chunk_chars,
        prompt=prompt, max_reasks=max_reasks, max_retries=retries, max_tokens=max_tokens,
    ), require_endpoint=write_jsonl is None)
    if write_jsonl is None and not settings.base_url and not settings.api_key:
        raise fail_usage("no provider: give --base-url/--api-key (or OPENAI_BASE_URL/OPENAI_API_KEY), "
                         "or --write-jsonl FILE for an offline engine")
    try:
        inputs = iter_inputs(paths)
    except IngestError as exc:
        raise fail_usage(str(exc)) from None
    if not inputs:
        raise fail_usage("no input files found")
    provider = None
    if write_jsonl is None:
        provider = Provider(settings.base_url, settings.api_key, max_retries=retries)
    with open_store(store) as st:
        try:
            rep = submit(st, settings, inputs, roots=paths, out=out, fmt=fmt_s, write_jsonl=write_jsonl,
                         max_requests=max_requests, max_bytes=max_bytes, provider=provider)
        except ConfigError as exc:
            raise fail_usage(str(exc)) from None
        except (BatchAPIError, BatchError) as exc:
            err(f"reportsum: error: {exc}; run the same command again to resume")
            raise typer.Exit(1) from None
    typer.echo(rep.job.id)
    _files_line(rep.files)
    for failure in rep.failures:
        err(f"reportsum: failed: {failure}")
    where = f"written to {write_jsonl}" if write_jsonl is not None else f"in {len(rep.files)} batches"
    err(f"reportsum: job {rep.job.id}: {rep.requests} requests {where} ({len(rep.files)} files), "
        f"{rep.cached_chunks} chunks already in the cache; {rep.seconds:.1f}s. "
        f"Next: reportsum batch status {rep.job.id}; reportsum batch collect {rep.job.id}"
        + (" --from RESULTS.jsonl" if write_jsonl is not None else ""))
    if rep.failures:
        raise typer.Exit(1)


@batch_app.command("status", cls=Command)
def status_cmd(
    job_id: JobArg = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    store: StoreOpt = None,
) -> None:
    """The job's batches (states and counts, asked of the provider) and its requests; failed
    requests with their errors.

    **Example:** reportsum batch status
    """
    with open_store(store) as st:
        job = _job_or_exit(st, job_id)
        try:
            rep = status(st, job, _provider(job, base_url, api_key) if job.route == "api" else None)
        except BatchAPIError as exc:
            err(f"reportsum: error: {exc}")
            raise typer.Exit(1) from None
    typer.echo(f"{job.id}\t{job.route}\t{job.settings.model}\t{len(job.inputs)} files")
    _files_line(rep.files)
    states = ", ".join(f"{n} {s}" for s, n in sorted(rep.requests.items()))
    typer.echo(f"requests: {states or 'none'}")
    for custom_id, source, error in rep.failed:
        typer.echo(f"failed\t{custom_id}\t{source}\t{error}")


@batch_app.command("collect", cls=Command)
def collect_cmd(
    job_id: JobArg = None,
    results: Annotated[
        Path | None, typer.Option("--from", help="Read results from this file (vLLM run-batch output, "
                                  "or a provider's output file) instead of downloading them.")
    ] = None,
    reask_now: Annotated[
        bool, typer.Option("--reask-now", help="Send reasks and failed requests to the model now, "
                           "interactively, instead of as a follow-up batch.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: the one given to submit).")
    ] = None,
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="Output format (default: "
                                               "submit's).")] = None,
    write_jsonl: WriteJsonlOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    max_requests: MaxRequestsOpt = DEFAULT_MAX_REQUESTS,
    max_bytes: MaxBytesOpt = DEFAULT_MAX_BYTES,
    store: StoreOpt = None,
) -> None:
    """Download results, ground them as `summarise` does, and write the outputs of every file
    whose chunks are all answered; reasks go out as a follow-up batch. Run again until no file
    is pending; a kill loses nothing.

    **Examples:**

    ```
    reportsum batch collect
    reportsum batch collect --from results.jsonl
    ```
    """
    with open_store(store) as st:
        job = _job_or_exit(st, job_id)
        fmt_s = value(fmt) or job.fmt
        if fmt_s not in FORMATS:
            raise fail_usage(f"unknown format {fmt_s!r}: choose one of {', '.join(FORMATS)}")
        folder_path = out or (Path(job.out) if job.out else None)
        s = job.settings
        # The job's own settings, every one of them (evidence mode, output budget...): only
        # where to reach the provider may differ from the submit.
        settings = settings_or_exit(replace(s, backend="openai", base_url=base_url or s.base_url,
                                            api_key=api_key),
                                    require_endpoint=job.route != "local")
        inputs = [Path(p) for p, _ in job.inputs]
        try:
            folder = OutputFolder(folder_path, fmt_s, inputs=inputs, roots=[Path(r) for r in job.roots],
                                  settings=settings, echo=echo_stdout)
        except ConfigError as exc:
            raise fail_usage(str(exc)) from None
        except OSError as exc:
            raise fail_usage(f"cannot use output folder {folder_path}: {exc.strerror}") from None
        provider = _provider(job, base_url, api_key) if job.route == "api" else None
        pages: list[FileOutcome] = []

        def write(outcome: FileOutcome) -> str | None:
            if fmt_s == "html" and folder_path is not None:
                pages.append(FileOutcome(outcome.path, summary=outcome.summary))  # for the index
            return folder.write(outcome)

        with folder:
            try:
                rep = collect(st, job, settings, provider=provider,
                              results_file=results, reask_now=reask_now, write_output=write,
                              todo=folder.todo, write_jsonl=write_jsonl,
                              max_requests=max_requests, max_bytes=max_bytes)
            except ConfigError as exc:
                raise fail_usage(str(exc)) from None
            except (BatchAPIError, BatchError) as exc:
                err(f"reportsum: error: {exc}; run the same command again to resume")
                raise typer.Exit(1) from None
        if pages:
            error = folder.write_index(pages)
            if error is not None:
                rep.failures.append(error)
    for w in rep.warnings:
        err(f"reportsum: warning: {w}")
    for failure in rep.failures:
        err(f"reportsum: failed: {failure}")
    if rep.followup:
        _files_line(rep.followup)
    pending = (f"; {len(rep.pending)} files wait for {rep.followup_requests} requests in follow-up "
               f"batches (run collect again when they finish)" if rep.followup_requests else
               f"; {len(rep.pending)} files wait for batches still running" if rep.pending else "")
    done = f", {rep.done_before} done before" if rep.done_before else ""
    u = rep.usage
    err(f"reportsum: job {job.id}: {rep.downloaded} results read, {rep.settled} of {len(job.inputs)} "
        f"files settled{done}{pending}; {rep.replayed} answers replayed, {rep.forwarded} model calls, "
        f"{u.cache_hits} cache hits, {u.total_tokens} tokens, {rep.seconds:.1f}s"
        + (f"; run {rep.run_id}" if rep.run_id else ""))
    if rep.failures:
        raise typer.Exit(1)


@batch_app.command("cancel", cls=Command)
def cancel_cmd(
    job_id: JobArg = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    store: StoreOpt = None,
) -> None:
    """Cancel the job's running batches (answers already made are still collected).

    **Example:** reportsum batch cancel
    """
    with open_store(store) as st:
        job = _job_or_exit(st, job_id)
        if job.route != "api":
            raise fail_usage(f"job {job.id} wrote request files for an offline engine: nothing to cancel")
        try:
            files = cancel(st, job, _provider(job, base_url, api_key))
        except BatchAPIError as exc:
            err(f"reportsum: error: {exc}")
            raise typer.Exit(1) from None
    _files_line(files)
