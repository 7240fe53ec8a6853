"""Runs: a batch of files summarised with the store recording everything.

`run_batch` is what `summarise`, `regenerate` and `eval` share: it opens a run in the store,
gives the model backend the store's response cache (unless disabled) and call recorder, keeps
every document's text (so a run can be regenerated even if the files move) and result, and
closes the run with its usage and outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from reportsum.backends.base import BackendFatal
from reportsum.models import FileSummary, Usage
from reportsum.pipeline import (
    ChunkCounter,
    FileOutcome,
    Settings,
    make_backend,
    run_sync,
    stamp_run,
    summarise_paths,
    summarise_raw,
)
from reportsum.runs.store import Store, StoreCache, StoreRecorder
from reportsum.runs.workers import resolve_workers, run_in_workers
from reportsum.stages.ingest import RawDocument


class RunInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped a run; it is recorded as `interrupted` with what it paid."""

    def __init__(self, run_id: str, usage: Usage, done: int) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id
        self.usage = usage
        self.done = done


@dataclass
class BatchResult:
    run_id: str
    outcomes: list[FileOutcome]
    usage: Usage
    seconds: float
    failures: list[str] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return sum(len(o.summary.documents) for o in self.outcomes if o.summary is not None)


def _settings_record(settings: Settings) -> dict[str, object]:
    return {
        "backend": settings.backend,
        "model": settings.model,
        "base_url": settings.base_url,
        "mode": settings.mode,
        "evidence": settings.evidence,
        "concurrency": settings.concurrency,
        "chunk_chars": settings.chunk_chars,
        "prompt": settings.prompt,
        "max_reasks": settings.max_reasks,
        "all_items": settings.all_items,
        "max_tokens": settings.max_tokens,
    }


def settings_from_record(record: Mapping[str, Any], **overrides: Any) -> Settings:
    """The settings a recorded run or batch job ran under (`_settings_record` and what a job
    adds): every recorded field, the defaults for those absent or null; `overrides` win.
    One inverse of the record, so a field added to Settings is never dropped on the way back."""
    names = {f.name for f in fields(Settings)}
    kept = {k: v for k, v in record.items() if k in names and v is not None}
    return Settings(**{**kept, **overrides})


def run_batch(
    store: Store,
    settings: Settings,
    *,
    paths: Sequence[Path] = (),
    raws: Sequence[RawDocument] = (),
    command: str = "summarise",
    use_cache: bool = True,
    parent_run: str | None = None,
    on_done: Callable[[FileOutcome], None] | None = None,
    on_chunks: Callable[[int], None] | None = None,
    workers: int | None = 1,
    render: Callable[[FileSummary, str], str] | None = None,
) -> BatchResult:
    """Summarise `paths` (read from disk) and/or `raws` (already read) as one recorded run.

    `on_done` gets each file's outcome as it finishes (after the store has it); `on_chunks`
    the number of chunks of each document as it is handed to the backend (for progress).
    `workers` > 1 spreads `paths` over that many processes (see `reportsum.runs.workers`); None
    picks by the number of files and cores. `render(summary, text as read)`, if given, is run
    in the worker that summarised a file, its result left in `outcome.rendered` (so a batch's
    parent does not render every output itself).
    """
    started = time.perf_counter()
    processes = resolve_workers(workers, len(paths), settings)
    hooks: dict[str, object] = {}
    if settings.backend != "rules":
        hooks["cache"] = StoreCache(store) if use_cache else None
    backend = make_backend(settings, **hooks)
    prompt = getattr(backend, "prompt", None)  # the model backend's Prompt; rules has none
    run_id = store.start_run(
        command=command,
        backend=settings.backend or "rules",
        model=settings.model if settings.backend != "rules" else None,
        base_url=settings.base_url if settings.backend != "rules" else None,
        mode=settings.mode if settings.backend != "rules" else None,
        prompt_name=getattr(prompt, "name", None),
        prompt_version=str(prompt.version) if prompt is not None else None,
        prompt_hash=getattr(prompt, "sha256", None),
        settings=_settings_record(settings),
        parent_run=parent_run,
    )
    if settings.backend != "rules" and hasattr(backend, "recorder"):
        backend.recorder = StoreRecorder(store, run_id)
    if on_chunks is not None:
        backend = ChunkCounter(backend, on_chunks)

    finished: list[FileOutcome] = []  # as they are recorded (an interrupted run has no list)

    def record(outcome: FileOutcome) -> None:
        finished.append(outcome)
        if outcome.summary is not None and outcome.raw is not None:
            store.put_document(outcome.raw.sha256, str(outcome.path), outcome.raw.text,
                               outcome.summary.documents[0].document.title if outcome.summary.documents else None)
            stamp_run(outcome.summary, run_id)
            for doc in outcome.summary.documents:
                store.add_result(run_id, doc)
        else:
            store.add_failure(run_id, str(outcome.path), outcome.error or "failed")
        if on_done is not None:
            on_done(outcome)
        # The text is in the store and the output is written: a batch of thousands of files
        # need not hold every file's text until the end.
        outcome.raw = None

    async def go(outcomes: list[FileOutcome]) -> list[FileOutcome]:
        if processes == 1:
            # Enough files in flight that the backend's shared pool of model calls stays full
            # even when most files are one chunk long.
            outcomes = await summarise_paths(paths, backend, chunk_chars=settings.chunk_chars, on_done=record,
                                             max_files_in_flight=max(8, 2 * settings.concurrency))
        for raw in raws:
            try:
                summary = await summarise_raw(raw, backend, source=str(raw.path), chunk_chars=settings.chunk_chars)
                o = FileOutcome(raw.path, summary=summary, raw=raw)
            except BackendFatal:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad document must not lose the run
                o = FileOutcome(raw.path, error=f"{raw.path}: {type(exc).__name__}: {exc}")
            record(o)
            outcomes.append(o)
        return outcomes

    outcomes: list[FileOutcome] = []
    interrupted = False
    try:
        if processes > 1:
            outcomes = run_in_workers(paths, settings, backend=backend, workers=processes, store=store,
                                      run_id=run_id, use_cache=use_cache, on_outcome=record,
                                      on_chunks=on_chunks, render=render)
        outcomes = run_sync(go(outcomes))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        hits = sum(d.run.usage.cache_hits for o in finished for d in (o.summary.documents if o.summary else []))
        # What the run paid, from the store's record of every model call (documents that
        # failed, or never finished, made calls too); cache hits from the documents.
        usage = store.paid_usage(run_id).model_copy(update={"cache_hits": hits})
        failures = [o.error or str(o.path) for o in outcomes if o.error is not None]
        if interrupted:
            outcome = "interrupted"
        else:
            outcome = "ok" if outcomes and not failures else ("partial" if outcomes else "failed")
        store.finish_run(run_id, usage=usage, outcome=outcome)
    if interrupted:
        raise RunInterrupted(run_id, usage, len(finished))
    return BatchResult(run_id, outcomes, usage, time.perf_counter() - started, failures)
