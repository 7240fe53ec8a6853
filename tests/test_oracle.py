"""Every planted case of tests/data/grounding_oracle.jsonl (faithful forms and hallucinations)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportsum.grounding.ground import GroundingSource, check_item

ORACLE = Path(__file__).parent / "data" / "grounding_oracle.jsonl"
CASES = [
    json.loads(line) for line in ORACLE.read_text(encoding="utf-8").splitlines() if line.strip()
]


def test_oracle_is_large_and_balanced() -> None:
    assert len(CASES) >= 150
    expects = {c["expect"] for c in CASES}
    assert expects == {"accept", "reject"}
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_oracle_case(case: dict[str, str]) -> None:
    check = check_item(GroundingSource(case["source"]), case["text"], case["evidence"])
    expected = case["expect"] == "accept"
    assert check.ok is expected, f"{case['why']}: reasons={check.reasons}"
    if not expected:
        assert check.reasons and all(r.startswith("条目“") for r in check.reasons)
