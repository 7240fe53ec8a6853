"""Merge per-chunk results into one document's sections.

Chunks overlap in what a model chooses to quote (a figure mentioned in two chunks, a heading
context repeated), so the same item can arrive twice. An item is a repeat when it is in the
same section and its evidence span mostly overlaps one already kept, or its text is the same
after whitespace is folded. Items are ordered by where their evidence starts in the source.
"""

from __future__ import annotations

import bisect
import re

from reportsum.models import RejectedItem, SummaryItem

_WS = re.compile(r"\s+")


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Overlap of two spans as a fraction of the shorter one."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    if inter <= 0 or shorter <= 0:
        return 0.0
    return inter / shorter


def merge_items(items: list[SummaryItem], *, min_overlap: float = 0.8) -> list[SummaryItem]:
    """Drop repeats (see module doc) and order by evidence position; the first seen wins."""
    kept: list[SummaryItem] = []
    seen_text: set[str] = set()
    # Kept spans sorted by start, and the longest one's length: only spans starting within
    # (start - longest, end) can overlap a new span, so a long report's thousands of items
    # are compared with their neighbours, not with each other (that was quadratic).
    spans: list[tuple[int, int]] = []
    longest = 0
    for item in items:
        key = _WS.sub("", item.text)
        if key in seen_text:
            continue
        span = item.span
        if span is not None:
            lo = bisect.bisect_left(spans, (span[0] - longest + 1,))
            hi = bisect.bisect_left(spans, (span[1],))
            if any(_overlap(k, span) >= min_overlap for k in spans[lo:hi]):
                continue
            bisect.insort(spans, span)
            longest = max(longest, span[1] - span[0])
        kept.append(item)
        seen_text.add(key)
    return sorted(kept, key=lambda i: (i.span or (1 << 62, 0))[0])


def merge_rejected(items: list[RejectedItem]) -> list[RejectedItem]:
    """Drop rejected items repeated verbatim (same section, text and evidence)."""
    seen: set[tuple[str, str, str]] = set()
    out: list[RejectedItem] = []
    for r in items:
        key = (r.section, _WS.sub("", r.text), _WS.sub("", r.evidence))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
