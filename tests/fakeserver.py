"""A real, scriptable OpenAI-compatible chat-completions server for tests.

`FakeOpenAI` listens on 127.0.0.1 (port 0) in a background thread and answers
`POST /v1/chat/completions` (and `/chat/completions`) with proper `chat.completion` JSON.
What it answers is scripted: a queue of `Reply` objects (`server.script(...)`), then a
handler `(request_json, call_number) -> Reply`, else a faithful answer built from the
request's report text. An Extraction-shaped dict is wrapped for the mode the request asks
for: a tool call when the request has `tools`, a ```json block for md_json, bare JSON for
json mode. It records every request, counts calls, and observes the peak number of
requests in flight. Everything is bounded: delays wake up on shutdown.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reportsum.backends.prompts import SOURCE_CLOSE, SOURCE_OPEN

_SENTENCE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
_DIGIT = re.compile(r"[0-9０-９]")
_CUES = (
    ("problems", ("问题", "不足", "困难", "短板", "偏少", "不强", "滞后")),
    ("plans", ("明年", "下一步", "将", "计划", "力争", "打算")),
    ("measures", ("开展", "组织", "推进", "加强", "实施", "出台", "举办")),
)


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build it with the class methods."""

    kind: str
    data: dict[str, Any] | None = None
    content: str | None = None
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    delay: float = 0.0
    finish_reason: str = "stop"
    usage: tuple[int, int] = (100, 20)
    cached: int = 0  # prompt tokens reported as served from the prompt cache

    @classmethod
    def answer(
        cls, data: dict[str, Any], *, delay: float = 0.0, usage: tuple[int, int] = (100, 20)
    ) -> Reply:
        """An Extraction-shaped dict, wrapped for the requested mode."""
        return cls("answer", data=data, delay=delay, usage=usage)

    @classmethod
    def faithful(cls, *, delay: float = 0.0) -> Reply:
        """A faithful answer built from the request's report text (see `faithful_answer`)."""
        return cls("faithful", delay=delay)

    @classmethod
    def raw_content(cls, content: str, *, finish_reason: str = "stop") -> Reply:
        """This exact text as the model's answer (tool arguments or message content)."""
        return cls("content", content=content, finish_reason=finish_reason)

    @classmethod
    def malformed(cls) -> Reply:
        """An answer whose JSON is broken."""
        return cls("content", content='{"achievements": [{"text": "全年新增', finish_reason="stop")

    @classmethod
    def empty(cls) -> Reply:
        """An answer with no content at all."""
        return cls("content", content="")

    @classmethod
    def truncated(cls, data: dict[str, Any]) -> Reply:
        """The first half of an answer with finish_reason "length"."""
        text = json.dumps(data, ensure_ascii=False)
        return cls("content", content=text[: len(text) // 2], finish_reason="length")

    @classmethod
    def http(
        cls, status: int, *, headers: dict[str, str] | None = None, message: str = "fake error"
    ) -> Reply:
        """An HTTP error with an OpenAI-style error body (e.g. 429 with Retry-After, 500)."""
        body = json.dumps({"error": {"message": message, "type": "server_error", "code": status}})
        return cls("status", status=status, headers=tuple((headers or {}).items()),
                   body=body.encode())

    @classmethod
    def http_body(cls, body: bytes, *, status: int = 200) -> Reply:
        """A response whose HTTP body is exactly `body` (e.g. not JSON at all)."""
        return cls("status", status=status, body=body)

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """A faithful answer that starts only after `seconds`."""
        return cls("faithful", delay=seconds)

    @classmethod
    def close(cls) -> Reply:
        """Close the connection without answering."""
        return cls("close")


def source_text(request: dict[str, Any]) -> str:
    """The report text of a request: between the markers of the first user message."""
    for message in request.get("messages", []):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            start = content.find(SOURCE_OPEN)
            end = content.rfind(SOURCE_CLOSE)
            if start >= 0 and end > start:
                return content[start + len(SOURCE_OPEN) : end].strip("\n")
            return content
    return ""


_NUMBERED = re.compile(r"^\[(\d+)\](.*)$", re.M)


def numbered_sentences(text: str) -> list[tuple[int, str]] | None:
    """The `[n]sentence` lines of a chunk sent for evidence by reference, else None."""
    if not text.startswith("[1]"):
        return None
    return [(int(m.group(1)), m.group(2)) for m in _NUMBERED.finditer(text)]


def faithful_answer(text: str) -> dict[str, Any]:
    """A grounded Extraction for `text`: every sentence with a digit, quoted as is.

    Sections come from cue words; `text == evidence` so every number is in its quote. When
    `text` is numbered sentences (evidence by reference), the same statements come with
    `cite` (the number of the sentence holding them) instead of `evidence`.
    """
    answer: dict[str, list[dict[str, Any]]] = {
        "achievements": [], "measures": [], "problems": [], "plans": []
    }
    numbered = numbered_sentences(text)
    units = [(None, text)] if numbered is None else numbered
    for number, unit in units:
        for match in _SENTENCE.finditer(unit):
            sentence = match.group(0).strip()
            if not _DIGIT.search(sentence):
                continue
            section = next(
                (name for name, cues in _CUES if any(c in sentence for c in cues)), "achievements"
            )
            if number is None:
                answer[section].append({"text": sentence, "evidence": sentence})
            else:
                answer[section].append({"text": sentence, "cite": [number]})
    return answer


def request_mode(request: dict[str, Any]) -> str:
    """Which instructor mode a request was made in: tools, json, json_schema or md_json."""
    if request.get("tools"):
        return "tools"
    kind = (request.get("response_format") or {}).get("type")
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        return "json_schema"
    return "md_json"


@dataclass
class RateLimit:
    """A provider's limits, enforced as token buckets: requests and tokens per minute.

    Each bucket holds `burst_s` seconds of its rate and refills continuously. A request is
    charged one request and its prompt tokens (one per character, as the simulated usage
    counts them) when it arrives, its answer's tokens when answered; a request finding
    either bucket short gets a 429 with Retry-After / retry-after-ms. With `announce`, every
    answer carries OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers.
    """

    rpm: float = 600.0
    tpm: float = 1e12
    burst_s: float = 1.0
    announce: bool = True


@dataclass
class _Bucket:
    rate: float  # per second
    capacity: float
    level: float
    at: float

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now

    def wait_for(self, amount: float) -> float:
        return max(0.0, (min(amount, self.capacity) - self.level) / self.rate)


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]  # names lower-cased
    json: dict[str, Any]
    call_number: int
    arrived: float = 0.0  # time.monotonic() at arrival


Handler = Callable[[dict[str, Any], int], Reply]


@dataclass
class FakeOpenAI:
    """The server. Use as a context manager (or `start()`/`stop()`)."""

    handler: Handler | None = None
    requests: list[Recorded] = field(default_factory=list)
    peak_in_flight: int = 0
    answer_seconds: float = 0.0  # summed over 200 answers: arrival to last byte written
    # Prompt caching as hosted APIs do it: usage counts one token per character of the prompt
    # (tool schema, then the messages) and reports as `cached_tokens` the longest prefix an
    # earlier request shared, in 128-token blocks from 1,024 tokens on.
    simulate_cache: bool = False
    answer_chars: list[int] = field(default_factory=list)  # characters the "model" wrote, per answer
    answer_items: list[int] = field(default_factory=list)  # items in each answer (0: not JSON)
    _prompts: list[str] = field(default_factory=list)
    rate_limit: RateLimit | None = None
    throttled: int = 0  # 429s sent by the rate limit
    admitted_at: list[float] = field(default_factory=list)  # arrival times of admitted requests
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _queue: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def start(self) -> FakeOpenAI:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the body waits
            # for the client's delayed ACK of the headers (~40 ms on Linux) on every answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                server._serve(self)

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                # Counters for a server run in its own process (see `main`).
                if self.path.rstrip("/") != "/_stats":
                    server._send(self, 404, b'{"error": {"message": "not found"}}')
                    return
                stats = {"calls": server.calls, "peak_in_flight": server.peak_in_flight,
                         "cpu_seconds": time.process_time(),
                         "answer_seconds": server.answer_seconds}
                server._send(self, 200, json.dumps(stats).encode())

        class _Server(ThreadingHTTPServer):
            # socketserver's default backlog is 5: a client opening 16 connections at once
            # would see SYNs dropped and retried a second later.
            request_queue_size = 128

        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    def script(self, *replies: Reply) -> None:
        """Queue replies, used in order before the handler / default answer."""
        with self._lock:
            self._queue.extend(replies)

    # ------------------------------------------------------------ serving

    def _next_reply(self, request: dict[str, Any], number: int) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return self.handler(request, number)
        return Reply.faithful()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        # A reply's delay runs from the request's arrival, so the server's own work (parsing,
        # building the answer) is inside it: "answers after 100 ms" means 100 ms.
        arrived = time.monotonic()
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length)
        try:
            request = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            request = {}
        with self._lock:
            number = len(self.requests) + 1
            self.requests.append(Recorded(h.path, {k.lower(): v for k, v in h.headers.items()}, request, number,
                                          arrived))
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            if h.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._send(h, 404, b'{"error": {"message": "not found"}}')
                return
            limited = self._admit(request)
            if limited is not None:
                self._send(h, 429, limited[0], limited[1])
                return
            reply = self._next_reply(request, number)
            body = b""
            if reply.kind not in ("close", "status"):
                body = json.dumps(self._completion(request, reply), ensure_ascii=False).encode()
            wait = arrived + reply.delay - time.monotonic()
            if reply.delay and self._stopping.wait(max(wait, 0.0)):
                return
            if reply.kind == "close":
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
                return
            if reply.kind == "status":
                self._send(h, reply.status, reply.body or b"", reply.headers)
                return
            self._send(h, 200, body, self._limit_headers())
            with self._lock:
                self.answer_seconds += time.monotonic() - arrived
        except (BrokenPipeError, ConnectionResetError, OSError):
            # The client gave up (e.g. its timeout fired): nothing left to answer.
            return
        finally:
            with self._lock:
                self._in_flight -= 1

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes,
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _admit(self, request: dict[str, Any]) -> tuple[bytes, tuple[tuple[str, str], ...]] | None:
        """Charge the rate limit for `request`; the 429 to send when it is over."""
        limit = self.rate_limit
        if limit is None:
            return None
        cost = float(len(prompt_text(request)))
        with self._lock:
            now = time.monotonic()
            if not self._buckets:
                for name, per_min in (("requests", limit.rpm), ("tokens", limit.tpm)):
                    cap = per_min / 60 * limit.burst_s
                    self._buckets[name] = _Bucket(per_min / 60, cap, cap, now)
            req, tok = self._buckets["requests"], self._buckets["tokens"]
            req.refill(now)
            tok.refill(now)
            wait = max(req.wait_for(1.0), tok.wait_for(cost))
            if wait > 0:
                self.throttled += 1
                headers = (("retry-after", str(math.ceil(wait))),
                           ("retry-after-ms", str(math.ceil(wait * 1000))), *self._limit_headers_locked())
                body = json.dumps({"error": {"message": "Rate limit reached", "type": "requests",
                                             "code": "rate_limit_exceeded"}}).encode()
                return body, headers
            req.level -= 1.0
            tok.level -= cost
            self.admitted_at.append(now)
        return None

    def _limit_headers(self) -> tuple[tuple[str, str], ...]:
        with self._lock:
            return self._limit_headers_locked()

    def _limit_headers_locked(self) -> tuple[tuple[str, str], ...]:
        limit = self.rate_limit
        if limit is None or not limit.announce or not self._buckets:
            return ()
        out: list[tuple[str, str]] = []
        for name, per_min in (("requests", limit.rpm), ("tokens", limit.tpm)):
            b = self._buckets[name]
            b.refill(time.monotonic())
            out += [(f"x-ratelimit-limit-{name}", f"{per_min:g}"),
                    (f"x-ratelimit-remaining-{name}", str(max(int(b.level), 0))),
                    (f"x-ratelimit-reset-{name}", f"{(b.capacity - b.level) / b.rate:.3f}s")]
        return tuple(out)

    def _completion(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        out = completion(request, reply, len(self.requests))
        message = out["choices"][0]["message"]
        calls = message.get("tool_calls") or []
        written = calls[0]["function"]["arguments"] if calls else message.get("content") or ""
        with self._lock:
            self.answer_chars.append(len(written))
            if self.rate_limit is not None and self._buckets:
                self._buckets["tokens"].level -= len(written)
            try:
                data = json.loads(extract_json(written))
                self.answer_items.append(sum(len(v) for v in data.values() if isinstance(v, list)))
            except (ValueError, AttributeError):
                self.answer_items.append(0)
            if self.simulate_cache or self.rate_limit is not None:
                # Usage as the rate limit counts it: a token per character.
                out["usage"]["prompt_tokens"] = len(prompt_text(request))
                out["usage"]["completion_tokens"] = len(written)
                out["usage"]["total_tokens"] = len(prompt_text(request)) + len(written)
            if self.simulate_cache:
                prompt = prompt_text(request)
                shared = max((_common_prefix(prompt, p) for p in self._prompts), default=0)
                self._prompts.append(prompt)
                cached = shared // 128 * 128 if shared >= 1024 else 0
                out["usage"]["prompt_tokens_details"] = {"cached_tokens": cached}
        return out


def extract_json(written: str) -> str:
    """The JSON of an answer: as is, or from its ```json block (md_json)."""
    m = re.search(r"```json\n(.*?)\n```", written, re.S)
    return m.group(1) if m else written


def prompt_text(request: dict[str, Any]) -> str:
    """What a model reads, in the order a server caches it: tools, schema, then the messages."""
    parts = [json.dumps(request.get("tools") or [], ensure_ascii=False)]
    fmt = request.get("response_format")
    if fmt:
        parts.append(json.dumps(fmt, ensure_ascii=False))
    for m in request.get("messages", []):
        parts.append(f"<{m.get('role')}>{m.get('content') or ''}")
    return "".join(parts)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def completion(request: dict[str, Any], reply: Reply, number: int) -> dict[str, Any]:
    """The `chat.completion` JSON answering `request` with `reply` (the server's `number`th call)."""
    mode = request_mode(request)
    if reply.kind == "content":
        payload = reply.content or ""
    else:
        data = reply.data if reply.kind == "answer" else faithful_answer(source_text(request))
        payload = json.dumps(data, ensure_ascii=False)
        if mode == "md_json":
            payload = f"下面是结果：\n```json\n{payload}\n```"
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if mode == "tools":
        name = request["tools"][0]["function"]["name"]
        message["tool_calls"] = [{
            "id": f"call_{number}",
            "type": "function",
            "function": {"name": name, "arguments": payload},
        }]
    else:
        message["content"] = payload
    prompt_tokens, completion_tokens = reply.usage
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason,
                     "logprobs": None}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  **({"prompt_tokens_details": {"cached_tokens": reply.cached}}
                     if reply.cached else {})},
    }


def main(argv: list[str] | None = None) -> None:
    """Serve faithful answers `--delay` seconds after each request arrives, until SIGTERM.

    Prints the base URL on the first line of stdout; `GET /_stats` answers the number of
    calls, the peak in flight, the CPU seconds this process has used and the summed seconds
    from arrival to answer. Benchmarks run the server this way: in a process of its own, so
    its CPU is not charged to the client under measurement, and on aiohttp's event loop and
    C HTTP parser, so it takes as little as it can of a small machine's cores (as a model
    served elsewhere takes none).
    """
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    args = parser.parse_args(argv)
    asyncio.run(_serve_faithful(args.delay))


async def _serve_faithful(delay: float) -> None:
    import signal

    from aiohttp import web

    stats: dict[str, float] = {"calls": 0, "peak_in_flight": 0, "answer_seconds": 0.0}
    in_flight = 0

    async def completions(request: web.Request) -> web.Response:
        nonlocal in_flight
        arrived = time.monotonic()
        stats["calls"] += 1
        in_flight += 1
        stats["peak_in_flight"] = max(stats["peak_in_flight"], in_flight)
        try:
            body = json.loads(await request.read() or b"{}")
            answer = json.dumps(completion(body, Reply.faithful(), int(stats["calls"])),
                                ensure_ascii=False).encode()
            await asyncio.sleep(max(arrived + delay - time.monotonic(), 0.0))
            stats["answer_seconds"] += time.monotonic() - arrived
            return web.Response(body=answer, content_type="application/json")
        finally:
            in_flight -= 1

    async def report(request: web.Request) -> web.Response:
        return web.json_response({**stats, "calls": int(stats["calls"]),
                                  "peak_in_flight": int(stats["peak_in_flight"]),
                                  "cpu_seconds": time.process_time()})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_post("/chat/completions", completions)
    app.router.add_get("/_stats", report)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=128)
    await site.start()
    port = runner.addresses[0][1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


__all__ = [
    "FakeOpenAI", "RateLimit", "Recorded", "Reply", "completion", "faithful_answer", "numbered_sentences", "prompt_text", "request_mode",
    "source_text",
]


if __name__ == "__main__":
    main()
