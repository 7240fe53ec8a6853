"""The model backend: any OpenAI-compatible chat endpoint, through openai + instructor.

Each chunk is one instructor call (bounded concurrency, shared pool when a semaphore is
given). The response model is `Extraction` plus a validator that grounds every item against
the document, so an ungrounded item makes instructor reask with the grounding reasons.
Transport failures (429, 5xx, timeouts, dropped connections) are retried by the OpenAI SDK
only; instructor retries validation failures only. When reasks run out, the last answer is
parsed without the validator and every item goes back as a candidate: the pipeline grounds
each one, so one bad item never costs the chunk its good ones. A chunk that still fails is
a warning, never an exception: the other chunks' items are kept.

Evidence comes one of two ways (`LLMSettings.evidence`): `quote`, the model copies it; or
`ref`, the chunk is sent as numbered clauses and the model cites their numbers, which are
resolved to the exact quote and span here (a citation that does not exist is a reask, then
a rejected item). The system message and schema are the same on every call and the chunk
comes last, so servers that cache prompt prefixes serve the fixed part from their cache.
Every HTTP exchange passes the session's `AdaptiveLimiter` (see `ratelimit.py`).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import functools
import hashlib
import json
import logging
import os
import re
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, Self
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
import instructor
import openai
from instructor import Mode
from instructor.core.exceptions import (
    IncompleteOutputException,
    InstructorRetryException,
    ResponseParsingError,
)
from instructor.utils import extract_json_from_codeblock
from instructor.v2.core.function_calls import ResponseSchema
from instructor.v2.core.response_model import prepare_response_model
from pydantic import ConfigDict, ValidationError, model_validator
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from reportsum.backends.base import BackendFatal, BackendResult, Candidate
from reportsum.backends.prompts import Prompt
from reportsum.backends.ratelimit import AdaptiveLimiter
from reportsum.backends.rules import rank_candidates
from reportsum.grounding.ground import check_item, reask_message
from reportsum.models import (
    SECTIONS,
    Extraction,
    ExtractionRef,
    ExtractItem,
    RefItem,
    RejectedItem,
    Usage,
)
from reportsum.stages.sentences import clause_spans

if TYPE_CHECKING:
    from reportsum.grounding.ground import GroundingSource
    from reportsum.stages.chunk import Chunk

# json_schema: `response_format: {"type": "json_schema", ...}` with Extraction's schema, which
# OpenAI, vLLM, llama.cpp, SGLang and Ollama enforce while generating (instructor's JSON_SCHEMA
# mode for the OpenAI provider sends exactly that).
MODES: dict[str, Mode] = {"tools": Mode.TOOLS, "json": Mode.JSON, "md_json": Mode.MD_JSON,
                          "json_schema": Mode.JSON_SCHEMA}
EVIDENCE_MODES = ("quote", "ref")

# What instructor may reask for: the answer was not valid JSON, missed the tool call, or
# failed validation (grounding included). API errors are deliberately absent: the SDK
# retries those. (A non-JSON HTTP body also surfaces as JSONDecodeError and is retried.)
VALIDATION_ERRORS: tuple[type[Exception], ...] = (
    ValidationError,
    json.JSONDecodeError,
    ResponseParsingError,
)


# The document a validation is for: set around each instructor call (a context variable, so
# concurrent chunks each see their own). Passing it as instructor's `context` would make
# instructor render every message as a Jinja template on every call.
_GROUNDING: contextvars.ContextVar[tuple[GroundingSource, int] | None] = contextvars.ContextVar(
    "reportsum_grounding", default=None
)
# With evidence by reference: the [start, end) in the document of each numbered sentence of
# the chunk being validated (sentence n is `[n - 1]`).
_SENTENCES: contextvars.ContextVar[Sequence[tuple[int, int]] | None] = contextvars.ContextVar(
    "reportsum_sentences", default=None
)


class GroundedExtraction(Extraction, ResponseSchema):
    __doc__ = Extraction.__doc__
    # Same title and docstring as Extraction, so the schema the model sees is Extraction's.
    # Being a ResponseSchema already, instructor uses the class as is instead of wrapping it
    # in a new class per call, and its tool schema is built once (instructor caches it per class).
    model_config = ConfigDict(title="Extraction")

    @model_validator(mode="after")
    def _grounded(self) -> Self:
        """Reject the answer when any item fails grounding; the message is the reask."""
        target = _GROUNDING.get()
        if target is None:
            return self
        source, near = target
        problems = []
        for section in SECTIONS:
            for index, item in enumerate(getattr(self, section)):
                check = check_item(source, item.text, item.evidence, near=near)
                if not check.ok:
                    problems.append(reask_message(section, index, check))
        if problems:
            raise ValueError("\n".join(problems))
        return self


class CiteError(ValueError):
    """An item citing sentences the chunk does not have (or not one consecutive run)."""


def resolve_cite(cite: Sequence[int], sentences: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The document span of the cited sentences: one sentence or one consecutive run."""
    if not cite:
        raise CiteError("未给出句子编号")
    bad = [n for n in cite if not 1 <= n <= len(sentences)]
    if bad:
        raise CiteError(f"引用了不存在的句子编号 {bad[0]}（本段原文只有第 1–{len(sentences)} 句）")
    ordered = sorted(set(cite))
    if ordered != list(range(ordered[0], ordered[-1] + 1)):
        raise CiteError(f"句子编号 {cite} 不连续：只能引用一句或连续几句")
    return sentences[ordered[0] - 1][0], sentences[ordered[-1] - 1][1]


def _ref_problems(extraction: ExtractionRef) -> list[str]:
    """The reask lines for an answer with evidence by reference (cites, then grounding)."""
    target, sentences = _GROUNDING.get(), _SENTENCES.get()
    if target is None or sentences is None:
        return []
    source, _ = target
    problems = []
    for section in SECTIONS:
        for index, item in enumerate(getattr(extraction, section)):
            try:
                s, e = resolve_cite(item.cite, sentences)
            except CiteError as exc:
                problems.append(f"{section}[{index}] {exc}。cite 只能填原文中 [n] 的编号。")
                continue
            check = check_item(source, item.text, source.text[s:e], near=s)
            if not check.ok:
                body = "；".join(check.reasons) if check.reasons else "未通过核验"
                problems.append(
                    f"{section}[{index}] 未通过核验：{body}。text 中的数字必须原样出现在所引句子中"
                    "（不要换算、求和、平均或填补xx）；如引错了句子，改正 cite。"
                )
    return problems


class GroundedExtractionRef(ExtractionRef, ResponseSchema):
    __doc__ = ExtractionRef.__doc__
    model_config = ConfigDict(title="Extraction")

    @model_validator(mode="after")
    def _grounded(self) -> Self:
        """Reject the answer when a citation does not exist or an item fails grounding."""
        problems = _ref_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self


@functools.cache
def schema_hash() -> str:
    """sha256 of the JSON schema the model is asked to fill (Extraction's)."""
    schema = json.dumps(Extraction.model_json_schema(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(schema.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class LLMSettings:
    """How to reach the model and how hard to try.

    `max_retries` is the SDK's transport retries (429/5xx/timeouts/connection errors, with
    backoff honouring Retry-After); `max_reasks` bounds the validation reasks per chunk.
    """

    model: str
    prompt: Prompt
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    mode: str = "tools"
    evidence: str = "quote"
    concurrency: int = 4
    max_reasks: int = 2
    timeout: float = 120.0
    max_retries: int = 4
    rate_share: float = 1.0  # of the provider's announced limits, for this process
    temperature: float = 0.0
    all_items: bool = False
    """Keep every item in its section; by default a long report's items past the salience cap
    (`rules.rank_candidates`) go to `minor`."""
    max_tokens: int | None = None
    """The output budget of every call (None: the server's own limit)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: choose {', '.join(MODES)}")
        if self.evidence not in EVIDENCE_MODES:
            raise ValueError(f"unknown evidence mode {self.evidence!r}: choose quote or ref")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.max_reasks < 0 or self.max_retries < 0:
            raise ValueError("max_reasks and max_retries must not be negative")


class ResponseCache(Protocol):
    """Final answers per chunk, keyed by `cache_key`."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class CallRecord:
    """One chunk's model exchange (all its attempts), for the run log."""

    chunk_index: int
    chunk_sha256: str
    request_hash: str
    response: dict[str, Any] | None
    usage: dict[str, int]
    latency_s: float
    attempts: int
    reasks: int
    error: str | None = None


class CallRecorder(Protocol):
    """Receives one CallRecord per chunk sent to the model."""

    def record(self, call: CallRecord) -> None: ...


class DictCache:
    """An in-memory ResponseCache."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        value = self.data.get(key)
        return json.loads(json.dumps(value)) if value is not None else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        # Round-trip through JSON so the cache holds what a persistent store would.
        self.data[key] = json.loads(json.dumps(value))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(settings: LLMSettings, chunk_text: str, *, heading: str | None = None) -> str:
    """The key of a chunk's answer: everything that changes what the model is asked."""
    parts: list[str | None] = [
        settings.model,
        settings.mode,
        settings.prompt.sha256,
        schema_hash(),
        _sha256(chunk_text),
        repr(float(settings.temperature)),
        str(settings.max_reasks),
        str(settings.max_tokens),
        heading,  # the user message names the chunk's heading
    ]
    if settings.evidence != "quote":
        # Appended, so that quote-mode keys (and the answers cached under them) stay valid.
        parts.append(f"evidence={settings.evidence}")
    return _sha256(json.dumps(parts))


USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens")


@dataclass
class _ChunkResult:
    items: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    usage: tuple[int, int, int, int] = (0, 0, 0, 0)  # USAGE_KEYS
    calls: int = 0
    reasks: int = 0
    cache_hit: bool = False
    overflow: bool = False  # the server said the chunk did not fit its context
    fatal: str | None = None  # the endpoint refuses every call: the batch must stop

    def add(self, other: _ChunkResult) -> None:
        self.items.extend(other.items)
        self.rejected.extend(other.rejected)
        self.warnings.extend(other.warnings)
        self.usage = tuple(a + b for a, b in zip(self.usage, other.usage, strict=True))  # type: ignore[assignment]
        self.calls += other.calls
        self.fatal = self.fatal or other.fatal


# Usage of every HTTP answer of the current chunk (attempts, reasks, truncated answers): what
# was paid, counted as it arrives, whatever happens to the answer afterwards.
_PAID: contextvars.ContextVar[list[tuple[int, int, int, int]] | None] = contextvars.ContextVar(
    "reportsum_paid", default=None
)

# What the server says when a request does not fit its context: llama.cpp ("Context size has
# been exceeded", "the request exceeds the available context size"), OpenAI and vLLM
# ("maximum context length", code context_length_exceeded). Retrying the same request cannot
# help; a smaller one can.
_OVERFLOW = re.compile(
    r"context size has been exceeded|exceeds? the available context|maximum context length"
    r"|context_length_exceeded|exceed_context_size",
    re.IGNORECASE,
)
_NO_MODEL = re.compile(r"model_not_found|model\b.{0,80}\b(not found|does not exist|not exist)",
                       re.IGNORECASE)


class _Stopped(BaseException):
    """Raised in place of a call after the endpoint refused one outright. A BaseException, so
    that neither the SDK nor instructor retries it."""


def _error_message(body: str) -> str:
    """The `error.message` of an error body (OpenAI's shape), else the body itself."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return body


def is_context_overflow(status: int, body: str) -> bool:
    return status in (400, 413, 500) and bool(_OVERFLOW.search(body))


def fatal_reason(status: int, body: str) -> str | None:
    """Why every call to this endpoint will fail (bad key, no access, no such model), or None."""
    if status == 401:
        return "the endpoint refused the API key (HTTP 401)"
    if status == 403:
        return "the endpoint denied access (HTTP 403)"
    if status == 404 and _NO_MODEL.search(body):
        return "the endpoint has no such model (HTTP 404)"
    return None


# Seconds each HTTP exchange of the current chunk took (its attempts and reasks), for its
# CallRecord's latency: time waiting for a free slot in the pool is not the model's.
_MODEL_SECONDS: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "reportsum_model_seconds", default=None
)


class _GatedHttpClient(openai.DefaultAioHttpClient):  # type: ignore[misc, valid-type]
    """The SDK's aiohttp client, holding a slot of the shared pool for each HTTP exchange.

    The pool bounds what the server sees, requests in flight, and nothing else: instructor's
    request building, parsing and grounding of other chunks go on while a request waits for
    its answer, instead of holding a slot the model is not using. aiohttp under the SDK's usual
    interface (same errors, same retries) costs about 2 ms less CPU per call than httpx2.
    """

    def __init__(self, gate: asyncio.Semaphore, limiter: AdaptiveLimiter, refused: list[str],
                 redact: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = gate
        self._limiter = limiter
        self._refused = refused
        self._redact = redact or (lambda text: text)

    async def send(self, request: Any, **kwargs: Any) -> Any:
        async with self._gate:
            if self._refused:
                # The endpoint refused a call outright (bad key, no such model): the calls
                # that were waiting for a slot are not sent.
                raise _Stopped()
            # Within the pool's bound, the rate limiter decides when a request may leave
            # (pacing to announced limits, fewer in flight and a pause after a 429).
            admitted = await self._limiter.acquire()
            started = time.perf_counter()
            status: int | None = None
            headers: Any = None
            try:
                response = await super().send(request, **kwargs)
                status, headers = response.status_code, response.headers
                if response.status_code >= 400:
                    # A context overflow is answered with a 500 by llama.cpp, which the SDK
                    # would retry: the same request overflows the same way every time.
                    await response.aread()
                    if is_context_overflow(response.status_code, response.text):
                        response.headers["x-should-retry"] = "false"
                    reason = fatal_reason(response.status_code, response.text)
                    if reason is not None and not self._refused:
                        detail = " ".join(_error_message(response.text).split())[:200]
                        self._refused.append(self._redact(f"{reason}: {detail}; stopped the batch"))
            finally:
                self._limiter.release(admitted, status, headers)
                seconds = _MODEL_SECONDS.get()
                if seconds is not None:
                    seconds.append(time.perf_counter() - started)
        return response


# The cache key and index of the chunk whose request is being sent, for a transport given
# as `http_client` (the batch engine names each request after its chunk's cache key).
CURRENT_CHUNK: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar(
    "reportsum_current_chunk", default=None
)

# Builds the HTTP client of one event loop's session from its pool of exchanges.
HttpClientFactory = Callable[[asyncio.Semaphore], Any]


@dataclass
class _Session:
    """What one event loop's extract calls share: the call pool and the HTTP client."""

    gate: asyncio.Semaphore
    limiter: AdaptiveLimiter
    users: int = 0
    http: openai.AsyncOpenAI | None = None
    client: Any = None


_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+\S+)")
_LIBRARY_LOGGERS = ("instructor", "openai", "httpx", "httpx2", "httpcore")


def _scrub(message: str, secrets: set[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return _KEYLIKE.sub("***", message)


class _RedactSecrets(logging.Filter):
    """Takes API keys out of the log records of the libraries this backend drives.

    instructor logs every failed call's error text at ERROR level, and an error body may
    quote the key that was sent.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_LOG_FILTER = _RedactSecrets()


def _guard_logs(secret: str | None) -> None:
    if secret:
        _LOG_FILTER.secrets.add(secret)
    # Filters act only on the logger a record is created on, so every library logger gets one.
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in _LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            if _LOG_FILTER not in logger.filters:
                logger.addFilter(_LOG_FILTER)
    # Without a handler, instructor's per-failure ERROR lines would reach stderr through
    # logging's last resort; the backend reports failures as warnings instead. Applications
    # that configure logging still receive the records.
    root = logging.getLogger("instructor")
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())


def _transport_error(exc: BaseException) -> BaseException | None:
    """The aiohttp connection error under an SDK error, unless it is a timeout."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, aiohttp.ClientConnectionError):
            timeout = isinstance(cause, (aiohttp.ServerTimeoutError, asyncio.TimeoutError))
            return None if timeout else cause
        cause = cause.__cause__ or cause.__context__
    return None


def split_credentials(base_url: str | None) -> tuple[str | None, str | None]:
    """(the base URL without user:password@, a basic Authorization header or None)."""
    if not base_url:
        return base_url, None
    parts = urlsplit(base_url)
    if parts.username is None and parts.password is None:
        return base_url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=netloc)), f"Basic {token}"


def _usage_tuple(usage: Any) -> tuple[int, int, int, int]:
    """(prompt, completion, total, cached prompt) tokens of one answer's `usage`."""
    if usage is None:
        return (0, 0, 0, 0)
    p = int(getattr(usage, "prompt_tokens", 0) or 0)
    c = int(getattr(usage, "completion_tokens", 0) or 0)
    t = int(getattr(usage, "total_tokens", 0) or 0) or p + c
    details = getattr(usage, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    return (p, c, t, cached)


def _api_error(exc: BaseException) -> openai.APIStatusError | None:
    """The HTTP error under an instructor failure, if the failure was one."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, openai.APIStatusError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


_BREAKS = "\n。；;！!？?"


def _halves(chunk: Chunk) -> tuple[Chunk, Chunk] | None:
    """`chunk` cut in two at the sentence end nearest its middle (None if too short to cut)."""
    text = chunk.text
    if len(text) < 2:
        return None
    middle = len(text) // 2
    cut = 0
    for offset in range(middle):
        for at in (middle + offset, middle - offset):
            if 0 < at < len(text) and text[at - 1] in _BREAKS:
                cut = at
                break
        if cut:
            break
    cut = cut or middle
    return (replace(chunk, text=text[:cut]),
            replace(chunk, text=text[cut:], start=chunk.start + cut))


def _paid(completion: Any) -> None:
    """instructor's completion:response hook: count every answer's usage for its chunk."""
    paid = _PAID.get()
    if paid is not None:
        paid.append(_usage_tuple(getattr(completion, "usage", None)))


_ITEM_LIST = re.compile(r'"(achievements|measures|problems|plans)"\s*:\s*\[')
_BETWEEN = re.compile(r"[\s,]*")


def complete_items(text: str, *, ref: bool = False) -> list[dict[str, Any]]:
    """The complete items of an answer cut short (finish_reason "length"): every whole
    `{"text": ..., "evidence": ...}` object in a section's list before the cut
    (`{"text": ..., "cite": [...]}` with `ref`, evidence by reference)."""
    decoder = json.JSONDecoder()
    model: type[ExtractItem | RefItem] = RefItem if ref else ExtractItem
    items: list[dict[str, Any]] = []
    for match in _ITEM_LIST.finditer(text):
        pos = match.end()
        while pos < len(text):
            pos = _BETWEEN.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= len(text) or text[pos] != "{":
                break
            try:
                obj, pos = decoder.raw_decode(text, pos)
            except ValueError:
                break
            try:
                item = model.model_validate(obj)
            except ValidationError:
                continue
            items.append({"section": match.group(1), **item.model_dump()})
    return items


def _items(
    extraction: Extraction | ExtractionRef,
    text: str,
    sentences: Sequence[tuple[int, int]] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, rejected) of an answer. With evidence by reference, each item's quote and
    start are filled in from the document; an item citing nothing that exists is rejected."""
    items: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for section in SECTIONS:
        for item in getattr(extraction, section):
            if isinstance(extraction, Extraction):
                items.append({"section": section, "text": item.text, "evidence": item.evidence})
                continue
            try:
                s, e = resolve_cite(item.cite, sentences or ())
            except CiteError as exc:
                rejected.append({"section": section, "text": item.text,
                                 "reasons": [f"cite {item.cite}: {exc}"]})
                continue
            items.append({"section": section, "text": item.text, "evidence": text[s:e],
                          "start": s})
    return items, rejected


_PRELOADED: set[str] = set()


def preload(mode: str = "tools") -> None:
    """Import now what the first call would: ~700 modules, most of a second, mostly the
    SDK's chat types, which it loads on first use. Processes forked after this start calling
    at once instead of each importing them (see `reportsum.runs.workers`)."""
    if mode in _PRELOADED:
        return

    async def build() -> None:
        http = openai.AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="no-key",
                                  http_client=openai.DefaultAioHttpClient())
        instructor.from_openai(http, mode=MODES[mode])
        prepare_response_model(GroundedExtraction)
        prepare_response_model(GroundedExtractionRef)
        await http.close()

    asyncio.run(build())
    _PRELOADED.add(mode)


class OpenAIBackend:
    """Extracts candidates chunk by chunk from an OpenAI-compatible endpoint."""

    name = "openai"

    def __init__(
        self,
        settings: LLMSettings,
        *,
        cache: ResponseCache | None = None,
        recorder: CallRecorder | None = None,
        semaphore: asyncio.Semaphore | None = None,
        http_client: HttpClientFactory | None = None,
    ) -> None:
        self.settings = settings
        # Another transport (the batch engine's capture and replay) in place of the network.
        self._http_client = http_client
        self.prompt = settings.prompt
        self.model: str | None = settings.model
        self.cache = cache
        self.recorder = recorder
        self._semaphore = semaphore
        self._system = settings.prompt.render_system(evidence=settings.evidence)
        self._secret = settings.api_key or os.environ.get("OPENAI_API_KEY") or None
        _guard_logs(self._secret)
        password = urlsplit(settings.base_url or "").password
        if password:
            _guard_logs(password)
        self._secrets = {x for x in (self._secret, password) if x}
        # The first call the endpoint refused outright (401/403/no such model): why.
        self._refused: list[str] = []
        # HTTP clients and semaphores belong to one event loop, and a backend may serve
        # several (each `asyncio.run`): one session per loop, closed when its last extract ends.
        self._sessions: dict[asyncio.AbstractEventLoop, _Session] = {}
        # What the rate limiter learnt (limits, pace, in-flight limit) outlives a session:
        # documents of a batch come and go, the provider's limits stay.
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AdaptiveLimiter] = (
            weakref.WeakKeyDictionary())

    # ------------------------------------------------------------ public

    async def extract(
        self, text: str, chunks: Sequence[Chunk], *, grounding: GroundingSource
    ) -> BackendResult:
        """Candidates from every chunk; failed chunks become warnings, never exceptions."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None:
            session = self._sessions[loop] = _Session(
                self._semaphore or asyncio.Semaphore(self.settings.concurrency),
                self._limiter(loop),
            )
        session.users += 1
        try:
            results = await asyncio.gather(*(self._chunk(session, c, grounding) for c in chunks))
        finally:
            session.users -= 1
            if session.users == 0:
                del self._sessions[loop]
                if session.http is not None:
                    await session.http.close()
        out = BackendResult()
        totals = [0, 0, 0, 0]
        calls = hits = 0
        fatal = next((r.fatal for r in results if r.fatal), None)
        if fatal is not None:
            raise BackendFatal(fatal)
        for chunk, res in zip(chunks, results, strict=True):
            out.candidates.extend(
                Candidate(
                    section=i["section"], text=i["text"], evidence=i["evidence"],
                    chunk_index=chunk.index, hint=i.get("start", chunk.start),
                )
                for i in res.items
            )
            out.rejected.extend(
                RejectedItem(section=r["section"], text=r["text"], reasons=r["reasons"])
                for r in res.rejected
            )
            out.warnings.extend(f"chunk {chunk.index}: {w}" for w in res.warnings)
            out.failed_chunks += int(not res.items and bool(res.warnings))
            totals = [a + b for a, b in zip(totals, res.usage, strict=True)]
            calls += res.calls
            hits += int(res.cache_hit)
        p, c, t, cached = totals
        out.usage = Usage(prompt_tokens=p, completion_tokens=c, total_tokens=t,
                          cached_tokens=cached, calls=calls, cache_hits=hits)
        # every chunk returns its items: the same salience cap as the rules backend chooses
        out.candidates = rank_candidates(text, out.candidates, all_items=self.settings.all_items)
        return out

    def _limiter(self, loop: asyncio.AbstractEventLoop) -> AdaptiveLimiter:
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = AdaptiveLimiter(
                self.settings.concurrency, share=self.settings.rate_share)
        return limiter

    def preload(self) -> None:
        """See `preload`: what processes forked after this call inherit."""
        preload(self.settings.mode)

    # ------------------------------------------------------------ internals

    def _client(self, session: _Session) -> Any:
        if session.client is None:
            s = self.settings
            base_url, auth = split_credentials(s.base_url)
            session.http = openai.AsyncOpenAI(
                base_url=base_url,
                # A batch engine's transport replaces the HTTP exchange (and its rate limits).
                http_client=(self._http_client(session.gate) if self._http_client is not None
                             else _GatedHttpClient(session.gate, session.limiter, self._refused,
                                                   self._redact)),
                # Local servers take any key; the SDK refuses to start without one.
                api_key=self._secret or "no-key",
                max_retries=s.max_retries,
                timeout=s.timeout,
                # Credentials in the URL become basic auth (aiohttp refuses both at once).
                default_headers={"Authorization": auth} if auth else None,
            )
            session.client = instructor.from_openai(session.http, mode=MODES[s.mode])
            session.client.on("completion:response", _paid)
        return session.client

    def _redact(self, message: str) -> str:
        return _scrub(message, self._secrets)

    def _describe(self, exc: BaseException) -> str:
        transport = _transport_error(exc)
        if isinstance(exc, openai.APITimeoutError) and transport is not None:
            # The aiohttp transport reports every dropped or refused connection as a
            # connect timeout; the aiohttp error underneath says which it was.
            text = f"connection failed ({transport})"
        elif isinstance(exc, openai.APITimeoutError):
            text = f"timed out after {self.settings.timeout:g}s"
        elif isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            text = f"HTTP {exc.status_code} {body.get('message') or exc.message}"
        elif isinstance(exc, openai.APIConnectionError):
            text = f"connection failed ({exc.__cause__ or exc})"
        else:
            text = f"{type(exc).__name__}: {exc}"
        text = " ".join(text.split())
        return self._redact(text[:300])

    def _answer_text(self, completion: Any) -> str:
        message = completion.choices[0].message
        if self.settings.mode == "tools":
            calls = message.tool_calls or []
            return (calls[0].function.arguments or "") if calls else (message.content or "")
        content = message.content or ""
        return extract_json_from_codeblock(content) if self.settings.mode == "md_json" else content

    def _raw_text(self, completion: Any) -> str:
        """An answer's text as sent (tool arguments or content), no code-block extraction."""
        message = completion.choices[0].message
        calls = message.tool_calls or []
        if calls:
            return str(calls[0].function.arguments or "")
        return str(message.content or "")

    def _salvage(self, failed: Sequence[Any]) -> Extraction | ExtractionRef | None:
        """The most recent failed answer that parses as an Extraction (no grounding)."""
        model = ExtractionRef if self.settings.evidence == "ref" else Extraction
        for attempt in reversed(failed):
            if attempt.completion is None:
                continue
            try:
                return model.model_validate_json(self._answer_text(attempt.completion))
            except (ValidationError, ValueError, AttributeError, IndexError):
                continue
        return None

    async def _chunk(
        self, session: _Session, chunk: Chunk, grounding: GroundingSource, *, halved: bool = False
    ) -> _ChunkResult:
        key = cache_key(self.settings, chunk.text, heading=chunk.heading)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return _ChunkResult(items=list(hit.get("items", [])),
                                    rejected=list(hit.get("rejected", [])),
                                    warnings=list(hit.get("warnings", [])), cache_hit=True)
        if self._refused:  # the endpoint already refused: no more calls
            return _ChunkResult(warnings=[self._refused[0]], fatal=self._refused[0])
        seconds: list[float] = []
        paid: list[tuple[int, int, int, int]] = []
        token = _MODEL_SECONDS.set(seconds)
        current = CURRENT_CHUNK.set((key, chunk.index))
        paid_token = _PAID.set(paid)
        try:
            res, answer, error = await self._call(self._client(session), chunk, grounding)
        except _Stopped:
            res, answer, error = _ChunkResult(), None, None
        finally:
            CURRENT_CHUNK.reset(current)
            _MODEL_SECONDS.reset(token)
            _PAID.reset(paid_token)
        if self._refused:
            res.fatal = self._refused[0]
            error = error or self._refused[0]
        # What was paid: every HTTP exchange made for this chunk, and the usage of every
        # answer that came back (reasks and answers that failed validation included).
        res.calls = len(seconds)
        res.usage = tuple(map(sum, zip(*paid, strict=True))) if paid else (0, 0, 0, 0)  # type: ignore[assignment]
        latency = sum(seconds)
        if res.calls and res.usage[2]:
            session.limiter.observe_tokens(res.usage[2] / res.calls)
        # Only answers worth replaying are cached: never a failure, even a partly recovered one.
        if answer is not None and not res.warnings and self.cache is not None:
            self.cache.put(key, {"items": res.items, "rejected": res.rejected,
                                 "warnings": res.warnings})
        if self.recorder is not None:
            self.recorder.record(CallRecord(
                chunk_index=chunk.index,
                chunk_sha256=_sha256(chunk.text),
                request_hash=key,
                response=answer,
                usage=dict(zip(USAGE_KEYS, res.usage, strict=True)),
                latency_s=round(latency, 4),
                attempts=res.calls,
                reasks=res.reasks,
                error=error,
            ))
        if res.overflow and not halved:
            halves = _halves(chunk)
            if halves is not None:
                # The server's context cannot hold this chunk and its answer: once, in halves.
                out = _ChunkResult(usage=res.usage, calls=res.calls)
                for part in await asyncio.gather(
                    *(self._chunk(session, h, grounding, halved=True) for h in halves)
                ):
                    out.add(part)
                out.warnings.insert(0, "the model's context was exceeded; the chunk was split in half")
                return out
        return res

    async def _call(
        self, client: Any, chunk: Chunk, grounding: GroundingSource
    ) -> tuple[_ChunkResult, dict[str, Any] | None, str | None]:
        """One chunk through instructor: (result, final answer or None, error or None).

        The result's usage and calls are filled in by the caller (from every HTTP exchange).
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_reasks + 1),
            retry=retry_if_exception_type(VALIDATION_ERRORS),
            reraise=True,
        )
        # No instructor `context`: without one instructor sends the messages as they are (with
        # one it would render them as Jinja templates), so `{{` in a report reaches the model
        # verbatim. The validator finds the document in `_GROUNDING`.
        # The system message (and the tool schema) is the same on every call, and the chunk
        # comes last: servers that cache prompt prefixes bill the fixed part once.
        sentences: list[tuple[int, int]] | None = None
        numbered: list[str] | None = None
        if self.settings.evidence == "ref":
            sentences = [(chunk.start + s, chunk.start + e) for s, e in clause_spans(chunk.text)]
            numbered = [" ".join(grounding.text[s:e].split()) for s, e in sentences]
        user = self.prompt.render_user(chunk.text, heading=chunk.heading, sentences=numbered)
        messages = [
            {"role": "system", "content": self._system},
            {"role": "user", "content": user},
        ]
        extra: dict[str, Any] = {}
        if self.settings.max_tokens is not None:
            extra["max_tokens"] = self.settings.max_tokens
        token = _GROUNDING.set((grounding, chunk.start))
        sentences_token = _SENTENCES.set(sentences)
        try:
            extraction, completion = await client.create_with_completion(
                model=self.settings.model,
                messages=messages,
                response_model=GroundedExtractionRef if sentences is not None
                else GroundedExtraction,
                max_retries=retrying,
                temperature=self.settings.temperature,
                **extra,
            )
        except IncompleteOutputException as exc:
            # Cut at the output budget: keep the answer's complete items (the pipeline grounds
            # them like any other) instead of losing the chunk.
            res = _ChunkResult(reasks=retrying.statistics.get("attempt_number", 1) - 1)
            try:
                raw = self._raw_text(exc.last_completion)
            except (AttributeError, IndexError, TypeError):
                raw = ""
            partial = complete_items(raw, ref=sentences is not None)
            if sentences is None:
                res.items = partial
            else:
                cut = ExtractionRef.model_validate({
                    section: [{"text": i["text"], "cite": i["cite"]}
                              for i in partial if i["section"] == section]
                    for section in SECTIONS
                })
                res.items, res.rejected = _items(cut, grounding.text, sentences)
            error = (f"answer cut at the output limit (max_tokens={self.settings.max_tokens}); "
                     f"kept its {len(res.items)} complete items; a larger --max-tokens or a "
                     "smaller --chunk-chars avoids this")
            res.warnings.append(error)
            answer = {"partial_items": res.items} if res.items else None
            return res, answer, error
        except InstructorRetryException as exc:
            failed = exc.failed_attempts or []
            calls = exc.n_attempts or 1
            res = _ChunkResult(reasks=max(calls - 1, 0))
            salvaged = self._salvage(failed)
            error = None
            if calls > len(failed):
                # The last attempt got no answer: the API call itself failed (after the SDK's
                # retries), maybe during a reask.
                api = _api_error(exc)
                if api is not None:
                    body = json.dumps(api.body, ensure_ascii=False) if api.body else api.message
                    res.overflow = is_context_overflow(api.status_code, f"{api.message} {body}")
                error = f"model call failed: {self._describe(api or exc.__cause__ or exc)}"
                if salvaged is not None:
                    error += " (kept the answer before it)"
            elif salvaged is None:
                last = " ".join(str(failed[-1].exception).split())[:300]
                error = f"no usable answer after {calls} attempts: {self._redact(last)}"
            if error is not None:
                res.warnings.append(error)
            if salvaged is None:
                return res, None, error
            res.overflow = False  # an earlier answer was kept: nothing to split
            res.items, res.rejected = _items(salvaged, grounding.text, sentences)
            return res, salvaged.model_dump(), error or "grounding failed after reasks"
        finally:
            _GROUNDING.reset(token)
            _SENTENCES.reset(sentences_token)
        items, rejected = _items(extraction, grounding.text, sentences)
        res = _ChunkResult(items=items, rejected=rejected,
                           reasks=retrying.statistics.get("attempt_number", 1) - 1)
        return res, extraction.model_dump(), None


__all__ = [
    "CURRENT_CHUNK",
    "CallRecord",
    "CallRecorder",
    "DictCache",
    "GroundedExtraction",
    "GroundedExtractionRef",
    "HttpClientFactory",
    "LLMSettings",
    "OpenAIBackend",
    "ResponseCache",
    "cache_key",
    "preload",
    "schema_hash",
]
