"""Batches spread over worker processes (reportsum.runs.workers), through the real CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakeserver import Reply
from helpers import (
    BATCH_KEY,
    ROOT,
    cli_env,
    closing_counts,
    make_reports,
    outputs_by_stem,
    run_cli,
    wait_for,
)

from reportsum.models import FileSummary
from reportsum.pipeline import Settings
from reportsum.runs.store import Store
from reportsum.runs.workers import can_fork, resolve_workers, split_concurrency

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need Linux fork")


def _model_args(server, *extra: str) -> list[str]:  # noqa: ANN001 - a FakeOpenAI
    return ["--base-url", server.base_url, "--api-key", BATCH_KEY, "--model", "fake-model",
            "--retries", "0", *extra]


def _children(pid: int) -> list[int]:
    """Process ids of `pid`'s children (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(x) for x in text)
    return found


def _gone_or_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _comparable(path: Path, run_id: str) -> dict:
    """A JSON output without what differs between two runs (the run id, checked here)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for doc in data["documents"]:
        assert doc["run"].pop("run_id") == run_id, path
    return data


def _run_id(stderr: str) -> str:
    m = re.search(r"reportsum: run (\S+):", stderr)
    assert m, stderr
    return m.group(1)


def test_workers_policy():
    rules, model = Settings(backend="rules", concurrency=4), Settings(backend="openai", concurrency=2)
    assert resolve_workers(3, 100, rules) == 3
    assert resolve_workers(8, 5, rules) == 5, "never more workers than files"
    assert resolve_workers(4, 100, model) == 2, "never more workers than concurrent calls"
    assert resolve_workers(None, 7, rules) == 1, "a few files run in this process"
    assert 1 <= resolve_workers(None, 100, rules) <= 4
    with pytest.raises(ValueError):
        resolve_workers(0, 10, rules)
    assert split_concurrency(16, 3) == [6, 5, 5]
    assert split_concurrency(4, 4) == [1, 1, 1, 1]


def test_offline_batch_in_workers_writes_what_one_process_writes(tmp_path):
    make_reports(tmp_path / "in", 12)
    one, many = tmp_path / "one", tmp_path / "many"
    p1 = run_cli("summarise", str(tmp_path / "in"), "--out", str(one), "--workers", "1", home=tmp_path)
    p3 = run_cli("summarise", str(tmp_path / "in"), "--out", str(many), "--workers", "3", home=tmp_path)
    assert p1.returncode == 0 and p3.returncode == 0, (p1.stderr, p3.stderr)
    assert "Traceback" not in p3.stderr
    a, b = outputs_by_stem(one), outputs_by_stem(many)
    assert set(a) == set(b) and len(a) == 12
    for name in a:
        assert _comparable(a[name], _run_id(p1.stderr)) == _comparable(b[name], _run_id(p3.stderr)), name
        assert FileSummary.model_validate_json(b[name].read_text(encoding="utf-8")).documents[0].achievements
    assert closing_counts(p3.stderr)[:4] == (12, 12, 12, 0)
    assert len(p3.stderr.splitlines()) >= 12, "a progress line per file from the parent"


def test_model_batch_in_workers_shares_one_pool_and_records_every_call(tmp_path, fake_openai):
    fake_openai.handler = lambda request, number: Reply.faithful(delay=0.05)
    make_reports(tmp_path / "in", 12)
    out = tmp_path / "out"
    args = ["summarise", str(tmp_path / "in"), "--out", str(out), *_model_args(fake_openai),
            "--concurrency", "4", "--workers", "3", "--chunk-chars", "200"]
    proc = run_cli(*args, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    calls = fake_openai.calls
    assert fake_openai.peak_in_flight == 4, "the run's concurrency, shared by the workers, and no more"
    ok, total, _, failed, _, reported_calls, hits = closing_counts(proc.stderr)
    assert (ok, total, failed, reported_calls, hits) == (12, 12, 0, calls, 0)
    with Store(tmp_path / "reportsum.db") as store:
        run = store.runs(1)[0]
        assert len(store.calls(run.id)) == calls, "every worker's calls are in the run"
        assert run.documents == 12
    # The cache the workers filled (through the parent) answers everything the second time.
    again = run_cli(*args, "--no-resume", home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert fake_openai.calls == calls
    assert closing_counts(again.stderr)[5:] == (0, calls)


def test_a_worker_killed_mid_batch_fails_only_the_files_it_had(tmp_path, fake_openai):
    fake_openai.handler = lambda request, number: Reply.faithful(delay=1.0)
    files = make_reports(tmp_path / "in", 10)
    out = tmp_path / "out"
    args = ["summarise", str(tmp_path / "in"), "--out", str(out), *_model_args(fake_openai),
            "--concurrency", "4", "--workers", "2"]
    with open(tmp_path / "err", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "reportsum", *args], stdout=subprocess.DEVNULL,
                                stderr=err, env=cli_env(tmp_path), cwd=ROOT)
        try:
            wait_for(lambda: fake_openai.calls >= 2, 30, "the workers' first calls")
            workers = _children(proc.pid)
            assert len(workers) == 2, workers
            os.kill(workers[0], signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    stderr = (tmp_path / "err").read_text()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    ok, total, _, failed, _, _, _ = closing_counts(stderr)
    assert total == len(files) and ok + failed == total and ok >= 1 and failed >= 1, stderr
    assert stderr.count("worker process died") == failed, stderr
    written = outputs_by_stem(out)
    assert len(written) == ok
    for p in written.values():
        assert FileSummary.model_validate_json(p.read_text(encoding="utf-8")).documents[0].achievements
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_workers_die_with_a_killed_parent(tmp_path, fake_openai):
    fake_openai.handler = lambda request, number: Reply.faithful(delay=5.0)
    make_reports(tmp_path / "in", 10)
    args = ["summarise", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
            *_model_args(fake_openai), "--concurrency", "4", "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "reportsum", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=cli_env(tmp_path), cwd=ROOT)
    try:
        wait_for(lambda: fake_openai.calls >= 2, 30, "the workers' first calls")
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not all(_gone_or_zombie(w) for w in workers):
            assert time.monotonic() < deadline, "workers outlived their parent"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
