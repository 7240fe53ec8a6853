"""`reportsum batch`: a corpus through a Batch API (tests/fakebatch.py, a real local HTTP server)
or a vLLM run-batch result file, through the real CLI. The interactive path is the reference:
same scripted answers, same outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakebatch import FakeBatchAPI
from fakeserver import FakeOpenAI, Reply, completion, faithful_answer, source_text
from helpers import BATCH_KEY, ROOT, closing_counts, make_reports, run_cli, wait_for

from reportsum.stages.chunk import chunk
from reportsum.stages.clean import clean
from reportsum.stages.split import split

MODEL = ["--model", "fake-model"]


def _env(api: FakeBatchAPI | FakeOpenAI) -> dict[str, str]:
    return {"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": BATCH_KEY}


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    return proc


def _chunks(paths: list[Path]) -> int:
    n = 0
    for p in paths:
        for part in split(clean(p.read_text(encoding="utf-8")).text):
            n += len(chunk(part.text.text, max_chars=1800))
    return n


def _normal(path: Path) -> dict[str, Any]:
    """An output without what differs by run: the run id and the usage figures."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for doc in data["documents"]:
        doc["run"].pop("run_id", None)
        doc["run"].pop("usage", None)
    return data


def _outputs(out: Path) -> dict[str, dict[str, Any]]:
    return {p.name: _normal(p) for p in sorted(out.glob("*.json"))}


def _interactive(tmp_path: Path, inputs: Path, handler=None) -> dict[str, dict[str, Any]]:  # noqa: ANN001
    with FakeOpenAI(handler=handler) as server:
        _ok(run_cli("summarise", str(inputs), *MODEL, "--out", str(tmp_path / "ref"), env=_env(server),
                    home=tmp_path / "ref-home"))
    return _outputs(tmp_path / "ref")


def _until_final(api: FakeBatchAPI, home: Path) -> str:
    seen = []
    for _ in range(6):
        proc = _ok(run_cli("batch", "status", env=_env(api), home=home))
        seen.append(proc.stdout)
        if all(b["status"] in ("completed", "failed", "expired", "cancelled") for b in api.batches.values()):
            return "\n".join(seen)
    raise AssertionError(seen)


def test_corpus_goes_submit_status_collect_with_the_interactive_outputs(tmp_path):
    inputs = tmp_path / "in"
    paths = make_reports(inputs, 12)
    chunks = _chunks(paths)
    home = tmp_path / "home"
    with FakeBatchAPI() as api:
        sub = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
                          "--max-requests", "10", env=_env(api), home=home))
        job = sub.stdout.splitlines()[0]
        assert job.startswith("job-")
        # one request per chunk, split into files of at most 10 requests, each one batch
        lines = api.request_lines()
        assert len(lines) == chunks and len({x["custom_id"] for x in lines}) == chunks
        assert len(api.batches) == -(-chunks // 10) == len(sub.stdout.splitlines()) - 1
        first = lines[0]
        assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
        body = first["body"]
        assert body["model"] == "fake-model" and body["temperature"] == 0.0
        assert body["tools"][0]["function"]["name"] == "Extraction" and body["tool_choice"]
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert f"{sub.stderr}".count(f"{chunks} requests in {len(api.batches)} batches") == 1
        # status asks the provider each time: validating -> in_progress -> completed
        seen = _until_final(api, home)
        assert "validating" in sub.stdout and "in_progress" in seen and "completed" in seen
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert f"{chunks} results read, 12 of 12 files settled" in col.stderr, col.stderr
        assert f"{chunks} answers replayed, 0 model calls" in col.stderr
        assert api.answered == chunks
        got = _outputs(tmp_path / "out")
        # the collect is a recorded run, and the answers are in the response cache
        summarise = _ok(run_cli("summarise", str(inputs), *MODEL, "--out", str(tmp_path / "again"),
                                env=_env(api), home=home))
        assert closing_counts(summarise.stderr)[5:7] == (0, chunks), summarise.stderr
        assert api.hits["POST /chat/completions"] == 0
        # a second collect has nothing left to do and writes nothing again
        again = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "0 of 12 files settled, 12 done before" in again.stderr, again.stderr
        assert api.hits["POST /batches"] == len(api.batches)
    assert len(got) == 12
    assert got == _interactive(tmp_path, inputs)
    assert all(doc["achievements"] for data in got.values() for doc in data["documents"])
    runs = run_cli("runs", home=home).stdout
    assert "\tfake-model\t" in runs
    # the key reaches the provider only: not the store, the request files or any output
    kept = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert BATCH_KEY.encode() not in kept and BATCH_KEY not in sub.stderr + col.stderr


def test_html_outputs_and_their_index_are_written_by_collect(tmp_path):
    inputs = tmp_path / "in"
    make_reports(inputs, 3)
    home = tmp_path / "home"
    with FakeBatchAPI() as api:
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
                          "-f", "html", env=_env(api), home=home)).stdout.splitlines()[0]
        _until_final(api, home)
        _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
    pages = sorted(p.name for p in (tmp_path / "out").glob("*.html"))
    assert pages == ["index.html", "r000.html", "r001.html", "r002.html"]
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="r00{i}.html"' in index for i in range(3))


def test_evidence_by_reference_and_the_output_budget_go_through_a_batch_job(tmp_path):
    """--evidence ref and --max-tokens are the job's settings: every request numbers its
    clauses and carries the budget, and collect (a later process) resolves the citations as
    `summarise` does with the same flags."""
    inputs = tmp_path / "in"
    make_reports(inputs, 3)
    home = tmp_path / "home"
    flags = ["--evidence", "ref", "--max-tokens", "900"]
    with FakeBatchAPI() as api:
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, *flags, "--out", str(tmp_path / "out"),
                          env=_env(api), home=home)).stdout.splitlines()[0]
        bodies = [line["body"] for line in api.request_lines()]
        assert bodies and all(b["max_tokens"] == 900 for b in bodies)
        assert all(source_text(b).startswith("[1]") for b in bodies)
        _until_final(api, home)
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "3 of 3 files settled" in col.stderr, col.stderr
    got = _outputs(tmp_path / "out")
    with FakeOpenAI() as server:
        _ok(run_cli("summarise", str(inputs), *MODEL, *flags, "--out", str(tmp_path / "ref"),
                    env=_env(server), home=tmp_path / "ref-home"))
    assert got == _outputs(tmp_path / "ref")
    docs = [doc for data in got.values() for doc in data["documents"]]
    items = [i for doc in docs for s in ("achievements", "measures", "problems", "plans") for i in doc[s]]
    assert items and all(doc["run"]["evidence"] == "ref" for doc in docs)
    # the quotes were filled in from the source, never written by the model
    texts = {p.name: p.read_text(encoding="utf-8") for p in inputs.glob("*.txt")}
    assert all(any(i["evidence"] in t for t in texts.values()) for i in items)


def _hallucinate_first(report: str, always: bool = False):  # noqa: ANN202
    """Faithful answers, except for `report`'s first chunk: a number the source lacks, on the
    first request (or on every one)."""

    def handler(request: dict[str, Any], number: int) -> Reply:
        answer = faithful_answer(source_text(request))
        first_try = len(request["messages"]) == 2
        if report in source_text(request) and (first_try or always):
            for item in answer["achievements"]:
                if "亿元" in item["text"]:
                    item["text"] = item["text"].replace("亿元", "亿元（增长99.9%）", 1)
        return Reply.answer(answer)

    return handler


def test_a_hallucinated_answer_goes_to_a_followup_batch_and_ends_grounded(tmp_path):
    inputs = tmp_path / "in"
    make_reports(inputs, 4)
    home = tmp_path / "home"
    handler = _hallucinate_first("第2街道")
    with FakeBatchAPI(handler=handler) as api:
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
                          env=_env(api), home=home)).stdout.splitlines()[0]
        _until_final(api, home)
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "3 of 4 files settled; 1 files wait for 1 requests in follow-up batches" in col.stderr, col.stderr
        assert not (tmp_path / "out" / "r002.json").exists()
        assert len(api.batches) == 2
        reask = api.request_lines()[-1]["body"]["messages"]
        # the follow-up is instructor's own reask: the bad answer, then the grounding reasons
        assert len(reask) == 4 and "99.9%" in json.dumps(reask, ensure_ascii=False)
        _until_final(api, home)
        col2 = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "1 of 4 files settled, 3 done before" in col2.stderr, col2.stderr
    got = _outputs(tmp_path / "out")
    doc = got["r002.json"]["documents"][0]
    assert doc["achievements"] and not any("99.9%" in i["text"] for i in doc["achievements"])
    assert got == _interactive(tmp_path, inputs, handler)


def test_a_model_still_wrong_after_the_reasks_has_the_item_rejected_with_reasons(tmp_path):
    inputs = tmp_path / "in"
    make_reports(inputs, 2)
    home = tmp_path / "home"
    handler = _hallucinate_first("第1街道", always=True)
    with FakeBatchAPI(handler=handler) as api:
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--max-reasks", "1",
                          "--out", str(tmp_path / "out"), env=_env(api), home=home)).stdout.splitlines()[0]
        for _ in range(2):  # the first answer, then one reask
            _until_final(api, home)
            _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert len(api.batches) == 2
    doc = _normal(tmp_path / "out" / "r001.json")["documents"][0]
    rejected = [r for r in doc["rejected"] if "99.9%" in r["text"]]
    assert rejected and rejected[0]["reasons"]
    assert not any("99.9%" in i["text"] for i in doc["achievements"])


def test_partial_errors_expired_batches_and_unknown_results_are_resubmitted_or_warned(tmp_path):
    inputs = tmp_path / "in"
    paths = make_reports(inputs, 6)
    chunks = _chunks(paths)
    home = tmp_path / "home"
    failing: set[str] = set()

    def error_for(custom_id: str, body: dict[str, Any]) -> str | None:
        if "第4街道" in source_text(body) and custom_id not in failing:
            failing.add(custom_id)  # fails once, answered when sent again
            return "fake upstream error"
        return None

    unknown = {"id": "req-x", "custom_id": "not-ours-123", "error": None,
               "response": {"status_code": 200, "request_id": "r", "body": {}}}
    with FakeBatchAPI(error_for=error_for, extra_results=[unknown]) as api:
        api.fates.extend(["completed", "expired"])
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
                          "--max-requests", str(chunks // 2 + 1), env=_env(api), home=home)).stdout.splitlines()[0]
        assert len(api.batches) == 2
        status = _until_final(api, home)
        assert "expired" in status
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "result for unknown request 'not-ours-123' ignored" in col.stderr
        assert "expired: its unanswered requests are sent again" in col.stderr
        st = _ok(run_cli("batch", "status", job, env=_env(api), home=home)).stdout
        assert "fake upstream error" in st or "submitted" in st
        resent = api.request_lines()[-1]
        first_ids = {x["custom_id"] for x in api.request_lines()[:chunks]}
        assert resent["custom_id"] in first_ids  # the same request again, not a new one
        for _ in range(3):  # an expired request that then errors takes two more rounds
            _until_final(api, home)
            if "wait" not in _ok(run_cli("batch", "collect", job, env=_env(api), home=home)).stderr:
                break
        assert len(list((tmp_path / "out").glob("*.json"))) == 6
        assert len(failing) >= 1
    assert _outputs(tmp_path / "out") == _interactive(tmp_path, inputs)


def test_a_failed_batch_is_sent_again_and_a_request_failing_twice_fails_its_chunk(tmp_path):
    inputs = tmp_path / "in"
    make_reports(inputs, 2)
    home = tmp_path / "home"
    with FakeBatchAPI(error_for=lambda cid, body: "always down" if "第1街道" in source_text(body) else None) as api:
        api.fates.append("failed")
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
                          env=_env(api), home=home)).stdout.splitlines()[0]
        _until_final(api, home)
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "0 of 2 files settled" in col.stderr and len(api.batches) == 2
        _until_final(api, home)
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "1 of 2 files settled" in col.stderr, col.stderr
        failed = _ok(run_cli("batch", "status", job, env=_env(api), home=home)).stdout
        assert "failed\t" in failed and "always down" in failed
        _until_final(api, home)
        col = run_cli("batch", "collect", job, env=_env(api), home=home)
        # sent twice and failed twice: the file fails as an interactive run whose calls fail
        assert col.returncode == 1 and "every chunk failed" in col.stderr and "always down" in col.stderr
        assert len(api.batches) == 3


def test_reask_now_settles_the_reasks_interactively(tmp_path):
    inputs = tmp_path / "in"
    make_reports(inputs, 3)
    home = tmp_path / "home"
    with FakeBatchAPI(handler=_hallucinate_first("第0街道")) as api:
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
                          env=_env(api), home=home)).stdout.splitlines()[0]
        _until_final(api, home)
        col = _ok(run_cli("batch", "collect", job, "--reask-now", env=_env(api), home=home))
        assert "3 of 3 files settled" in col.stderr and "1 model calls" in col.stderr, col.stderr
        assert api.hits["POST /chat/completions"] == 1 and len(api.batches) == 1
    doc = _normal(tmp_path / "out" / "r000.json")["documents"][0]
    assert doc["achievements"] and not doc["rejected"]


def _vllm_results(requests: Path, target: Path, handler=None) -> None:  # noqa: ANN001
    """What `vllm run-batch -i requests -o target` writes, answered as the fake server would."""
    lines = []
    for n, line in enumerate(requests.read_text(encoding="utf-8").splitlines(), 1):
        req = json.loads(line)
        reply = handler(req["body"], n) if handler else Reply.faithful()
        lines.append(json.dumps({
            "id": f"vllm-{n:032x}", "custom_id": req["custom_id"],
            "response": {"status_code": 200, "request_id": f"vllm-batch-{n:032x}",
                         "body": completion(req["body"], reply, n)},
            "error": None}, ensure_ascii=False))
    target.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")


def test_the_vllm_route_writes_a_request_file_and_reads_its_results(tmp_path):
    inputs = tmp_path / "in"
    paths = make_reports(inputs, 5)
    home = tmp_path / "home"
    req = tmp_path / "requests.jsonl"
    handler = _hallucinate_first("第3街道")
    sub = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--write-jsonl", str(req),
                      "--out", str(tmp_path / "out"), home=home))
    job = sub.stdout.splitlines()[0]
    assert len(req.read_text(encoding="utf-8").splitlines()) == _chunks(paths)
    _vllm_results(req, tmp_path / "results.jsonl", handler)
    col = _ok(run_cli("batch", "collect", job, "--from", str(tmp_path / "results.jsonl"), home=home))
    followup = tmp_path / "requests.r1.jsonl"
    assert str(followup) in col.stdout and followup.exists(), col.stderr
    _vllm_results(followup, tmp_path / "results2.jsonl", handler)
    col = _ok(run_cli("batch", "collect", job, "--from", str(tmp_path / "results2.jsonl"), home=home))
    assert "1 of 5 files settled, 4 done before" in col.stderr, col.stderr
    assert _outputs(tmp_path / "out") == _interactive(tmp_path, inputs, handler)


def _popen(*args: str, home: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REPORTSUM_"))}
    e.update(env, REPORTSUM_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "reportsum", *args], cwd=ROOT, env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when_held(api: FakeBatchAPI, route: str, proc: subprocess.Popen[str]) -> None:
    import threading

    api.hold[route] = threading.Event()
    try:
        wait_for(lambda: route in api.held or proc.poll() is not None, 60, f"{route} to be reached")
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        api.hold.pop(route).set()
        api.held.discard(route)


@pytest.mark.slow
def test_killed_submit_and_collect_recover_without_a_second_upload_or_charge(tmp_path):
    inputs = tmp_path / "in"
    paths = make_reports(inputs, 8)
    chunks = _chunks(paths)
    home = tmp_path / "home"
    args = ["batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
            "--max-requests", str(chunks // 2 + 1)]
    with FakeBatchAPI() as api:
        # killed after the upload is done but before the client heard of it
        proc = _popen(*args, home=home, env=_env(api))
        _kill_when_held(api, "POST /files", proc)
        # killed after the first batch is created but before the client heard of it
        proc = _popen(*args, home=home, env=_env(api))
        _kill_when_held(api, "POST /batches", proc)
        sub = _ok(run_cli(*args, env=_env(api), home=home))
        job = sub.stdout.splitlines()[0]
        assert api.hits["POST /files"] == 2, api.hits  # two request files, each uploaded once
        assert len(api.batches) == 2 and len(api.request_lines()) == chunks
        assert set(api.batches) <= set(sub.stdout.split())
        _until_final(api, home)
        outputs = [b["output_file_id"] for b in api.batches.values()]
        # killed while downloading the second batch's results
        proc = _popen("batch", "collect", job, home=home, env=_env(api))
        _kill_when_held(api, f"content {outputs[1]}", proc)
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "8 of 8 files settled" in col.stderr, col.stderr
        assert api.hits[f"content {outputs[0]}"] == 1  # results already read are kept
        assert api.answered == chunks and len(api.batches) == 2  # nothing paid twice
    assert _outputs(tmp_path / "out") == _interactive(tmp_path, inputs)


@pytest.mark.slow
def test_a_collect_killed_while_writing_outputs_resumes_without_rewriting_them(tmp_path):
    inputs = tmp_path / "in"
    make_reports(inputs, 6)
    home = tmp_path / "home"
    out = tmp_path / "out"
    with FakeBatchAPI(handler=_hallucinate_first("第5街道")) as api:
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(out),
                          env=_env(api), home=home)).stdout.splitlines()[0]
        _until_final(api, home)
        # r005's reask hangs on the endpoint; the five other files are written meanwhile
        proc = _popen("batch", "collect", job, "--reask-now", home=home, env=_env(api))
        import threading

        api.hold["POST /chat/completions"] = threading.Event()
        try:
            wait_for(lambda: len(list(out.glob("*.json"))) == 5 or proc.poll() is not None, 60,
                     "five outputs")
            wait_for(lambda: "POST /chat/completions" in api.held, 30, "the reask")
            assert proc.poll() is None, proc.communicate()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            api.hold.pop("POST /chat/completions").set()
        written = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
        col = _ok(run_cli("batch", "collect", job, "--reask-now", env=_env(api), home=home))
        assert "1 of 6 files settled, 5 done before" in col.stderr, col.stderr
        assert all((out / name).stat().st_mtime_ns == t for name, t in written.items())
        assert api.hits["POST /chat/completions"] == 2 and len(api.batches) == 1
    assert _outputs(out) == _interactive(tmp_path, inputs, _hallucinate_first("第5街道"))


def test_a_cancelled_batch_is_sent_again_by_collect(tmp_path):
    inputs = tmp_path / "in"
    make_reports(inputs, 2)
    home = tmp_path / "home"
    with FakeBatchAPI() as api:
        job = _ok(run_cli("batch", "submit", str(inputs), *MODEL, "--out", str(tmp_path / "out"),
                          env=_env(api), home=home)).stdout.splitlines()[0]
        cancelled = _ok(run_cli("batch", "cancel", job, env=_env(api), home=home))
        assert "batch-1\tcancelled" in cancelled.stdout, cancelled.stdout
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "0 of 2 files settled" in col.stderr and len(api.batches) == 2, col.stderr
        _until_final(api, home)
        col = _ok(run_cli("batch", "collect", job, env=_env(api), home=home))
        assert "2 of 2 files settled" in col.stderr, col.stderr
    assert len(list((tmp_path / "out").glob("*.json"))) == 2


def test_bad_inputs_and_unknown_jobs_are_one_line_errors_and_collect_prints_without_out(tmp_path):
    home = tmp_path / "home"
    none = run_cli("batch", "status", home=home)
    assert none.returncode == 2 and "no batch job in the store" in none.stderr
    assert "Traceback" not in none.stderr
    inputs = tmp_path / "in"
    make_reports(inputs, 2)
    (inputs / "broken.docx").write_bytes(b"\x00\x01 not a docx")
    req = tmp_path / "requests.jsonl"
    sub = run_cli("batch", "submit", str(inputs), *MODEL, "--write-jsonl", str(req), home=home)
    # the unreadable file is named and the run exits 1; the others are in the request file
    assert sub.returncode == 1 and "broken.docx" in sub.stderr and "Traceback" not in sub.stderr
    assert len(req.read_text(encoding="utf-8").splitlines()) == _chunks(sorted(inputs.glob("*.txt")))
    unknown = run_cli("batch", "collect", "job-nope", home=home)
    assert unknown.returncode == 2 and "no batch job 'job-nope'" in unknown.stderr
    _vllm_results(req, tmp_path / "results.jsonl")
    col = _ok(run_cli("batch", "collect", "--from", str(tmp_path / "results.jsonl"), home=home))
    printed, text, decoder = [], col.stdout.strip(), json.JSONDecoder()
    while text:  # one JSON document per file, one after the other
        doc, end = decoder.raw_decode(text)
        printed.append(doc)
        text = text[end:].strip()
    assert sorted(Path(p["source"]).name for p in printed) == ["r000.txt", "r001.txt"]


# ---------------------------------------------------------------- the format, without a server


def test_request_lines_carry_the_url_of_the_providers_version_segment():
    from reportsum.engines.batchapi import endpoint_for

    assert endpoint_for("https://api.openai.com/v1") == "/v1/chat/completions"
    assert endpoint_for("https://dashscope.aliyuncs.com/compatible-mode/v1") == "/v1/chat/completions"
    assert endpoint_for("https://open.bigmodel.cn/api/paas/v4/") == "/v4/chat/completions"
    assert endpoint_for(None) == "/v1/chat/completions"


def test_request_files_are_split_within_the_request_and_byte_limits():
    from reportsum.engines.batchapi import request_line, split_files

    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "报告" * 50}]},
                      ensure_ascii=False, separators=(",", ":")).encode()
    line = request_line("id-0", "/v1/chat/completions", body)
    assert json.loads(line) == {"custom_id": "id-0", "method": "POST", "url": "/v1/chat/completions",
                                "body": json.loads(body)}
    size = len(line)
    assert list(split_files([size] * 10, max_requests=4, max_bytes=10**9)) == [0] * 4 + [1] * 4 + [2] * 2
    assert list(split_files([size] * 10, max_requests=100, max_bytes=3 * size + 1)) == \
        [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    # a line over the byte limit goes alone into a file of its own
    assert list(split_files([10, 500, 10], max_requests=100, max_bytes=100)) == [0, 1, 2]


def test_result_lines_of_every_kind_are_read():
    from reportsum.engines.batchapi import parse_results

    ok = {"id": "1", "custom_id": "a", "response": {"status_code": 200, "request_id": "r",
                                                    "body": {"choices": []}}, "error": None}
    http_error = {"id": "2", "custom_id": "b", "response": {"status_code": 500, "body": {
        "error": {"message": "upstream down"}}}, "error": None}
    expired = {"id": "3", "custom_id": "c", "response": None,
               "error": {"code": "batch_expired", "message": "not run in time"}}
    got = list(parse_results([json.dumps(x) for x in (ok, http_error, expired)] + ["", "{not json"]))
    a, b, c, bad = got
    assert a.ok and json.loads(a.body) == {"choices": []}
    assert not b.ok and b.status == 500 and "upstream down" in b.error and not b.unsent
    assert not c.ok and c.unsent and c.error == "not run in time"
    assert bad == "result line 5: not a result line, ignored"
