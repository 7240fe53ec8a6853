"""`make bench`: every benchmark's figures, printed as a table.

Figures are ratios measured within one run where a target is a ratio, so a noisy machine
moves both sides together. Not a test: it prints, it does not assert.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_batch  # noqa: E402
import bench_cost  # noqa: E402
import bench_grounding  # noqa: E402
import bench_ratelimit  # noqa: E402


def loop_seconds() -> float:
    """A fixed pure-Python workload (10 M additions): how fast the machine is right now.

    The batch figures are CPU-bound and this VM's speed drifts (by up to 2x within an hour);
    printing it beside them says which machine they were taken on.
    """
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    before = loop_seconds()
    g = bench_grounding.run()
    rows.append(("planted hallucinations caught", f"{g['hallucinations_caught_pct']:.1f}%", "100%"))
    rows.append(("faithful forms falsely rejected", f"{g['faithful_falsely_rejected_pct']:.1f}%", "0%"))
    if "verify_mb_per_s" in g:
        rows.append(("verify throughput", f"{g['verify_mb_per_s']:.2f} MB/s", ">= 1 MB/s"))
        rows.append(("verify time / plain \\d+ scan", f"{g['slowdown_vs_regex']:.1f}x", "<= 20x"))
    b = bench_batch.run()
    rows.append(("batch orchestration, share of ideal", f"{b['ideal_over_actual']:.2f}", ">= 0.85"))
    rows.append(("batch peak concurrent calls", f"{b['peak_in_flight']}", f"{bench_batch.CONCURRENCY}"))
    rows.append(("batch client CPU per model call",
                 f"{1000 * b['client_cpu_seconds'] / max(b['calls'], 1):.1f} ms",
                 f"({b['workers']} worker processes; server {1000 * b['server_cpu_seconds'] / max(b['calls'], 1):.1f} ms)"))
    if "offline_mb_per_s" in b:
        rows.append(("offline pipeline throughput", f"{b['offline_mb_per_s']:.2f} MB/s", ">= 1 MB/s"))
    rows.append(("peak memory, 3 MB report", f"{b['memory_peak_mb']:.0f} MB",
                 f"< {b['memory_target_mb']:.0f} MB"))
    after = loop_seconds()
    rows.append(("machine: 10 M Python additions", f"{before:.2f}/{after:.2f} s", "(before/after; lower is faster)"))
    cost = bench_cost.run()
    gold_quote, gold_ref = bench_cost.gold_shaped()
    limits = bench_ratelimit.run()
    for r in cost:
        if r["input"] == "seed 004":
            rows.append(("seed 004 (5 reports): calls", f"{r['calls']}", "<= 8"))
        if r["input"].startswith("examples/"):
            rows.append(("demo report: calls", f"{r['calls']}", "1"))
    rows.append(("amplification, worst input", f"{max(r['amplification'] for r in cost):.2f}x", "<= 2.0x"))
    ratios = [r["out_ref"] / r["out_quote"] for r in cost]
    rows.append(("output chars/item ref/quote, test server, all", f"{bench_cost.overall_ratio(cost):.2f}",
                 "<= 0.6 (text == quote here)"))
    rows.append(("output chars/item ref/quote, test server, worst input", f"{max(ratios):.2f}",
                 "<= 0.6 (text == quote here)"))
    rows.append(("output chars/item ref/quote, gold answers, all", f"{gold_ref / gold_quote:.2f}", "<= 0.6"))
    tokens = bench_cost.gold_tokens()
    if tokens is not None:
        rows.append(("output tokens/item ref/quote, gold answers, all", f"{tokens[1] / tokens[0]:.2f}",
                     "(gemma-3 tokenizer; what a provider bills)"))
    gold_ratios = [r["gold_ref"] / r["gold_quote"] for r in cost]
    rows.append(("output chars/item ref/quote, gold answers, worst input", f"{max(gold_ratios):.2f}", "<= 0.6"))
    for name, r in limits.items():
        rows.append((f"rate limit, {name}: share", f"{r['share']:.2f}", ">= 0.9"))
        rows.append((f"rate limit, {name}: 429s/100", f"{r['per100']:.1f}", "<= 5"))
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'measured':>14}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>14}  {target}")
    print()
    print("Cost per report (default settings; test server; chars sent = every message and the schema):")
    print(bench_cost.table(cost))
    print()
    print("A batch under a provider's rate limits (bench/bench_ratelimit.py):")
    print(bench_ratelimit.table(limits))


if __name__ == "__main__":
    main()
