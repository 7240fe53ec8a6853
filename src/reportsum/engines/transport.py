"""The HTTP transports that let the interactive model backend drive a batch.

`OpenAIBackend` builds every request body (prompt, schema, tools or response format,
temperature, reasks) and grounds every answer; the batch engine changes only where a request
goes. `BatchTransport` is given to the backend as its `http_client`:

- capture (submit): each request is recorded (URL path, the body the SDK built, the chunk it is
  for) and answered "deferred", so the chunk's call ends without reaching a model;
- replay (collect): a request whose body has a result in the batch's output gets that result
  as its HTTP response, so instructor parses it, the validator grounds it and a clean answer
  lands in the response cache, exactly as interactively; a body with no result yet (a reask
  built after a failed grounding, or a failed request to resubmit) is recorded for a
  follow-up batch and deferred, or with `forward` sent to the real endpoint now.

Chunks already in the response cache never reach the transport.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import httpx2
import openai

from reportsum.backends.llm import CURRENT_CHUNK

# The input file (its source string) and report index a request is made for: set by the
# engine around each file and each report's extract call; tasks inherit it.
CURRENT_DOC: contextvars.ContextVar[tuple[str, int | None] | None] = contextvars.ContextVar(
    "reportsum_current_doc", default=None
)

DEFERRED_STATUS = 400
DEFERRED_MESSAGE = "reportsum: request deferred to a batch"


def canonical_body(raw: bytes) -> bytes:
    """The request body as canonical JSON: the same request always hashes the same."""
    data = json.loads(raw)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def custom_id_for(cache_key: str, sha256: str) -> str:
    """A request's id in a batch file: its chunk's cache key, then which request of that
    chunk it is (the first one or a reask), by its body's hash. At most 57 characters."""
    return f"{cache_key[:40]}-{sha256[:16]}"


@dataclass(frozen=True)
class Captured:
    """One request the backend built, for a batch file. Its body (the bytes the SDK built, as
    canonical JSON) waits in the pass's spool file: a corpus of 50,000 chunks is ~0.5 GB of
    request bodies, which need not be held in memory."""

    custom_id: str
    sha256: str
    path: str
    source: str
    doc_index: int | None
    chunk_index: int | None
    offset: int = 0
    length: int = 0


@dataclass(frozen=True)
class Answer:
    """What a replayed request gets back: an HTTP status and body."""

    status: int
    body: bytes


# A lookup from a body's sha256 to what the batch knows of it:
#   an Answer (its result), "pending" (sent, no result yet), "resubmit" (failed, may be sent
#   again) or None (never sent: a new request).
Lookup = Callable[[str], "Answer | str | None"]


@dataclass
class Exchanges:
    """What one pass of the pipeline through a `BatchTransport` saw."""

    lookup: Lookup | None = None  # None: capture (every request is new)
    forward: bool = False  # send what has no result to the real endpoint
    captured: dict[str, Captured] = field(default_factory=dict)  # by sha256
    pending: set[str] = field(default_factory=set)  # sources with a request still unanswered
    replayed: int = 0
    forwarded: int = 0
    _spool: IO[bytes] | None = None

    def capture(self, path: str, body: bytes, sha: str) -> None:
        key, chunk_index = CURRENT_CHUNK.get() or (sha, None)
        source, doc_index = CURRENT_DOC.get() or ("", None)
        if sha not in self.captured:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile(prefix="reportsum-requests-")
            offset = self._spool.seek(0, 2)
            self._spool.write(body)
            self.captured[sha] = Captured(custom_id_for(key, sha), sha, path, source, doc_index,
                                          chunk_index, offset, len(body))
        self.pending.add(source)

    def body(self, captured: Captured) -> bytes:
        """The body of a captured request."""
        assert self._spool is not None
        self._spool.seek(captured.offset)
        return self._spool.read(captured.length)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def _response(request: Any, status: int, body: bytes) -> httpx2.Response:
    # x-should-retry: false, so the SDK never retries what the batch already answered (nor
    # a deferral), whatever its own retry setting.
    return httpx2.Response(status, content=body, request=request,
                           headers={"content-type": "application/json", "x-should-retry": "false"})


def _deferred(request: Any) -> httpx2.Response:
    body = json.dumps({"error": {"message": DEFERRED_MESSAGE, "type": "deferred"}}).encode()
    return _response(request, DEFERRED_STATUS, body)


class BatchTransport(openai.DefaultAioHttpClient):  # type: ignore[misc, valid-type]
    """The SDK's aiohttp client with capture and replay in front of the network."""

    def __init__(self, gate: asyncio.Semaphore, exchanges: Exchanges, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = gate
        self._ex = exchanges

    async def send(self, request: Any, **kwargs: Any) -> Any:
        raw = request.content if request.content else await request.aread()
        body = canonical_body(raw)
        sha = body_sha256(body)
        ex = self._ex
        known = ex.lookup(sha) if ex.lookup is not None else None
        if isinstance(known, Answer):
            ex.replayed += 1
            return _response(request, known.status, known.body)
        if ex.forward and known != "pending":
            ex.forwarded += 1
            async with self._gate:
                return await super().send(request, **kwargs)
        if known == "pending":
            doc = CURRENT_DOC.get()
            ex.pending.add(doc[0] if doc else "")
        else:
            # A new request, or a failed one to send again (same body, same custom_id).
            ex.capture(request.url.path, body, sha)
        return _deferred(request)


def transport_factory(exchanges: Exchanges) -> Callable[[asyncio.Semaphore], BatchTransport]:
    """The backend's `http_client` argument for one pass."""

    def build(gate: asyncio.Semaphore) -> BatchTransport:
        return BatchTransport(gate, exchanges)

    return build


__all__ = ["CURRENT_DOC", "Answer", "BatchTransport", "Captured", "Exchanges", "body_sha256",
           "canonical_body", "custom_id_for", "transport_factory"]
