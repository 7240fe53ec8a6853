"""The OpenAI Batch API format and the provider side of a batch, through openai's own client.

Request line: `{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`.
Result line (output or error file, and vLLM's `run-batch` output):
`{"id", "custom_id", "response": {"status_code", "request_id", "body"} | null, "error": {...} | null}`.

Uploading and creating a batch are made safe to repeat after a kill: a file is looked up by its
unique name before it is uploaded, and a batch by its input file before it is created.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai

FINAL_STATES = ("completed", "failed", "expired", "cancelled")
DEFAULT_MAX_REQUESTS = 50_000
DEFAULT_MAX_BYTES = 200 * 1000 * 1000


class BatchAPIError(Exception):
    """The provider refused or failed a Batch API call (one line, no secrets)."""


def endpoint_for(base_url: str | None) -> str:
    """The `url` of request lines for a base URL: its version segment + /chat/completions
    (OpenAI and DashScope compatible-mode: /v1/..., Zhipu's /api/paas/v4: /v4/...)."""
    path = urlsplit(base_url or "").path.rstrip("/")
    last = path.rsplit("/", 1)[-1] if path else ""
    version = last if last[:1] == "v" and last[1:].isdigit() else "v1"
    return f"/{version}/chat/completions"


def request_line(custom_id: str, endpoint: str, body: bytes) -> bytes:
    """One request line (with its newline); the body is the bytes the SDK built, canonical."""
    head = json.dumps({"custom_id": custom_id, "method": "POST", "url": endpoint}, ensure_ascii=False)
    return head[:-1].encode("utf-8") + b', "body": ' + body + b"}\n"


def split_files(sizes: Iterable[int], *, max_requests: int, max_bytes: int) -> Iterator[int]:
    """Which file each line (of these sizes, in order) goes to, within the limits; a line
    larger than `max_bytes` alone gets a file of its own."""
    index, count, size = -1, 0, 0
    for n in sizes:
        if index < 0 or count >= max_requests or size + n > max_bytes:
            index, count, size = index + 1, 0, 0
        count += 1
        size += n
        yield index


@dataclass(frozen=True)
class Result:
    """One result line: an HTTP status and body, or an error."""

    custom_id: str
    status: int | None
    body: bytes | None
    error: str | None
    unsent: bool = False  # never run: its batch expired or was cancelled first

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body is not None and self.error is None


def parse_results(lines: Iterable[bytes | str]) -> Iterator[Result | str]:
    """Results from result-file lines; a line that cannot be read yields a warning string."""
    for number, line in enumerate(lines, 1):
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        if not text.strip():
            continue
        try:
            data = json.loads(text)
            custom_id = str(data["custom_id"])
        except (ValueError, KeyError, TypeError):
            yield f"result line {number}: not a result line, ignored"
            continue
        response = data.get("response") or {}
        error = data.get("error")
        status = response.get("status_code") if isinstance(response, dict) else None
        body = response.get("body") if isinstance(response, dict) else None
        message = None
        if error:
            message = (error.get("message") or error.get("code") or json.dumps(error)
                       if isinstance(error, dict) else str(error))
        elif status != 200:
            err = body.get("error") if isinstance(body, dict) else None
            message = f"HTTP {status}: {(err or {}).get('message') if isinstance(err, dict) else body}"
        code = error.get("code") if isinstance(error, dict) else None
        yield Result(
            unsent=code in ("batch_expired", "batch_cancelled"),
            custom_id=custom_id,
            status=int(status) if isinstance(status, int) else None,
            body=json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None,
            error=" ".join(str(message).split())[:300] if message else None,
        )


def read_result_file(path: Path) -> Iterator[Result | str]:
    with path.open("rb") as fh:
        yield from parse_results(fh)


class Provider:
    """A provider's Files and Batches endpoints (OpenAI-compatible), via openai's client."""

    def __init__(self, base_url: str | None, api_key: str | None, *, max_retries: int = 4,
                 timeout: float = 300.0) -> None:
        self._secret = api_key
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or "no-key",
                                    max_retries=max_retries, timeout=timeout)

    def _fail(self, what: str, exc: Exception) -> BatchAPIError:
        if isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            text = f"HTTP {exc.status_code} {body.get('message') or exc.message}"
        elif isinstance(exc, openai.APIConnectionError):
            text = f"connection failed ({exc.__cause__ or exc})"
        else:
            text = f"{type(exc).__name__}: {exc}"
        text = " ".join(text.split())[:300]
        if self._secret:
            text = text.replace(self._secret, "***")
        return BatchAPIError(f"{what}: {text}")

    def find_file(self, name: str) -> str | None:
        """The id of an uploaded batch file named `name` (an upload a kill left unrecorded)."""
        try:
            for f in self.client.files.list(purpose="batch"):
                if f.filename == name:
                    return str(f.id)
        except openai.OpenAIError as exc:
            raise self._fail("listing files", exc) from exc
        return None

    def upload(self, path: Path, name: str) -> str:
        """Upload a request file (unless one of that name is there already); its file id."""
        found = self.find_file(name)
        if found is not None:
            return found
        try:
            with path.open("rb") as fh:
                return str(self.client.files.create(file=(name, fh), purpose="batch").id)
        except openai.OpenAIError as exc:
            raise self._fail(f"uploading {name}", exc) from exc

    def find_batch(self, file_id: str) -> Any | None:
        """A batch already made from `file_id` (a creation a kill left unrecorded)."""
        try:
            for n, b in enumerate(self.client.batches.list(limit=100)):
                if b.input_file_id == file_id:
                    return b
                if n >= 1000:
                    break
        except openai.OpenAIError as exc:
            raise self._fail("listing batches", exc) from exc
        return None

    def create(self, file_id: str, endpoint: str, name: str) -> Any:
        found = self.find_batch(file_id)
        if found is not None:
            return found
        try:
            return self.client.batches.create(
                input_file_id=file_id, endpoint=endpoint,  # type: ignore[arg-type]
                completion_window="24h", metadata={"reportsum_file": name},
            )
        except openai.OpenAIError as exc:
            raise self._fail(f"creating the batch of {name}", exc) from exc

    def retrieve(self, batch_id: str) -> Any:
        try:
            return self.client.batches.retrieve(batch_id)
        except openai.OpenAIError as exc:
            raise self._fail(f"batch {batch_id}", exc) from exc

    def cancel(self, batch_id: str) -> Any:
        try:
            return self.client.batches.cancel(batch_id)
        except openai.OpenAIError as exc:
            raise self._fail(f"cancelling batch {batch_id}", exc) from exc

    def content(self, file_id: str) -> bytes:
        try:
            return bytes(self.client.files.content(file_id).content)
        except openai.OpenAIError as exc:
            raise self._fail(f"downloading file {file_id}", exc) from exc


def batch_counts(batch: Any) -> dict[str, int]:
    counts = getattr(batch, "request_counts", None)
    return {k: int(getattr(counts, k, 0) or 0) for k in ("total", "completed", "failed")}


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_REQUESTS", "FINAL_STATES", "BatchAPIError", "Provider",
           "Result", "batch_counts", "endpoint_for", "parse_results", "read_result_file",
           "request_line", "split_files"]
