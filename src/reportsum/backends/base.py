"""The one small interface every extraction backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from reportsum.models import RejectedItem, Usage

if TYPE_CHECKING:
    from reportsum.grounding.ground import GroundingSource
    from reportsum.stages.chunk import Chunk


@dataclass(frozen=True)
class Candidate:
    """An item a backend proposes; the pipeline grounds it before it may reach a summary.

    `hint` is where the backend believes the evidence starts in the document text (the rules
    backend knows it exactly; a model backend passes its chunk's start), used to prefer the
    nearest occurrence when a quote appears more than once.
    """

    section: str
    text: str
    evidence: str
    chunk_index: int = 0
    hint: int | None = None
    minor: bool = False
    """Ranked out of the four sections by the salience cap: kept in the summary's `minor` list."""


class BackendFatal(Exception):
    """The model endpoint refuses every call (bad key, no access, no such model): the whole
    batch stops at once instead of failing every file the same way."""


@dataclass
class BackendResult:
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[RejectedItem] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)
    failed_chunks: int = 0
    """Chunks that produced no answer at all (the call failed or nothing parsed)."""


class Backend(Protocol):
    """Extracts candidate items from one document.

    `text` is the document's (cleaned) text; `chunks` cover it, each with its offset into
    `text`; `grounding` is built once over `text` and is what validators check against.
    """

    name: str
    model: str | None

    async def extract(
        self, text: str, chunks: Sequence[Chunk], *, grounding: GroundingSource
    ) -> BackendResult: ...
