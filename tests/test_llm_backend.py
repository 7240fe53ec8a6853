"""The model backend through the real openai + instructor + HTTP stack, against tests/fakeserver.

Nothing here mocks the backend or its grounding validator: the fake server is a real HTTP
server answering like an OpenAI-compatible endpoint, and `reportsum.grounding.ground` decides.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import replace
from typing import Any

import pytest
from fakeserver import FakeOpenAI, Reply, faithful_answer, source_text

from reportsum.backends.base import BackendFatal, BackendResult
from reportsum.backends.llm import (
    CallRecord,
    DictCache,
    GroundedExtraction,
    LLMSettings,
    OpenAIBackend,
    cache_key,
)
from reportsum.backends.prompts import load_prompt
from reportsum.grounding.ground import GroundingSource
from reportsum.models import Extraction
from reportsum.stages.chunk import Chunk

# A short report written for these tests, in the genre; each piece is one chunk.
PIECES = (
    "一、主要成效。全年实现技术合同成交额10.69亿元，同比增长32.3%。新认定高新技术企业46家。",
    "二、存在问题。科技服务机构只有12家，数量偏少。三、明年打算。力争高新技术企业总数突破250家。",
)
DOC = "".join(PIECES)
KEY = "sk-test-DoNotLeak-7f3a9c"


def chunks_of(*pieces: str) -> list[Chunk]:
    out, start = [], 0
    for i, piece in enumerate(pieces):
        out.append(Chunk(index=i, start=start, text=piece, heading=None))
        start += len(piece)
    return out


def settings(server: FakeOpenAI, **overrides: Any) -> LLMSettings:
    base = LLMSettings(model="fake-model", prompt=load_prompt("default"), base_url=server.base_url,
                       api_key=KEY, max_retries=0, timeout=5.0)
    return replace(base, **overrides)


def run(backend: OpenAIBackend, *pieces: str) -> BackendResult:
    doc = "".join(pieces)
    return asyncio.run(backend.extract(doc, chunks_of(*pieces), grounding=GroundingSource(doc)))


def triples(result: BackendResult) -> list[tuple[str, str, str]]:
    return [(c.section, c.text, c.evidence) for c in result.candidates]


def expected(*pieces: str) -> list[tuple[str, str, str]]:
    return [
        (section, item["text"], item["evidence"])
        for piece in pieces
        for section, items in faithful_answer(piece).items()
        for item in items
    ]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)


HALLUCINATED = {  # 10.96 for 10.69: the evidence is faithful, the text is not
    "achievements": [
        {"text": "技术合同成交额10.96亿元", "evidence": "全年实现技术合同成交额10.69亿元"},
        {"text": "新认定高新技术企业46家", "evidence": "新认定高新技术企业46家"},
    ],
    "measures": [], "problems": [], "plans": [],
}


# ---------------------------------------------------------------- faithful answers


@pytest.mark.parametrize("mode", ["tools", "json", "md_json", "json_schema"])
def test_extracts_faithful_answer_in_each_mode(fake_openai: FakeOpenAI, mode: str) -> None:
    result = run(OpenAIBackend(settings(fake_openai, mode=mode)), *PIECES)

    assert triples(result) == expected(*PIECES)
    assert [c.hint for c in result.candidates if c.chunk_index == 1] == [len(PIECES[0])] * 2
    assert result.warnings == []
    assert (result.usage.calls, result.usage.prompt_tokens, result.usage.total_tokens) == (2, 200, 240)
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_model_sees_exactly_the_extraction_schema(fake_openai: FakeOpenAI) -> None:
    run(OpenAIBackend(settings(fake_openai, mode="tools")), PIECES[0])

    tool = fake_openai.requests[0].json["tools"][0]["function"]
    schema = Extraction.model_json_schema()
    assert GroundedExtraction.model_json_schema() == schema
    assert tool["name"] == "Extraction"
    assert tool["parameters"]["required"] == ["achievements", "measures", "plans", "problems"]
    assert tool["parameters"]["properties"] == schema["properties"]
    assert tool["parameters"]["$defs"]["ExtractItem"]["required"] == ["text", "evidence"]


@pytest.mark.parametrize("mode", ["tools", "json"])
def test_template_syntax_in_report_reaches_model_verbatim(fake_openai: FakeOpenAI, mode: str) -> None:
    piece = "组织开展{{ 科技活动周 }}活动{% if x %}15场{# 注 #}，{%- raw -%}参与3000余人次。"
    result = run(OpenAIBackend(settings(fake_openai, mode=mode)), piece)

    assert source_text(fake_openai.requests[0].json) == piece
    assert result.warnings == []
    assert triples(result) == expected(piece)


def test_system_message_is_the_rendered_prompt(fake_openai: FakeOpenAI) -> None:
    prompt = load_prompt("strict")
    run(OpenAIBackend(settings(fake_openai, prompt=prompt)), PIECES[0])

    system = fake_openai.requests[0].json["messages"][0]
    assert system["role"] == "system"
    assert system["content"] == prompt.render_system()


# ---------------------------------------------------------------- reasks


def test_hallucinated_number_is_corrected_on_reask(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.answer(HALLUCINATED), Reply.faithful())
    result = run(OpenAIBackend(settings(fake_openai, mode="tools")), PIECES[0])

    assert fake_openai.calls == 2
    reask = fake_openai.requests[1].json["messages"][-1]
    assert reask["role"] == "tool"
    assert "achievements[0]" in reask["content"] and "10.96" in reask["content"]
    assert triples(result) == expected(PIECES[0])
    assert (result.usage.calls, result.usage.prompt_tokens) == (2, 200)
    assert result.warnings == []


def test_uncorrected_hallucination_comes_back_as_candidate(fake_openai: FakeOpenAI) -> None:
    fake_openai.handler = lambda request, n: Reply.answer(HALLUCINATED)
    recorder = Recorder()
    backend = OpenAIBackend(settings(fake_openai, mode="json", max_reasks=2), recorder=recorder)
    result = run(backend, PIECES[0])

    assert fake_openai.calls == 3  # 1 + max_reasks
    assert "Correct your JSON" in fake_openai.requests[2].json["messages"][-1]["content"]
    assert [c.text for c in result.candidates] == ["技术合同成交额10.96亿元", "新认定高新技术企业46家"]
    assert result.usage.calls == 3 and result.usage.prompt_tokens == 300
    assert len(recorder.calls) == 1
    assert (recorder.calls[0].attempts, recorder.calls[0].reasks) == (3, 2)


def test_api_failure_during_reask_keeps_the_earlier_answer(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.answer(HALLUCINATED), Reply.http(500))
    cache = DictCache()
    result = run(OpenAIBackend(settings(fake_openai, mode="tools"), cache=cache), PIECES[0])

    assert fake_openai.calls == 2
    assert [c.text for c in result.candidates] == ["技术合同成交额10.96亿元", "新认定高新技术企业46家"]
    assert result.warnings == [
        "chunk 0: model call failed: HTTP 500 fake error (kept the answer before it)"
    ]
    assert cache.data == {}


def test_malformed_json_is_reasked(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.malformed(), Reply.faithful())
    result = run(OpenAIBackend(settings(fake_openai, mode="md_json")), PIECES[0])

    assert fake_openai.calls == 2
    assert triples(result) == expected(PIECES[0])
    assert result.warnings == []


def test_never_parseable_answer_is_a_chunk_warning(fake_openai: FakeOpenAI) -> None:
    def handler(request: dict[str, Any], n: int) -> Reply:
        return Reply.empty() if "存在问题" in source_text(request) else Reply.faithful()

    fake_openai.handler = handler
    result = run(OpenAIBackend(settings(fake_openai, mode="tools", max_reasks=1)), *PIECES)

    assert len(result.warnings) == 1 and result.warnings[0].startswith("chunk 1: no usable answer")
    assert triples(result) == expected(PIECES[0])


def test_truncated_answer_without_a_complete_item_is_a_chunk_warning(fake_openai: FakeOpenAI) -> None:
    # Cut inside the first item: nothing complete to keep.
    text = json.dumps(faithful_answer(PIECES[0]), ensure_ascii=False)
    fake_openai.script(Reply.raw_content(text[: text.index('"evidence"')], finish_reason="length"))
    result = run(OpenAIBackend(settings(fake_openai, mode="json", max_tokens=64)), PIECES[0])

    assert result.candidates == []
    assert result.warnings[0].startswith("chunk 0: answer cut at the output limit (max_tokens=64)")
    assert result.failed_chunks == 1
    assert result.usage.calls == 1 and result.usage.total_tokens == 120


# ---------------------------------------------------------------- transport


def test_429_retry_after_is_honoured_then_succeeds(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.http(429, headers={"Retry-After": "1"}), Reply.faithful())
    started = time.perf_counter()
    result = run(OpenAIBackend(settings(fake_openai, max_retries=1)), PIECES[0])

    assert time.perf_counter() - started >= 0.9
    assert fake_openai.calls == 2
    assert triples(result) == expected(PIECES[0])
    assert result.warnings == [] and result.usage.calls == 2  # every HTTP exchange, the 429 too


def test_persistent_500_is_a_chunk_warning_and_other_chunks_survive(fake_openai: FakeOpenAI) -> None:
    def handler(request: dict[str, Any], n: int) -> Reply:
        if "存在问题" in source_text(request):
            return Reply.http(500, headers={"retry-after-ms": "20"})
        return Reply.faithful()

    fake_openai.handler = handler
    result = run(OpenAIBackend(settings(fake_openai, max_retries=2)), *PIECES)

    assert fake_openai.calls == 1 + 3  # chunk 0 once, chunk 1 once plus two SDK retries
    assert result.warnings == ["chunk 1: model call failed: HTTP 500 fake error"]
    assert triples(result) == expected(PIECES[0])


def test_non_json_http_body_is_a_chunk_warning(fake_openai: FakeOpenAI) -> None:
    fake_openai.handler = lambda request, n: Reply.http_body(b"<html>bad gateway</html>")
    result = run(OpenAIBackend(settings(fake_openai, max_reasks=1)), PIECES[0])

    assert result.candidates == []
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("chunk 0: model call failed: JSONDecodeError")


def test_dropped_connection_is_retried_by_the_sdk(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.close(), Reply.faithful())
    result = run(OpenAIBackend(settings(fake_openai, max_retries=1)), PIECES[0])

    assert fake_openai.calls == 2
    assert triples(result) == expected(PIECES[0])


def test_answer_slower_than_timeout_is_a_chunk_warning(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.slow(4.0))
    started = time.perf_counter()
    result = run(OpenAIBackend(settings(fake_openai, timeout=0.3)), PIECES[0])

    assert time.perf_counter() - started < 2.0
    assert result.warnings == ["chunk 0: model call failed: timed out after 0.3s"]
    assert result.candidates == []


def test_api_key_never_appears_in_warnings_records_or_logs(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    status = [400]

    def echo_key(request: dict[str, Any], n: int) -> Reply:
        auth = fake_openai.requests[n - 1].headers.get("authorization", "")
        return Reply.http(status[0], message=f"Incorrect API key provided: {auth.removeprefix('Bearer ')}")

    fake_openai.handler = echo_key
    recorder = Recorder()
    with caplog.at_level(logging.DEBUG):
        result = run(OpenAIBackend(settings(fake_openai), recorder=recorder), PIECES[0])

    assert result.warnings and result.warnings[0].startswith("chunk 0: model call failed: HTTP 400")
    assert "Incorrect API key provided" in caplog.text
    dumped = json.dumps([result.warnings, [r.error for r in recorder.calls]], ensure_ascii=False)
    assert KEY not in dumped and KEY not in caplog.text
    assert KEY not in repr(settings(fake_openai))
    # A 401 stops everything, with a message that names the refusal, not the key.
    status[0] = 401
    with pytest.raises(BackendFatal) as refused:
        run(OpenAIBackend(settings(fake_openai), recorder=recorder), PIECES[0])
    assert "HTTP 401" in str(refused.value) and "Incorrect API key provided" in str(refused.value)
    assert KEY not in str(refused.value) and KEY not in caplog.text
    assert KEY not in json.dumps([r.error for r in recorder.calls], ensure_ascii=False)


# ---------------------------------------------------------------- concurrency, cache, records


def test_concurrency_bound_is_respected(fake_openai: FakeOpenAI) -> None:
    fake_openai.handler = lambda request, n: Reply.slow(0.15)
    pieces = [f"第{i}批新增科技企业{i + 10}家。" for i in range(6)]
    result = run(OpenAIBackend(settings(fake_openai, concurrency=2)), *pieces)

    assert fake_openai.calls == 6
    assert fake_openai.peak_in_flight == 2
    assert len(result.candidates) == 6


def test_shared_semaphore_bounds_calls_across_documents(fake_openai: FakeOpenAI) -> None:
    fake_openai.handler = lambda request, n: Reply.slow(0.1)

    async def two_documents() -> list[BackendResult]:
        backend = OpenAIBackend(settings(fake_openai, concurrency=4), semaphore=asyncio.Semaphore(1))
        return list(await asyncio.gather(*(
            backend.extract(p, chunks_of(p), grounding=GroundingSource(p)) for p in PIECES
        )))

    results = asyncio.run(two_documents())
    assert fake_openai.peak_in_flight == 1
    assert [triples(r) for r in results] == [expected(p) for p in PIECES]


def test_cache_hit_makes_no_call(fake_openai: FakeOpenAI) -> None:
    cache = DictCache()
    first = run(OpenAIBackend(settings(fake_openai), cache=cache), *PIECES)
    second = run(OpenAIBackend(settings(fake_openai), cache=cache), *PIECES)

    assert fake_openai.calls == 2
    assert triples(second) == triples(first)
    assert [c.hint for c in second.candidates] == [c.hint for c in first.candidates]
    assert (second.usage.calls, second.usage.cache_hits, second.usage.total_tokens) == (0, 2, 0)


def test_failed_chunks_are_not_cached(fake_openai: FakeOpenAI) -> None:
    cache = DictCache()
    fake_openai.script(Reply.http(500))
    run(OpenAIBackend(settings(fake_openai), cache=cache), PIECES[0])
    result = run(OpenAIBackend(settings(fake_openai), cache=cache), PIECES[0])

    assert fake_openai.calls == 2
    assert triples(result) == expected(PIECES[0]) and result.usage.cache_hits == 0


def test_cache_key_changes_with_what_the_model_is_asked(fake_openai: FakeOpenAI) -> None:
    s = settings(fake_openai)
    key = cache_key(s, PIECES[0])
    assert cache_key(replace(s, api_key="other", base_url="http://x/v1"), PIECES[0]) == key
    for changed in (
        replace(s, model="other"), replace(s, mode="json"), replace(s, prompt=load_prompt("strict")),
        replace(s, temperature=0.5), replace(s, max_reasks=0),
    ):
        assert cache_key(changed, PIECES[0]) != key
    assert cache_key(s, PIECES[0] + "。") != key
    assert cache_key(s, PIECES[0], heading="一、主要成效") != key


def test_recorder_gets_one_record_per_chunk(fake_openai: FakeOpenAI) -> None:
    recorder = Recorder()
    run(OpenAIBackend(settings(fake_openai), recorder=recorder), *PIECES)

    records = sorted(recorder.calls, key=lambda r: r.chunk_index)
    assert [r.chunk_index for r in records] == [0, 1]
    assert [(r.attempts, r.reasks, r.error) for r in records] == [(1, 0, None)] * 2
    assert records[0].usage == {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                                "cached_tokens": 0}
    assert records[0].response == faithful_answer(PIECES[0])
    assert records[0].request_hash == cache_key(settings(fake_openai), PIECES[0])


def test_backend_is_reusable_across_event_loops(fake_openai: FakeOpenAI) -> None:
    backend = OpenAIBackend(settings(fake_openai))
    assert triples(run(backend, PIECES[0])) == triples(run(backend, PIECES[0]))
    assert fake_openai.calls == 2


def test_unknown_mode_is_rejected(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(ValueError, match="unknown mode 'xml'"):
        settings(fake_openai, mode="xml")
