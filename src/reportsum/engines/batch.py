"""Batch jobs: a corpus through a provider's Batch API (or an offline engine such as vLLM's
`run-batch`), with the interactive path's prompts, schema, grounding, reasks and cache.

One code path builds every request: the pipeline runs with the model backend as usual, and
only its HTTP transport changes (`reportsum.engines.transport`).

- `submit`: the pipeline runs with a capturing transport; every request a chunk not already in
  the response cache would make is written into request files (within the provider's limits),
  uploaded and made a batch, or written for an offline engine (`write_jsonl`).
- `collect`: results are downloaded (or read from a result file); the pipeline runs again with
  a replaying transport, so each answer is parsed and grounded exactly as interactively, clean
  answers go to the response cache, and reasks become a follow-up batch (or, with
  `reask_now`, interactive calls). A file whose every chunk is settled has its outputs written
  as `summarise --out` writes them, and its documents recorded as a run.

Everything is in the store (tables `batch_*`), so both steps can be killed and run again: files
already uploaded and batches already created are found again, results already downloaded are
not fetched twice, and answers already grounded come from the cache (nothing is paid twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from reportsum.backends.base import Backend, BackendResult
from reportsum.engines.batchapi import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REQUESTS,
    FINAL_STATES,
    BatchAPIError,
    Provider,
    Result,
    batch_counts,
    endpoint_for,
    parse_results,
    request_line,
    split_files,
)
from reportsum.engines.transport import (
    CURRENT_DOC,
    Answer,
    Captured,
    Exchanges,
    transport_factory,
)
from reportsum.grounding.ground import GroundingSource
from reportsum.models import Usage
from reportsum.pipeline import (
    ConfigError,
    ExtractionFailed,
    FileOutcome,
    Settings,
    make_backend,
    run_sync,
    stamp_run,
    summarise_raw,
)
from reportsum.runs.runner import _settings_record, settings_from_record
from reportsum.runs.store import Store, StoreCache, StoreRecorder, safe_url
from reportsum.stages.chunk import Chunk
from reportsum.stages.clean import clean
from reportsum.stages.ingest import IngestError, RawDocument, read_file
from reportsum.stages.split import split

# A request is sent at most this many times (its batch failed or expired, or it errored);
# after that its chunk fails as an interactive call that failed would.
MAX_TRIES = 2


class BatchError(Exception):
    """A batch job that cannot go on (unknown job, changed prompt, provider refusal)."""


@dataclass(frozen=True)
class Job:
    id: str
    route: str  # "api" (a provider's Batch API) or "local" (request files for an offline engine)
    settings: Settings
    inputs: list[tuple[str, str]]  # (source, sha256) in input order
    roots: list[str]
    out: str | None
    fmt: str
    endpoint: str
    created: float
    prompt_hash: str | None


@dataclass
class FileRow:
    name: str
    round: int
    path: str
    bytes: int
    requests: int
    file_id: str | None
    batch_id: str | None
    state: str  # written, uploaded, submitted, collected; local (offline engine)
    batch_status: str | None
    counts: dict[str, int]


@dataclass
class SubmitReport:
    job: Job
    files: list[FileRow]  # the files this call wrote (or found written)
    requests: int  # requests in them
    cached_chunks: int
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class CollectReport:
    job: Job
    downloaded: int = 0  # result lines read this time
    settled: int = 0  # files written (or printed) this time
    done_before: int = 0  # files already written by an earlier collect
    pending: list[str] = field(default_factory=list)  # sources waiting for a batch
    followup: list[FileRow] = field(default_factory=list)
    followup_requests: int = 0
    run_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replayed: int = 0
    forwarded: int = 0
    seconds: float = 0.0


@dataclass
class JobStatus:
    job: Job
    files: list[FileRow]
    requests: dict[str, int]  # by state
    failed: list[tuple[str, str, str]]  # (custom_id, source, error), first few


# ------------------------------------------------------------------ the job's records


def _job_settings(settings: Settings, prompt_hash: str | None) -> dict[str, Any]:
    rec = _settings_record(settings)
    rec.update(base_url=safe_url(settings.base_url), timeout=settings.timeout,
               max_retries=settings.max_retries, prompt_hash=prompt_hash)
    return rec


def _prompt_hash(settings: Settings) -> str | None:
    from reportsum.backends.prompts import PromptError, load_prompt

    try:
        return load_prompt(settings.prompt).sha256
    except PromptError as exc:
        raise ConfigError(str(exc)) from exc


def job_id_for(settings: Settings, inputs: Sequence[tuple[str, str]], route: str) -> str:
    """The same corpus with the same settings is the same job: a rerun of a killed submit
    continues it instead of starting another."""
    key = {"settings": _job_settings(replace(settings, concurrency=1, timeout=1, max_retries=0),
                                     _prompt_hash(settings)),
           "inputs": sorted(inputs), "route": route}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return "job-" + digest[:12]


def _load_job(store: Store, row: tuple[Any, ...]) -> Job:
    jid, created, route, settings_json, inputs_json, roots_json, out, fmt, endpoint = row
    s = json.loads(settings_json)
    settings = settings_from_record(s, backend="openai")
    return Job(id=jid, route=route, settings=settings,
               inputs=[(i["path"], i["sha256"]) for i in json.loads(inputs_json)],
               roots=json.loads(roots_json), out=out, fmt=fmt, endpoint=endpoint, created=created,
               prompt_hash=s.get("prompt_hash"))


_JOB_SELECT = ("SELECT id, created, route, settings_json, inputs_json, roots_json, out, format, endpoint"
               " FROM batch_jobs")


def find_job(store: Store, ident: str | None = None) -> Job:
    """A job by id (or a unique prefix), by one of its provider batch ids, or the newest."""
    if ident in (None, "", "last"):
        rows = store.sql(_JOB_SELECT + " ORDER BY created DESC, rowid DESC LIMIT 1")
        if not rows:
            raise BatchError("no batch job in the store: run `reportsum batch submit` first")
        return _load_job(store, rows[0])
    assert ident is not None
    rows = store.sql(_JOB_SELECT + " WHERE id LIKE ? ORDER BY created", (ident + "%",))
    if not rows:
        found = store.sql("SELECT job_id FROM batch_files WHERE batch_id=? OR file_id=?", (ident, ident))
        if found:
            rows = store.sql(_JOB_SELECT + " WHERE id=?", (found[0][0],))
    if not rows:
        raise BatchError(f"no batch job {ident!r} in the store")
    if len(rows) > 1:
        raise BatchError(f"{ident!r} names {len(rows)} jobs: give more of the id")
    return _load_job(store, rows[0])


def jobs(store: Store, limit: int = 20) -> list[Job]:
    return [_load_job(store, r) for r in
            store.sql(_JOB_SELECT + " ORDER BY created DESC, rowid DESC LIMIT ?", (limit,))]


def _files(store: Store, job_id: str) -> list[FileRow]:
    rows = store.sql(
        "SELECT name, round, path, bytes, requests, file_id, batch_id, state, batch_status, counts_json"
        " FROM batch_files WHERE job_id=? ORDER BY round, name", (job_id,))
    return [FileRow(name=r[0], round=r[1], path=r[2], bytes=r[3], requests=r[4], file_id=r[5],
                    batch_id=r[6], state=r[7], batch_status=r[8], counts=json.loads(r[9] or "{}"))
            for r in rows]


# ------------------------------------------------------------------ one pass of the pipeline


class _Tagged:
    """Forwards to the backend, naming the report (source, index) its requests are for."""

    def __init__(self, inner: Backend, indexes: dict[str, dict[str, int]]) -> None:
        self._inner = inner
        self._indexes = indexes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def extract(self, text: str, chunks: Sequence[Chunk], *,
                      grounding: GroundingSource) -> BackendResult:
        doc = CURRENT_DOC.get()
        source = doc[0] if doc else ""
        CURRENT_DOC.set((source, self._indexes.get(source, {}).get(text)))
        return await self._inner.extract(text, chunks, grounding=grounding)


class _HeldCalls:
    """Call records held per input file until the file settles (or is dropped as pending)."""

    def __init__(self) -> None:
        self.calls: dict[str, list[Any]] = {}

    def record(self, call: Any) -> None:
        doc = CURRENT_DOC.get()
        self.calls.setdefault(doc[0] if doc else "", []).append(call)


def _pass(store: Store, settings: Settings, raws: Sequence[RawDocument], exchanges: Exchanges,
          on_done: Callable[[FileOutcome], None] | None = None,
          held: _HeldCalls | None = None) -> list[FileOutcome]:
    """The pipeline over `raws` with the batch transport (and the store's cache)."""
    hooks: dict[str, object] = {"cache": StoreCache(store),
                                "http_client": transport_factory(exchanges)}
    if held is not None:
        hooks["recorder"] = held
    indexes: dict[str, dict[str, int]] = {}
    backend = _Tagged(make_backend(settings, **hooks), indexes)
    gate = asyncio.Semaphore(max(8, 2 * settings.concurrency))

    async def one(raw: RawDocument) -> FileOutcome:
        source = str(raw.path)
        async with gate:
            CURRENT_DOC.set((source, None))
            try:
                indexes[source] = {p.text.text: p.index for p in split(clean(raw.text).text)}
                summary = await summarise_raw(raw, backend,  # type: ignore[arg-type]
                                              source=source, chunk_chars=settings.chunk_chars)
                outcome = FileOutcome(raw.path, summary=summary, raw=raw)
            except (IngestError, ExtractionFailed) as exc:
                outcome = FileOutcome(raw.path, error=str(exc), raw=raw)
            except Exception as exc:  # noqa: BLE001 - one bad document must not lose the batch
                outcome = FileOutcome(raw.path, error=f"{source}: {type(exc).__name__}: {exc}", raw=raw)
            if on_done is not None:
                on_done(outcome)
            return outcome

    async def go() -> list[FileOutcome]:
        return list(await asyncio.gather(*(one(r) for r in raws)))

    return run_sync(go())


# ------------------------------------------------------------------ request files


def _batch_dir(store: Store, job_id: str) -> Path:
    return store.path.parent / "batches" / job_id


def _next_round(store: Store, job_id: str) -> int:
    rows = store.sql("SELECT MAX(round) FROM batch_files WHERE job_id=?", (job_id,))
    return 0 if rows[0][0] is None else int(rows[0][0]) + 1


def _write_files(store: Store, job: Job, requests: list[Captured], body: Callable[[Captured], bytes],
                 *, max_requests: int, max_bytes: int, local_path: Path | None) -> list[FileRow]:
    """Write `requests` into request files within the limits, streaming (one line in memory),
    each file atomically; then record the file and its requests together, so a kill before the
    record leaves a file that the next run simply writes again."""
    if not requests:
        return []
    rnd = _next_round(store, job.id)
    if local_path is not None:
        # One file for an offline engine: vLLM's run-batch has no per-file limits.
        max_requests, max_bytes = len(requests), 1 << 62
    lines, sizes = itertools.tee((r, request_line(r.custom_id, job.endpoint, body(r))) for r in requests)
    where = split_files((len(line) for _, line in sizes), max_requests=max_requests, max_bytes=max_bytes)
    rows: list[FileRow] = []
    open_file: tuple[Path, Path, IO[bytes], list[Captured]] | None = None

    def finish() -> None:
        assert open_file is not None
        path, tmp, fh, group = open_file
        fh.close()
        tmp.replace(path)
        name = f"reportsum-{job.id}-r{rnd}-{len(rows):03d}.jsonl"
        state = "local" if local_path is not None else "written"
        size = path.stat().st_size
        with store.transaction():
            store.sql("INSERT OR REPLACE INTO batch_files(name, job_id, round, path, bytes, requests,"
                      " state, created) VALUES (?,?,?,?,?,?,?,?)",
                      (name, job.id, rnd, str(path), size, len(group), state, time.time()))
            for r in group:
                store.sql(
                    "INSERT INTO batch_requests(job_id, custom_id, body_sha256, source, doc_index,"
                    " chunk_index, file_name, state, tries) VALUES (?,?,?,?,?,?,?,'submitted',1)"
                    " ON CONFLICT(job_id, custom_id) DO UPDATE SET file_name=excluded.file_name,"
                    " state='submitted', tries=tries+1",
                    (job.id, r.custom_id, r.sha256, r.source, r.doc_index, r.chunk_index, name))
        rows.append(FileRow(name=name, round=rnd, path=str(path), bytes=size, requests=len(group),
                            file_id=None, batch_id=None, state=state, batch_status=None, counts={}))

    for (r, line), index in zip(lines, where, strict=True):
        if open_file is None or index > len(rows):
            if open_file is not None:
                finish()
            name = f"reportsum-{job.id}-r{rnd}-{len(rows):03d}.jsonl"
            path = local_path if local_path is not None else _batch_dir(store, job.id) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            open_file = (path, tmp, tmp.open("wb"), [])
        open_file[2].write(line)
        open_file[3].append(r)
    finish()
    return rows


def _advance(store: Store, job: Job, provider: Provider) -> list[FileRow]:
    """Upload written files and make batches of uploaded ones (each step safe to repeat)."""
    for f in _files(store, job.id):
        if f.state == "written":
            file_id = provider.upload(Path(f.path), f.name)
            store.sql("UPDATE batch_files SET file_id=?, state='uploaded' WHERE name=?", (file_id, f.name))
            f.file_id, f.state = file_id, "uploaded"
        if f.state == "uploaded":
            assert f.file_id is not None
            batch = provider.create(f.file_id, job.endpoint, f.name)
            store.sql("UPDATE batch_files SET batch_id=?, state='submitted', batch_status=?,"
                      " counts_json=? WHERE name=?",
                      (batch.id, batch.status, json.dumps(batch_counts(batch)), f.name))
    return _files(store, job.id)


# ------------------------------------------------------------------ submit


def submit(
    store: Store,
    settings: Settings,
    inputs: Sequence[Path],
    *,
    roots: Sequence[Path] = (),
    out: Path | None = None,
    fmt: str = "json",
    write_jsonl: Path | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    provider: Provider | None = None,
) -> SubmitReport:
    """Requests for every chunk of `inputs` not already in the response cache, into batches
    (or one request file for an offline engine when `write_jsonl` is given)."""
    started = time.perf_counter()
    if settings.backend != "openai":
        raise ConfigError("batch needs a model: give --base-url/--api-key (or OPENAI_BASE_URL/"
                          "OPENAI_API_KEY) and --model")
    if max_requests < 1 or max_bytes < 1000:
        raise ConfigError("--max-requests must be at least 1 and --max-bytes at least 1000")
    raws: list[RawDocument] = []
    failures: list[str] = []
    for p in inputs:
        try:
            raws.append(read_file(p))
        except IngestError as exc:
            failures.append(str(exc))
    route = "local" if write_jsonl is not None else "api"
    pairs = [(str(r.path), r.sha256) for r in raws]
    prompt_hash = _prompt_hash(settings)
    jid = job_id_for(settings, pairs, route)
    store.sql(
        "INSERT INTO batch_jobs(id, created, route, settings_json, inputs_json, roots_json, out,"
        " format, endpoint) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
        " out=excluded.out, format=excluded.format",
        (jid, time.time(), route, json.dumps(_job_settings(settings, prompt_hash), ensure_ascii=False),
         json.dumps([{"path": s, "sha256": h} for s, h in pairs], ensure_ascii=False),
         json.dumps([str(r) for r in roots], ensure_ascii=False),
         str(out) if out is not None else None, fmt, endpoint_for(settings.base_url)))
    job = find_job(store, jid)
    for raw in raws:
        # collect rebuilds every chunk from the stored text, wherever the files are by then.
        store.put_document(raw.sha256, str(raw.path), raw.text)
    exchanges = Exchanges()
    outcomes = _pass(store, settings, raws, exchanges)
    for o in outcomes:
        # Every chunk deferred is the expected "failure" here; only reading errors count.
        if o.error is not None and "every chunk failed" not in o.error:
            failures.append(o.error)
    known = {r[0] for r in store.sql("SELECT custom_id FROM batch_requests WHERE job_id=?", (jid,))}
    order = {s: i for i, (s, _) in enumerate(pairs)}
    new = sorted((c for c in exchanges.captured.values() if c.custom_id not in known),
                 key=lambda c: (order.get(c.source, 0), c.doc_index or 0, c.chunk_index or 0, c.custom_id))
    cached = sum(d.run.usage.cache_hits for o in outcomes if o.summary for d in o.summary.documents)
    try:
        files = _write_files(store, job, new, exchanges.body, max_requests=max_requests,
                             max_bytes=max_bytes, local_path=write_jsonl)
    finally:
        exchanges.close()
    if route == "api":
        if provider is None:
            raise ConfigError("no provider to upload to")
        everything = _advance(store, job, provider)
        names = {f.name for f in files}
        # A rerun after a kill reports the files the first run wrote, too.
        files = [f for f in everything if f.name in names or f.round == 0]
    elif not files:
        files = [f for f in _files(store, jid) if f.round == 0]
    return SubmitReport(job=job, files=files, requests=sum(f.requests for f in files),
                        cached_chunks=cached, failures=failures,
                        seconds=time.perf_counter() - started)


# ------------------------------------------------------------------ status


def refresh(store: Store, job: Job, provider: Provider) -> list[FileRow]:
    """Ask the provider for the state of each batch not yet final."""
    for f in _files(store, job.id):
        if f.batch_id and f.state == "submitted" and f.batch_status not in FINAL_STATES:
            b = provider.retrieve(f.batch_id)
            store.sql("UPDATE batch_files SET batch_status=?, counts_json=?, output_file_id=?,"
                      " error_file_id=? WHERE name=?",
                      (b.status, json.dumps(batch_counts(b)), b.output_file_id, b.error_file_id, f.name))
    return _files(store, job.id)


def status(store: Store, job: Job, provider: Provider | None) -> JobStatus:
    files = refresh(store, job, provider) if provider is not None and job.route == "api" else _files(store, job.id)
    counts = dict(store.sql("SELECT state, COUNT(*) FROM batch_requests WHERE job_id=? GROUP BY state",
                            (job.id,)))
    # Failed requests, and those failed once and sent again (their last error kept).
    failed = [(r[0], r[1], f"{r[3]}, {r[4]} tries: {r[2]}") for r in store.sql(
        "SELECT custom_id, source, error, state, tries FROM batch_requests WHERE job_id=? AND"
        " error IS NOT NULL ORDER BY source, chunk_index LIMIT 20", (job.id,))]
    return JobStatus(job=job, files=files, requests=counts, failed=failed)


def cancel(store: Store, job: Job, provider: Provider) -> list[FileRow]:
    for f in _files(store, job.id):
        if f.batch_id and f.batch_status not in FINAL_STATES:
            b = provider.cancel(f.batch_id)
            store.sql("UPDATE batch_files SET batch_status=? WHERE name=?", (b.status, f.name))
    return refresh(store, job, provider)


# ------------------------------------------------------------------ collect


def ingest_results(store: Store, job: Job, results: Sequence[Result | str],
                   file_name: str | None = None) -> tuple[int, list[str]]:
    """Record result lines; (lines kept, warnings). Results for ids the job never sent are
    warned about and ignored."""
    known = {r[0]: r[1] for r in store.sql(
        "SELECT custom_id, state FROM batch_requests WHERE job_id=?", (job.id,))}
    warnings: list[str] = []
    kept = 0
    now = time.time()
    with store.transaction():
        for r in results:
            if isinstance(r, str):
                warnings.append(r)
                continue
            if r.custom_id not in known:
                warnings.append(f"result for unknown request {r.custom_id!r} ignored")
                continue
            if known[r.custom_id] == "answered" and not r.ok:
                continue  # an error line for a request already answered (a resubmission)
            store.sql("INSERT OR REPLACE INTO batch_results(job_id, custom_id, status_code, body_z,"
                      " error, received) VALUES (?,?,?,?,?,?)",
                      (job.id, r.custom_id, r.status,
                       zlib.compress(r.body, 1) if r.body is not None else None, r.error, now))
            # A request its batch never ran (expired, cancelled) is not counted as a try.
            store.sql("UPDATE batch_requests SET state=?, error=?, tries=tries-? WHERE job_id=? AND"
                      " custom_id=?", ("answered" if r.ok else "failed", r.error, int(r.unsent),
                                       job.id, r.custom_id))
            known[r.custom_id] = "answered" if r.ok else "failed"
            kept += 1
        if file_name is not None:
            # A finished batch's requests without any result line (a failed batch): never
            # run, so not counted as a try; sent again.
            store.sql("UPDATE batch_requests SET state='failed', error=?, tries=tries-1 WHERE"
                      " job_id=? AND file_name=? AND state='submitted'",
                      ("no result (batch ended without it)", job.id, file_name))
            store.sql("UPDATE batch_files SET state='collected' WHERE name=?", (file_name,))
    return kept, warnings


def _download(store: Store, job: Job, provider: Provider) -> tuple[int, list[str]]:
    kept, warnings = 0, []
    for f in refresh(store, job, provider):
        if f.state != "submitted" or f.batch_status not in FINAL_STATES:
            continue
        rows = store.sql("SELECT output_file_id, error_file_id FROM batch_files WHERE name=?", (f.name,))
        results: list[Result | str] = []
        for file_id in rows[0]:
            if file_id:
                results.extend(parse_results(provider.content(file_id).splitlines()))
        if f.batch_status != "completed":
            warnings.append(f"batch {f.batch_id} ({f.name}) {f.batch_status}: its unanswered requests "
                            "are sent again")
        n, w = ingest_results(store, job, results, f.name)
        kept += n
        warnings.extend(w)
    return kept, warnings


def _lookup(store: Store, job: Job) -> Callable[[str], Answer | str | None]:
    rows = store.sql("SELECT body_sha256, custom_id, state, tries FROM batch_requests WHERE job_id=?",
                     (job.id,))
    by_sha = {r[0]: (r[1], r[2], r[3]) for r in rows}

    def lookup(sha: str) -> Answer | str | None:
        found = by_sha.get(sha)
        if found is None:
            return None
        custom_id, state, tries = found
        if state == "submitted":
            return "pending"
        res = store.sql("SELECT status_code, body_z, error FROM batch_results WHERE job_id=? AND"
                        " custom_id=?", (job.id, custom_id))
        if state == "answered" and res and res[0][1] is not None:
            return Answer(200, zlib.decompress(res[0][1]))
        if tries < MAX_TRIES:
            return "resubmit"
        # Failed for good: the chunk fails as an interactive call with this answer would.
        status_code = res[0][0] if res and res[0][0] and res[0][0] >= 400 else 500
        message = (res[0][2] if res else None) or "failed in the batch"
        return Answer(status_code, json.dumps({"error": {"message": message}}).encode())

    return lookup


def collect(
    store: Store,
    job: Job,
    settings: Settings,
    *,
    provider: Provider | None = None,
    results_file: Path | None = None,
    reask_now: bool = False,
    write_output: Callable[[FileOutcome], str | None],
    todo: Callable[[list[Path]], list[Path]] | None = None,
    write_jsonl: Path | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> CollectReport:
    """Results in, outputs out for every file whose chunks are all settled; reasks and failed
    requests as a follow-up batch (or interactive calls with `reask_now`)."""
    started = time.perf_counter()
    if job.prompt_hash and _prompt_hash(settings) != job.prompt_hash:
        raise BatchError(f"the prompt {settings.prompt!r} changed since job {job.id} was submitted: "
                         "its answers no longer match its requests")
    report = CollectReport(job=job)
    if results_file is not None:
        from reportsum.engines.batchapi import read_result_file

        try:
            report.downloaded, report.warnings = ingest_results(store, job, list(read_result_file(results_file)))
        except OSError as exc:
            raise BatchError(f"cannot read {results_file}: {exc.strerror}") from exc
    elif job.route == "api":
        if provider is None:
            raise ConfigError("no provider to download from")
        report.downloaded, report.warnings = _download(store, job, provider)
    inputs = [Path(s) for s, _ in job.inputs]
    wanted = todo(inputs) if todo is not None else inputs
    report.done_before = len(inputs) - len(wanted)
    keep = set(map(str, wanted))
    raws = []
    for source, sha in job.inputs:
        if source not in keep:
            continue
        text = store.document_text(sha)
        if text is None:
            report.failures.append(f"{source}: text not in the store")
            continue
        raws.append(RawDocument(path=Path(source), text=text, encoding="utf-8", kind="stored", sha256=sha))
    exchanges = Exchanges(lookup=_lookup(store, job), forward=reask_now)
    held = _HeldCalls()
    run: list[str] = []
    usage = Usage()

    def done(outcome: FileOutcome) -> None:
        nonlocal usage
        source = str(outcome.path)
        if source in exchanges.pending:
            held.calls.pop(source, None)
            report.pending.append(source)
            return
        if not run:
            run.append(_start_run(store, settings, job))
        recorder = StoreRecorder(store, run[0])
        for call in held.calls.pop(source, []):
            recorder.record(call)
        if outcome.summary is not None:
            stamp_run(outcome.summary, run[0])
            for doc in outcome.summary.documents:
                store.add_result(run[0], doc)
                usage = _add(usage, doc.run.usage)
            error = write_output(outcome)
            if error is not None:
                report.failures.append(error)
        else:
            store.add_failure(run[0], source, outcome.error or "failed")
            report.failures.append(outcome.error or f"{source}: failed")
        report.settled += 1

    try:
        _pass(store, settings, raws, exchanges, on_done=done, held=held)
        report.replayed, report.forwarded = exchanges.replayed, exchanges.forwarded
        if run:
            bad = [f for f in report.failures if not f.startswith("cannot write")]
            store.finish_run(run[0], usage=usage, outcome="partial" if bad or report.pending else "ok")
            report.run_id, report.usage = run[0], usage
        order = {s: i for i, (s, _) in enumerate(job.inputs)}
        new = sorted(exchanges.captured.values(),
                     key=lambda c: (order.get(c.source, 0), c.doc_index or 0, c.chunk_index or 0, c.custom_id))
        if new:
            local = None
            if job.route == "local" or write_jsonl is not None:
                local = write_jsonl or _followup_path(store, job)
            report.followup = _write_files(store, job, new, exchanges.body, max_requests=max_requests,
                                           max_bytes=max_bytes, local_path=local)
            report.followup_requests = len(new)
            if local is None:
                if provider is None:
                    raise ConfigError("no provider to upload the follow-up batch to")
                names = {f.name for f in report.followup}
                report.followup = [f for f in _advance(store, job, provider) if f.name in names]
        elif job.route == "api" and provider is not None:
            _advance(store, job, provider)  # files a killed collect wrote but did not send
    finally:
        exchanges.close()
    report.seconds = time.perf_counter() - started
    return report


def _followup_path(store: Store, job: Job) -> Path:
    first = [f for f in _files(store, job.id) if f.round == 0]
    rnd = _next_round(store, job.id)
    if first:
        p = Path(first[0].path)
        return p.with_name(f"{p.stem}.r{rnd}.jsonl")
    return _batch_dir(store, job.id) / f"followup-r{rnd}.jsonl"


def _start_run(store: Store, settings: Settings, job: Job) -> str:
    from reportsum.backends.prompts import load_prompt

    prompt = load_prompt(settings.prompt)
    record = _settings_record(settings)
    record["batch_job"] = job.id
    return store.start_run(
        command="batch collect", backend="openai", model=settings.model, base_url=settings.base_url,
        mode=settings.mode, prompt_name=prompt.name, prompt_version=str(prompt.version),
        prompt_hash=prompt.sha256, settings=record,
    )


def _add(total: Usage, part: Usage) -> Usage:
    return Usage(
        prompt_tokens=total.prompt_tokens + part.prompt_tokens,
        completion_tokens=total.completion_tokens + part.completion_tokens,
        total_tokens=total.total_tokens + part.total_tokens,
        calls=total.calls + part.calls,
        cache_hits=total.cache_hits + part.cache_hits,
    )


__all__ = ["MAX_TRIES", "BatchAPIError", "BatchError", "CollectReport", "FileRow", "Job", "JobStatus",
           "SubmitReport", "cancel", "collect", "find_job", "ingest_results", "job_id_for", "jobs",
           "refresh", "status", "submit"]
