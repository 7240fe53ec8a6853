"""Batches through the real CLI: per-file progress lines, resuming after kill -9, skip rules."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from fakeserver import Reply, source_text
from helpers import (
    BATCH_KEY,
    ROOT,
    cli_env,
    closing_counts,
    make_reports,
    outputs_by_stem,
    report_text,
    run_cli,
    wait_for,
)

from reportsum.models import SECTIONS, FileSummary
from reportsum.runs.resume import LOG_NAME
from reportsum.stages.chunk import chunk
from reportsum.stages.clean import clean
from reportsum.stages.split import split

LINE = re.compile(r"^\[(\d+)/(\d+)\] (.+?): (?:(\d+) documents, (\d+) items, (\d+) rejected|failed: (.+))$")


def _chunk_texts(path: Path, chars: int) -> list[str]:
    parts = split(clean(path.read_text(encoding="utf-8")).text)
    return [c.text for p in parts for c in chunk(p.text.text, max_chars=chars)]


def test_plain_line_per_file_when_stderr_is_a_pipe(tmp_path):
    files = make_reports(tmp_path / "in", 2)
    bad = tmp_path / "in" / "r900.txt"
    bad.write_bytes(b"\x00\x01binary\xff\x00" * 40)
    out = tmp_path / "out"
    proc = run_cli("summarise", str(tmp_path / "in"), "--out", str(out), home=tmp_path, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "\x1b[" not in proc.stderr, "no terminal control codes when stderr is a pipe"
    lines = [m for m in map(LINE.match, proc.stderr.splitlines()) if m]
    assert sorted(int(m.group(1)) for m in lines) == [1, 2, 3]
    assert {m.group(2) for m in lines} == {"3"}
    by_name = {Path(m.group(3)).name: m for m in lines}
    assert set(by_name) == {"r000.txt", "r001.txt", "r900.txt"}
    # One line per failure, naming the file once: its path, then the reason alone.
    assert by_name["r900.txt"].group(7) == "binary file, not text"
    for f in files:
        m = by_name[f.name]
        fs = FileSummary.model_validate_json(outputs_by_stem(out)[f.stem].read_text(encoding="utf-8"))
        items = sum(len(d.section(s)) for d in fs.documents for s in SECTIONS)
        assert (int(m.group(4)), int(m.group(5)), int(m.group(6))) == (
            len(fs.documents), items, sum(len(d.rejected) for d in fs.documents))
        assert items > 0
    assert closing_counts(proc.stderr)[:4] == (2, 3, 2, 1)


def test_killed_batch_resumes_skipping_done_files_and_pays_no_call_twice(tmp_path, fake_openai):
    files = make_reports(tmp_path / "in", 30)
    for i, f in enumerate(files):
        # Two reports' worth of text, so that each file is more than one 200-character chunk.
        f.write_text(report_text(i) + report_text(i + 1000), encoding="utf-8")
    per_file = [_chunk_texts(f, 200) for f in files]
    chunk_texts = [t for texts in per_file for t in texts]
    assert len(set(chunk_texts)) == len(chunk_texts) > len(files)
    # One early file gets its first chunk answered and its last one held: it is unwritten at
    # the kill, and its answered chunk must come from the cache afterwards.
    half_done = next(texts for texts in per_file[2:] if len(texts) > 1)
    hold_after = len(chunk_texts) // 2
    release = threading.Event()
    answered: list[str] = []

    def first_run(request, number):
        # Answer about half, then hold every request: the process is killed while two calls
        # are in flight, which no client can get back, and nothing is answered twice.
        if number > hold_after or source_text(request) == half_done[-1]:
            release.wait(timeout=30)
            return Reply.close()
        answered.append(source_text(request))
        return Reply.faithful(delay=0.05)

    fake_openai.handler = first_run
    out = tmp_path / "out"
    args = ["summarise", str(tmp_path / "in"), "--out", str(out), "--base-url", fake_openai.base_url,
            "--api-key", BATCH_KEY, "--model", "fake-model", "--concurrency", "2", "--chunk-chars", "200",
            "--retries", "0"]
    with open(tmp_path / "first.err", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "reportsum", *args], stdout=subprocess.DEVNULL,
                                stderr=err, env=cli_env(tmp_path), cwd=ROOT)
        try:
            wait_for(lambda: fake_openai.calls >= hold_after + 1 and outputs_by_stem(out), 20,
                      "outputs and held calls")
            time.sleep(0.5)  # answers already received reach the cache and their files
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
            release.set()
    done_before = outputs_by_stem(out)
    assert 0 < len(done_before) < len(files)
    for p in done_before.values():
        assert FileSummary.model_validate_json(p.read_text(encoding="utf-8")).documents
    chunks_done_before = sum(len(_chunk_texts(f, 200)) for f in files if f.stem in done_before)

    again: list[str] = []

    def second_run(request, number):
        again.append(source_text(request))
        return Reply.faithful()

    fake_openai.handler = second_run
    proc2 = run_cli(*args, home=tmp_path, timeout=60)
    assert proc2.returncode == 0, proc2.stderr
    assert f"{len(done_before)} of {len(files)} files already done" in proc2.stderr
    ok, total, _, failed, skipped, calls, hits = closing_counts(proc2.stderr)
    assert (ok, total, failed, skipped) == (len(files) - len(done_before), len(files), 0, len(done_before))
    outputs = outputs_by_stem(out)
    assert set(outputs) == {f.stem for f in files}
    for f in files:
        fs = FileSummary.model_validate_json(outputs[f.stem].read_text(encoding="utf-8"))
        assert fs.documents[0].achievements, f.name
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    # Nothing paid twice: every chunk was answered exactly once across both runs; the
    # answers of the first run whose files were not yet written came from the cache.
    assert sorted(answered + again) == sorted(chunk_texts)
    assert calls == len(again)
    assert hits == len(answered) - chunks_done_before >= len(half_done) - 1
    print(f"chunks={len(chunk_texts)} answered before kill={len(answered)} files done before kill="
          f"{len(done_before)} second run: calls={calls} cache hits={hits}")


def test_changed_input_or_settings_are_redone_and_unchanged_inputs_skipped(tmp_path):
    files = make_reports(tmp_path / "in", 3)
    out = tmp_path / "out"
    args = ["summarise", str(tmp_path / "in"), "--out", str(out)]
    first = run_cli(*args, home=tmp_path, timeout=60)
    assert first.returncode == 0, first.stderr
    before = {k: p.stat().st_mtime_ns for k, p in outputs_by_stem(out).items()}
    assert (out / LOG_NAME).exists()

    changed = files[1]
    changed.write_text(report_text(1) + "明年力争新增就业岗位880个。\n", encoding="utf-8")
    second = run_cli(*args, home=tmp_path, timeout=60)
    assert second.returncode == 0, second.stderr
    assert closing_counts(second.stderr)[:5] == (1, 3, 1, 0, 2)
    assert [Path(m.group(3)).name for m in map(LINE.match, second.stderr.splitlines()) if m] == [changed.name]
    after = {k: p.stat().st_mtime_ns for k, p in outputs_by_stem(out).items()}
    assert after[files[0].stem] == before[files[0].stem] and after[files[2].stem] == before[files[2].stem]
    redone = json.loads(outputs_by_stem(out)[changed.stem].read_text(encoding="utf-8"))
    assert redone["documents"][0]["document"]["sha256"] == hashlib.sha256(changed.read_bytes()).hexdigest()
    assert "880" in json.dumps(redone, ensure_ascii=False)

    # An output edited (or truncated) by hand no longer counts as done.
    outputs_by_stem(out)[files[0].stem].write_text("{}", encoding="utf-8")
    third = run_cli(*args, home=tmp_path, timeout=60)
    assert closing_counts(third.stderr)[:5] == (1, 3, 1, 0, 2), third.stderr
    assert FileSummary.model_validate_json(outputs_by_stem(out)[files[0].stem].read_text(encoding="utf-8"))

    nothing = run_cli(*args, home=tmp_path, timeout=60)
    assert nothing.returncode == 0 and "nothing to do" in nothing.stderr and "3 skipped (done)" in nothing.stderr

    other_settings = run_cli(*args, "--chunk-chars", "600", home=tmp_path, timeout=60)
    assert other_settings.returncode == 0
    assert closing_counts(other_settings.stderr)[:5] == (3, 3, 3, 0, 0), other_settings.stderr


def test_no_resume_redoes_every_file(tmp_path):
    make_reports(tmp_path / "in", 3)
    out = tmp_path / "out"
    args = ["summarise", str(tmp_path / "in"), "--out", str(out), "--format", "md"]
    assert run_cli(*args, home=tmp_path, timeout=60).returncode == 0
    resumed = run_cli(*args, home=tmp_path, timeout=60)
    assert "nothing to do" in resumed.stderr, resumed.stderr
    before = {k: p.stat().st_mtime_ns for k, p in outputs_by_stem(out, ".md").items()}
    for flag in ("--no-resume", "--force"):
        proc = run_cli(*args, flag, home=tmp_path, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "skipped" not in proc.stderr
        assert closing_counts(proc.stderr)[:4] == (3, 3, 3, 0)
        after = {k: p.stat().st_mtime_ns for k, p in outputs_by_stem(out, ".md").items()}
        assert all(after[k] > before[k] for k in before)
        before = after
    assert "nothing to do" in run_cli(*args, home=tmp_path, timeout=60).stderr


def test_input_vanishing_mid_batch_is_a_named_failure_and_the_rest_are_done(tmp_path, fake_openai):
    files = make_reports(tmp_path / "in", 12)
    doomed = files[-1]

    def delete_last(request, number):
        # Files are read as their turn comes (a bounded number in flight), so the last one
        # is still unread when the first model call arrives.
        doomed.unlink(missing_ok=True)
        return Reply.faithful()

    fake_openai.handler = delete_last
    out = tmp_path / "out"
    proc = run_cli("summarise", str(tmp_path / "in"), "--out", str(out), "--base-url", fake_openai.base_url,
                   "--api-key", BATCH_KEY, "--model", "fake-model", "--concurrency", "2", home=tmp_path, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    failed = [m for m in map(LINE.match, proc.stderr.splitlines()) if m and m.group(7)]
    assert len(failed) == 1 and Path(failed[0].group(3)).name == doomed.name
    assert doomed.name not in failed[0].group(7)  # named once, at the start of the line
    assert failed[0].group(7).startswith("cannot read file")
    assert set(outputs_by_stem(out)) == {f.stem for f in files[:-1]}
    assert closing_counts(proc.stderr)[:4] == (11, 12, 11, 1)


def test_live_display_on_a_terminal(tmp_path):
    make_reports(tmp_path / "in", 3)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "reportsum", "summarise", str(tmp_path / "in"), "--out",
                             str(tmp_path / "out")], stdout=subprocess.DEVNULL, stderr=slave,
                            env={**cli_env(tmp_path), "TERM": "xterm", "COLUMNS": "120"}, cwd=ROOT)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the terminal closes when the process ends
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    assert proc.wait(timeout=60) == 0
    reader.join(timeout=10)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "summarising" in screen and "3/3" in screen and "model calls" in screen
    assert not re.search(r"^\[\d+/3\]", screen, re.M), "no plain log lines on a terminal"
    assert closing_counts(screen)[:4] == (3, 3, 3, 0)
