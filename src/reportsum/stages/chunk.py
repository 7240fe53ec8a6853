"""Cut a document into chunks of whole sentences for the extraction backends.

Every model call repeats the fixed prompt, so chunks are as full as the budget allows: a
document that fits is one chunk, and a longer one is cut into paragraphs (a sentence at a
time where a paragraph alone exceeds the budget) that are packed greedily up to the budget
*across* headings and sections. A heading travels with the paragraph under it, so no chunk
ends on a bare heading and the title is never a chunk of its own.

Stability under edits comes from content-defined boundaries: a chunk also ends after an
"anchor" unit, picked by a hash of that unit's own text (like rsync's rolling hash). Packing
restarts at every anchor, so editing a paragraph changes only the chunks between the anchors
around it; a cache keyed on chunk text keeps the rest.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from reportsum.stages.sentences import Heading, find_headings, sentence_spans


@dataclass(frozen=True)
class Chunk:
    """`text == document[start:start + len(text)]`; `heading` is the enclosing section's title."""

    index: int
    start: int
    text: str
    heading: str | None


Span = tuple[int, int]

# Anchors fall on one unit in (budget / this) on average, so a chunk holds a few paragraphs.
_ANCHOR_CHARS = 250


def _paragraphs(text: str, spans: list[Span], heading_starts: set[int]) -> list[list[Span]]:
    """Runs of sentences; whitespace between sentences (a line break, or the space that a
    scraped page left for one) or a heading starts a new paragraph. A heading-only paragraph
    is glued to the next one so that no chunk ends with a bare heading."""
    paras: list[list[Span]] = []
    for s in spans:
        gap = text[paras[-1][-1][1] : s[0]] if paras else ""
        if not paras or gap or s[0] in heading_starts:
            paras.append([s])
        else:
            paras[-1].append(s)
    glued: list[list[Span]] = []
    pending: list[Span] = []
    for p in paras:
        if len(p) == 1 and p[0][0] in heading_starts:
            pending.extend(p)
            continue
        glued.append(pending + p)
        pending = []
    if pending:
        glued.append(pending)
    return glued


def _units(paragraph: list[Span], max_chars: int) -> list[Span]:
    """The paragraph as one unit if it fits, else its sentences (each may exceed the budget)."""
    if paragraph[-1][1] - paragraph[0][0] <= max_chars:
        return [(paragraph[0][0], paragraph[-1][1])]
    return list(paragraph)


def _is_anchor(text: str, unit: Span, modulus: int) -> bool:
    """Whether a chunk must end after `unit`: decided by the unit's own content only."""
    return zlib.crc32(text[unit[0] : unit[1]].encode("utf-8")) % modulus == 0


def _pack(text: str, units: list[Span], max_chars: int) -> list[Span]:
    """Greedy packing that also ends a chunk after every anchor unit.

    Plain greedy packing lets one longer paragraph push every later boundary of the section;
    anchors chosen by content (like rsync's rolling hash) resynchronise the packing after an
    edit, so an edit changes the chunks up to the next anchor only.
    """
    modulus = max(2, max_chars // _ANCHOR_CHARS)
    out: list[Span] = []
    close = True
    for u in units:
        if not close and u[1] - out[-1][0] <= max_chars:
            out[-1] = (out[-1][0], u[1])
        else:
            out.append(u)
        close = _is_anchor(text, u, modulus)
    return out


def _enclosing(headings: list[Heading], starts: list[int]) -> list[str | None]:
    """For each chunk start, the innermost heading above it that is still open."""
    out: list[str | None] = []
    stack: list[Heading] = []
    k = 0
    for start in starts:
        while k < len(headings) and headings[k].start < start:
            h = headings[k]
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            k += 1
        opening = [h for h in headings[k:k + 1] if h.start == start]
        visible = list(stack)
        if opening:
            # A chunk that starts with its own heading is inside that heading's parent.
            while visible and visible[-1].level >= opening[0].level:
                visible.pop()
        out.append(visible[-1].title if visible else None)
    return out


def chunk(text: str, *, max_chars: int = 6000) -> list[Chunk]:
    """Split `text` into chunks of whole sentences of at most `max_chars` characters.

    A text within the budget is one chunk. A sentence longer than the budget is a chunk of
    its own. Chunks cover every non-blank character of `text`, in order, and are
    deterministic: unchanged stretches between anchors give identical chunks.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    spans = sentence_spans(text)
    if not spans:
        return []
    headings = find_headings(text)
    packed: list[Span]
    if spans[-1][1] - spans[0][0] <= max_chars:
        packed = [(spans[0][0], spans[-1][1])]
    else:
        heading_starts = {h.start for h in headings}
        units = [u for para in _paragraphs(text, spans, heading_starts)
                 for u in _units(para, max_chars)]
        packed = _pack(text, units, max_chars)
    titles = _enclosing(headings, [s for s, _ in packed])
    return [
        Chunk(index=i, start=s, text=text[s:e], heading=title)
        for i, ((s, e), title) in enumerate(zip(packed, titles, strict=True))
    ]
