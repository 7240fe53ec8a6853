"""reportsum: structured, number-grounded summaries of Chinese work reports.

    >>> from reportsum import summarise_text
    >>> docs = summarise_text(open("report.txt", encoding="utf-8").read())
    >>> docs[0].achievements[0].text

The public API: `summarise_text`, `summarise_file`, `Settings` (the pipeline), `verify` (check a
summary's numbers against its source) and the pydantic models of `reportsum.models`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from reportsum.grounding.verify import verify
    from reportsum.models import (
        DocumentSummary,
        Extraction,
        ExtractItem,
        FileSummary,
        NumberMention,
        RejectedItem,
        SummaryItem,
        Usage,
    )
    from reportsum.pipeline import Settings, summarise_file, summarise_text

_LAZY = {
    # The pipeline pulls in openai/instructor; import it only when the API is used.
    "Settings": "reportsum.pipeline",
    "summarise_file": "reportsum.pipeline",
    "summarise_text": "reportsum.pipeline",
    "verify": "reportsum.grounding.verify",
    **{name: "reportsum.models" for name in (
        "DocumentSummary", "ExtractItem", "Extraction", "FileSummary", "NumberMention",
        "RejectedItem", "SummaryItem", "Usage",
    )},
}

__all__ = [
    "DocumentSummary", "ExtractItem", "Extraction", "FileSummary", "NumberMention", "RejectedItem",
    "Settings", "SummaryItem", "Usage", "__version__", "summarise_file", "summarise_text", "verify",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
