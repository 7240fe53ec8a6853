"""End-to-end through the real CLI against the local OpenAI-compatible test server:
the run store, the response cache, regenerate and diff (issue 4's figures)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from fakeserver import Reply, faithful_answer, source_text
from helpers import ROOT, run_cli

from reportsum.models import FileSummary
from reportsum.pipeline import DEFAULT_CHUNK_CHARS
from reportsum.stages.chunk import chunk
from reportsum.stages.clean import clean
from reportsum.stages.split import split

EXAMPLES = sorted((ROOT / "eval" / "examples").glob("*.txt"))
KEY = "sk-test-NEVER-LOGGED-4242"


def _model_args(server) -> list[str]:
    return ["--base-url", server.base_url, "--api-key", KEY, "--model", "fake-model"]


def _long_report(tmp_path: Path) -> Path:
    path = tmp_path / "long.txt"
    path.write_text("\n".join(p.read_text(encoding="utf-8") for p in EXAMPLES), encoding="utf-8")
    return path


def _chunks(path: Path, chars: int) -> int:
    parts = split(clean(path.read_text(encoding="utf-8")).text)
    return sum(len(chunk(p.text.text, max_chars=chars)) for p in parts)


def test_model_run_is_grounded_stored_and_never_stores_the_key(tmp_path, fake_openai):
    src = EXAMPLES[0]
    proc = run_cli("summarise", str(src), *_model_args(fake_openai), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fs = FileSummary.model_validate_json(proc.stdout)
    doc = fs.documents[0]
    assert doc.run.backend == "openai" and doc.run.model == "fake-model" and doc.run.prompt == "default"
    assert doc.achievements and all(i.span for i in doc.achievements)
    assert doc.run.usage.calls == fake_openai.calls > 0
    store_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("reportsum.db*"))
    assert KEY.encode() not in store_bytes
    assert KEY not in proc.stdout + proc.stderr
    # the server did receive it: the key is used, just never kept
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_same_run_twice_makes_no_model_call_the_second_time(tmp_path, fake_openai):
    src = EXAMPLES[0]
    first = run_cli("summarise", str(src), *_model_args(fake_openai), home=tmp_path)
    assert first.returncode == 0, first.stderr
    calls = fake_openai.calls
    second = run_cli("summarise", str(src), *_model_args(fake_openai), home=tmp_path)
    assert second.returncode == 0, second.stderr
    assert fake_openai.calls == calls, "the second run must be served from the cache"
    assert f"0 model calls, {calls} cache hits" in second.stderr
    assert json.loads(first.stdout)["documents"][0]["achievements"] == json.loads(second.stdout)["documents"][0]["achievements"]
    nocache = run_cli("summarise", str(src), *_model_args(fake_openai), "--no-cache", home=tmp_path)
    assert nocache.returncode == 0 and fake_openai.calls == 2 * calls


def test_editing_one_paragraph_of_a_ten_chunk_report_recalls_at_most_two_chunks(tmp_path, fake_openai):
    src = _long_report(tmp_path)
    n = _chunks(src, 400)
    assert n >= 10, n
    args = [str(src), *_model_args(fake_openai), "--chunk-chars", "400"]
    assert run_cli("summarise", *args, home=tmp_path).returncode == 0
    assert fake_openai.calls == n
    text = src.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n") if re.search(r"\d", p) and len(p) > 40]
    target = paragraphs[len(paragraphs) // 2]
    src.write_text(text.replace(target, target.replace("。", "，成效明显。", 1), 1), encoding="utf-8")
    proc = run_cli("summarise", *args, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    print(f"chunks={n}; calls after editing one paragraph: {fake_openai.calls - n}")
    assert 1 <= fake_openai.calls - n <= 2


def _strict_drops_measures(request, number):
    answer = faithful_answer(source_text(request))
    if "纯摘录" in json.dumps(request["messages"], ensure_ascii=False) or "只做摘录" in request["messages"][0]["content"]:
        answer["measures"] = []
    return Reply.answer(answer)


def test_regenerate_with_another_prompt_calls_once_per_chunk_and_diff_shows_the_change(tmp_path, fake_openai):
    fake_openai.handler = _strict_drops_measures
    src = _long_report(tmp_path)
    n = _chunks(src, DEFAULT_CHUNK_CHARS)
    first = run_cli("summarise", str(src), *_model_args(fake_openai), home=tmp_path)
    assert first.returncode == 0, first.stderr
    before = fake_openai.calls
    assert before == n
    runs = run_cli("runs", home=tmp_path).stdout.splitlines()
    run_a = runs[1].split("\t")[0]
    regen = run_cli("regenerate", run_a, "--prompt", "strict", "--api-key", KEY, home=tmp_path)
    assert regen.returncode == 0, regen.stderr
    run_b = regen.stdout.strip().splitlines()[-1]
    assert run_b != run_a
    assert fake_openai.calls - before == n
    listed = run_cli("runs", home=tmp_path).stdout
    assert "strict@2" in listed and "default@3" in listed
    diff = run_cli("diff", run_a, run_b, "--json", home=tmp_path)
    assert diff.returncode == 0, diff.stderr
    docs = json.loads(diff.stdout)
    removed = sum(len(d["sections"]["measures"]["removed"]) for d in docs)
    assert removed > 0
    assert all(d["sections"]["measures"]["added"] == [] for d in docs)
    text = run_cli("diff", run_a, run_b, home=tmp_path).stdout
    assert "measures: +0 -" in text


def test_hallucinating_model_gets_reasked_and_rejects_end_up_apart(tmp_path, fake_openai):
    def always_wrong(request, number):
        answer = faithful_answer(source_text(request))
        for items in answer.values():
            for item in items:
                item["text"] = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), item["text"], count=1)
        return Reply.answer(answer)

    fake_openai.handler = always_wrong
    proc = run_cli("summarise", str(EXAMPLES[0]), *_model_args(fake_openai), "--max-reasks", "1", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = FileSummary.model_validate_json(proc.stdout).documents[0]
    assert doc.rejected and not any(doc.section(s) for s in ("achievements", "measures", "problems", "plans"))
    assert all(r.reasons for r in doc.rejected)
    reasks = [r for r in fake_openai.requests if len(r.json["messages"]) > 2]
    assert reasks, "the model must have been asked to correct itself"


def test_a_document_whose_every_call_fails_is_a_failure_and_the_batch_goes_on(tmp_path, fake_openai):
    def fail_one(request, number):
        if "故障镇" in source_text(request):
            return Reply.http(500)
        return Reply.faithful()

    fake_openai.handler = fail_one
    good = EXAMPLES[0]
    bad = tmp_path / "故障镇2024年工作总结.txt"
    bad.write_text("故障镇2024年工作总结\n全年新增科技型企业12家，研发投入增长8.5%。\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("summarise", str(good), str(bad), *_model_args(fake_openai), "--retries", "0",
                   "--out", str(out), home=tmp_path)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    assert bad.name in proc.stderr and "every chunk failed" in proc.stderr and "500" in proc.stderr
    assert KEY not in proc.stderr
    # Outputs mirror the inputs relative to their common folder.
    common = Path(os.path.commonpath([good.resolve(), bad.resolve()]))
    assert (out / good.resolve().parent.relative_to(common) / f"{good.stem}.json").exists()
    assert not list(out.rglob(f"{bad.stem}.json"))


def test_eval_compares_two_prompts_side_by_side_through_the_cli(tmp_path, fake_openai):
    gold = ROOT / "eval" / "gold" / "examples"
    out = tmp_path / "eval.json"
    args = ["eval", str(gold), "--prompt", "default", "--prompt", "strict", *_model_args(fake_openai)]
    proc = run_cli(*args, "--json", str(out), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "fake-model:default" in proc.stdout and "fake-model:strict" in proc.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    labels = [c["label"] for c in report["contenders"]]
    assert labels == ["fake-model:default", "fake-model:strict"]
    calls = fake_openai.calls
    assert calls > 0
    strict = run_cli(*args, "--min-f1", "0.99", home=tmp_path)
    assert strict.returncode == 1 and "below --min-f1" in strict.stderr
    assert fake_openai.calls == calls, "the second evaluation is served from the cache"
