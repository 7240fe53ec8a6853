"""reportsum: structured, number-grounded summaries of Chinese work reports.

    >>> from reportsum import summarise_text
    >>> docs = summarise_text(open("report.txt", encoding="utf-8").read())
    >>> docs[0].achievements[0].text
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from reportsum.pipeline import Settings, summarise_file, summarise_text

__all__ = ["Settings", "__version__", "summarise_file", "summarise_text"]


def __getattr__(name: str) -> Any:
    # The pipeline pulls in openai/instructor; import it only when the API is used.
    if name in ("Settings", "summarise_file", "summarise_text"):
        from reportsum import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
