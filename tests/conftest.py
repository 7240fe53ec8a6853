"""Shared fixtures: `fake_openai`, a real local OpenAI-compatible server (tests/fakeserver.py),
and `llama`, a real model server (tests/llama_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakeserver import FakeOpenAI
from llama_server import LlamaServer
from llama_server import missing as llama_missing


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started fake server (`.base_url` ends in /v1); shut down after the test."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A real llama-server (gemma-3-270m) for the session, started once; see tests/llama_server.py.

    Skipped, with the reason, only where `make llama` could not build or assemble it."""
    reason = llama_missing()
    if reason is not None:
        pytest.skip(reason)
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    with LlamaServer(log=log) as server:
        yield server
