"""Cost per report: evidence by reference, the prompt's cacheable prefix, cached-token prices.

Everything runs through the real backend (openai + instructor + HTTP) against
tests/fakeserver.py; the grounding validator is never mocked.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from fakeserver import FakeOpenAI, Reply, faithful_answer, numbered_sentences, source_text
from helpers import EXAMPLES, run_cli

from reportsum.backends.base import BackendResult
from reportsum.backends.llm import (
    DictCache,
    LLMSettings,
    OpenAIBackend,
    cache_key,
    resolve_cite,
)
from reportsum.backends.prompts import load_prompt
from reportsum.grounding.ground import GroundingSource
from reportsum.models import FileSummary
from reportsum.runs.prices import estimate_cost
from reportsum.stages.chunk import chunk

DOC = (
    "一、主要成效。全年实现技术合同成交额10.69亿元，同比增长32.3%；新认定高新技术企业46家。"
    "二、存在问题。科技服务机构只有12家，数量偏少。三、明年打算。力争高新技术企业总数突破250家。"
)
KEY = "sk-test-cost-4b1d"
MODES = ["tools", "json", "md_json", "json_schema"]


def settings(server: FakeOpenAI, **overrides: Any) -> LLMSettings:
    base = LLMSettings(model="fake-model", prompt=load_prompt("default"), base_url=server.base_url,
                       api_key=KEY, max_retries=0, timeout=5.0)
    return replace(base, **overrides)


def run(backend: OpenAIBackend, doc: str = DOC, budget: int = 6000) -> BackendResult:
    return asyncio.run(backend.extract(doc, chunk(doc, max_chars=budget),
                                       grounding=GroundingSource(doc)))


def numbered(request: dict[str, Any]) -> dict[int, str]:
    lines = numbered_sentences(source_text(request))
    assert lines is not None, "the chunk was not sent as numbered sentences"
    return dict(lines)


# ---------------------------------------------------------------- evidence by reference


@pytest.mark.parametrize("mode", MODES)
def test_ref_mode_fills_in_the_exact_quote_from_the_source(fake_openai: FakeOpenAI, mode: str) -> None:
    ref = run(OpenAIBackend(settings(fake_openai, mode=mode, evidence="ref")))
    request = fake_openai.requests[-1].json
    sentences = numbered(request)
    assert sentences[1].startswith("一、主要成效")
    # The schema the model fills asks for sentence numbers, not quotes.
    schema_text = json.dumps(request.get("tools"), ensure_ascii=False) + request["messages"][0]["content"]
    assert '"cite"' in schema_text and '"evidence"' not in schema_text
    assert ref.warnings == [] and ref.rejected == []
    assert ref.candidates
    for c in ref.candidates:
        # The evidence is the cited source text itself, located exactly.
        assert c.hint is not None and DOC[c.hint:c.hint + len(c.evidence)] == c.evidence
        assert c.text in c.evidence
    texts = {c.text for c in ref.candidates}
    assert "全年实现技术合同成交额10.69亿元，同比增长32.3%；" in texts
    # Same statements as in quote mode, the same grounded quotes (clauses).
    quote = run(OpenAIBackend(settings(fake_openai, mode=mode, evidence="quote")))
    assert "[1]" not in source_text(fake_openai.requests[-1].json)
    assert sorted((c.section, c.text) for c in quote.candidates) == sorted(
        (c.section, c.text) for c in ref.candidates)
    assert sorted(c.evidence.rstrip("。；") for c in quote.candidates) == sorted(
        c.evidence.rstrip("。；") for c in ref.candidates)


def _cite(request: dict[str, Any], wanted: str) -> int:
    return next(n for n, s in numbered(request).items() if wanted in s)


@pytest.mark.parametrize("mode", MODES)
def test_a_nonexistent_citation_is_reasked_then_rejected(fake_openai: FakeOpenAI, mode: str) -> None:
    def cites_too_far(request: dict[str, Any], number: int) -> Reply:
        good = {"text": "新认定高新技术企业46家", "cite": [_cite(request, "46家")]}
        return Reply.answer({"achievements": [good, {"text": "获评先进单位", "cite": [99]}],
                             "measures": [], "problems": [], "plans": []})

    fake_openai.handler = cites_too_far
    result = run(OpenAIBackend(settings(fake_openai, mode=mode, evidence="ref", max_reasks=1)))
    assert fake_openai.calls == 2
    reask = json.dumps(fake_openai.requests[1].json["messages"][2:], ensure_ascii=False)
    assert "不存在的句子编号 99" in reask
    # The good item is kept with its quote; the fabricated citation never becomes evidence.
    assert [(c.text, c.evidence) for c in result.candidates] == [
        ("新认定高新技术企业46家", "新认定高新技术企业46家。")]
    (rejected,) = result.rejected
    assert rejected.text == "获评先进单位" and rejected.evidence == ""
    assert "99" in rejected.reasons[0]


@pytest.mark.parametrize("mode", MODES)
def test_ref_mode_reasks_an_ungrounded_number_and_takes_the_fix(fake_openai: FakeOpenAI, mode: str) -> None:
    def wrong_then_right(request: dict[str, Any], number: int) -> Reply:
        n = _cite(request, "46家")
        text = "新认定高新技术企业64家" if number == 1 else "新认定高新技术企业46家"
        return Reply.answer({"achievements": [{"text": text, "cite": [n]}],
                             "measures": [], "problems": [], "plans": []})

    fake_openai.handler = wrong_then_right
    result = run(OpenAIBackend(settings(fake_openai, mode=mode, evidence="ref")))
    assert fake_openai.calls == 2
    assert "64" in json.dumps(fake_openai.requests[1].json["messages"][2:], ensure_ascii=False)
    assert [c.text for c in result.candidates] == ["新认定高新技术企业46家"]
    assert result.warnings == []


@pytest.mark.parametrize("mode", MODES)
def test_ref_answer_cut_at_the_limit_keeps_its_complete_cited_items(fake_openai: FakeOpenAI,
                                                                     mode: str) -> None:
    def cut_answer(request: dict[str, Any], number: int) -> Reply:
        answer = {"achievements": [{"text": "新认定高新技术企业46家", "cite": [_cite(request, "46家")]},
                                   {"text": "获评先进单位", "cite": [99]}],
                  "measures": [], "problems": [],
                  "plans": [{"text": "力争高新技术企业总数突破250家", "cite": [_cite(request, "250家")]}]}
        text = json.dumps(answer, ensure_ascii=False)
        prefix = "```json\n" if mode == "md_json" else ""
        return Reply.raw_content(prefix + text[: text.index("力争")], finish_reason="length")

    fake_openai.handler = cut_answer
    result = run(OpenAIBackend(settings(fake_openai, mode=mode, evidence="ref", max_tokens=50)))
    assert fake_openai.calls == 1
    # The complete item gets its quote from the source; the one cut short is lost; the
    # nonexistent citation is rejected, never turned into evidence.
    assert [(c.section, c.text, c.evidence) for c in result.candidates] == [
        ("achievements", "新认定高新技术企业46家", "新认定高新技术企业46家。")]
    assert [(r.text, "99" in r.reasons[0]) for r in result.rejected] == [("获评先进单位", True)]
    assert len(result.warnings) == 1 and "kept its 1 complete items" in result.warnings[0]


def test_resolve_cite_accepts_one_run_of_sentences_only() -> None:
    spans = [(0, 5), (5, 9), (10, 20)]
    assert resolve_cite([2], spans) == (5, 9)
    assert resolve_cite([3, 2], spans) == (5, 20)
    for bad in ([], [0], [4], [1, 3]):
        with pytest.raises(ValueError):
            resolve_cite(bad, spans)


def test_evidence_mode_is_part_of_the_cache_key(fake_openai: FakeOpenAI) -> None:
    quote, ref = settings(fake_openai), settings(fake_openai, evidence="ref")
    assert cache_key(quote, DOC) != cache_key(ref, DOC)
    cache = DictCache()
    first = run(OpenAIBackend(ref, cache=cache))
    again = run(OpenAIBackend(ref, cache=cache))
    assert fake_openai.calls == 1 and again.usage.cache_hits == 1
    assert [(c.text, c.evidence, c.hint) for c in again.candidates] == [
        (c.text, c.evidence, c.hint) for c in first.candidates]


def test_unknown_evidence_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="evidence"):
        LLMSettings(model="m", prompt=load_prompt("default"), evidence="paraphrase")


# ---------------------------------------------------------------- the cacheable prefix


@pytest.mark.parametrize("evidence", ["quote", "ref"])
def test_fixed_prefix_is_byte_identical_across_calls_and_documents(
    fake_openai: FakeOpenAI, evidence: str
) -> None:
    other = "二、存在问题。全区科技人才只有300人，总量不足。三、明年打算。新建星创天地2家。" * 40
    backend = OpenAIBackend(settings(fake_openai, evidence=evidence))
    run(backend)
    run(backend, other, budget=600)
    requests = [r.json for r in fake_openai.requests]
    assert len(requests) >= 3
    first = requests[0]
    for r in requests[1:]:
        assert r["tools"] == first["tools"]
        assert r["messages"][0] == first["messages"][0]
    for r in requests:
        # The chunk is the last thing in the request: nothing after the report text varies.
        user = r["messages"][-1]["content"]
        assert user.endswith("\n</原文>")
        assert source_text(r) in user[-len(source_text(r)) - 10:]


def test_cached_tokens_are_recorded_and_priced(fake_openai: FakeOpenAI) -> None:
    fake_openai.simulate_cache = True
    backend = OpenAIBackend(settings(fake_openai, evidence="ref"))
    first = run(backend)
    second = run(backend, DOC.replace("46家", "47家"))
    assert first.usage.cached_tokens == 0
    # The whole fixed prefix (system prompt and schema) came from the server's cache.
    assert second.usage.cached_tokens >= 1024
    assert second.usage.cached_tokens < second.usage.prompt_tokens
    usage = second.usage.model_dump()
    prices = {"fake-model": {"prompt": 1.0, "cached_prompt": 0.1, "completion": 2.0}}
    full = {"fake-model": {"prompt": 1.0, "completion": 2.0}}
    cost, uncached = estimate_cost("fake-model", usage, prices), estimate_cost("fake-model", usage, full)
    assert cost is not None and uncached is not None
    expected = ((usage["prompt_tokens"] - usage["cached_tokens"]) * 1.0
                + usage["cached_tokens"] * 0.1 + usage["completion_tokens"] * 2.0) / 1e6
    assert cost == pytest.approx(expected)
    assert uncached == pytest.approx((usage["prompt_tokens"] + 2 * usage["completion_tokens"]) / 1e6)


def test_cached_tokens_survive_a_reask(fake_openai: FakeOpenAI) -> None:
    fake_openai.simulate_cache = True
    fake_openai.script(Reply.answer({"achievements": [{"text": "新认定高新技术企业64家",
                                                       "evidence": "新认定高新技术企业46家"}],
                                     "measures": [], "problems": [], "plans": []}))
    result = run(OpenAIBackend(settings(fake_openai)))
    assert fake_openai.calls == 2
    # The reask repeats the first request's messages: the server serves them from its cache.
    assert result.usage.cached_tokens >= 1024


# ---------------------------------------------------------------- the command line


def test_cli_evidence_ref_end_to_end_and_runs_show_cached_tokens(tmp_path, fake_openai: FakeOpenAI) -> None:
    fake_openai.simulate_cache = True
    source = next(EXAMPLES.glob("*.txt"))
    args = [str(source),
            "--base-url", fake_openai.base_url, "--api-key", KEY, "--model", "fake-model"]
    quote = run_cli("summarise", *args, "--no-cache", home=tmp_path)
    ref = run_cli("summarise", *args, "--evidence", "ref", "--no-cache", home=tmp_path)
    assert quote.returncode == 0 and ref.returncode == 0, ref.stderr
    assert fake_openai.calls == 2  # the demo report is one call in either mode
    q = FileSummary.model_validate_json(quote.stdout).documents[0]
    r = FileSummary.model_validate_json(ref.stdout).documents[0]
    assert r.achievements and not r.rejected
    # The quotes reportsum filled in cover what quote mode grounded, in order (a clause
    # number can split what the test server quotes as one sentence: "3. 3、如认为…").
    def joined(items: list) -> str:
        return "".join(re.sub(r"[\s。；;]", "", i.evidence) for i in items)

    assert joined(r.achievements) == joined(q.achievements)
    assert all(i.span is not None for i in r.achievements)
    assert r.run.usage.cached_tokens == 0  # the first call with this prefix
    again = run_cli("summarise", *args, "--evidence", "ref", "--no-cache", home=tmp_path)
    r = FileSummary.model_validate_json(again.stdout).documents[0]
    assert r.run.usage.cached_tokens >= 1024
    listed = run_cli("runs", home=tmp_path).stdout.splitlines()
    header = listed[0].split("\t")
    newest = dict(zip(header, listed[1].split("\t"), strict=True))
    assert int(newest["cached_tokens"]) == r.run.usage.cached_tokens
    # regenerate keeps the run's evidence mode.
    calls = fake_openai.calls
    regen = run_cli("regenerate", newest["id"], "--prompt", "strict", "--api-key", KEY, home=tmp_path)
    assert regen.returncode == 0, regen.stderr
    assert fake_openai.calls == calls + 1
    assert numbered(fake_openai.requests[-1].json)
    bad = run_cli("summarise", *args, "--evidence", "paraphrase", home=tmp_path)
    assert bad.returncode != 0 and "evidence" in bad.stderr and "Traceback" not in bad.stderr


def test_faithful_answer_in_ref_form_matches_quote_form() -> None:
    quote = faithful_answer("全年新增企业12家。组织培训3期。")
    ref = faithful_answer("[1]全年新增企业12家。\n[2]组织培训3期。")
    assert [[i["text"] for i in v] for v in quote.values()] == [[i["text"] for i in v] for v in ref.values()]
    assert ref["measures"] == [{"text": "组织培训3期。", "cite": [2]}]
