"""Adaptive concurrency under a provider's rate limits.

A provider limits requests per minute and tokens per minute, and says so in its answers:
`x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`, `x-ratelimit-reset-requests`
(and the same for `-tokens`) on every answer, `Retry-After` / `retry-after-ms` on a 429.
`AdaptiveLimiter` gates every HTTP exchange of the model backend:

* **pacing** - when the limits are announced, request starts are spaced so that the batch
  runs at (just under) the binding one: 60 / requests-per-minute seconds apart, or the
  average tokens a call costs / tokens-per-second, whichever is longer. Until a limit is
  known, requests go out as fast as the in-flight limit allows.
* **AIMD in-flight limit** - it starts at 2 and doubles every round trip (slow start, so a
  batch does not open with a burst of 429s before the first answer has told the limits);
  a 429 halves it (once per round of requests: the answers to requests sent before the
  cut don't cut again) and pauses every new request until the server's Retry-After, or the
  reset time of the exhausted limit, or else an exponential backoff; after that each
  success adds 1/limit back, about one per round trip, up to the configured concurrency.
* **spreading a round trip** - with no limit announced, the in-flight limit's requests
  leave spread over a round trip (the smoothed latency of successful requests / 1.25 x
  the limit apart, at most 0.25 s), not in a burst whenever a burst of answers frees their slots: the
  first 429 then stops the sending before a whole round lands in an emptied bucket.
* **a learned rate**, for providers that announce nothing: a provider's bucket is empty at
  each 429, so the requests it admitted between an earlier 429 (a second or more before)
  and this one measure its rate, and requests are paced 5% under that; the first 429 (whose
  successes include the bucket's initial burst) paces 10% under the rate so far, and a 429
  before any measurement cuts the pace by a fifth. The pace is raised slowly (0.1% a
  success; 1% from a guessed pace) to find out when the limit rises.

Measured (bench/bench_ratelimit.py, 600 requests/min, 200 calls at concurrency 16): limits
announced 0.97 of the limit, 0 429s; silent 0.99-1.0 of it, 3-4 429s (before spreading,
8-19).

The SDK still does the retrying (it honours Retry-After too); the limiter decides when any
request may leave, so retries and fresh requests alike wait out the pause instead of
hammering the server. Nothing here knows about HTTP clients: the backend reports each
answer's status and headers.
"""

from __future__ import annotations

import asyncio
import collections
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str | None) -> float | None:
    """Seconds in a reset header: "1s", "6m0s", "250ms", "0.5s", or a bare number of seconds."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parts = list(_DURATION.finditer(value))
    if not parts or "".join(p.group() for p in parts) != value:
        return None
    return sum(float(p.group("n")) * _UNIT[p.group("unit")] for p in parts)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def retry_delay(headers: Mapping[str, str]) -> float | None:
    """How long a 429 asks to wait: retry-after-ms, Retry-After (seconds), or the reset time
    of whichever announced limit is exhausted (the longest, when both are)."""
    ms = _number(headers, "retry-after-ms")
    if ms is not None:
        return ms / 1000
    seconds = _number(headers, "retry-after")
    if seconds is not None:
        return seconds
    waits = []
    for kind in ("requests", "tokens"):
        remaining = _number(headers, f"x-ratelimit-remaining-{kind}")
        reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}"))
        if reset is not None and (remaining is None or remaining < 1):
            waits.append(reset)
    return max(waits) if waits else None


@dataclass
class LimiterStats:
    requests: int = 0
    throttled: int = 0  # 429 answers
    cuts: int = 0  # times the in-flight limit was lowered


class AdaptiveLimiter:
    """Gate for requests to one provider; create it on the event loop that will use it."""

    # The share of an announced limit the pacing aims at: a little headroom absorbs the
    # difference between the client's clock and the server's bucket.
    TARGET = 0.97
    BACKOFF_START = 0.5
    BACKOFF_MAX = 30.0
    RATE_WINDOW = 10.0  # at most these seconds of successes measure a silent provider's rate
    MIN_WINDOW = 1.0  # ...and at least these, from a 429 on
    MEASURED_SHARE = 0.95  # the pace under a measured rate
    QUICK_CUT = 0.8  # the pace after a 429 that comes before a measurement
    RTT_SPREAD = 1.25  # pacing by round trip allows this much more than the in-flight limit
    MAX_SPREAD = 0.25  # seconds: spreading a round trip never spaces starts further apart

    def __init__(self, max_in_flight: int, *, share: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`share`: the part of the announced limits this limiter may use (processes that
        share an API key split them)."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.share = share
        self.max_in_flight = max_in_flight
        self.limit = float(min(2, max_in_flight))
        self._slow_start = True
        self.in_flight = 0
        self.stats = LimiterStats()
        self._clock = clock
        self._paused_until = 0.0
        self._next_start = 0.0
        self._backoff = self.BACKOFF_START
        self._requests_per_s: float | None = None
        self._tokens_per_s: float | None = None
        self._tokens_per_call: float | None = None
        self._learned_per_s: float | None = None
        self._successes: collections.deque[float] = collections.deque()
        self._refusals: collections.deque[float] = collections.deque()  # times of 429 rounds
        self._pace_measured = False
        self._srtt: float | None = None  # smoothed seconds a successful request takes
        self._first_start: float | None = None
        self._changed = asyncio.Event()

    # ------------------------------------------------------------ pacing

    @property
    def interval(self) -> float:
        """Seconds between request starts that keeps under the announced limits (0: none)."""
        gaps = [0.0]
        if self._srtt and not self._requests_per_s and not self._tokens_per_s:
            # No limit announced: the in-flight limit's requests are spread over a round
            # trip instead of leaving in a burst each time a burst of answers frees their
            # slots, so that the first 429 stops the sending before a whole round is refused.
            # At most MAX_SPREAD apart: a slow model's long answers never hold requests back.
            gaps.append(min(self._srtt / (self.RTT_SPREAD * max(self.limit, 1.0)), self.MAX_SPREAD))
        if self._learned_per_s and not self._requests_per_s and not self._tokens_per_s:
            gaps.append(1.0 / self._learned_per_s)
        if self._requests_per_s:
            gaps.append(1.0 / (self._requests_per_s * self.TARGET * self.share))
        if self._tokens_per_s and self._tokens_per_call:
            gaps.append(self._tokens_per_call / (self._tokens_per_s * self.TARGET * self.share))
        return max(gaps)

    def observe_tokens(self, tokens: float) -> None:
        """Tokens one call cost (prompt + answer): learns the average, for token pacing."""
        if tokens <= 0:
            return
        if self._tokens_per_call is None:
            self._tokens_per_call = float(tokens)
        else:
            self._tokens_per_call += 0.2 * (tokens - self._tokens_per_call)

    # ------------------------------------------------------------ the gate

    async def acquire(self) -> float:
        """Wait until a request may start; returns the time it started (for `release`)."""
        while True:
            now = self._clock()
            wait = max(self._paused_until, self._next_start) - now
            if wait <= 0 and self.in_flight < max(int(self.limit), 1):
                self.in_flight += 1
                self.stats.requests += 1
                if self._first_start is None:
                    self._first_start = now
                # A start delayed by a busy event loop may be caught up once, not more.
                interval = self.interval
                self._next_start = max(self._next_start, now - interval) + interval
                return now
            changed = self._changed
            if wait > 0:
                try:
                    await asyncio.wait_for(changed.wait(), timeout=wait)
                except TimeoutError:
                    pass
            else:
                await changed.wait()

    def release(self, started: float, status: int | None,
                headers: Mapping[str, str] | None = None) -> None:
        """Report a request's outcome: its HTTP status (None: no answer) and headers.

        Synchronous, so it runs even in the `finally` of a cancelled request."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.in_flight -= 1
        self._learn(headers)
        now = self._clock()
        if status == 429:
            self.stats.throttled += 1
            # One cut per round: answers to requests sent before the last cut don't count.
            if started >= self._last_cut:
                self.limit = max(1.0, self.limit / 2)
                self._slow_start = False
                self._learn_rate(now)  # records this round's 429: the last cut
                self.stats.cuts += 1
            delay = retry_delay(headers)
            if delay is None:
                delay = self._backoff
                self._backoff = min(self._backoff * 2, self.BACKOFF_MAX)
            self._paused_until = max(self._paused_until, now + delay)
        elif status is not None and status < 400:
            self._backoff = self.BACKOFF_START
            grow = 1.0 if self._slow_start else 1.0 / self.limit
            self.limit = min(float(self.max_in_flight), self.limit + grow)
            took = max(now - started, 0.0)
            self._srtt = took if self._srtt is None else self._srtt + 0.125 * (took - self._srtt)
            self._successes.append(started)  # when it was admitted, not answered
            horizon = now - self.RATE_WINDOW - self._srtt
            while self._successes and self._successes[0] < horizon:
                self._successes.popleft()
            if self._learned_per_s:
                # Probe upwards: slowly from a measured pace (the limit may have risen),
                # faster from a guessed one (a quick cut may have gone far under the limit).
                self._learned_per_s *= 1.001 if self._pace_measured else 1.01
        # Wake every waiter; each re-checks (a fresh event for the next round).
        self._changed.set()
        self._changed = asyncio.Event()

    @property
    def _last_cut(self) -> float:
        """When the in-flight limit was last cut (the newest 429 round), -inf before any."""
        return self._refusals[-1] if self._refusals else -math.inf

    def _learn_rate(self, now: float) -> None:
        """At a 429 (once per round): the pace a silent provider allows.

        A provider's token bucket is empty at each 429, so what it admitted between an
        earlier 429 and this one is its refill rate: over a second or more, the successes
        since such a 429 measure the limit itself, and the pace goes a little under it (and
        under the pace just refused). The first 429 has no such mark: the successes so far
        include the bucket's initial burst and overstate the rate, so it and any 429 within
        a second of the last mark cut the pace by a fifth instead (and the pace grows back ten
        times faster than from a measured one), until a measurement holds.
        """
        measured: float | None = None
        # Requests are counted by when they started (were admitted), up to a round trip ago:
        # the later ones may still be on their way.
        until = now - (self._srtt or 0.0)
        marks = [t for t in self._refusals if until - t >= self.MIN_WINDOW]
        if marks:
            since = max(marks[-1], until - self.RATE_WINDOW)
            recent = sum(1 for t in self._successes if since < t <= until)
            measured = recent / (until - since) if recent >= 2 else None
        if measured is None and self._learned_per_s is None and self._first_start is not None:
            window = min(self.RATE_WINDOW, now - self._first_start)
            recent = sum(1 for t in self._successes if t >= now - window)
            if window > 0 and recent >= 2:
                self._learned_per_s = 0.9 * recent / window
        elif measured is None and self._learned_per_s is not None:
            self._learned_per_s *= self.QUICK_CUT  # too little to measure: cut all the same
        self._pace_measured = measured is not None
        if measured is not None:
            allowed = self.MEASURED_SHARE * measured
            pace = self._learned_per_s
            self._learned_per_s = allowed if pace is None else min(allowed, self.MEASURED_SHARE * pace)
        self._refusals.append(now)
        while len(self._refusals) > 1 and self._refusals[1] < until - self.RATE_WINDOW:
            self._refusals.popleft()  # the newest mark before the window, and those in it

    def _learn(self, headers: Mapping[str, str]) -> None:
        # OpenAI, DeepSeek, vLLM-style gateways: limits per minute.
        rpm = _number(headers, "x-ratelimit-limit-requests")
        if rpm:
            self._requests_per_s = rpm / 60.0
        tpm = _number(headers, "x-ratelimit-limit-tokens")
        if tpm:
            self._tokens_per_s = tpm / 60.0


__all__ = ["AdaptiveLimiter", "LimiterStats", "parse_duration", "retry_delay"]
