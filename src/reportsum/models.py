"""Data contracts shared by every stage.

Two families live here:

* the **model-facing schema** (`ExtractItem`, `Extraction`): exactly what a language model is
  asked to fill in, strict (extra fields forbidden, no empty strings);
* the **output schema** (`DocumentSummary` and its parts): what reportsum writes, with spans
  into the text as read, grounded numbers and rejected items.

`schemas/*.json` are generated from these models (`python -m reportsum.cli.schemas`); a test fails
when they drift.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from reportsum.grounding.mention import NumberKind, NumberMention

__all__ = [
    "SECTIONS", "SECTION_LABELS", "DocumentSummary", "ExtractItem", "Extraction", "FileSummary",
    "ExtractionRef", "NonEmpty", "NumberKind", "NumberMention", "RefItem", "RejectedItem", "SummaryItem",
    "Usage",
]

SCHEMA_VERSION = "1.0"

SECTIONS: tuple[str, ...] = ("achievements", "measures", "problems", "plans")
"""The four sections, in output order."""

SECTION_LABELS: dict[str, str] = {
    "achievements": "成效 Achievements",
    "measures": "措施 Measures",
    "problems": "问题 Problems",
    "plans": "打算 Plans",
}

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- model-facing schema


def _drop_property_titles(schema: dict[str, Any]) -> None:
    # Every call sends this schema: pydantic's per-field titles repeat the field names.
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class _ModelFacing(_Strict):
    """Strict, and compact as sent: the schema is part of every call's fixed prefix."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_property_titles)


class ExtractItem(_ModelFacing):
    """一条要点及其逐字引文"""

    text: NonEmpty = Field(description="简洁的陈述（保留原文数字）")
    evidence: NonEmpty = Field(description="原文逐字引用，支撑该陈述")


class Extraction(_ModelFacing):
    """一段原文的四类要点（没有则为空列表）"""

    achievements: list[ExtractItem] = Field(description="成效/成绩")
    measures: list[ExtractItem] = Field(description="措施/做法/举措")
    problems: list[ExtractItem] = Field(description="存在问题/不足/困难")
    plans: list[ExtractItem] = Field(description="下一步/明年工作打算/目标/思路")


class RefItem(_ModelFacing):
    """一条要点及其所依据的原文句子编号"""

    text: NonEmpty = Field(description="简洁的陈述（保留原文数字）")
    cite: list[int] = Field(min_length=1, description="支撑该陈述的原文句子编号，连续的一句或几句")


class ExtractionRef(_ModelFacing):
    """一段原文的四类要点（没有则为空列表）；依据以句子编号给出"""

    model_config = ConfigDict(title="Extraction")

    achievements: list[RefItem] = Field(description="成效/成绩")
    measures: list[RefItem] = Field(description="措施/做法/举措")
    problems: list[RefItem] = Field(description="存在问题/不足/困难")
    plans: list[RefItem] = Field(description="下一步/明年工作打算/目标/思路")


# ---------------------------------------------------------------- output schema


class SummaryItem(_Strict):
    """A grounded item of a summary."""

    text: str
    evidence: str
    span: tuple[int, int] | None = Field(
        description="[start, end) of the evidence in the text as read"
    )
    numbers: list[NumberMention] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class MinorItem(SummaryItem):
    """A grounded item ranked out of the four sections by the salience cap of a long report:
    kept apart (with the section it would have gone to) so nothing is lost."""

    section: str


class RejectedItem(_Strict):
    """An item that failed grounding: never part of the four sections."""

    section: str
    text: str
    evidence: str = ""
    reasons: list[str]


class Usage(_Strict):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens the server took from its prompt cache (part of prompt_tokens)."""
    calls: int = 0
    cache_hits: int = 0


class DocumentInfo(_Strict):
    source: str
    index: int = 0
    title: str | None = None
    issuer: str | None = None
    period: str | None = None
    sha256: str
    chars: int
    span: tuple[int, int] | None = Field(
        None, description="[start, end) of this document in the text as read"
    )
    warnings: list[str] = Field(default_factory=list)


class RunInfo(_Strict):
    backend: str
    model: str | None = None
    prompt: str | None = None
    prompt_version: str | None = None
    prompt_hash: str | None = None
    mode: str | None = None
    evidence: Literal["quote", "ref"] | None = Field(
        default=None,
        description="How a model gave evidence: quote (copied by the model, checked against the "
        "source) or ref (clause numbers cited; reportsum filled in the quotes); none offline",
    )
    run_id: str | None = None
    usage: Usage = Field(default_factory=Usage)


class DocumentSummary(_Strict):
    schema_version: str = SCHEMA_VERSION
    document: DocumentInfo
    run: RunInfo
    achievements: list[SummaryItem] = Field(default_factory=list)
    measures: list[SummaryItem] = Field(default_factory=list)
    problems: list[SummaryItem] = Field(default_factory=list)
    plans: list[SummaryItem] = Field(default_factory=list)
    minor: list[MinorItem] = Field(
        default_factory=list,
        description="Grounded items ranked out by the salience cap (long reports); --all-items keeps them in their sections",
    )
    rejected: list[RejectedItem] = Field(default_factory=list)

    def section(self, name: str) -> list[SummaryItem]:
        if name not in SECTIONS:
            raise KeyError(name)
        items: list[SummaryItem] = getattr(self, name)
        return items


class FileSummary(_Strict):
    """The JSON output for one input file: every report found in it."""

    schema_version: str = SCHEMA_VERSION
    source: str
    documents: list[DocumentSummary]
    errors: list[str] = Field(default_factory=list)
