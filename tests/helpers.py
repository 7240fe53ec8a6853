"""Shared test helpers: where the seeds are, and running the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
EXAMPLES = ROOT / "examples"


def seed_files() -> list[Path]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed folder {SEEDS} is absent (it sits beside the checkout in CI)")
    return sorted(SEEDS.glob("*.txt"))


def seed(prefix: str) -> Path:
    for p in seed_files():
        if p.name.startswith(prefix):
            return p
    pytest.skip(f"seed {prefix} is absent")
    raise AssertionError


def run_cli(*args: str, env: dict[str, str] | None = None, home: Path | None = None,
            timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportsum ARGS` as a user would, in a clean environment (no model configured)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REPORTSUM_"))}
    if home is not None:
        e["REPORTSUM_HOME"] = str(home)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reportsum", *args],
        capture_output=True, text=True, env=e, timeout=timeout, input=input, cwd=ROOT,
    )


def assert_evidence_at_span(raw: str, item) -> None:  # noqa: ANN001 - any SummaryItem-like
    """The span indexes the text as read; cleaning may only have removed noise inside it, so
    the evidence is a subsequence of raw[span] with the same first and last characters."""
    a, b = item.span
    assert raw[a] == item.evidence[0] and raw[b - 1] == item.evidence[-1], (item.evidence, raw[a:b])
    chars = iter(raw[a:b])
    assert all(ch in chars for ch in item.evidence), (item.evidence, raw[a:b])
