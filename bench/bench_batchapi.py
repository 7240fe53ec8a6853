"""Batch API figures: a 200-report corpus through `reportsum batch submit -> status -> collect`
against the local fake Batch API (tests/fakebatch.py), through the real CLI.

Prints the requests and files submitted, the seconds each step took (wall time of the CLI
process, start-up included; the engine's own seconds from its closing line), and whether the
outputs equal those of the interactive path (`summarise --out` against tests/fakeserver.py with
the same scripted answers), ignoring run ids and usage. Then `summarise` on the same inputs,
which must make 0 model calls (every answer is in the cache).

    .venv/bin/python bench/bench_batchapi.py [--reports 200] [--max-requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakebatch import FakeBatchAPI  # noqa: E402
from fakeserver import FakeOpenAI  # noqa: E402
from helpers import make_reports  # noqa: E402


def cli(*args: str, home: Path, base_url: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REPORTSUM_"))}
    env.update(REPORTSUM_HOME=str(home), OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-bench-0000")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reportsum", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=1800)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"reportsum {' '.join(args)} failed:\n{proc.stderr}")
    return proc, seconds


def outputs(folder: Path) -> dict[str, object]:
    found = {}
    for p in sorted(folder.glob("*.json")):
        data = json.loads(p.read_text(encoding="utf-8"))
        for doc in data["documents"]:
            doc["run"].pop("run_id", None)
            doc["run"].pop("usage", None)
        found[p.name] = data
    return found


def run(reports: int = 200, max_requests: int | None = None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-batchapi-") as tmp:
        t = Path(tmp)
        make_reports(t / "in", reports)
        figures: dict[str, object] = {"reports": reports}
        with FakeBatchAPI() as api:
            home, url = t / "home", api.base_url
            limit = ["--max-requests", str(max_requests)] if max_requests else []
            sub, figures["submit_s"] = cli("batch", "submit", str(t / "in"), "--model", "fake-model",
                                           "--out", str(t / "out"), *limit, home=home, base_url=url)
            figures["requests"] = len(api.request_lines())
            figures["files"] = len(api.batches)
            figures["submit_engine_s"] = float(re.findall(r"; ([\d.]+)s\.", sub.stderr)[-1])
            status_s, polls = 0.0, 0
            while not all(b["status"] == "completed" for b in api.batches.values()):
                _, s = cli("batch", "status", home=home, base_url=url)
                status_s += s
                polls += 1
            figures["status_s"], figures["status_polls"] = round(status_s, 2), polls
            col, figures["collect_s"] = cli("batch", "collect", home=home, base_url=url)
            figures["collect_engine_s"] = float(re.findall(r" ([\d.]+)s; run", col.stderr)[-1])
            figures["collect_line"] = col.stderr.strip().splitlines()[-1]
            again, _ = cli("summarise", str(t / "in"), "--model", "fake-model", "--out", str(t / "again"),
                           home=home, base_url=url)
            figures["summarise_after"] = re.findall(r"\d+ model calls, \d+ cache hits", again.stderr)[-1]
        with FakeOpenAI() as server:
            _, figures["interactive_s"] = cli("summarise", str(t / "in"), "--model", "fake-model",
                                              "--out", str(t / "ref"), home=t / "ref-home",
                                              base_url=server.base_url)
        figures["outputs_identical"] = outputs(t / "out") == outputs(t / "ref") and len(outputs(t / "out")) == reports
        for k in ("submit_s", "collect_s", "interactive_s"):
            figures[k] = round(float(figures[k]), 2)  # type: ignore[arg-type]
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--max-requests", type=int, default=None, help="requests per file at most")
    args = parser.parse_args()
    for k, v in run(args.reports, args.max_requests).items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
