"""reportsum: structured, number-grounded summaries of Chinese work reports."""

from __future__ import annotations

__version__ = "0.1.0"
