"""The model path against a real model server: llama.cpp's llama-server with gemma-3-270m
(tests/llama_server.py; `make llama` builds and assembles both once, outside the checkout).

gemma-3-270m is a base model: it continues text, it cannot summarise. That makes it a real
adversary for everything between the HTTP call and the output: it runs on, loops, makes up
numbers and quotes, repeats itself. Through the real CLI, in every mode: the run ends in
bounded time with the right exit code; no ungrounded number reaches the four sections (the
output is re-checked with `reportsum verify`); what it made up lands in `rejected` with
reasons; nothing is repeated; the usage reported is what the server counted (its /metrics).
Inputs are small and --max-tokens low: the suite runs on 2 shared cores.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import pytest
from helpers import run_cli
from llama_server import LlamaServer
from llama_server import missing as llama_missing

from reportsum.grounding.ground import GroundingSource, check_item
from reportsum.models import SECTIONS, FileSummary

pytestmark = pytest.mark.llama

# One paragraph (one chunk), the genre's numbers.
REPORT = ("全年新认定高新技术企业46家，总数达到213家。技术合同成交额10.69亿元，同比增长32.3%。"
          "科技服务机构只有12家，数量偏少。明年力争高新技术企业总数突破250家。")
CLOSING = re.compile(r"(\d+) model calls, (\d+) cache hits, (\d+) tokens \((\d+) prompt, "
                     r"(\d+) completion, (\d+) cached\)")
# What a user reads when the model gave nothing usable for a chunk.
CLEAR_REASONS = ("answer cut at the output limit", "no usable answer after", "model call failed",
                 "the model's context was exceeded")


def _summarise(llama: LlamaServer, src: Path, home: Path, *extra: str, timeout: float = 300):
    out = home / "out"
    before = llama.metrics()
    started = time.perf_counter()
    proc = run_cli("summarise", str(src), "--base-url", llama.base_url, "--model", "gemma-3-270m",
                   "-j", "2", "--out", str(out), *extra, home=home, timeout=timeout)
    seconds = time.perf_counter() - started
    after = llama.metrics()
    served = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    return proc, out / f"{src.stem}.json", served, seconds


def _usage(stderr: str) -> dict[str, int]:
    m = CLOSING.search(stderr)
    assert m, stderr
    keys = ("calls", "cache_hits", "tokens", "prompt", "completion", "cached")
    return dict(zip(keys, map(int, m.groups()), strict=True))


def _answers(home: Path) -> list[tuple[str, str]]:
    """(section, text) of every item of every answer the store recorded, repeats included."""
    items: list[tuple[str, str]] = []
    with sqlite3.connect(home / "reportsum.db") as db:
        for (response,) in db.execute("SELECT response_json FROM calls WHERE response_json IS NOT NULL"):
            data = json.loads(response)
            if "partial_items" in data:
                items += [(i["section"], i["text"]) for i in data["partial_items"]]
            else:
                items += [(s, i["text"]) for s in SECTIONS for i in data.get(s, [])]
    return items


def _assert_usage_is_what_the_server_counted(usage: dict[str, int], served: dict[str, float]) -> None:
    assert usage["completion"] == served["tokens_predicted_total"], (usage, served)
    # The server counts the prompt tokens it processed; the rest came from its prompt cache.
    assert usage["prompt"] - usage["cached"] == served["prompt_tokens_total"], (usage, served)
    assert usage["tokens"] == usage["prompt"] + usage["completion"]


def test_the_real_server_is_up_and_counts_tokens(llama: LlamaServer) -> None:
    answer = llama.chat({"model": "g", "messages": [{"role": "user", "content": "你好"}],
                         "max_tokens": 4})
    assert answer["usage"]["completion_tokens"] <= 4
    assert "tokens_predicted_total" in llama.metrics()


@pytest.mark.parametrize("mode", ["json_schema", "tools", "json", "md_json"])
def test_each_mode_against_the_real_server(llama: LlamaServer, tmp_path: Path, mode: str) -> None:
    src = tmp_path / "report.txt"
    src.write_text(REPORT, encoding="utf-8")
    proc, out, served, seconds = _summarise(llama, src, tmp_path, "--mode", mode,
                                            "--max-tokens", "96", "--max-reasks", "1")
    assert "Traceback" not in proc.stderr, proc.stderr
    usage = _usage(proc.stderr)
    print(f"{mode}: exit {proc.returncode}, {seconds:.1f}s, {usage}")
    assert usage["calls"] >= 1
    _assert_usage_is_what_the_server_counted(usage, served)
    runs = run_cli("runs", home=tmp_path)
    header, row = runs.stdout.splitlines()[:2]
    run = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert (int(run["calls"]), int(run["tokens"]), int(run["prompt_tokens"]),
            int(run["completion_tokens"]), int(run["cached_tokens"])) == (
        usage["calls"], usage["tokens"], usage["prompt"], usage["completion"], usage["cached"])

    if mode == "json_schema":
        # The server enforces the schema while generating: the answer always parses.
        assert proc.returncode == 0, proc.stderr
    if proc.returncode == 1:
        # The mode does not work with this model: one clear line saying why, no output.
        failed = [line for line in proc.stderr.splitlines() if "failed: " in line]
        assert len(failed) == 1 and "every chunk failed" in failed[0], proc.stderr
        assert any(reason in failed[0] for reason in CLEAR_REASONS), failed[0]
        assert not out.exists()
        return
    assert proc.returncode == 0, proc.stderr
    doc = FileSummary.model_validate_json(out.read_text(encoding="utf-8")).documents[0]
    # No ungrounded number reaches the four sections: checked again, from the outside.
    verify = run_cli("verify", str(src), str(out))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # What the model made up is rejected, with reasons, and is really not in the source.
    grounding = GroundingSource(REPORT)
    for item in doc.rejected:
        assert item.reasons, item
        assert not check_item(grounding, item.text, item.evidence).ok, item
    # Repeats collapse: no item twice, whatever the model repeated.
    kept = [(s, i.text) for s in SECTIONS for i in doc.section(s)]
    rejected = [(r.section, r.text, r.evidence) for r in doc.rejected]
    assert len(set(kept)) == len(kept) and len(set(rejected)) == len(rejected)
    answered = _answers(tmp_path)
    print(f"{mode}: {len(answered)} items answered ({len(answered) - len(set(answered))} repeats), "
          f"{len(kept)} kept, {len(rejected)} rejected; reasons: "
          f"{sorted({r.split('（')[-1] for x in doc.rejected for r in x.reasons})}")
    assert len(kept) + len(rejected) <= len(set(answered))


def test_a_chunk_too_large_for_the_context_is_split_once_not_retried(llama: LlamaServer,
                                                                     tmp_path: Path) -> None:
    # One paragraph of ~5000 characters: with the prompt ~4400 tokens, more than a slot's 4096.
    src = tmp_path / "long.txt"
    src.write_text(REPORT * 60, encoding="utf-8")
    proc, _, served, seconds = _summarise(
        llama, src, tmp_path, "--mode", "json_schema", "--chunk-chars", "12000",
        "--max-tokens", "8", "--max-reasks", "0", "--retries", "3")
    usage = _usage(proc.stderr)
    print(f"overflow: exit {proc.returncode}, {seconds:.1f}s, {usage}")
    assert "Traceback" not in proc.stderr
    # the overflowing request once (no retries), then each half once
    assert usage["calls"] == 3, proc.stderr
    assert "the model's context was exceeded; the chunk was split in half" in proc.stderr
    _assert_usage_is_what_the_server_counted(usage, served)


def test_a_refused_key_stops_the_batch_at_once(tmp_path: Path) -> None:
    reason = llama_missing()
    if reason is not None:
        pytest.skip(reason)
    files = []
    for i in range(4):
        path = tmp_path / f"r{i}.txt"
        path.write_text(REPORT, encoding="utf-8")
        files.append(str(path))
    with LlamaServer(ctx=2048, slots=1, log=tmp_path / "server.log",
                     extra=("--api-key", "sk-the-right-one")) as server:
        proc = run_cli("summarise", *files, "--base-url", server.base_url, "--api-key", "sk-wrong",
                       "--model", "gemma-3-270m", home=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("reportsum: error:")]
    assert len(errors) == 1 and "refused the API key (HTTP 401)" in errors[0], proc.stderr
    assert "sk-wrong" not in proc.stderr
