"""Evaluation gold: hand-written reference summaries of reports, and their loader.

A gold file is JSON, one per report (format documented in `eval/README.md`)::

    {"document": "../../examples/a.txt", "doc_index": 0,
     "achievements": [{"text": "...", "span": [120, 168]}],
     "measures": [{"text": "...", "evidence": "verbatim quote"}],
     "problems": [], "plans": []}

`document` is resolved relative to the gold file. Evidence is either a verbatim `evidence`
quote (it must occur exactly once in the document) or a `span` [start, end) into the document
*as read*: the file decoded as UTF-8 with newlines normalised to `\\n`
(`Path.read_text(encoding="utf-8")`). Spans index the whole file, not one report of it, which
is the coordinate system of `SummaryItem.span` in reportsum's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reportsum.models import SECTIONS, NonEmpty


class GoldError(ValueError):
    """A gold file that can't be used: unreadable, invalid, or not matching its document."""


class GoldItem(BaseModel):
    """One reference item: the annotator's own concise statement plus its evidence."""

    model_config = ConfigDict(extra="forbid")

    text: NonEmpty = Field(description="Annotator's concise statement; keeps the report's figures exactly")
    evidence: NonEmpty | None = Field(
        None, description="Verbatim quote from the document (must occur exactly once)"
    )
    span: tuple[int, int] | None = Field(
        None, description="[start, end) of the evidence in the document as read"
    )
    note: str | None = Field(None, description="Free-form annotator note")

    @model_validator(mode="after")
    def _one_evidence(self) -> GoldItem:
        if (self.evidence is None) == (self.span is None):
            raise ValueError("give exactly one of `evidence` (a quote) or `span` [start, end]")
        if self.span is not None and not 0 <= self.span[0] < self.span[1]:
            raise ValueError(f"span {list(self.span)} must satisfy 0 <= start < end")
        return self


class GoldFile(BaseModel):
    """The JSON content of one gold file."""

    model_config = ConfigDict(extra="forbid")

    document: NonEmpty = Field(description="Path of the report, relative to this gold file")
    doc_index: int = Field(0, ge=0, description="Which report of the file (0 = first)")
    achievements: list[GoldItem] = Field(default_factory=list)
    measures: list[GoldItem] = Field(default_factory=list)
    problems: list[GoldItem] = Field(default_factory=list)
    plans: list[GoldItem] = Field(default_factory=list)


@dataclass(frozen=True)
class ResolvedGoldItem:
    """A gold item with its evidence located: `evidence == document_text[span[0]:span[1]]`."""

    section: str
    text: str
    evidence: str
    span: tuple[int, int]
    note: str | None = None


@dataclass(frozen=True)
class GoldDocument:
    """A loaded gold file: the document it annotates and every item resolved."""

    gold_path: Path
    document_path: Path
    doc_index: int
    document_text: str
    sections: dict[str, tuple[ResolvedGoldItem, ...]]

    def section(self, name: str) -> tuple[ResolvedGoldItem, ...]:
        """The resolved items of one section (`KeyError` for an unknown name)."""
        if name not in SECTIONS:
            raise KeyError(name)
        return self.sections[name]

    @property
    def items(self) -> list[ResolvedGoldItem]:
        """Every item, section by section in output order."""
        return [item for name in SECTIONS for item in self.sections[name]]


def read_document(path: Path) -> str:
    """The document as read: UTF-8, universal newlines (what gold spans index)."""
    return path.read_text(encoding="utf-8")


def _resolve(section: str, k: int, item: GoldItem, text: str, where: str) -> ResolvedGoldItem:
    label = f"{where}: {section}[{k}]"
    if item.span is not None:
        start, end = item.span
        if end > len(text):
            raise GoldError(
                f"{label}: span [{start}, {end}] runs past the end of the document "
                f"({len(text)} characters)"
            )
        evidence = text[start:end]
        if not evidence.strip():
            raise GoldError(f"{label}: span [{start}, {end}] covers only whitespace")
        return ResolvedGoldItem(section, item.text, evidence, (start, end), item.note)
    assert item.evidence is not None
    quote = item.evidence
    first = text.find(quote)
    if first < 0:
        raise GoldError(f"{label}: evidence {quote[:40]!r} not found in the document")
    if text.find(quote, first + 1) >= 0:
        raise GoldError(
            f"{label}: evidence {quote[:40]!r} occurs more than once; quote more or use a span"
        )
    return ResolvedGoldItem(section, item.text, quote, (first, first + len(quote)), item.note)


def parse_gold(data: Any, *, source: str = "<gold>") -> GoldFile:
    """Validate already-parsed JSON as a gold file (`GoldError` with every problem listed)."""
    try:
        return GoldFile.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        raise GoldError(f"{source}: invalid gold file: {problems}") from None


def load_gold(path: str | Path) -> GoldDocument:
    """Read a gold file, read its document and resolve every item's evidence.

    Raises `GoldError` when the gold file is unreadable or invalid, the document is missing,
    a span runs past the document, or an evidence quote is absent or ambiguous.
    """
    gold_path = Path(path)
    try:
        data = json.loads(gold_path.read_text(encoding="utf-8"))
    except OSError as e:
        raise GoldError(f"{gold_path}: cannot read gold file: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GoldError(f"{gold_path}: not a JSON file: {e}") from None
    gold = parse_gold(data, source=str(gold_path))
    doc_path = (gold_path.parent / gold.document).resolve()
    if not doc_path.is_file():
        raise GoldError(f"{gold_path}: document {gold.document!r} not found (resolved to {doc_path})")
    try:
        text = read_document(doc_path)
    except (OSError, UnicodeDecodeError) as e:
        raise GoldError(f"{gold_path}: cannot read document {doc_path}: {e}") from None
    sections = {
        name: tuple(
            _resolve(name, k, item, text, str(gold_path))
            for k, item in enumerate(getattr(gold, name))
        )
        for name in SECTIONS
    }
    return GoldDocument(gold_path, doc_path, gold.doc_index, text, sections)


def gold_json_schema() -> dict[str, Any]:
    """JSON Schema of a gold file (written to `schemas/gold.schema.json`)."""
    return GoldFile.model_json_schema()
