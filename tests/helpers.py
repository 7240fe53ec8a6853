"""Shared test helpers: where the seeds are, and running the real CLI in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
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


# ---------------------------------------------------------------- batches through the CLI

BATCH_KEY = "sk-test-batch-0000"
CLOSING_LINE = re.compile(r"(\d+) of (\d+) files summarised \((\d+) documents\), (\d+) failed"
                     r"(?:, (\d+) skipped \(done\))?(?:, \d+ skipped)?; (\d+) model calls, (\d+) cache hits")


def report_text(i: int) -> str:
    # Every sentence carries numbers unique to the file, so no two chunks share a text.
    return (
        f"第{i}街道2024年工作总结\n"
        f"全年完成固定资产投资{10 + i}.5亿元，新增市场主体{100 + i}户，城镇新增就业{300 + i}人，"
        f"辖区营商环境持续改善。\n"
        f"第{i}街道仍有{i + 2}个社区养老服务设施不足，全年仅完成老旧小区改造{i + 3}个。"
        f"明年计划新建口袋公园{i + 2}个，新增停车位{200 + i}个。\n"
    )


def make_reports(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"r{i:03d}.txt"
        p.write_text(report_text(i), encoding="utf-8")
        paths.append(p)
    return paths


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REPORTSUM_"))}
    env["REPORTSUM_HOME"] = str(home)
    return env


def closing_counts(stderr: str) -> tuple[int, ...]:
    m = CLOSING_LINE.search(stderr)
    assert m, stderr
    return tuple(int(g or 0) for g in m.groups())


def outputs_by_stem(out: Path, suffix: str = ".json") -> dict[str, Path]:
    return {p.stem: p for p in out.glob(f"*{suffix}")}


def wait_for(condition, seconds: float, what: str) -> None:  # noqa: ANN001 - a predicate
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
