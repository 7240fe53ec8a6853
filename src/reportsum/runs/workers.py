"""Worker processes for large batches: the files of one run spread over several processes.

One Python process tops out at one core, and both halves of a batch are CPU-bound when the
files are many: the offline rules backend entirely, and the model backend once the model
answers fast (the openai + instructor client costs ~10 ms of CPU per call, so one process
cannot keep more than ~100 calls a second in flight, whatever the concurrency).

`run_in_workers` forks `workers` processes. Each pulls files from one shared queue (so a
worker with short files takes more of them), summarises them with its own backend and
event loop, and sends every outcome back to the parent, which alone writes results,
outputs and the resume log. The model-call pool stays one bound: the run's concurrency is
split between the workers, so at most `concurrency` calls are in flight in all. Workers read
the store's response cache themselves; new answers and call records come to the parent,
the store's only writer.

Nothing is lost when a worker dies: the parent knows which files each worker had started,
and those files fail with a message naming the crash; files not yet started are taken by
the other workers, or fail as not summarised if none is left. Workers die with the parent
(PR_SET_PDEATHSIG), so a killed batch leaves no orphans writing to the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from reportsum.backends.base import BackendFatal
from reportsum.pipeline import (
    ChunkCounter,
    FileOutcome,
    Settings,
    make_backend,
    stamp_run,
    summarise_path,
)
from reportsum.runs.store import Store, StoreCache, StoreRecorder

# Below this many files a batch runs in the calling process: forking is cheap, but a few
# files gain nothing from it.
MIN_FILES_FOR_WORKERS = 8
MAX_AUTO_WORKERS = 4

_PR_SET_PDEATHSIG = 1
_POLL_S = 0.5


def can_fork() -> bool:
    """Whether worker processes are available here (Linux: fork, and PR_SET_PDEATHSIG)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def cores() -> int:
    """CPUs this process may run on (the affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_workers(requested: int | None, files: int, settings: Settings) -> int:
    """How many processes a batch of `files` runs in.

    `requested` None is automatic: for 8 files or more one per core (a model backend one
    more), at most 4; else 1.
    Never more workers than files, nor (for a model backend) than concurrent calls.
    """
    if requested is not None and requested < 1:
        raise ValueError("workers must be at least 1")
    if requested is None:
        # A model backend's processes spend much of their time waiting on the network: one
        # more than the cores keeps them all busy (bench_batch: 0.90 of ideal against 0.87).
        spare = 0 if settings.backend == "rules" else 1
        requested = 1 if files < MIN_FILES_FOR_WORKERS else min(cores() + spare, MAX_AUTO_WORKERS)
    n = min(requested, max(files, 1))
    if settings.backend != "rules":
        n = min(n, settings.concurrency)
    return n if can_fork() else 1


def split_concurrency(total: int, workers: int) -> list[int]:
    """`total` model calls shared out between `workers` (every share at least 1)."""
    return [total // workers + (1 if i < total % workers else 0) for i in range(workers)]


def _files_in_flight(settings: Settings, share: int) -> int:
    """Files a worker takes at once: enough to keep its share of the call pool busy (two per
    call: most files are a few chunks, and reading them takes time too), few enough that a
    small batch is shared out between the workers rather than taken by the first."""
    return 2 if settings.backend == "rules" else max(2, 2 * share)


_F_SETPIPE_SZ = 1031  # Linux fcntl: set a pipe's buffer size


def _widen(conn: Any) -> None:
    """A 1 MiB pipe buffer (Linux's default cap) instead of 64 KiB: a file's outcome, with its
    rendered output, is often larger than 64 KiB, and a worker would wait on every one until
    the parent has read it."""
    with contextlib.suppress(OSError, ValueError):
        fcntl.fcntl(conn.fileno(), _F_SETPIPE_SZ, 1 << 20)


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class _Channel:
    """A worker's messages to the parent: its own pipe, written from the worker's event-loop
    thread as they happen (a `multiprocessing.Queue` would hand every message to a feeder
    thread, which then competes with the event loop for the GIL)."""

    def __init__(self, wid: int, conn: Any) -> None:
        self.wid = wid
        self.conn = conn
        self.lock = threading.Lock()

    def send(self, kind: str, *payload: Any) -> None:
        with self.lock:
            self.conn.send((kind, self.wid, *payload))


class _ForwardingCache:
    """Reads the store's response cache here; new answers go to the parent to write.

    Only the parent writes to the store: SQLite lets one writer in at a time, and a worker
    waiting for the lock would stall its event loop and every call in flight with it.
    """

    def __init__(self, store: Store, channel: _Channel) -> None:
        self.store = store
        self.channel = channel

    def get(self, key: str) -> dict[str, Any] | None:
        return self.store.cache_get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.channel.send("cache", key, value)


class _ForwardingRecorder:
    """Sends each model call's record to the parent, which writes it in the run."""

    def __init__(self, channel: _Channel) -> None:
        self.channel = channel

    def record(self, call: Any) -> None:
        self.channel.send("call", call)


def _worker(
    wid: int,
    settings: Settings,
    store_path: str,
    use_cache: bool,
    files_in_flight: int,
    paths: Sequence[str],
    tasks: Any,
    conn: Any,
    parent: int,
    run_id: str,
    render: Callable[[Any, str], str] | None,
) -> None:
    """A worker process's life: summarise files from `tasks` until the end marker."""
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    # Ctrl-C reaches the whole process group; the parent decides what happens to workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Fresh stream objects: the parent's may have been locked mid-write by its progress
    # display's thread at the fork, and stdout may carry the parent's JSON, which a stray
    # print from here would corrupt.
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    channel = _Channel(wid, conn)
    try:
        with Store(store_path) as store:
            hooks: dict[str, object] = {}
            if settings.backend != "rules":
                hooks["cache"] = _ForwardingCache(store, channel) if use_cache else None
            backend = make_backend(settings, **hooks)
            if settings.backend != "rules" and hasattr(backend, "recorder"):
                backend.recorder = _ForwardingRecorder(channel)
            asyncio.run(_serve(backend, settings, files_in_flight, paths, tasks, channel, run_id,
                               render))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails our files
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        channel.send("fatal", detail)
    else:
        channel.send("exit")
    finally:
        conn.close()


async def _serve(
    backend: Any, settings: Settings, files_in_flight: int, paths: Sequence[str], tasks: Any,
    channel: _Channel, run_id: str, render: Callable[[Any, str], str] | None,
) -> None:
    counted = ChunkCounter(backend, lambda n: channel.send("chunks", n))
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(files_in_flight)
    running: set[asyncio.Task[None]] = set()

    stop: list[str] = []

    async def one(index: int) -> None:
        path = Path(paths[index])
        try:
            try:
                outcome = await summarise_path(path, counted, chunk_chars=settings.chunk_chars)
            except BackendFatal as exc:
                if not stop:
                    stop.append(str(exc))
                    channel.send("abort", str(exc))
                return
            if render is not None and outcome.summary is not None and outcome.raw is not None:
                stamp_run(outcome.summary, run_id)  # as the parent will: the output names its run
                # A failure here is left to the parent, which renders again and reports it.
                with contextlib.suppress(Exception):
                    outcome.rendered = render(outcome.summary, outcome.raw.text)
            try:
                data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - that file fails, the batch goes on
                failed = FileOutcome(path, error=f"{path}: cannot pass its summary on: {exc}")
                data = pickle.dumps(failed, protocol=pickle.HIGHEST_PROTOCOL)
            channel.send("done", index, data)
        finally:
            gate.release()

    while not stop:
        await gate.acquire()
        index = await loop.run_in_executor(None, tasks.get)
        if index is None:
            gate.release()
            break
        channel.send("start", index)
        task = asyncio.create_task(one(index))
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.gather(*running)


def run_in_workers(
    paths: Sequence[Path],
    settings: Settings,
    *,
    backend: Any = None,
    workers: int,
    store: Store,
    run_id: str,
    use_cache: bool,
    on_outcome: Callable[[FileOutcome], None],
    on_chunks: Callable[[int], None] | None = None,
    render: Callable[[Any, str], str] | None = None,
) -> list[FileOutcome]:
    """Summarise `paths` in `workers` forked processes; outcomes in input order.

    `backend`, the parent's own, is asked to `preload` what its workers will need (they are
    forked after it, so they inherit it). `on_outcome` runs in this process for every file as
    it finishes (store, outputs, progress).
    """
    preload = getattr(backend, "preload", None)
    if preload is not None:
        preload()
    ctx = multiprocessing.get_context("fork")
    tasks = ctx.Queue()
    for i in range(len(paths)):
        tasks.put(i)
    for _ in range(workers):
        tasks.put(None)
    names = [str(p) for p in paths]
    procs: list[Any] = []
    readers: list[Any] = []
    for wid, share in enumerate(split_concurrency(settings.concurrency, workers)):
        reader, writer = ctx.Pipe(duplex=False)
        _widen(writer)
        proc = ctx.Process(
            target=_worker,
            # Each process paces to its share of the provider's rate limits too.
            args=(wid, replace(settings, concurrency=share,
                               rate_share=settings.rate_share * share / settings.concurrency),
                  str(store.path), use_cache,
                  _files_in_flight(settings, share), names, tasks, writer, os.getpid(), run_id,
                  render),
            name=f"reportsum-worker-{wid}",
            daemon=True,
        )
        proc.start()
        writer.close()
        procs.append(proc)
        readers.append(reader)

    cache, recorder = StoreCache(store), StoreRecorder(store, run_id)
    outcomes: dict[int, FileOutcome] = {}
    started: dict[int, set[int]] = {wid: set() for wid in range(workers)}
    ended: dict[int, str | None] = {}  # worker -> None when it said goodbye, else why it stopped
    abort: list[str] = []  # the endpoint refused a call outright: the batch stops

    def fail(index: int, reason: str) -> None:
        outcome = FileOutcome(paths[index], error=f"{paths[index]}: {reason}")
        outcomes[index] = outcome
        on_outcome(outcome)

    def end(wid: int, reason: str | None) -> None:
        ended[wid] = reason
        for index in sorted(started[wid]):
            fail(index, f"not summarised: {reason or 'its worker ended without an answer'}")
        started[wid].clear()

    def handle(msg: tuple[Any, ...]) -> None:
        kind, wid = msg[0], msg[1]
        if kind == "start":
            started[wid].add(msg[2])
        elif kind == "done":
            index, outcome = msg[2], pickle.loads(msg[3])
            started[wid].discard(index)
            outcomes[index] = outcome
            on_outcome(outcome)
        elif kind == "cache":
            cache.put(msg[2], msg[3])
        elif kind == "call":
            recorder.record(msg[2])
        elif kind == "chunks":
            if on_chunks is not None:
                on_chunks(msg[2])
        elif kind == "fatal":
            end(wid, msg[2])
        elif kind == "abort":
            abort.append(msg[2])
        elif kind == "exit":
            end(wid, None)

    def read_all(wid: int) -> None:
        """Every message waiting in the worker's pipe; on EOF, the worker is gone."""
        conn = readers[wid]
        try:
            while wid not in ended and conn.poll():
                handle(conn.recv())
        except (EOFError, OSError):
            died(wid)

    def died(wid: int) -> None:
        """A worker gone without saying goodbye (its pipe closed, or its process ended)."""
        if wid not in ended:
            procs[wid].join(timeout=1)  # reaped, so its exit code is known
            end(wid, f"worker process died (exit code {procs[wid].exitcode})")

    try:
        while len(ended) < workers and not abort:
            live = [w for w in range(workers) if w not in ended]
            waitables = [readers[w] for w in live] + [procs[w].sentinel for w in live]
            for ready in multiprocessing.connection.wait(waitables, timeout=_POLL_S):
                for wid in live:
                    if ready is readers[wid] or ready == procs[wid].sentinel:
                        # A dead worker's last messages are still in its pipe: read them first.
                        read_all(wid)
                        if ready == procs[wid].sentinel:
                            died(wid)
        if abort:
            raise BackendFatal(abort[0])
        for index in range(len(paths)):
            if index not in outcomes:
                reasons = [r for r in ended.values() if r]
                fail(index, f"not summarised: {reasons[0] if reasons else 'no worker took it'}")
    finally:
        for wid, proc in enumerate(procs):
            if proc.is_alive() and ended.get(wid, "") is None:
                proc.join(timeout=2)  # it said goodbye: let it finish exiting
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)
            readers[wid].close()
        tasks.cancel_join_thread()
        tasks.close()
    return [outcomes[i] for i in range(len(paths))]


__all__ = ["can_fork", "resolve_workers", "run_in_workers", "split_concurrency"]
