"""What the number scanner reports about one quantitative mention, in the output schema.

It lives in the grounding core (which imports nothing else of reportsum) and is re-exported by
`reportsum.models`, where the rest of the output schema is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NumberKind = Literal[
    "number",
    "percent",
    "percentage-point",
    "ratio",
    "multiple",
    "range",
    "fraction",
    "ordinal",
    "rank",
    "year",
    "date",
    "redacted",
]


class NumberMention(BaseModel):
    """A quantitative mention found in the source by the number scanner."""

    model_config = ConfigDict(extra="forbid")

    raw: str
    value: float | None = Field(description="Value with magnitudes multiplied out; null if redacted")
    unit: str = ""
    kind: NumberKind
    span: tuple[int, int] = Field(description="[start, end) in the text as read")
    approx: str = Field(
        "", description="Qualifier written with the figure (余, 多, 近, 约, 超过, 不超过, ...) if any"
    )
    subject: str = Field(
        default="", description="What the figure is about: the phrase before it in the source (e.g. 高新技术企业)"
    )
    claim: str = Field(
        "",
        description="The item's approximate wording this figure grounds (突破千亿元 for "
        "1286.4亿元), empty when the item states the figure itself",
    )
    bounds: tuple[float | None, float | None] | None = Field(
        None,
        description="The values the approximate claim allows, [low, high] (null for an open "
        "end); null when the item states the figure itself",
    )
