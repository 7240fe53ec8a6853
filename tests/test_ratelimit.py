"""The adaptive rate limiter: its rules on a fake clock, and the backend under a rate-limited
test server (token buckets, 429s with Retry-After and x-ratelimit-* headers).

Throughput figures are the benchmark's (bench/bench_ratelimit.py); here only counts and rules.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from fakeserver import FakeOpenAI, RateLimit, Reply

from reportsum.backends.llm import LLMSettings, OpenAIBackend
from reportsum.backends.prompts import load_prompt
from reportsum.backends.ratelimit import AdaptiveLimiter, parse_duration, retry_delay
from reportsum.grounding.ground import GroundingSource
from reportsum.stages.chunk import Chunk

PIECE = "全年新认定高新技术企业46家，总数达到213家。"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_durations_and_retry_delays_from_headers() -> None:
    assert parse_duration("6m0s") == 360.0
    assert parse_duration("1.5s") == 1.5
    assert parse_duration("250ms") == 0.25
    assert parse_duration("2") == 2.0
    assert parse_duration("soon") is None
    assert retry_delay({"retry-after-ms": "350", "retry-after": "1"}) == 0.35
    assert retry_delay({"retry-after": "2"}) == 2.0
    # Without Retry-After: the reset time of the exhausted limit.
    assert retry_delay({"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "1s",
                        "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"}) == 360.0
    assert retry_delay({}) is None


def test_a_429_halves_the_in_flight_limit_once_per_round_and_pauses() -> None:
    async def main() -> None:
        clock = Clock()
        lim = AdaptiveLimiter(16, clock=clock)
        assert lim.limit == 2  # slow start
        starts = [await lim.acquire(), await lim.acquire()]
        for s in starts:
            lim.release(s, 200)
        assert lim.limit == 4  # doubles per round trip while nothing was refused
        lim.limit = 16.0
        starts = [await lim.acquire() for _ in range(8)]
        clock.now += 1
        lim.release(starts[0], 429, {"retry-after": "2"})
        for s in starts[1:4]:
            lim.release(s, 429, {"retry-after": "2"})  # same round: no further cut
        assert lim.limit == 8 and lim.stats.cuts == 1 and lim.stats.throttled == 4
        # Paused: no request may start before the server's Retry-After.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(lim.acquire(), timeout=0.05)
        clock.now += 2.01
        started = await lim.acquire()
        lim.release(started, 200)
        assert lim.limit == pytest.approx(8 + 1 / 8)  # additive increase after a cut
        for s in starts[4:]:
            lim.release(s, 200)
        assert lim.in_flight == 0

    asyncio.run(main())


def test_announced_limits_set_the_pace() -> None:
    async def main() -> None:
        clock = Clock()
        lim = AdaptiveLimiter(8, clock=clock)
        assert lim.interval == 0
        s = await lim.acquire()
        lim.release(s, 200, {"x-ratelimit-limit-requests": "600", "x-ratelimit-limit-tokens": "60000"})
        assert lim.interval == pytest.approx(1 / (10 * lim.TARGET))
        lim.observe_tokens(3000)  # 1,000 tokens/s allow one 3,000-token call per 3 s
        assert lim.interval == pytest.approx(3 / lim.TARGET)
        await lim.acquire()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(lim.acquire(), timeout=0.05)
        clock.now += 3.1
        await lim.acquire()
        # Worker processes sharing one key each pace to their share of the limits.
        half = AdaptiveLimiter(8, share=0.5, clock=clock)
        half.release(await half.acquire(), 200, {"x-ratelimit-limit-requests": "600"})
        assert half.interval == pytest.approx(2 / (10 * half.TARGET))

    asyncio.run(main())


def test_a_silent_provider_is_paced_at_the_rate_it_allowed() -> None:
    async def main() -> None:
        clock = Clock()
        lim = AdaptiveLimiter(8, clock=clock)
        for _ in range(30):  # 10 successes a second for 3 s
            s = await lim.acquire()
            clock.now += 0.1
            lim.release(s, 200)
        s = await lim.acquire()
        lim.release(s, 429, {})  # no header at all: exponential backoff
        # The first 429: 10% under the success rate so far (which a bucket's burst inflates).
        assert lim.interval == pytest.approx(1 / (0.9 * 10), rel=0.05)
        clock.now += 0.5  # out of the backoff pause
        s = await lim.acquire()
        lim.release(s, 429, {"retry-after-ms": "0"})
        # Within a second of it: no measurement yet, the pace is cut by a fifth.
        assert lim.interval == pytest.approx(1 / (0.8 * 0.9 * 10), rel=0.05)
        # From the 429 on, the provider admits 5 a second (requests started 0.2 s apart,
        # each answered in 0.1 s): 3 s later, a 429 measures that rate, and the pace goes
        # just under it, however fast the pace had grown meanwhile.
        mark = clock.now
        while clock.now < mark + 3:
            s = await lim.acquire()
            clock.now += 0.1
            lim.release(s, 200)
            clock.now += 0.1
        s = await lim.acquire()
        lim.release(s, 429, {})
        assert lim.interval == pytest.approx(1 / (lim.MEASURED_SHARE * 5), rel=0.1)

    asyncio.run(main())


def test_without_announced_limits_a_round_trip_s_requests_are_spread_over_it() -> None:
    async def main() -> None:
        clock = Clock()
        lim = AdaptiveLimiter(16, clock=clock)
        assert lim.interval == 0  # nothing known: no pacing
        s = await lim.acquire()
        clock.now += 0.4
        lim.release(s, 200)
        # In-flight limit 3 after one success in slow start, 0.4 s a round trip: starts at
        # least 0.4 / (1.25 * 3) s apart, so a burst of answers does not release a burst of
        # requests into a provider's emptied bucket.
        assert lim.limit == 3
        assert lim.interval == pytest.approx(0.4 / (lim.RTT_SPREAD * 3))
        await lim.acquire()  # the start a busy loop delayed may be caught up once...
        await lim.acquire()
        with pytest.raises(TimeoutError):  # ...not more
            await asyncio.wait_for(lim.acquire(), timeout=0.05)
        # Announced limits take over: their pace, not the round trip's.
        lim.release(await _after(lim, clock, 0.2), 200, {"x-ratelimit-limit-requests": "6000"})
        assert lim.interval == pytest.approx(1 / (100 * lim.TARGET))

    asyncio.run(main())


async def _after(lim: AdaptiveLimiter, clock: Clock, seconds: float) -> float:
    clock.now += seconds
    return await lim.acquire()


def _batch(n: int) -> list[Chunk]:
    return [Chunk(index=i, start=0, text=PIECE, heading=None) for i in range(n)]


def _settings(server: FakeOpenAI, **kw: object) -> LLMSettings:
    base = LLMSettings(model="fake", prompt=load_prompt("default"), base_url=server.base_url,
                       api_key="sk-test-rl", concurrency=8, max_retries=6, timeout=10)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_batch_under_announced_limits_sees_almost_no_429s() -> None:
    with FakeOpenAI(rate_limit=RateLimit(rpm=1200, burst_s=0.5),
                    handler=lambda r, n: Reply.faithful(delay=0.05)) as server:
        result = asyncio.run(OpenAIBackend(_settings(server)).extract(
            PIECE, _batch(40), grounding=GroundingSource(PIECE)))
    assert result.failed_chunks == 0 and len(result.candidates) == 40
    assert server.calls - server.throttled == 40
    assert server.throttled <= 2, server.throttled


def test_a_silent_provider_429s_are_retried_and_nothing_is_lost() -> None:
    with FakeOpenAI(rate_limit=RateLimit(rpm=1200, burst_s=0.5, announce=False),
                    handler=lambda r, n: Reply.faithful(delay=0.02)) as server:
        result = asyncio.run(OpenAIBackend(_settings(server, concurrency=16)).extract(
            PIECE, _batch(40), grounding=GroundingSource(PIECE)))
    assert result.failed_chunks == 0 and len(result.candidates) == 40
    assert server.throttled >= 1  # it had to find the limit by hitting it
    # Requests spread over each round trip: the first 429 stops the sending before a whole
    # round is refused; a few more while the pace is found (the benchmark's long batch
    # shows the steady state, about 2 per 100).
    assert server.throttled <= 12, server.throttled


def test_retry_after_holds_back_every_request_not_just_the_refused_one(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.http(429, headers={"retry-after-ms": "400"}))
    fake_openai.handler = lambda r, n: Reply.faithful(delay=0.05)
    result = asyncio.run(OpenAIBackend(_settings(fake_openai, concurrency=4, max_retries=2)).extract(
        PIECE, _batch(4), grounding=GroundingSource(PIECE)))
    assert result.failed_chunks == 0 and len(result.candidates) == 4
    first, *rest = fake_openai.requests
    assert len(rest) == 4  # the refused request was retried once
    # Slow start lets two requests out; after the 429 nothing new leaves before Retry-After.
    later = [r.arrived - first.arrived for r in rest[1:]]
    assert all(t >= 0.4 for t in later), later


def test_what_the_limiter_learnt_outlives_each_document(fake_openai: FakeOpenAI) -> None:
    fake_openai.rate_limit = RateLimit(rpm=6000)
    backend = OpenAIBackend(_settings(fake_openai))

    async def two_documents() -> None:
        for _ in range(2):
            await backend.extract(PIECE, _batch(3), grounding=GroundingSource(PIECE))

    asyncio.run(two_documents())
    (limiter,) = backend._limiters.values()
    # One limiter for the loop: the second document started with the pace and in-flight
    # limit the first one had learnt, not from slow start with no limits known.
    assert limiter.stats.requests == 6
    assert limiter.interval == pytest.approx(1 / (100 * limiter.TARGET))
