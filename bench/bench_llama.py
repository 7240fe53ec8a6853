"""Every mode against a real llama-server (gemma-3-270m): wall time, calls, tokens, items
kept and rejected, and the rejection reasons, per input. Not part of `make bench` (minutes
per input on 2 cores); run after `make llama`:

    .venv/bin/python bench/bench_llama.py [--base-url URL] [--max-tokens N] FILE...

Without --base-url it starts its own server (tests/llama_server.py). Each run is uncached
(--no-cache) in a fresh store under /tmp. Prints one line per (input, mode).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from llama_server import LlamaServer  # noqa: E402

MODES = ("json_schema", "tools", "json", "md_json")
SECTIONS = ("achievements", "measures", "problems", "plans")
CLOSING = re.compile(r"(\d+) model calls, \d+ cache hits, (\d+) tokens \((\d+) prompt, (\d+) "
                     r"completion, (\d+) cached\)")


def reason_kind(reason: str) -> str:
    """The English part of a grounding reason, e.g. 'evidence not found in source'."""
    m = re.search(r"（([^）]*)）", reason)
    return m.group(1) if m else reason[:60]


def one(base_url: str, src: Path, mode: str, max_tokens: int | None, home: Path) -> str:
    cmd = [str(ROOT / ".venv/bin/reportsum"), "summarise", str(src), "--base-url", base_url,
           "--model", "gemma-3-270m", "--mode", mode, "-j", "2", "--no-cache",
           "--store", str(home / "store.db")]
    if max_tokens:
        cmd += ["--max-tokens", str(max_tokens)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    m = CLOSING.search(proc.stderr)
    calls, tokens, prompt, completion, cached = m.groups() if m else ("?",) * 5
    kept = rejected = 0
    reasons: Counter[str] = Counter()
    if proc.returncode == 0:
        for doc in json.loads(proc.stdout)["documents"]:
            kept += sum(len(doc[s]) for s in SECTIONS)
            rejected += len(doc["rejected"])
            reasons.update(reason_kind(r) for item in doc["rejected"] for r in item["reasons"])
    failure = next((line.split("failed: ", 1)[1][:160] for line in proc.stderr.splitlines()
                    if "failed: " in line), "")
    return (f"{src.name[:16]:16} {mode:11} exit {proc.returncode} {wall:6.1f}s calls {calls:>3} "
            f"tokens {tokens:>6} ({prompt} prompt, {completion} completion, {cached} cached) "
            f"kept {kept:>2} rejected {rejected:>2} reasons {dict(reasons)} {failure}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--base-url")
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = None if args.base_url else LlamaServer(log=Path(tmp) / "server.log").start()
        base_url = args.base_url or server.base_url  # type: ignore[union-attr]
        try:
            for src in args.files:
                for mode in args.modes.split(","):
                    print(one(base_url, src, mode, args.max_tokens, Path(tmp)), flush=True)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
