"""The pipeline: ingest -> clean -> split -> chunk -> extract -> ground -> merge.

This is the Python API under the CLI. `summarise_text` and `summarise_file` return pydantic
models; `summarise_paths` runs a batch and reports each file's outcome without letting one bad
file stop the others.

Grounding happens here for every backend: whatever a backend proposes is checked item by item
against the document text, and only grounded items reach the four sections; the rest go to
`rejected` with their reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from reportsum.backends.base import Backend, BackendFatal, BackendResult, Candidate
from reportsum.grounding.ground import GroundingSource, check_item
from reportsum.grounding.numbers import claim_fields
from reportsum.grounding.slogans import NOT_FIGURE_KINDS, is_slogan_numeral, slogan_spans
from reportsum.models import (
    SECTIONS,
    DocumentInfo,
    DocumentSummary,
    FileSummary,
    MinorItem,
    NumberMention,
    RejectedItem,
    RunInfo,
    SummaryItem,
)
from reportsum.stages.chunk import Chunk, chunk
from reportsum.stages.clean import clean
from reportsum.stages.ingest import IngestError, RawDocument, iter_inputs, read_file
from reportsum.stages.merge import merge_items, merge_rejected
from reportsum.stages.split import DocPart, split
from reportsum.stages.subject import figure_subject
from reportsum.stages.textmap import MappedText

DEFAULT_CHUNK_CHARS = 6000
BACKENDS = ("openai", "rules")
MODES = ("tools", "json", "md_json", "json_schema")


def default_max_tokens(chunk_chars: int) -> int:
    """The output budget of one call when none is given: as many tokens as the chunk has
    characters, at least 1024. An answer quotes its evidence from the chunk and restates it
    briefly, so a faithful answer stays well under it; a model that does not stop is cut
    there instead of filling the server's context."""
    return max(1024, chunk_chars)

T = TypeVar("T")


class ExtractionFailed(Exception):
    """A document for which the backend returned nothing at all (every chunk failed)."""


class ConfigError(Exception):
    """Settings that cannot work (unknown backend, no model name, bad prompt...)."""


@dataclass(frozen=True)
class Settings:
    """Everything that decides how documents are summarised.

    `backend` is "rules" or "openai"; `resolve_backend` picks it from the other settings and the
    environment when it is None.
    """

    backend: str | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    mode: str = "tools"
    evidence: str = "quote"
    concurrency: int = 4
    chunk_chars: int = DEFAULT_CHUNK_CHARS
    prompt: str = "default"
    max_reasks: int = 2
    timeout: float = 120.0
    max_retries: int = 4
    all_items: bool = False
    """Keep items the salience cap ranks out in their sections (rules backend) instead of `minor`."""
    rate_share: float = 1.0
    """The share of the provider's announced rate limits this process paces to (worker
    processes split it as they split the concurrency)."""
    max_tokens: int | None = None
    """Output budget of each model call; None: `default_max_tokens(chunk_chars)`."""


def resolve_backend(
    settings: Settings, env: dict[str, str] | None = None, *, require_endpoint: bool = True
) -> Settings:
    """Fill in backend, model, base URL and key from the environment.

    `openai` when asked for, or when a base URL or API key is given (flags or
    OPENAI_BASE_URL / OPENAI_API_KEY); otherwise `rules`. REPORTSUM_MODEL sets the model.
    `require_endpoint=False` is for request files written for an offline engine (`batch
    submit --write-jsonl`): no endpoint is called then.
    """
    env = dict(os.environ) if env is None else env
    base_url = settings.base_url or env.get("OPENAI_BASE_URL") or None
    api_key = settings.api_key or env.get("OPENAI_API_KEY") or None
    model = settings.model or env.get("REPORTSUM_MODEL") or None
    backend = settings.backend
    if backend is None:
        backend = "openai" if (base_url or api_key) else "rules"
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}: choose 'openai' or 'rules'")
    # Every setting is checked whatever the backend: a typo is an error, not silently unused.
    if settings.mode not in MODES:
        raise ConfigError(f"unknown mode {settings.mode!r}: choose {', '.join(MODES)}")
    from reportsum.backends.prompts import PromptError, load_prompt

    try:
        load_prompt(settings.prompt)
    except PromptError as exc:
        raise ConfigError(str(exc)) from None
    if backend == "openai":
        if require_endpoint and not base_url and not api_key:
            raise ConfigError(
                "--backend openai needs an endpoint: give --base-url (or OPENAI_BASE_URL) for a "
                "local or hosted server, or --api-key (or OPENAI_API_KEY) for api.openai.com"
            )
        if base_url:
            _check_base_url(base_url, api_key)
        if not model:
            model = "gpt-4o-mini"
    if settings.max_tokens is not None and settings.max_tokens < 1:
        raise ConfigError("max-tokens must be at least 1")
    if settings.evidence not in ("quote", "ref"):
        raise ConfigError(f"unknown evidence mode {settings.evidence!r}: choose quote or ref")
    if settings.concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    if settings.chunk_chars < 200:
        raise ConfigError("chunk-chars must be at least 200")
    if settings.max_retries < 0 or settings.max_reasks < 0:
        raise ConfigError("retries and max-reasks cannot be negative")
    if settings.timeout <= 0:
        raise ConfigError("timeout must be positive")
    max_tokens = settings.max_tokens or default_max_tokens(settings.chunk_chars)
    return replace(settings, backend=backend, base_url=base_url, api_key=api_key, model=model,
                   max_tokens=max_tokens)


def _check_base_url(base_url: str, api_key: str | None) -> None:
    """A base URL must be http(s) with a host; user:password@ in it is sent as basic auth,
    which cannot go with an API key (both would be the Authorization header)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise ConfigError(f"bad base URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("the base URL must look like http(s)://host[:port]/v1")
    if (parts.username or parts.password) and api_key:
        raise ConfigError(
            "the base URL carries user:password (sent as basic auth) and an API key is also "
            "set (OPENAI_API_KEY or --api-key): give one or the other"
        )


def make_backend(settings: Settings, **hooks: object) -> Backend:
    """Build the backend the (resolved) settings name. `hooks` go to the model backend."""
    if settings.backend == "rules":
        from reportsum.backends.rules import RulesBackend

        return RulesBackend(all_items=settings.all_items)
    from reportsum.backends.llm import LLMSettings, OpenAIBackend
    from reportsum.backends.prompts import PromptError, load_prompt

    try:
        prompt = load_prompt(settings.prompt)
    except PromptError as exc:
        raise ConfigError(str(exc)) from exc
    assert settings.model is not None
    llm = LLMSettings(
        model=settings.model,
        base_url=settings.base_url,
        api_key=settings.api_key,
        mode=settings.mode,
        evidence=settings.evidence,
        concurrency=settings.concurrency,
        max_reasks=settings.max_reasks,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        rate_share=settings.rate_share,
        max_tokens=settings.max_tokens,
        prompt=prompt,
        all_items=settings.all_items,
    )
    return OpenAIBackend(llm, **hooks)  # type: ignore[arg-type]


def _run_info(backend: Backend, result: BackendResult) -> RunInfo:
    prompt = getattr(backend, "prompt", None)
    settings = getattr(backend, "settings", None)
    return RunInfo(
        backend=backend.name,
        model=backend.model,
        prompt=getattr(prompt, "name", None),
        prompt_version=str(prompt.version) if prompt is not None else None,
        prompt_hash=getattr(prompt, "sha256", None),
        mode=getattr(settings, "mode", None),
        evidence=getattr(settings, "evidence", None),
        usage=result.usage,
    )


ITEM_MAX_CHARS = 300
"""No item's text or evidence is longer: longer ones are split at clause boundaries (。；，、:...)
or, where a piece has none, cut at this length with the warning CUT_WARNING."""
CUT_WARNING = f"cut: longer than {ITEM_MAX_CHARS} characters with no clause boundary"
_CLAUSE_ENDS = "。！？!?；;，,、：:）)"
_NUMBER_CHARS = set("0123456789０１２３４５６７８９.．%％")


def _clause_pieces(s: str, cap: int = ITEM_MAX_CHARS) -> list[tuple[int, int, bool]]:
    """(start, end, was_cut) pieces of `s`, each at most `cap` long: cut after the last clause
    mark within the cap (if it leaves a third of the cap or more), else the piece is the first
    `cap` characters (never ending inside a number) and the rest up to the next clause mark
    is dropped."""
    out: list[tuple[int, int, bool]] = []
    a = 0
    while len(s) - a > cap:
        window = s[a : a + cap]
        k = max(window.rfind(ch) for ch in _CLAUSE_ENDS)
        if k + 1 >= cap // 3:
            out.append((a, a + k + 1, False))
            a += k + 1
            continue
        j = a + cap
        while j > a + cap // 2 and s[j - 1] in _NUMBER_CHARS and s[j] in _NUMBER_CHARS:
            j -= 1
        out.append((a, j, True))
        nxt = min((i for i in (s.find(ch, j) for ch in _CLAUSE_ENDS) if i >= 0), default=len(s) - 1)
        a = nxt + 1
    if a < len(s):
        out.append((a, len(s), False))
    return [(x, y, c) for x, y, c in out if s[x:y].strip()]


def cap_candidates(candidates: Sequence[Candidate]) -> list[tuple[Candidate, bool]]:
    """Every candidate within `ITEM_MAX_CHARS`, with whether it was cut.

    A verbatim candidate (text == evidence, as the rules backend gives) is split into clause
    pieces; a model's candidate keeps its evidence's first piece and its text's."""
    out: list[tuple[Candidate, bool]] = []
    for c in candidates:
        if len(c.text) <= ITEM_MAX_CHARS and len(c.evidence) <= ITEM_MAX_CHARS:
            out.append((c, False))
        elif c.text == c.evidence:
            for a, b, cut in _clause_pieces(c.text):
                piece = c.text[a:b].strip()
                hint = None if c.hint is None else c.hint + a
                out.append((replace(c, text=piece, evidence=piece, hint=hint), cut))
        else:
            ev = _clause_pieces(c.evidence)[:1] or [(0, 0, False)]
            tx = _clause_pieces(c.text)[:1] or [(0, 0, False)]
            out.append((replace(c, evidence=c.evidence[ev[0][0]:ev[0][1]], text=c.text[tx[0][0]:tx[0][1]]),
                        ev[0][2] or tx[0][2] or len(c.evidence) > ITEM_MAX_CHARS or len(c.text) > ITEM_MAX_CHARS))
    return out


def ground_result(
    part: DocPart, result: BackendResult, grounding: GroundingSource
) -> tuple[dict[str, list[SummaryItem]], list[RejectedItem]]:
    """Check every candidate (split or cut to `ITEM_MAX_CHARS` first); grounded ones become
    items, the others rejections.

    Grounded minor candidates (ranked out by a salience cap) go under the key "minor"."""
    text: MappedText = part.text
    sections: dict[str, list[SummaryItem]] = {s: [] for s in (*SECTIONS, "minor")}
    rejected = list(result.rejected)
    slogans = slogan_spans(grounding.text)
    for cand, was_cut in cap_candidates(result.candidates):
        if cand.section not in sections:
            rejected.append(
                RejectedItem(
                    section=cand.section,
                    text=cand.text,
                    evidence=cand.evidence,
                    reasons=[f"unknown section {cand.section!r}"],
                )
            )
            continue
        check = check_item(grounding, cand.text, cand.evidence, near=cand.hint)
        if not check.ok or check.span is None:
            rejected.append(
                RejectedItem(
                    section=cand.section,
                    text=cand.text,
                    evidence=cand.evidence,
                    reasons=list(check.reasons) or ["evidence not found in source"],
                )
            )
            continue
        s, e = check.span
        subjects: dict[int, str] = {}
        previous: tuple[int, str] | None = None
        for m in sorted(check.numbers, key=lambda m: m.start):
            # Years and dates frame a claim; they are not what it counts, nor a subject's end.
            if m.kind in ("year", "date"):
                subjects[m.start] = ""
                continue
            subjects[m.start] = figure_subject(text.text, m.start, end=m.end, previous=previous)
            previous = (m.end, subjects[m.start])
        numbers = []
        for i, m in enumerate(check.numbers):
            # slogan and ordinal numerals (五年来, 二十届, 第五届) are not the item's figures
            if m.kind in NOT_FIGURE_KINDS or is_slogan_numeral(grounding.text, m.start, m.end, spans=slogans):
                continue
            numbers.append(NumberMention(
                raw=m.raw,
                value=m.value,
                unit=m.unit,
                kind=m.kind,  # type: ignore[arg-type]
                span=text.span_to_original(m.start, m.end),
                approx=m.approx,
                subject=subjects[m.start],
                **claim_fields(check.claim_of(i)),
            ))
        fields = dict(
            text=cand.text.strip(),
            evidence=text.text[s:e],
            span=text.span_to_original(s, e),
            numbers=numbers,
            warnings=list(check.warnings) + ([CUT_WARNING] if was_cut else []),
        )
        if cand.minor:
            sections["minor"].append(MinorItem(section=cand.section, **fields))  # type: ignore[arg-type]
        else:
            sections[cand.section].append(SummaryItem(**fields))  # type: ignore[arg-type]
    return {k: merge_items(v) for k, v in sections.items()}, merge_rejected(rejected)


async def summarise_part(
    part: DocPart,
    backend: Backend,
    *,
    source: str,
    sha256: str,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
) -> DocumentSummary:
    """Summarise one report (one part of a file)."""
    doc_text = part.text.text
    chunks = chunk(doc_text, max_chars=chunk_chars)
    grounding = GroundingSource(doc_text)
    result = await backend.extract(doc_text, chunks, grounding=grounding)
    if chunks and result.failed_chunks == len(chunks):
        # Nothing came back for any part of the report: that is a failed document, not an
        # empty summary. Its first reason is the one the user can act on.
        raise ExtractionFailed(
            f"{source}: document {part.index}: every chunk failed ({len(chunks)}); "
            f"first: {result.warnings[0] if result.warnings else 'no answer'}"
        )
    sections, rejected = ground_result(part, result, grounding)
    # Truncation and other text warnings are per report (split knows which report a notice
    # fell in); backend warnings are per chunk of this report.
    warnings = list(dict.fromkeys([*part.warnings, *result.warnings]))
    info = DocumentInfo(
        source=source,
        index=part.index,
        title=part.title,
        issuer=part.issuer,
        period=part.period,
        sha256=sha256,
        chars=len(doc_text),
        span=part.text.span_to_original(0, len(doc_text)) if doc_text else None,
        warnings=warnings,
    )
    return DocumentSummary(
        document=info,
        run=_run_info(backend, result),
        rejected=rejected,
        achievements=sections["achievements"],
        measures=sections["measures"],
        problems=sections["problems"],
        plans=sections["plans"],
        minor=[m for m in sections["minor"] if isinstance(m, MinorItem)],
    )


async def summarise_raw(
    raw: RawDocument, backend: Backend, *, source: str | None = None, chunk_chars: int = DEFAULT_CHUNK_CHARS
) -> FileSummary:
    """Summarise every report in a file already read."""
    cleaned = clean(raw.text)
    parts = split(cleaned.text)
    src = source or str(raw.path)
    if not parts:
        raise IngestError(f"{src}: no report text left after removing page noise")
    if len(parts) == 1 and cleaned.warnings:
        # A notice such as ……(未完,全文共5358字) may sit mid-text; with one report it is its own.
        only = parts[0]
        parts = [replace(only, warnings=tuple(dict.fromkeys([*only.warnings, *cleaned.warnings])))]
    docs = await asyncio.gather(
        *(
            summarise_part(
                p, backend, source=src, sha256=raw.sha256, chunk_chars=chunk_chars,
            )
            for p in parts
        )
    )
    for doc in docs:
        _reader_flags(doc, raw)
    return FileSummary(source=src, documents=list(docs))


OCR_LOW_CONFIDENCE = "ocr-low-confidence"


def _reader_flags(doc: DocumentSummary, raw: RawDocument) -> None:
    """The reader's file warnings (`ocr`) on each report; items quoting a line the OCR
    scored low get `ocr-low-confidence`, so a reader knows which figures to check by eye."""
    if raw.warnings:
        doc.document.warnings = list(dict.fromkeys([*raw.warnings, *doc.document.warnings]))
    if not raw.low_confidence:
        return
    for section in (doc.achievements, doc.measures, doc.problems, doc.plans):
        for item in section:
            if item.span is None:
                continue
            s, e = item.span
            if any(ls < e and s < le for ls, le in raw.low_confidence):
                if OCR_LOW_CONFIDENCE not in item.warnings:
                    item.warnings.append(OCR_LOW_CONFIDENCE)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, without handing the result back through the main task.

    On Python 3.11, `asyncio.run` restoring the SIGINT handler formats the repr of its main
    task, result included: for a 3 MB report's summary that repr alone took 0.7 s.
    """
    box: list[T] = []

    async def main() -> None:
        box.append(await coro)

    asyncio.run(main())
    return box[0]


def summarise_text(
    text: str, *, source: str = "<text>", settings: Settings | None = None, backend: Backend | None = None
) -> list[DocumentSummary]:
    """Summarise a report given as a string; returns one summary per report found in it."""
    import hashlib

    settings = resolve_backend(settings or Settings(backend="rules"))
    backend = backend or make_backend(settings)
    raw = RawDocument(
        path=Path(source),
        text=text,
        encoding="utf-8",
        kind="text",
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    return run_sync(summarise_raw(raw, backend, source=source, chunk_chars=settings.chunk_chars)).documents


def summarise_file(
    path: str | Path, *, settings: Settings | None = None, backend: Backend | None = None
) -> FileSummary:
    """Summarise every report in one file (see `stages.ingest.SUPPORTED`). Raises IngestError."""
    settings = resolve_backend(settings or Settings(backend="rules"))
    backend = backend or make_backend(settings)
    raw = read_file(Path(path))
    return run_sync(summarise_raw(raw, backend, chunk_chars=settings.chunk_chars))


@dataclass
class FileOutcome:
    """What happened to one input file in a batch."""

    path: Path
    summary: FileSummary | None = None
    error: str | None = None
    raw: RawDocument | None = None
    rendered: str | None = None  # the output text, when a worker process rendered it
    notes: list[str] = field(default_factory=list)  # library warnings while reading it


class ChunkCounter:
    """Forwards to a backend, telling `on_chunks` how many chunks each document hands it.

    Every other attribute (prompt, settings, recorder...) is the wrapped backend's, so the
    pipeline records the run exactly as without the wrapper.
    """

    def __init__(self, inner: Backend, on_chunks: Callable[[int], None]) -> None:
        self._inner = inner
        self._on_chunks = on_chunks

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def extract(
        self, text: str, chunks: Sequence[Chunk], *, grounding: GroundingSource
    ) -> BackendResult:
        self._on_chunks(len(chunks))
        return await self._inner.extract(text, chunks, grounding=grounding)


def stamp_run(summary: FileSummary, run_id: str) -> None:
    """Name the recorded run in every document of `summary` (outputs say which run made them)."""
    for doc in summary.documents:
        doc.run.run_id = run_id


class _Notes(logging.Handler):
    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("reportsum"):
            self.notes.append(f"{record.name.split('.')[0]}: {record.getMessage()}")


@contextlib.contextmanager
def captured_notes() -> Iterator[list[str]]:
    """Warnings that libraries (pypdf, python-docx...) log or `warnings.warn` while reading a
    file, collected instead of reaching stderr raw: the caller puts them on that file's line.
    Reading is synchronous, so nothing else runs in this thread meanwhile."""
    notes: list[str] = []
    handler = _Notes(notes)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield notes
    finally:
        root.removeHandler(handler)
    for w in caught:
        notes.append(f"{w.category.__module__.split('.')[0]}: {w.message}")
    # One short line each (the first sentence, at most 160 characters), no repeats, in order.
    notes[:] = list(dict.fromkeys(_short_note(n) for n in notes))


def _short_note(note: str, limit: int = 160) -> str:
    note = " ".join(note.split())
    head, dot, rest = note.partition(". ")
    note = head + "." if dot and rest else note
    return note if len(note) <= limit else note[: limit - 1] + "…"


def _read(path: Path) -> tuple[RawDocument | None, str | None, list[str]]:
    with captured_notes() as notes:
        try:
            return read_file(path), None, notes
        except IngestError as exc:
            return None, str(exc), notes


async def summarise_path(path: Path, backend: Backend, *, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> FileOutcome:
    """Read and summarise one file; every failure becomes the outcome's error, never an exception.
    Library warnings while reading end up in `notes` (and, if the file failed, in its error)."""
    raw, error, notes = _read(path)
    if raw is None:
        if notes:
            error = f"{error} ({'; '.join(notes)})"
        return FileOutcome(path, error=error, notes=notes)
    try:
        summary = await summarise_raw(raw, backend, chunk_chars=chunk_chars)
        return FileOutcome(path, summary=summary, raw=raw, notes=notes)
    except (IngestError, ExtractionFailed) as exc:
        return FileOutcome(path, error=str(exc), notes=notes)
    except BackendFatal:
        raise  # the endpoint refuses every call: the whole batch stops
    except Exception as exc:  # noqa: BLE001 - one bad document must not lose the batch
        return FileOutcome(path, error=f"{path}: {type(exc).__name__}: {exc}", notes=notes)


async def summarise_paths(
    paths: Sequence[Path],
    backend: Backend,
    *,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
    max_files_in_flight: int = 8,
    on_done: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Summarise many files; one file's failure is recorded and never stops the others.

    Files run concurrently (bounded) so a model backend's shared call pool stays busy across
    documents; outcomes come back in input order.
    """
    gate = asyncio.Semaphore(max_files_in_flight)

    async def one(path: Path) -> FileOutcome:
        async with gate:
            outcome = await summarise_path(path, backend, chunk_chars=chunk_chars)
            if on_done is not None:
                on_done(outcome)
            return outcome

    return list(await asyncio.gather(*(one(p) for p in paths)))


__all__ = [
    "ChunkCounter",
    "ConfigError",
    "FileOutcome",
    "Settings",
    "iter_inputs",
    "make_backend",
    "resolve_backend",
    "run_sync",
    "summarise_file",
    "summarise_path",
    "summarise_paths",
    "summarise_text",
]
