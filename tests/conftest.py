"""Shared fixtures: `fake_openai`, a real local OpenAI-compatible server (tests/fakeserver.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakeserver import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started fake server (`.base_url` ends in /v1); shut down after the test."""
    with FakeOpenAI() as server:
        yield server
