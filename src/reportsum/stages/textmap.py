"""A text derived from an original, with a map back to the original's offsets.

Every stage after ingest works on a `MappedText`: cleaning deletes noise, splitting and
chunking take slices, but any index into the derived text can be turned back into an index
into the text as read (`to_original`). The map is a sorted list of runs
(derived_start, original_start, length): compact for megabytes of text, O(log n) per lookup.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MappedText:
    """`text` is derived from an original; `runs` map derived offsets to original ones.

    Each run (d, o, n) says text[d:d+n] == original[o:o+n]. Runs are sorted by d and
    contiguous in d (every derived character belongs to exactly one run).
    """

    text: str
    runs: tuple[tuple[int, int, int], ...]
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(r[0] for r in self.runs))

    @classmethod
    def identity(cls, text: str, *, offset: int = 0) -> MappedText:
        """The original itself (optionally starting at `offset` in a larger original)."""
        return cls(text, ((0, offset, len(text)),) if text else ())

    @classmethod
    def from_keep(cls, original: str, keep: Iterable[tuple[int, int]]) -> MappedText:
        """Keep only the given [start, end) ranges of `original` (sorted, non-overlapping)."""
        parts: list[str] = []
        runs: list[tuple[int, int, int]] = []
        d = 0
        last = -1
        for start, end in keep:
            if end <= start:
                continue
            if start < last:
                raise ValueError("keep ranges must be sorted and must not overlap")
            parts.append(original[start:end])
            if runs and runs[-1][1] + runs[-1][2] == start:
                pd, po, pn = runs[-1]
                runs[-1] = (pd, po, pn + end - start)
            else:
                runs.append((d, start, end - start))
            d += end - start
            last = end
        return cls("".join(parts), tuple(runs))

    def __len__(self) -> int:
        return len(self.text)

    def to_original(self, i: int) -> int:
        """Original offset of derived offset `i` (0 <= i <= len). `len` maps past the end."""
        if not self.runs:
            return 0
        if i >= len(self.text):
            d, o, n = self.runs[-1]
            return o + n
        k = bisect_right(self._starts, i) - 1
        d, o, _ = self.runs[max(k, 0)]
        return o + (i - d)

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering derived [start, end)."""
        if end <= start:
            s = self.to_original(start)
            return (s, s)
        return (self.to_original(start), self.to_original(end - 1) + 1)

    def slice(self, start: int, end: int) -> MappedText:
        """The derived text[start:end], still mapped to the same original."""
        start = max(0, start)
        end = min(len(self.text), end)
        if end <= start:
            return MappedText("", ())
        runs: list[tuple[int, int, int]] = []
        k = max(bisect_right(self._starts, start) - 1, 0)
        while k < len(self.runs):
            d, o, n = self.runs[k]
            if d >= end:
                break
            lo = max(d, start)
            hi = min(d + n, end)
            if hi > lo:
                runs.append((lo - start, o + (lo - d), hi - lo))
            k += 1
        return MappedText(self.text[start:end], tuple(runs))

    def delete(self, spans: Iterable[tuple[int, int]]) -> MappedText:
        """A new MappedText with the given derived [start, end) ranges removed."""
        keep: list[tuple[int, int]] = []
        pos = 0
        for s, e in sorted(spans):
            s = max(s, pos)
            if e <= s:
                continue
            if s > pos:
                keep.append((pos, s))
            pos = e
        if pos < len(self.text):
            keep.append((pos, len(self.text)))
        # One pass over the kept ranges and the runs together (both sorted): cleaning deletes
        # hundreds of spans from a long text, and a slice object per kept range was most of
        # its time.
        texts: list[str] = []
        runs: list[tuple[int, int, int]] = []
        d = 0
        k = 0
        own = self.runs
        for s, e in keep:
            texts.append(self.text[s:e])
            while k < len(own) and own[k][0] + own[k][2] <= s:
                k += 1
            j = k
            while j < len(own) and own[j][0] < e:
                rd, ro, rn = own[j]
                lo, hi = max(rd, s), min(rd + rn, e)
                if hi > lo:
                    nd, no = d + lo - s, ro + lo - rd
                    if runs and runs[-1][0] + runs[-1][2] == nd and runs[-1][1] + runs[-1][2] == no:
                        runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + hi - lo)
                    else:
                        runs.append((nd, no, hi - lo))
                j += 1
            d += e - s
        return MappedText("".join(texts), tuple(runs))

    @staticmethod
    def concat(parts: Iterable[MappedText]) -> MappedText:
        texts: list[str] = []
        runs: list[tuple[int, int, int]] = []
        d = 0
        for p in parts:
            for pd, po, pn in p.runs:
                if runs and runs[-1][0] + runs[-1][2] == d + pd and runs[-1][1] + runs[-1][2] == po:
                    rd, ro, rn = runs[-1]
                    runs[-1] = (rd, ro, rn + pn)
                else:
                    runs.append((d + pd, po, pn))
            texts.append(p.text)
            d += len(p.text)
        return MappedText("".join(texts), tuple(runs))
