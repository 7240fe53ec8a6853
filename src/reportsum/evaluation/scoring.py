"""Scores a predicted summary against gold: item precision/recall/F1 and number recall/precision.

Pure functions over plain items (anything with `text`, `evidence` and `span`: a
`ResolvedGoldItem`, a `SummaryItem` or a `ScoreItem`). Spans are [start, end) in the text as
read, the same coordinates for gold and predictions.

Pairing rule (per section, one-to-one, greedy)
-----------------------------------------------
For a gold item g and a predicted item p of the **same section**:

* ``inter``      = characters shared by the two evidence spans (0 if either span is missing);
* ``overlap``    = inter / min(len(g.span), len(p.span))   (share of the shorter span covered);
* ``jaccard``    = inter / (len(g.span) + len(p.span) - inter);
* ``similarity`` = rapidfuzz ``fuzz.ratio`` / 100 of the two texts, each NFKC-normalised with
  whitespace removed (so full-width and half-width punctuation compare equal).

The pair is *allowed* when ``overlap >= 0.5`` or ``similarity >= 0.6``; its *score* is
``jaccard + similarity`` (0..2). All allowed pairs are sorted by score, highest first (ties:
lower gold index, then lower predicted index) and taken greedily when neither item is
already paired, so a gold item is claimed by at most one prediction and vice versa.

Scores
------
Per section: matched = pairs, precision = matched / predicted, recall = matched / gold,
F1 = harmonic mean; ``overall`` is the micro average (counts summed over sections).
An empty denominator gives 1.0 when the other side is empty too (nothing to find, nothing
claimed) and 0.0 otherwise, so an empty prediction against non-empty gold scores 0.

Numbers: the *gold figures* are the numbers in the gold items' texts; the *predicted figures*
are the numbers in the predicted items' texts (all sections of the document). Figures are
compared as (kind, value) with magnitudes multiplied out (10.69亿元 == 106900万元; 7.72% is
not 7.72个百分点), as multisets; redacted placeholders (xx家) have no value and are not
counted, and neither are ordinals (第五届) or slogan and formula numerals (五年来, 二十届,
八项规定, “四个意识”, 十五五: `reportsum.grounding.slogans`). number recall = matched / gold figures, number precision = matched / predicted
figures. Numbers come from `reportsum.grounding.numbers.scan` when that module is installed; until
then a simple regex (Arabic numerals with 万/亿 magnitudes, % and 个百分点) stands in.

`combine` adds the counts of several documents (micro average over a gold set).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rapidfuzz import fuzz

from reportsum.models import SECTIONS

if TYPE_CHECKING:
    from reportsum.evaluation.gold import GoldDocument
    from reportsum.models import DocumentSummary

MIN_OVERLAP = 0.5
"""A pair is allowed when the shorter evidence span is at least half covered by the other..."""
MIN_SIMILARITY = 0.6
"""...or when the two texts are at least this similar (rapidfuzz ratio / 100)."""


class ItemLike(Protocol):
    """What scoring needs of an item."""

    @property
    def text(self) -> str: ...

    @property
    def evidence(self) -> str: ...

    @property
    def span(self) -> tuple[int, int] | None: ...


@dataclass(frozen=True)
class ScoreItem:
    """A plain item to score (tests and adapters build these)."""

    text: str
    evidence: str = ""
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class PRF:
    """Counts and the precision/recall/F1 they give."""

    matched: int = 0
    gold: int = 0
    predicted: int = 0

    @property
    def precision(self) -> float:
        if self.predicted == 0:
            return 1.0 if self.gold == 0 else 0.0
        return self.matched / self.predicted

    @property
    def recall(self) -> float:
        if self.gold == 0:
            return 1.0 if self.predicted == 0 else 0.0
        return self.matched / self.gold

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    @property
    def ratio(self) -> float:
        """Predicted items per gold item (1.0 when both are empty; inf-free: 0 gold gives the
        predicted count)."""
        if self.gold == 0:
            return 1.0 if self.predicted == 0 else float(self.predicted)
        return self.predicted / self.gold

    def __add__(self, other: PRF) -> PRF:
        return PRF(
            self.matched + other.matched, self.gold + other.gold, self.predicted + other.predicted
        )

    def to_dict(self) -> dict[str, float | int]:
        return {
            "matched": self.matched,
            "gold": self.gold,
            "predicted": self.predicted,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "ratio": round(self.ratio, 4),
        }


@dataclass(frozen=True)
class Pair:
    """A gold item paired with a predicted item of the same section."""

    section: str
    gold_index: int
    predicted_index: int
    overlap: float
    jaccard: float
    similarity: float

    @property
    def score(self) -> float:
        return self.jaccard + self.similarity

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "gold_index": self.gold_index,
            "predicted_index": self.predicted_index,
            "overlap": round(self.overlap, 4),
            "jaccard": round(self.jaccard, 4),
            "similarity": round(self.similarity, 4),
        }


@dataclass(frozen=True)
class DocumentScore:
    """Scores of one document (or, from `combine`, of several: then `pairs` is empty)."""

    sections: dict[str, PRF]
    numbers: PRF
    pairs: tuple[Pair, ...] = ()
    documents: int = 1
    overall: PRF = field(init=False)

    def __post_init__(self) -> None:
        total = PRF()
        for prf in self.sections.values():
            total = total + prf
        object.__setattr__(self, "overall", total)

    def to_dict(self) -> dict[str, Any]:
        nums = self.numbers
        return {
            "documents": self.documents,
            "overall": self.overall.to_dict(),
            "sections": {name: prf.to_dict() for name, prf in self.sections.items()},
            "numbers": {
                "matched": nums.matched,
                "gold": nums.gold,
                "predicted": nums.predicted,
                "recall": round(nums.recall, 4),
                "precision": round(nums.precision, 4),
                "f1": round(nums.f1, 4),
            },
            "pairs": [p.to_dict() for p in self.pairs],
        }


# ---------------------------------------------------------------- pairing


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def text_similarity(a: str, b: str) -> float:
    """rapidfuzz ratio (0..1) of two texts after NFKC and whitespace removal."""
    return fuzz.ratio(_norm(a), _norm(b)) / 100.0


def span_overlap(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[float, float]:
    """(overlap of the shorter span, Jaccard) of two [start, end) spans; (0, 0) if one is missing."""
    if a is None or b is None:
        return 0.0, 0.0
    la, lb = a[1] - a[0], b[1] - b[0]
    if la <= 0 or lb <= 0:
        return 0.0, 0.0
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / min(la, lb), inter / (la + lb - inter)


def pair_items(
    section: str, gold: Sequence[ItemLike], predicted: Sequence[ItemLike]
) -> list[Pair]:
    """One-to-one greedy pairing of one section's items (rule in the module docstring)."""
    candidates: list[Pair] = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(predicted):
            overlap, jaccard = span_overlap(g.span, p.span)
            similarity = text_similarity(g.text, p.text)
            if overlap >= MIN_OVERLAP or similarity >= MIN_SIMILARITY:
                candidates.append(Pair(section, gi, pi, overlap, jaccard, similarity))
    candidates.sort(key=lambda c: (-c.score, c.gold_index, c.predicted_index))
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    pairs: list[Pair] = []
    for c in candidates:
        if c.gold_index in used_gold or c.predicted_index in used_pred:
            continue
        used_gold.add(c.gold_index)
        used_pred.add(c.predicted_index)
        pairs.append(c)
    pairs.sort(key=lambda c: c.gold_index)
    return pairs


# ---------------------------------------------------------------- numbers

Figure = tuple[str, float]

_FIGURE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(万亿|亿|万)?\s*(%|个百分点)?")
_MAGNITUDE = {None: 1.0, "万": 1e4, "亿": 1e8, "万亿": 1e12}


def _regex_figures(text: str) -> list[Figure]:
    """Stand-in scanner: Arabic numerals with 万/亿 magnitudes, percent and percentage points."""
    out: list[Figure] = []
    for m in _FIGURE_RE.finditer(unicodedata.normalize("NFKC", text)):
        suffix = m.group(3)
        if suffix == "%":
            out.append(("percent", float(m.group(1))))
        elif suffix:
            out.append(("percentage-point", float(m.group(1))))
        else:
            out.append(("number", float(m.group(1)) * _MAGNITUDE[m.group(2)]))
    return out


def _scanner() -> Callable[[str], list[Figure]]:
    try:
        from reportsum.grounding.numbers import scan
    except ImportError:
        return _regex_figures

    from reportsum.grounding.slogans import NOT_FIGURE_KINDS, is_slogan_numeral, slogan_spans

    def figures(text: str) -> list[Figure]:
        spans = slogan_spans(text)
        return [
            (m.kind, float(m.value))
            for m in scan(text)
            if m.value is not None
            and m.kind not in NOT_FIGURE_KINDS
            and not is_slogan_numeral(text, m.start, m.end, spans=spans)
        ]

    return figures


_figures = _scanner()


def figures(text: str) -> Counter[Figure]:
    """The multiset of (kind, value) figures in a text; values rounded to 12 significant digits."""
    return Counter((kind, float(f"{value:.12g}")) for kind, value in _figures(text))


def number_counts(gold_texts: Iterable[str], predicted_texts: Iterable[str]) -> PRF:
    """Figures of the gold texts matched (as multisets) by figures of the predicted texts."""
    gold: Counter[Figure] = Counter()
    for t in gold_texts:
        gold.update(figures(t))
    pred: Counter[Figure] = Counter()
    for t in predicted_texts:
        pred.update(figures(t))
    matched = sum((gold & pred).values())
    return PRF(matched, sum(gold.values()), sum(pred.values()))


# ---------------------------------------------------------------- documents


def score_document(
    gold: Mapping[str, Sequence[ItemLike]], predicted: Mapping[str, Sequence[ItemLike]]
) -> DocumentScore:
    """Score one document: `gold` and `predicted` map section names to items.

    Sections missing from a mapping count as empty; unknown section names raise `KeyError`.
    """
    for name in (*gold, *predicted):
        if name not in SECTIONS:
            raise KeyError(f"unknown section {name!r}; expected one of {', '.join(SECTIONS)}")
    sections: dict[str, PRF] = {}
    pairs: list[Pair] = []
    for name in SECTIONS:
        g, p = gold.get(name, ()), predicted.get(name, ())
        found = pair_items(name, g, p)
        pairs.extend(found)
        sections[name] = PRF(len(found), len(g), len(p))
    numbers = number_counts(
        (i.text for name in SECTIONS for i in gold.get(name, ())),
        (i.text for name in SECTIONS for i in predicted.get(name, ())),
    )
    return DocumentScore(sections, numbers, tuple(pairs))


def score_summary(gold: GoldDocument, summary: DocumentSummary) -> DocumentScore:
    """Score a reportsum `DocumentSummary` against a loaded `GoldDocument`."""
    return score_document(
        {name: gold.section(name) for name in SECTIONS},
        {name: summary.section(name) for name in SECTIONS},
    )


def combine(scores: Iterable[DocumentScore]) -> DocumentScore:
    """Micro-average several documents: counts are summed, pairs dropped."""
    sections = {name: PRF() for name in SECTIONS}
    numbers = PRF()
    n = 0
    for s in scores:
        n += 1
        numbers = numbers + s.numbers
        for name in SECTIONS:
            sections[name] = sections[name] + s.sections.get(name, PRF())
    return DocumentScore(sections, numbers, (), documents=n)
