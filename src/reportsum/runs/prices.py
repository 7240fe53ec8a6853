"""Estimated cost of a run from an optional price table.

`prices.json` beside the store (or `$REPORTSUM_PRICES`), mapping a model name to prices per
million tokens: `{"gpt-4o-mini": {"prompt": 0.15, "cached_prompt": 0.075, "completion": 0.6}}`.
`cached_prompt` (optional) is the price of prompt tokens the server read from its prompt cache
(`usage.cached_tokens`); without it they cost what other prompt tokens do. No table, no estimate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def load_prices(folder: Path) -> dict[str, dict[str, float]]:
    path = Path(os.environ.get("REPORTSUM_PRICES") or folder / "prices.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def estimate_cost(model: str | None, usage: dict[str, Any], prices: dict[str, dict[str, float]]) -> float | None:
    """Cost in the table's currency, or None when the model has no price."""
    if not model or model not in prices:
        return None
    p = prices[model]
    prompt = float(p.get("prompt", 0))
    cached = min(int(usage.get("cached_tokens", 0) or 0), int(usage.get("prompt_tokens", 0) or 0))
    return ((usage.get("prompt_tokens", 0) - cached) * prompt
            + cached * float(p.get("cached_prompt", prompt))
            + usage.get("completion_tokens", 0) * float(p.get("completion", 0))) / 1_000_000
