"""Issue 12 against the scripted server (tests/fakeserver.py): the output budget, errors by
kind, usage as paid, interrupted runs and the json_schema mode, through the backend and the
real CLI. The same behaviour against a real llama.cpp server is in tests/test_llama.py."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakeserver import FakeOpenAI, Reply, faithful_answer, source_text
from helpers import ROOT, run_cli

from reportsum.backends.base import BackendResult
from reportsum.backends.llm import LLMSettings, OpenAIBackend, complete_items, split_credentials
from reportsum.backends.prompts import load_prompt
from reportsum.grounding.ground import GroundingSource
from reportsum.models import SECTIONS, FileSummary
from reportsum.pipeline import (
    DEFAULT_CHUNK_CHARS,
    ConfigError,
    Settings,
    default_max_tokens,
    resolve_backend,
)
from reportsum.stages.chunk import Chunk

KEY = "sk-test-errors-0000"
PIECE = "一、主要成效。全年实现技术合同成交额10.69亿元，同比增长32.3%。新认定高新技术企业46家。"
LONG = ("一、主要成效。全年实现技术合同成交额10.69亿元，同比增长32.3%。新认定高新技术企业46家。"
        "二、存在问题。科技服务机构只有12家，数量偏少。三、明年打算。力争高新技术企业总数突破250家。")
REPORT = """青山镇2024年工作总结
一、主要成效
全年实现地区生产总值28.6亿元，同比增长6.1%。新建高标准农田1200亩。
二、存在问题
村级集体经济收入低于10万元的村还有3个。
三、明年打算
力争地区生产总值突破30亿元。
"""
OVERFLOW = {"error": {"code": 500, "message": "Context size has been exceeded.",
                      "type": "server_error"}}


def _settings(server: FakeOpenAI, **overrides: Any) -> LLMSettings:
    base = LLMSettings(model="fake-model", prompt=load_prompt("default"), base_url=server.base_url,
                       api_key=KEY, max_retries=3, timeout=5.0)
    return replace(base, **overrides)


def _run(backend: OpenAIBackend, text: str) -> BackendResult:
    chunks = [Chunk(index=0, start=0, text=text, heading=None)]
    return asyncio.run(backend.extract(text, chunks, grounding=GroundingSource(text)))


def _args(server: FakeOpenAI, *extra: str) -> list[str]:
    return ["--base-url", server.base_url, "--api-key", KEY, "--model", "fake-model", *extra]


def _files(tmp_path: Path, n: int) -> list[str]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"r{i}.txt"
        path.write_text(REPORT.replace("青山镇", f"青山{i}镇"), encoding="utf-8")
        paths.append(str(path))
    return paths


def _chunks(text: str) -> int:
    """How many chunks (so model calls, one each) the pipeline makes of `text`."""
    from reportsum.stages.chunk import chunk
    from reportsum.stages.clean import clean
    from reportsum.stages.split import split

    return sum(len(chunk(p.text.text, max_chars=1800)) for p in split(clean(text).text))


def _runs(home: Path) -> list[dict[str, str]]:
    proc = run_cli("runs", home=home)
    assert proc.returncode == 0, proc.stderr
    header, *rows = proc.stdout.splitlines()
    return [dict(zip(header.split("\t"), row.split("\t"), strict=True)) for row in rows]


# ---------------------------------------------------------------- 2. output budget


def test_max_tokens_is_sent_with_every_call_reasks_included(fake_openai: FakeOpenAI) -> None:
    wrong = faithful_answer(PIECE)
    wrong["achievements"][0]["text"] = "全年实现技术合同成交额99.9亿元"  # ungrounded: reasked
    fake_openai.script(Reply.answer(wrong), Reply.faithful())
    result = _run(OpenAIBackend(_settings(fake_openai, max_tokens=321)), PIECE)
    assert result.warnings == [] and len(result.candidates) == 2
    assert [r.json["max_tokens"] for r in fake_openai.requests] == [321, 321]


def test_cli_default_max_tokens_follows_the_chunk_size_and_the_flag_overrides_it(tmp_path, fake_openai):
    [path] = _files(tmp_path, 1)
    assert run_cli("summarise", path, *_args(fake_openai), home=tmp_path).returncode == 0
    assert fake_openai.requests[-1].json["max_tokens"] == default_max_tokens(DEFAULT_CHUNK_CHARS)
    assert default_max_tokens(1800) == 1800
    assert default_max_tokens(400) == 1024
    proc = run_cli("summarise", path, *_args(fake_openai, "--max-tokens", "77", "--no-cache"),
                   home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert fake_openai.requests[-1].json["max_tokens"] == 77
    bad = run_cli("summarise", path, *_args(fake_openai, "--max-tokens", "0"), home=tmp_path)
    assert bad.returncode == 2 and "max-tokens" in bad.stderr


@pytest.mark.parametrize("mode", ["tools", "json", "md_json", "json_schema"])
def test_an_answer_cut_at_the_limit_keeps_its_complete_items_grounded(fake_openai: FakeOpenAI,
                                                                      mode: str) -> None:
    answer = faithful_answer(LONG)
    answer["achievements"].append({"text": "新增专利999件", "evidence": "新增专利999件"})
    text = json.dumps(answer, ensure_ascii=False)
    cut = text.index("力争")  # inside the plans item: everything before it is complete
    prefix = "```json\n" if mode == "md_json" else ""
    fake_openai.script(Reply.raw_content(prefix + text[:cut], finish_reason="length"))
    result = _run(OpenAIBackend(_settings(fake_openai, mode=mode, max_tokens=50)), LONG)

    kept = {(c.section, c.text) for c in result.candidates}
    whole = {(s, i["text"]) for s, items in answer.items() for i in items}
    assert kept == whole - {("plans", "力争高新技术企业总数突破250家。")}
    # the made-up item is kept as a candidate: grounding (in the pipeline) rejects it
    assert ("achievements", "新增专利999件") in kept
    assert len(result.warnings) == 1 and "answer cut at the output limit (max_tokens=50)" in result.warnings[0]
    assert "kept its 4 complete items" in result.warnings[0]
    assert result.failed_chunks == 0 and result.usage.calls == 1


def test_complete_items_ignores_broken_and_incomplete_objects() -> None:
    text = ('{"achievements": [{"text": "甲1", "evidence": "甲1"}, {"text": "", "evidence": "x"},'
            ' {"text": "乙2", "evidence": "乙2"}], "problems": [{"text": "丙3", "evid')
    assert complete_items(text) == [
        {"section": "achievements", "text": "甲1", "evidence": "甲1"},
        {"section": "achievements", "text": "乙2", "evidence": "乙2"},
    ]
    assert complete_items("") == complete_items("not json at all") == []


def test_cut_answer_through_the_cli_lands_grounded_items_and_rejects_the_made_up_one(tmp_path, fake_openai):
    flat = "".join(REPORT.splitlines()[2::2])  # one paragraph, one chunk
    answer = faithful_answer(flat)
    answer["achievements"].insert(0, {"text": "新增专利999件", "evidence": "新增专利999件"})
    text = json.dumps(answer, ensure_ascii=False)
    fake_openai.script(Reply.raw_content(text[: text.index("力争")], finish_reason="length"))
    [path] = _files(tmp_path, 1)
    Path(path).write_text(flat, encoding="utf-8")
    proc = run_cli("summarise", path, *_args(fake_openai, "--max-reasks", "0"), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = FileSummary.model_validate_json(proc.stdout).documents[0]
    kept = {i.text for s in SECTIONS for i in doc.section(s)}
    faithful = {i["text"] for items in faithful_answer(flat).values() for i in items}
    assert "力争地区生产总值突破30亿元。" in faithful
    assert kept == faithful - {"力争地区生产总值突破30亿元。"}  # the item cut in half is gone
    assert [r.text for r in doc.rejected] == ["新增专利999件"] and doc.rejected[0].reasons
    assert any("answer cut at the output limit" in w for w in doc.document.warnings)


# ---------------------------------------------------------------- 3. errors by kind


def test_context_overflow_is_not_retried_and_the_chunk_is_split_once(fake_openai: FakeOpenAI) -> None:
    def handler(request: dict, number: int) -> Reply:
        if len(source_text(request)) > 60:
            return Reply.http_body(json.dumps(OVERFLOW).encode(), status=500)
        return Reply.faithful()

    fake_openai.handler = handler
    result = _run(OpenAIBackend(_settings(fake_openai, max_retries=3)), LONG)
    sent = [source_text(r.json) for r in fake_openai.requests]
    # the halves go out concurrently, in either order
    assert len(sent) == 3 and sent[0] == LONG and "".join(sorted(sent[1:])) == LONG, sent
    assert {c.text for c in result.candidates} == {i["text"] for items in faithful_answer(LONG).values()
                                                  for i in items}
    assert result.warnings == ["chunk 0: the model's context was exceeded; the chunk was split in half"]
    assert result.usage.calls == 3 and result.usage.prompt_tokens == 200  # the 500 had no usage


def test_context_overflow_of_the_halves_fails_the_chunk_without_more_calls(fake_openai: FakeOpenAI) -> None:
    fake_openai.handler = lambda request, number: Reply.http_body(json.dumps(OVERFLOW).encode(), status=500)
    result = _run(OpenAIBackend(_settings(fake_openai, max_retries=3)), LONG)
    assert fake_openai.calls == 3
    assert result.candidates == [] and result.failed_chunks == 1
    assert result.warnings[0] == "chunk 0: the model's context was exceeded; the chunk was split in half"
    assert len(result.warnings) == 3
    assert all("Context size has been exceeded" in w for w in result.warnings[1:]), result.warnings


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_not_retried(fake_openai: FakeOpenAI, status: int) -> None:
    fake_openai.handler = lambda request, number: Reply.http(status, message="bad request here")
    result = _run(OpenAIBackend(_settings(fake_openai, max_retries=3)), PIECE)
    assert fake_openai.calls == 1
    assert result.failed_chunks == 1 and f"HTTP {status}" in result.warnings[0]


def test_server_errors_are_still_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.http(503), Reply.http(500, message="boom"), Reply.faithful())
    result = _run(OpenAIBackend(_settings(fake_openai, max_retries=3)), PIECE)
    assert fake_openai.calls == 3 and result.warnings == [] and len(result.candidates) == 2
    assert result.usage.calls == 3


@pytest.mark.parametrize(("status", "message", "expected"), [
    (401, "Incorrect API key provided", "refused the API key (HTTP 401)"),
    (403, "forbidden", "denied access (HTTP 403)"),
    (404, "The model `fake-model` does not exist or you do not have access to it.", "no such model"),
])
def test_refused_calls_stop_the_whole_batch_with_one_message(tmp_path, fake_openai, status, message,
                                                             expected):
    fake_openai.handler = lambda request, number: Reply.http(status, message=message)
    files = _files(tmp_path, 6)
    started = time.perf_counter()
    proc = run_cli("summarise", *files, *_args(fake_openai, "-j", "2", "--retries", "3"),
                   home=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("reportsum: error:")]
    assert len(errors) == 1 and expected in errors[0] and "stopped the batch" in errors[0], lines
    assert not any("failed: " in line for line in lines), lines  # not file by file
    assert fake_openai.calls <= 2, "at most the calls already in flight"
    assert time.perf_counter() - started < 30
    assert KEY not in proc.stderr
    assert _runs(tmp_path)[0]["outcome"] == "failed"


def test_refused_calls_stop_a_batch_spread_over_workers(tmp_path, fake_openai):
    fake_openai.handler = lambda request, number: Reply.http(401, message="bad key")
    files = _files(tmp_path, 8)
    proc = run_cli("summarise", *files, *_args(fake_openai, "-j", "2", "--workers", "2"),
                   home=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "refused the API key (HTTP 401)" in proc.stderr
    assert fake_openai.calls <= 4


def test_credentials_in_the_base_url_become_basic_auth_and_are_never_kept(tmp_path, fake_openai):
    [path] = _files(tmp_path, 1)
    url = fake_openai.base_url.replace("http://", "http://alice:s3cr%40t-pw@")
    proc = run_cli("summarise", path, "--base-url", url, "--model", "m", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    expected = "Basic " + base64.b64encode(b"alice:s3cr@t-pw").decode()
    assert fake_openai.requests[0].headers["authorization"] == expected
    kept = proc.stdout + proc.stderr + "".join(
        p.read_bytes().decode("utf-8", "replace") for p in tmp_path.glob("reportsum.db*"))
    assert "s3cr" not in kept
    both = run_cli("summarise", path, "--base-url", url, "--api-key", KEY, home=tmp_path)
    assert both.returncode == 2 and "basic auth" in both.stderr and "one or the other" in both.stderr
    assert split_credentials("http://h:1/v1") == ("http://h:1/v1", None)


def test_openai_backend_without_key_or_base_url_is_a_usage_error_naming_both(tmp_path):
    [path] = _files(tmp_path, 1)
    started = time.perf_counter()
    proc = run_cli("summarise", path, "--backend", "openai", home=tmp_path)
    assert proc.returncode == 2
    assert "--base-url" in proc.stderr and "--api-key" in proc.stderr
    assert "OPENAI_BASE_URL" in proc.stderr and "OPENAI_API_KEY" in proc.stderr
    assert time.perf_counter() - started < 15
    with pytest.raises(ConfigError):
        resolve_backend(Settings(backend="openai"), env={})
    with pytest.raises(ConfigError):
        resolve_backend(Settings(backend="openai", base_url="ftp://x"), env={})


# ---------------------------------------------------------------- 4. usage as paid


def test_usage_counts_every_exchange_reasks_and_failed_chunks_included(fake_openai: FakeOpenAI) -> None:
    made_up = {"achievements": [{"text": "新增专利999件", "evidence": "新增专利999件"}],
               "measures": [], "problems": [], "plans": []}
    fake_openai.handler = lambda request, number: Reply("answer", data=made_up, usage=(100, 20),
                                                        cached=40)
    result = _run(OpenAIBackend(_settings(fake_openai, max_reasks=2)), PIECE)
    assert fake_openai.calls == 3
    u = result.usage
    assert (u.calls, u.prompt_tokens, u.completion_tokens, u.total_tokens, u.cached_tokens) == (
        3, 300, 60, 360, 120)


def test_a_failed_document_still_counts_what_it_paid_in_the_closing_line_and_runs(tmp_path, fake_openai):
    # Every answer is broken JSON: the document fails, after 1 + 2 reasks, all paid for.
    fake_openai.handler = lambda request, number: Reply.malformed()
    [path] = _files(tmp_path, 1)
    proc = run_cli("summarise", path, *_args(fake_openai), home=tmp_path)
    assert proc.returncode == 1
    n = fake_openai.calls
    assert n == 3 * _chunks(REPORT), "every chunk asked 1 + 2 times"
    assert f"{n} model calls, 0 cache hits, {120 * n} tokens ({100 * n} prompt, {20 * n} completion, 0 cached)" in proc.stderr
    run = _runs(tmp_path)[0]
    assert (run["calls"], run["tokens"], run["prompt_tokens"], run["completion_tokens"]) == (
        str(n), str(120 * n), str(100 * n), str(20 * n))
    assert run["outcome"] == "partial"  # the run ended; its one file failed


def test_cost_is_shown_from_the_price_table(tmp_path, fake_openai):
    (tmp_path / "prices.json").write_text(json.dumps({"fake-model": {"prompt": 1000, "completion": 2000}}))
    [path] = _files(tmp_path, 1)
    proc = run_cli("summarise", path, *_args(fake_openai), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # one call per chunk, 100 prompt + 20 completion tokens each: 0.1 + 0.04 per call
    n = _chunks(REPORT)
    assert fake_openai.calls == n
    cost = f"{n * 0.14:.4f}"
    assert (f"{n} model calls, 0 cache hits, {120 * n} tokens ({100 * n} prompt, {20 * n} completion, "
            f"0 cached), cost {cost}") in proc.stderr
    assert _runs(tmp_path)[0]["cost"] == cost


def _sigint(disposition: signal.Handlers) -> Callable[[], None]:
    return lambda: signal.signal(signal.SIGINT, disposition) and None


@pytest.mark.parametrize(("sig", "sigint"), [
    (signal.SIGTERM, signal.SIG_DFL),
    (signal.SIGINT, signal.SIG_DFL),  # Ctrl-C in a terminal
    # A background job (`reportsum ... &` from a shell script) starts with SIGINT ignored:
    # `kill PID` must still stop it gracefully.
    (signal.SIGTERM, signal.SIG_IGN),
], ids=["sigterm", "sigint", "sigterm-in-background"])
def test_an_interrupted_run_is_recorded_with_its_usage_and_says_how_to_resume(tmp_path, fake_openai, sig, sigint):
    def handler(request: dict, number: int) -> Reply:
        return Reply.faithful() if number == 1 else Reply.slow(30)

    fake_openai.handler = handler
    files = _files(tmp_path, 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REPORTSUM_"))}
    env["REPORTSUM_HOME"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reportsum", "summarise", *files, *_args(fake_openai, "-j", "1"),
         "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        preexec_fn=_sigint(sigint),  # whatever this test process inherited
    )
    deadline = time.monotonic() + 60
    while fake_openai.calls < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted: run " in stderr and "To resume: run the same command again" in stderr, stderr
    assert "Traceback" not in stderr
    run = _runs(tmp_path)[0]
    assert run["outcome"] == "interrupted"
    assert (run["calls"], run["tokens"]) == ("1", "120"), run  # the answered call; the other was cut
    assert "1 model calls" in stderr


# ---------------------------------------------------------------- 5. json_schema mode


def test_json_schema_mode_sends_the_extraction_schema_as_response_format(tmp_path, fake_openai):
    [path] = _files(tmp_path, 1)
    proc = run_cli("summarise", path, *_args(fake_openai, "--mode", "json_schema"), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rf = fake_openai.requests[0].json["response_format"]
    assert rf["type"] == "json_schema"
    schema = rf["json_schema"]["schema"]
    assert schema["title"] == "Extraction"
    assert set(schema["required"]) == {"achievements", "measures", "problems", "plans"}
    assert "tools" not in fake_openai.requests[0].json
    doc = FileSummary.model_validate_json(proc.stdout).documents[0]
    assert doc.run.mode == "json_schema" and doc.achievements


def test_twenty_identical_items_collapse_to_one_kept_and_one_rejected(tmp_path, fake_openai):
    # What gemma-3-270m answers under the json_schema grammar: one item, over and over.
    flat = "全年新认定高新技术企业46家，总数达到213家。"
    good = {"text": "新认定高新技术企业46家", "evidence": "全年新认定高新技术企业46家"}
    made_up = {"text": "2024年1月1日 08:00:00", "evidence": "2024年1月1日 08:00:00"}
    answer = {"achievements": [good] * 20 + [made_up] * 20, "measures": [], "problems": [], "plans": []}
    fake_openai.handler = lambda request, number: Reply.answer(answer)
    path = tmp_path / "r.txt"
    path.write_text(flat, encoding="utf-8")
    proc = run_cli("summarise", str(path), *_args(fake_openai, "--mode", "json_schema"), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = FileSummary.model_validate_json(proc.stdout).documents[0]
    assert [i.text for i in doc.achievements] == ["新认定高新技术企业46家"]
    assert [r.text for r in doc.rejected] == ["2024年1月1日 08:00:00"] and doc.rejected[0].reasons
