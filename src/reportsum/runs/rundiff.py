"""Compare two runs: per document and section, items added and removed, numbers gained and
lost, and rejections.

Items are matched by their evidence span (two items whose evidence overlaps by half or more of
the shorter span are the same claim, however differently a prompt words it), else by text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportsum.models import SECTIONS, DocumentSummary, SummaryItem

_WS = re.compile(r"\s+")


@dataclass
class SectionDiff:
    section: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: int = 0


@dataclass
class DocumentDiff:
    source: str
    index: int
    sections: list[SectionDiff]
    numbers_gained: list[str]
    numbers_lost: list[str]
    rejected_a: int
    rejected_b: int
    only_in: str | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.only_in
            or self.numbers_gained
            or self.numbers_lost
            or self.rejected_a != self.rejected_b
            or any(s.added or s.removed for s in self.sections)
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "index": self.index,
            "only_in": self.only_in,
            "sections": {s.section: {"added": s.added, "removed": s.removed, "kept": s.kept}
                         for s in self.sections},
            "numbers_gained": self.numbers_gained,
            "numbers_lost": self.numbers_lost,
            "rejected": [self.rejected_a, self.rejected_b],
        }


def _same(a: SummaryItem, b: SummaryItem) -> bool:
    if a.span and b.span:
        inter = min(a.span[1], b.span[1]) - max(a.span[0], b.span[0])
        shorter = min(a.span[1] - a.span[0], b.span[1] - b.span[0])
        if shorter > 0 and inter / shorter >= 0.5:
            return True
    return _WS.sub("", a.text) == _WS.sub("", b.text)


def _numbers(doc: DocumentSummary) -> set[str]:
    return {n.raw for s in SECTIONS for item in doc.section(s) for n in item.numbers}


def diff_documents(a: DocumentSummary | None, b: DocumentSummary | None) -> DocumentDiff:
    ref = a or b
    assert ref is not None
    if a is None or b is None:
        return DocumentDiff(ref.document.source, ref.document.index, [], [], [],
                            len(a.rejected) if a else 0, len(b.rejected) if b else 0,
                            only_in="B" if a is None else "A")
    sections = []
    for name in SECTIONS:
        ia, ib = a.section(name), b.section(name)
        unmatched_b = list(ib)
        sd = SectionDiff(name)
        for item in ia:
            hit = next((x for x in unmatched_b if _same(item, x)), None)
            if hit is None:
                sd.removed.append(item.text)
            else:
                unmatched_b.remove(hit)
                sd.kept += 1
        sd.added = [x.text for x in unmatched_b]
        sections.append(sd)
    na, nb = _numbers(a), _numbers(b)
    return DocumentDiff(a.document.source, a.document.index, sections,
                        sorted(nb - na), sorted(na - nb), len(a.rejected), len(b.rejected))


def diff_runs(a: list[DocumentSummary], b: list[DocumentSummary]) -> list[DocumentDiff]:
    """Diff every document of two runs, matched by (source, index)."""
    key = lambda d: (d.document.source, d.document.index)  # noqa: E731
    da, db = {key(d): d for d in a}, {key(d): d for d in b}
    return [diff_documents(da.get(k), db.get(k)) for k in sorted(set(da) | set(db))]


def format_diff(diffs: list[DocumentDiff], run_a: str, run_b: str) -> str:
    lines = [f"diff {run_a} -> {run_b}"]
    for d in diffs:
        head = f"{d.source} #{d.index}"
        if d.only_in:
            lines.append(f"{head}: only in run {d.only_in}")
            continue
        if not d.changed:
            lines.append(f"{head}: unchanged")
            continue
        lines.append(f"{head}: rejected {d.rejected_a} -> {d.rejected_b}")
        for s in d.sections:
            if s.added or s.removed:
                lines.append(f"  {s.section}: +{len(s.added)} -{len(s.removed)} ={s.kept}")
                lines += [f"    + {t}" for t in s.added]
                lines += [f"    - {t}" for t in s.removed]
        if d.numbers_gained:
            lines.append("  numbers gained: " + ", ".join(d.numbers_gained))
        if d.numbers_lost:
            lines.append("  numbers lost: " + ", ".join(d.numbers_lost))
    return "\n".join(lines)
