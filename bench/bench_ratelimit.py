"""A batch against a rate-limited provider: throughput as a share of the limit, 429s per 100.

tests/fakeserver.py enforces OpenAI-style limits as token buckets (requests and tokens per
minute, one second of burst) and answers each call after 200 ms. The model backend runs a
batch of chunks at --concurrency 16 through its adaptive limiter. Three providers:

* requests-bound: 600 requests/min announced in x-ratelimit-* headers;
* tokens-bound: 600 requests/min but a tokens/min cap of about a third of that, announced;
* silent: 600 requests/min, no x-ratelimit-* headers (only Retry-After on a 429), so the
  limiter has only its AIMD in-flight limit, the pauses and the rate it learns to go on;
* silent, tokens-bound: the tokens/min cap of the second, unannounced.

Share of the limit = the rate at which the server admitted requests (or tokens) from 2 s
after the first request (the bucket's initial burst spent) to the last, over the binding
limit's rate: 1.0 is the provider's limit exactly.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakeserver import FakeOpenAI, RateLimit, Reply  # noqa: E402

from reportsum.backends.llm import LLMSettings, OpenAIBackend  # noqa: E402
from reportsum.backends.prompts import load_prompt  # noqa: E402
from reportsum.grounding.ground import GroundingSource  # noqa: E402
from reportsum.stages.chunk import Chunk, chunk  # noqa: E402

SEED = sorted((ROOT.parent / "shared" / "seeds").glob("*.txt"))
CONCURRENCY = 16
DELAY = 0.2


def _doc() -> tuple[str, list[Chunk]]:
    text = SEED[0].read_text(encoding="utf-8") if SEED else (ROOT / "examples").glob("*.txt").__next__().read_text(encoding="utf-8")
    return text, chunk(text, max_chars=400)


def scenario(limit: RateLimit, calls: int) -> dict[str, Any]:
    text, pieces = _doc()
    batch = [Chunk(index=i, start=c.start, text=c.text, heading=c.heading)
             for i, c in enumerate(pieces[j % len(pieces)] for j in range(calls))]
    with FakeOpenAI(handler=lambda request, n: Reply.faithful(delay=DELAY), rate_limit=limit) as server:
        settings = LLMSettings(model="fake", prompt=load_prompt("default"), base_url=server.base_url,
                               api_key="sk-bench", concurrency=CONCURRENCY, max_retries=8, timeout=30)
        backend = OpenAIBackend(settings)
        started = time.monotonic()
        result = asyncio.run(backend.extract(text, batch, grounding=GroundingSource(text)))
        seconds = time.monotonic() - started
        ok = server.calls - server.throttled
        tokens = result.usage.total_tokens
        admitted = list(server.admitted_at)
    # The steady state: requests the server admitted from 2 s after the first one (by then
    # any strategy has spent the bucket's initial burst) to the last one.
    window = [t for t in admitted if t >= admitted[0] + 2.0]
    span = window[-1] - window[0] if len(window) > 1 else float("nan")
    req_share = (len(window) - 1) / span / (limit.rpm / 60)
    tok_share = (len(window) - 1) * (tokens / max(ok, 1)) / span / (limit.tpm / 60)
    return {
        "calls": ok, "seconds": seconds, "throttled": server.throttled,
        "per100": 100 * server.throttled / max(ok, 1),
        "share": max(req_share, tok_share), "failed_chunks": result.failed_chunks,
        "tokens_per_call": tokens / max(result.usage.calls, 1),
    }


def run() -> dict[str, dict[str, Any]]:
    out = {"requests-bound": scenario(RateLimit(rpm=600), 200)}
    per_call = out["requests-bound"]["tokens_per_call"]
    # A tokens/min cap that allows ~3.5 calls/s, so that tokens bind, not requests.
    out["tokens-bound"] = scenario(RateLimit(rpm=600, tpm=per_call * 3.5 * 60), 80)
    out["silent (no x-ratelimit headers)"] = scenario(RateLimit(rpm=600, announce=False), 200)
    out["silent, tokens-bound"] = scenario(
        RateLimit(rpm=600, tpm=per_call * 3.5 * 60, announce=False), 200)
    return out


def table(rows: dict[str, dict[str, Any]]) -> str:
    lines = ["| provider (600 requests/min) | calls | seconds | share of the limit | 429s | 429s per 100 calls | failed chunks |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['calls']} | {r['seconds']:.1f} | {r['share']:.2f} | {r['throttled']} "
                     f"| {r['per100']:.1f} | {r['failed_chunks']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
