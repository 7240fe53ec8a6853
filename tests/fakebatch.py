"""A real, scriptable OpenAI Batch API (Files + Batches) on 127.0.0.1, for tests and benches.

Endpoints (as openai's client calls them): `POST /v1/files` (multipart upload), `GET /v1/files`
(list), `GET /v1/files/{id}`, `GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches`
(list), `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`.

A batch moves one state per retrieve: validating -> in_progress -> its fate (`fates`, default
completed; or failed, expired). When it finishes, every request line is answered as
tests/fakeserver.py answers a chat request (`handler(body, number) -> Reply`, else faithful),
results written in an order different from the requests; `error_for(custom_id, body)` turns a
request into a line of the error file (HTTP 500); an expired batch answers half its requests
and puts the rest in the error file (batch_expired); `extra_results` adds result lines (e.g. an
unknown custom_id). `hold[route]` (an Event) makes that route wait, after doing its work and
before answering, so a test can kill a client at that point.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakeserver import Handler, Reply, completion

ErrorFor = Callable[[str, dict[str, Any]], str | None]


@dataclass
class FakeBatchAPI:
    handler: Handler | None = None
    error_for: ErrorFor | None = None
    fates: deque[str] = field(default_factory=deque)
    extra_results: list[dict[str, Any]] = field(default_factory=list)
    hold: dict[str, threading.Event] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)  # "POST /v1/files", "content file-3", ...
    held: set[str] = field(default_factory=set)  # routes waiting on their hold event now
    answered: int = 0  # request lines answered (what a provider would charge for)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Counter[str] = field(default_factory=Counter)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def start(self) -> FakeBatchAPI:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                server._route(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                server._route(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for event in self.hold.values():
            event.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBatchAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def request_lines(self, kind: str = "batch") -> list[dict[str, Any]]:
        """Every request line of every uploaded batch input file."""
        with self._lock:
            files = [f for f in self.files.values() if f["purpose"] == kind]
        return [json.loads(line) for f in files for line in f["data"].splitlines() if line.strip()]

    # ------------------------------------------------------------ serving

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._ids[prefix] += 1
            return f"{prefix}-{self._ids[prefix]}"

    def _route(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(h.path)
        parts = [p for p in url.path.split("/") if p][1:]  # without "v1"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            status, body, ctype, route = self._dispatch(method, parts, query, raw, h.headers)
        except KeyError:
            status, body, ctype, route = 404, json.dumps({"error": {"message": "not found"}}).encode(), \
                "application/json", ""
        with self._lock:
            self.hits[route] += 1
        event = self.hold.get(route)
        if event is not None:
            with self._lock:
                self.held.add(route)
            event.wait(30)
        if self._stopping.is_set() and event is not None:
            return
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except OSError:
            return

    def _dispatch(self, method: str, parts: list[str], query: dict[str, str], raw: bytes,
                  headers: Any) -> tuple[int, bytes, str, str]:
        js = "application/json"
        if parts[:1] == ["files"]:
            if method == "POST" and len(parts) == 1:
                return 200, self._json(self._upload(raw, headers["Content-Type"])), js, "POST /files"
            if method == "GET" and len(parts) == 1:
                with self._lock:
                    data = [self._file_obj(f) for f in self.files.values()
                            if query.get("purpose") in (None, f["purpose"])]
                return 200, self._json({"object": "list", "data": data, "has_more": False}), js, "GET /files"
            f = self.files[parts[1]]
            if len(parts) == 3 and parts[2] == "content":
                return 200, f["data"], "application/octet-stream", f"content {parts[1]}"
            return 200, self._json(self._file_obj(f)), js, "GET /files/id"
        if parts == ["chat", "completions"] and method == "POST":
            # The same endpoint answers interactive calls (`collect --reask-now`).
            body = json.loads(raw)
            with self._lock:
                self.answered += 1
                number = self.answered
            reply = self.handler(body, number) if self.handler is not None else Reply.faithful()
            return 200, self._json(completion(body, reply, number)), js, "POST /chat/completions"
        if parts[:1] == ["batches"]:
            if method == "POST" and len(parts) == 1:
                return 200, self._json(self._create(json.loads(raw))), js, "POST /batches"
            if method == "GET" and len(parts) == 1:
                with self._lock:
                    data = [dict(b) for b in reversed(list(self.batches.values()))]
                limit = int(query.get("limit", 20))
                after = query.get("after")
                if after is not None:
                    ids = [b["id"] for b in data]
                    data = data[ids.index(after) + 1:]
                return 200, self._json({"object": "list", "data": data[:limit],
                                        "has_more": len(data) > limit}), js, "GET /batches"
            b = self.batches[parts[1]]
            if method == "POST" and parts[2:] == ["cancel"]:
                with self._lock:
                    if b["status"] not in ("completed", "failed", "expired", "cancelled"):
                        b["status"] = "cancelling"
                return 200, self._json(b), js, "POST /batches/cancel"
            self._advance(b)
            return 200, self._json(b), js, "GET /batches/id"
        raise KeyError(parts)

    @staticmethod
    def _json(data: Any) -> bytes:
        if isinstance(data, dict) and data.get("object") == "list":
            data = {**data, "data": [_public(x) for x in data["data"]]}
        return json.dumps(_public(data), ensure_ascii=False).encode("utf-8")

    @staticmethod
    def _file_obj(f: dict[str, Any]) -> dict[str, Any]:
        return {"id": f["id"], "object": "file", "bytes": len(f["data"]), "created_at": f["created_at"],
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed"}

    def _add_file(self, name: str, data: bytes, purpose: str) -> dict[str, Any]:
        f = {"id": self._new_id("file"), "filename": name, "data": data, "purpose": purpose,
             "created_at": int(time.time())}
        with self._lock:
            self.files[f["id"]] = f
        return f

    def _upload(self, raw: bytes, content_type: str) -> dict[str, Any]:
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        fields: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True))
        filename, data = fields["file"]
        purpose = fields["purpose"][1].decode()
        return self._file_obj(self._add_file(filename, data, purpose))

    def _create(self, req: dict[str, Any]) -> dict[str, Any]:
        f = self.files[req["input_file_id"]]
        lines = [json.loads(x) for x in f["data"].splitlines() if x.strip()]
        with self._lock:
            fate = self.fates.popleft() if self.fates else "completed"
        b = {"id": self._new_id("batch"), "object": "batch", "endpoint": req["endpoint"],
             "errors": None, "input_file_id": f["id"], "completion_window": req["completion_window"],
             "status": "validating", "output_file_id": None, "error_file_id": None,
             "created_at": int(time.time()), "metadata": req.get("metadata") or {},
             "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "_fate": fate}
        with self._lock:
            self.batches[b["id"]] = b
        return {k: v for k, v in b.items() if not k.startswith("_")}

    def _advance(self, b: dict[str, Any]) -> None:
        with self._lock:
            status = b["status"]
            if status == "validating":
                b["status"] = "in_progress"
                return
            if status not in ("in_progress", "cancelling"):
                return
            b["status"] = "cancelled" if status == "cancelling" else b["_fate"]
        lines = [json.loads(x) for x in self.files[b["input_file_id"]]["data"].splitlines() if x.strip()]
        if b["status"] == "failed":
            b["errors"] = {"object": "list", "data": [{"code": "invalid_request",
                                                       "message": "fake: the batch failed"}]}
            return
        answered, errors = [], []
        cut = len(lines) // 2 if b["status"] == "expired" else (0 if b["status"] == "cancelled" else len(lines))
        for i, line in enumerate(lines):
            cid, body = line["custom_id"], line["body"]
            if i >= cut:
                errors.append({"id": f"req-{cid}", "custom_id": cid, "response": None,
                               "error": {"code": f"batch_{b['status']}",
                                         "message": f"fake: the batch {b['status']} first"}})
                continue
            message = self.error_for(cid, body) if self.error_for is not None else None
            if message is not None:
                errors.append({"id": f"req-{cid}", "custom_id": cid, "error": None, "response": {
                    "status_code": 500, "request_id": f"r-{cid}",
                    "body": {"error": {"message": message, "type": "server_error"}}}})
                continue
            with self._lock:
                self.answered += 1
                number = self.answered
            reply = self.handler(body, number) if self.handler is not None else Reply.faithful()
            answered.append({"id": f"req-{cid}", "custom_id": cid, "error": None, "response": {
                "status_code": 200, "request_id": f"r-{cid}", "body": completion(body, reply, number)}})
        answered.extend(self.extra_results)
        random.Random(len(lines)).shuffle(answered)  # not in the requests' order
        answered.reverse()
        if answered:
            out = self._add_file(f"{b['id']}_output.jsonl", self._lines(answered), "batch_output")
            b["output_file_id"] = out["id"]
        if errors:
            err = self._add_file(f"{b['id']}_error.jsonl", self._lines(errors), "batch_output")
            b["error_file_id"] = err["id"]
        b["request_counts"] = {"total": len(lines), "completed": len(answered) - len(self.extra_results),
                               "failed": len(errors)}

    @staticmethod
    def _lines(rows: list[dict[str, Any]]) -> bytes:
        return b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in rows)


def _public(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if not k.startswith("_")}
    return data


def main() -> None:
    """Serve a fake Batch API in this process until SIGTERM; prints its base URL."""
    import signal

    server = FakeBatchAPI().start()
    print(server.base_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()


__all__ = ["FakeBatchAPI"]

if __name__ == "__main__":
    main()
