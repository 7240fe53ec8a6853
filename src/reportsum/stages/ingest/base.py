"""What every reader shares: the document as read, the error a reader raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RawDocument:
    """One input file as read: `text` is what every span in the output indexes.

    `warnings`: file-level notes from the reader (`"ocr"`: the text was recognised from
    images); `low_confidence`: [start, end) spans of `text` the recogniser scored low.
    """

    path: Path
    text: str
    encoding: str
    kind: str
    sha256: str
    warnings: tuple[str, ...] = ()
    low_confidence: tuple[tuple[int, int], ...] = field(default=(), repr=False)


class IngestError(Exception):
    """A file that cannot be read as a report; the message names the file and the reason."""


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Read:
    """What a reader returns: the text as read and how it was obtained."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()
    low_confidence: tuple[tuple[int, int], ...] = ()
