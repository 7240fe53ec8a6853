"""Batch figures: orchestration efficiency against a model, offline throughput, peak memory.

`run()` returns the figures as a dict; `python bench/bench_batch.py` prints them.

1. Orchestration: 200 generated reports through `runner.run_batch` (temp store, cache on and
   cold) against the local test server (tests/fakeserver.py, run in a process of its own)
   answering every call after 100 ms, concurrency 16. Ideal wall time is calls / 16 x 0.1 s; the figure is ideal / actual,
   with the peak of concurrent calls the server saw.
2. Offline pipeline: the seeds (../shared/seeds) copied as files until they hold 5 MB, through
   `run_batch` with the rules backend and rendered to JSON: MB/s (skipped without seeds).
3. Peak memory: a child process summarising one 3 MB report with the rules backend; its peak
   RSS from `getrusage(RUSAGE_CHILDREN)` taken in a wrapper process that has no other child.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
from reportsum.outputs.render import render  # noqa: E402
from reportsum.pipeline import Settings  # noqa: E402
from reportsum.runs.runner import run_batch  # noqa: E402
from reportsum.runs.store import Store  # noqa: E402
from reportsum.runs.workers import resolve_workers  # noqa: E402

REPORTS = 200
CONCURRENCY = 16
LATENCY_S = 0.1
CHUNK_CHARS = 250
WORKERS = None  # automatic: one process per core (see reportsum.runs.workers)
OFFLINE_BYTES = 5_000_000
MEMORY_BYTES = 3_000_000

_PLACES = ("青山", "白石", "红旗", "金沙", "柳林", "桃源", "石门", "清河", "龙泉", "凤鸣")
_UNITS = ("镇", "乡", "街道", "县科技局", "区农业农村局")


def _paragraph(rng: random.Random, k: int) -> str:
    """One paragraph of a work report, figures drawn from `rng` (so every report differs)."""
    return (
        f"（{k}）全年完成固定资产投资{rng.randint(2, 90)}.{rng.randint(0, 99):02d}亿元，"
        f"同比增长{rng.randint(1, 19)}.{rng.randint(0, 9)}%。组织开展项目观摩活动{rng.randint(2, 30)}场，"
        f"推进重点项目{rng.randint(3, 60)}个，新增规上企业{rng.randint(1, 25)}家。"
    )


def make_report(i: int, paragraphs: int = 3) -> str:
    """A report in the genre: title, then achievements, measures, problems and plans."""
    rng = random.Random(i)
    name = f"{_PLACES[i % len(_PLACES)]}{_UNITS[(i // len(_PLACES)) % len(_UNITS)]}"
    return "\n".join([
        f"{name}（第{i + 1}号）2024年工作总结",
        "一、主要成效",
        *(_paragraph(rng, k + 1) for k in range(paragraphs)),
        "二、主要措施",
        f"出台《关于加快产业发展的若干措施》，兑现奖补资金{rng.randint(100, 9000)}万元，惠及企业{rng.randint(10, 400)}家。",
        "三、存在问题",
        f"一是产业链条较短，二是要素保障不足，土地指标缺口约{rng.randint(50, 900)}亩。",
        "四、明年打算",
        f"力争地区生产总值增长{rng.randint(5, 9)}%以上，新开工亿元以上项目{rng.randint(5, 40)}个。",
    ])


@contextlib.contextmanager
def server_process(delay: float) -> Iterator[str]:
    """The test server in a process of its own (a real model's CPU is not the client's):
    yields its base URL; `server_stats(url)` reads its counters."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakeserver.py"), "--delay",
                             str(delay)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"test server did not start (exit {proc.poll()})")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (worker processes;
    the server, still running, is not among them)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def server_stats(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/_stats", timeout=10) as r:
        return json.load(r)


def orchestration_figures() -> dict[str, float | int]:
    """ideal/actual wall time of a 200-report model batch, and the server's peak concurrency."""
    with tempfile.TemporaryDirectory() as tmp, server_process(LATENCY_S) as base_url:
        folder = Path(tmp)
        paths = []
        for i in range(REPORTS):
            path = folder / f"report_{i:03d}.txt"
            path.write_text(make_report(i), encoding="utf-8")
            paths.append(path)
        # Imports are process start-up, paid once whatever the batch: timed apart. (Cold, the
        # SDK's modules take 2-3 s, as long as a third of this batch's ideal time.)
        started = time.perf_counter()
        from reportsum.backends import llm

        llm.preload()
        imports = time.perf_counter() - started
        # Small chunks keep the call count of this figure (~850 calls) about what it was
        # before packing made each of these short reports one call: it measures orchestration.
        settings = Settings(backend="openai", model="bench-model", base_url=base_url,
                            api_key="bench-key", concurrency=CONCURRENCY, max_retries=0,
                            chunk_chars=CHUNK_CHARS)
        server_before = server_stats(base_url)
        with Store(folder / "store.db") as store:
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            result = run_batch(store, settings, paths=paths, use_cache=True, workers=WORKERS)
            seconds = time.perf_counter() - started
        stats = server_stats(base_url)
        calls = stats["calls"]
        ideal = calls / CONCURRENCY * LATENCY_S
        return {
            "reports": REPORTS,
            "failed": len(result.failures),
            "calls": calls,
            "batch_seconds": seconds,
            "ideal_seconds": ideal,
            "ideal_over_actual": ideal / seconds,
            "peak_in_flight": stats["peak_in_flight"],
            "import_seconds": imports,
            "workers": resolve_workers(WORKERS, REPORTS, settings),
            "server_cpu_seconds": stats["cpu_seconds"] - server_before["cpu_seconds"],
            "client_cpu_seconds": _cpu_seconds() - cpu_started,
        }


def offline_figures() -> dict[str, float | int]:
    """MB/s of ingest-to-render with the rules backend on the seeds copied to 5 MB."""
    seeds = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    if not seeds:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths: list[Path] = []
        total = 0
        while total < OFFLINE_BYTES:
            for seed in seeds:
                data = seed.read_bytes()
                path = folder / f"{len(paths):04d}_{seed.name}"
                path.write_bytes(data)
                paths.append(path)
                total += len(data)
        rendered = 0

        def done(outcome) -> None:  # noqa: ANN001 - a FileOutcome
            # as `reportsum summarise --format json` does: rendered where it was summarised
            nonlocal rendered
            if outcome.summary is not None:
                text = outcome.rendered
                if text is None:
                    text = render(outcome.summary, "json")
                rendered += len(text)

        with Store(folder / "store.db") as store:
            started = time.perf_counter()
            result = run_batch(store, Settings(backend="rules"), paths=paths, on_done=done,
                               workers=WORKERS, render=lambda summary, text: render(summary, "json", text))
            seconds = time.perf_counter() - started
        return {
            "offline_files": len(paths),
            "offline_megabytes": total / 1e6,
            "offline_failed": len(result.failures),
            "offline_seconds": seconds,
            "offline_mb_per_s": total / 1e6 / seconds,
            "offline_rendered_mb": rendered / 1e6,
        }


_WRAPPER = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if proc.returncode != 0:
    sys.exit(proc.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def memory_figures() -> dict[str, float | int]:
    """Peak RSS (MB) of `reportsum summarise` on one 3 MB report, and its target."""
    parts = [make_report(0, paragraphs=1)]
    i = 1
    while sum(len(p.encode("utf-8")) for p in parts) < MEMORY_BYTES:
        parts.append("\n".join(_paragraph(random.Random(i), k + 1) for k in range(20)))
        i += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "3mb.txt"
        text = "\n".join(parts)
        path.write_text(text, encoding="utf-8")
        size_mb = path.stat().st_size / 1e6
        cmd = [sys.executable, "-m", "reportsum", "summarise", str(path), "--backend", "rules",
               "--store", str(Path(tmp) / "store.db")]
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True,
                             check=True)
        seconds = time.perf_counter() - started
    peak_mb = int(out.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux
    return {
        "memory_input_mb": size_mb,
        "memory_peak_mb": peak_mb,
        "memory_target_mb": 10 * size_mb + 150,
        "memory_seconds": seconds,
    }


def run() -> dict[str, float | int]:
    """All figures."""
    return {**orchestration_figures(), **offline_figures(), **memory_figures()}


if __name__ == "__main__":
    f = run()
    print(f"orchestration: {f['reports']} reports, {f['calls']} calls ({f['failed']} failed) in "
          f"{f['batch_seconds']:.2f}s; ideal {f['ideal_seconds']:.2f}s -> "
          f"{f['ideal_over_actual']:.2f} of ideal (target >= 0.85); peak in flight "
          f"{f['peak_in_flight']} (concurrency {CONCURRENCY})")
    if "offline_mb_per_s" in f:
        print(f"offline pipeline: {f['offline_megabytes']:.2f} MB in {f['offline_files']} files, "
              f"{f['offline_seconds']:.2f}s -> {f['offline_mb_per_s']:.2f} MB/s (target >= 1 MB/s)")
    else:
        print("offline pipeline: skipped (no seeds folder at ../shared/seeds)")
    print(f"peak memory: {f['memory_peak_mb']:.0f} MB on a {f['memory_input_mb']:.2f} MB report "
          f"(target < {f['memory_target_mb']:.0f} MB), {f['memory_seconds']:.1f}s")
