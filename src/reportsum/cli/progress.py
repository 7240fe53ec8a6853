"""Progress of a batch on stderr: a live display on a terminal, plain log lines otherwise.

On a terminal (and TERM is not "dumb") a rich progress bar shows files done/total, chunks,
model calls, cache hits, rejections, elapsed time and rate; failures are printed above it.
Anywhere else (a pipe, a log file, CI) every finished file is one line:

    [12/3000] reports/a.docx: 3 documents, 41 items, 0 rejected
    [13/3000] reports/b.pdf: failed: empty file (no text)

A failure is one line naming the file once, with any warning a library gave while reading it
(bs4's "looks more like a URL", pypdf's "EOF marker not found"...) in brackets; control characters in names are escaped.
`quiet` shows failures only; `verbose` adds a line per file on a terminal too, with those
warnings for files that were summarised.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from reportsum.cli.common import one_line
from reportsum.models import SECTIONS
from reportsum.pipeline import FileOutcome


def failure_reason(outcome: FileOutcome, error: str | None = None) -> str:
    """Why a file failed, without its path or name in front (the line names it once)."""
    reason = outcome.error or error or "no summary"
    for prefix in (f"{outcome.path}: ", f"{outcome.path.name}: "):
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason


@dataclass
class Tally:
    """Running totals of a batch."""

    files: int = 0
    failed: int = 0
    documents: int = 0
    items: int = 0
    rejected: int = 0
    chunks: int = 0
    calls: int = 0
    cache_hits: int = 0


class _Bar(Progress):
    """The files bar with the running totals on a line of their own below it."""

    stats = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield Text(self.stats, style="dim")


def is_live_terminal(stream: TextIO) -> bool:
    """Whether `stream` is an interactive terminal that can redraw a progress bar."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


class BatchProgress:
    """Reports a batch of `total` files as they finish. Use as a context manager.

    `live` picks the display; by default a live bar when `stream` is a terminal.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, live: bool | None = None,
                 quiet: bool = False, verbose: bool = False) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tally = Tally()
        self.started = time.perf_counter()
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self._live = not quiet and (is_live_terminal(self.stream) if live is None else live)
        self._bar: _Bar | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BatchProgress:
        self.started = time.perf_counter()
        if self._live:
            console = Console(file=self.stream)
            self._bar = _Bar(
                TextColumn("[bold]summarising"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[rate]}"),
                console=console,
                # The bar goes when the batch ends: the screen keeps only the failure lines and
                # the closing line. stdout is never redirected: outputs printed there (JSON...)
                # must reach it, not the terminal the bar is on.
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._bar.add_task("files", total=self.total, rate="")
            self._refresh()
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._refresh()
            self._bar.stop()
            self._bar = None

    def chunks(self, n: int) -> None:
        """`n` more chunks were handed to the backend."""
        self.tally.chunks += n
        self._refresh()

    def file_done(self, outcome: FileOutcome, error: str | None = None) -> None:
        """One file finished; `error` is a failure after summarising (e.g. its output could
        not be written), which makes it a failed file too."""
        t = self.tally
        t.files += 1
        failed = (outcome.error or error) is not None or outcome.summary is None
        if failed:
            t.failed += 1
            line = f"failed: {failure_reason(outcome, error)}"
        else:
            assert outcome.summary is not None
            docs = outcome.summary.documents
            items = sum(len(d.section(s)) for d in docs for s in SECTIONS)
            rejected = sum(len(d.rejected) for d in docs)
            t.documents += len(docs)
            t.items += items
            t.rejected += rejected
            t.calls += sum(d.run.usage.calls for d in docs)
            t.cache_hits += sum(d.run.usage.cache_hits for d in docs)
            line = f"{len(docs)} documents, {items} items, {rejected} rejected"
            if self.verbose and outcome.notes:
                line += f" ({'; '.join(outcome.notes)})"
        if self._bar is not None:
            if failed or self.verbose:
                self._bar.console.print(one_line(f"reportsum: {outcome.path}: {line}"),
                                        markup=False, highlight=False, soft_wrap=True)
        elif failed or not self.quiet:
            prefix = "reportsum: " if self.quiet else f"[{t.files}/{self.total}] "
            self.stream.write(one_line(f"{prefix}{outcome.path}: {line}") + "\n")
            self.stream.flush()
        self._refresh()

    def _stats(self) -> str:
        t = self.tally
        return (f"{t.chunks} chunks · {t.calls} model calls · {t.cache_hits} cache hits · "
                f"{t.documents} documents · {t.rejected} rejected · {t.failed} failed")

    def _refresh(self) -> None:
        if self._bar is None or self._task is None:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = f"{self.tally.files / elapsed:.2f} files/s" if self.tally.files else ""
        self._bar.stats = self._stats()
        self._bar.update(self._task, completed=self.tally.files, rate=rate)


__all__ = ["BatchProgress", "Tally", "is_live_terminal"]
