"""Grounding figures: hallucinations caught, faithful forms falsely rejected, throughput.

`run()` returns the figures as a dict; `python bench/bench_grounding.py` prints them.
Catch and false-rejection rates are over tests/data/grounding_oracle.jsonl. Throughput is
`verify` on ~1 MB of report text (the seeds in ../shared/seeds repeated; skipped when absent)
against a summary made of every sentence of that text (each quoted as its own evidence),
compared with a plain `re.finditer(r"\\d+")` scan of the same text in the same run.
Copy k of the seeds has every ASCII digit d rewritten to (a * d + k) % 10, a = 1, 3, 7, 9 for
k < 10, < 20, ... (a digit permutation, distinct for each of up to 40 copies), so the copies'
figures and sentences differ (as in a real 1 MB corpus) and no per-text cache turns repeats
into hits, while each sentence is still grounded in its own copy.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from reportsum.grounding.ground import GroundingSource, check_item
from reportsum.grounding.verify import verify

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "tests" / "data" / "grounding_oracle.jsonl"
SEEDS = ROOT.parent / "shared" / "seeds"
TARGET_BYTES = 1_000_000


def _shift_digits(k: int) -> dict[int, str]:
    """A `str.translate` table for copy k: ASCII digit d -> (a * d + k) % 10.

    A plain shift (a = 1) repeats after 10 copies; a multiplier coprime to 10 gives the next
    tens of copies their own permutations.
    """
    a = (1, 3, 7, 9)[k // 10 % 4]
    return {ord("0") + d: str((a * d + k) % 10) for d in range(10)}


def _cases() -> list[dict[str, str]]:
    return [
        json.loads(line) for line in ORACLE.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def class_figures() -> dict[str, tuple[int, int, int, int]]:
    """Per class of the oracle (the id before -faithful/-halluc): (hallucinations, caught,
    faithful forms, accepted)."""
    out: dict[str, list[int]] = {}
    for c in _cases():
        cls = re.split(r"-(?:faithful|halluc)", c["id"])[0]
        row = out.setdefault(cls, [0, 0, 0, 0])
        ok = check_item(GroundingSource(c["source"]), c["text"], c["evidence"]).ok
        if c["expect"] == "reject":
            row[0] += 1
            row[1] += not ok
        else:
            row[2] += 1
            row[3] += ok
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def oracle_figures() -> dict[str, float | int]:
    """Share of planted hallucinations caught and of faithful forms falsely rejected."""
    cases = _cases()
    caught = planted = rejected = faithful = 0
    for c in cases:
        ok = check_item(GroundingSource(c["source"]), c["text"], c["evidence"]).ok
        if c["expect"] == "reject":
            planted += 1
            caught += not ok
        else:
            faithful += 1
            rejected += not ok
    return {
        "cases": len(cases),
        "hallucinations_caught_pct": 100.0 * caught / planted if planted else 0.0,
        "faithful_falsely_rejected_pct": 100.0 * rejected / faithful if faithful else 0.0,
    }


def throughput_figures() -> dict[str, float | int]:
    """verify() MB/s on ~1 MB of seed text and its ratio to a bare digit scan."""
    files = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    if not files:
        return {}
    unit = "\n".join(f.read_text(encoding="utf-8") for f in files)
    copies = max(1, TARGET_BYTES // len(unit.encode("utf-8")))
    text = "".join(unit.translate(_shift_digits(k)) for k in range(copies))
    mb = len(text.encode("utf-8")) / 1e6
    items = [("text", s, s) for s in re.split(r"[。！？；]", text) if s.strip()]
    t0 = time.perf_counter()
    digits = sum(1 for _ in re.finditer(r"\d+", text))
    t_re = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = verify(text, items)
    t_verify = time.perf_counter() - t0
    return {
        "megabytes": round(mb, 3),
        "items": len(items),
        "digit_runs": digits,
        "ungrounded": len(report.ungrounded),
        "verify_mb_per_s": mb / t_verify,
        "regex_mb_per_s": mb / t_re,
        "slowdown_vs_regex": t_verify / t_re,
    }


def run() -> dict[str, float | int]:
    """All figures."""
    return {**oracle_figures(), **throughput_figures()}


if __name__ == "__main__":
    if "--classes" in sys.argv:
        print(f"{'class':10} {'caught':>9} {'faithful accepted':>18}")
        for cls, (planted, caught, faithful, accepted) in class_figures().items():
            print(f"{cls:10} {caught:>4}/{planted:<4} {accepted:>13}/{faithful:<4}")
        sys.exit(0)
    figures = run()
    print(f"oracle cases:                   {figures['cases']}")
    print(f"planted hallucinations caught:  {figures['hallucinations_caught_pct']:.1f}%")
    print(f"faithful forms falsely rejected: {figures['faithful_falsely_rejected_pct']:.1f}%")
    if "verify_mb_per_s" in figures:
        print(
            f"verify throughput:              {figures['verify_mb_per_s']:.2f} MB/s on "
            f"{figures['megabytes']} MB ({figures['items']} items, {figures['ungrounded']} ungrounded)"
        )
        print(
            f"plain re.finditer(r'\\d+'):      {figures['regex_mb_per_s']:.1f} MB/s "
            f"(verify is {figures['slowdown_vs_regex']:.1f}x slower)"
        )
    else:
        print("throughput: skipped (no seeds folder at ../shared/seeds)")
