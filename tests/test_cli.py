"""End-to-end: the real CLI in a subprocess, offline (rules backend)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from helpers import EXAMPLES, assert_evidence_at_span, run_cli, seed, seed_files

from reportsum.models import SECTIONS, FileSummary


def _no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr


def test_summarise_all_seeds_offline_to_json(tmp_path):
    files = seed_files()
    proc = run_cli("summarise", *map(str, files), "--out", str(tmp_path / "out"), home=tmp_path)
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert "offline rules backend" in proc.stderr
    outputs = sorted((tmp_path / "out").glob("*.json"))
    assert [p.stem for p in outputs] == [f.stem for f in files]
    for p in outputs:
        fs = FileSummary.model_validate_json(p.read_text(encoding="utf-8"))
        assert fs.documents, p
        for doc in fs.documents:
            if p.name.startswith("004") and doc.document.index == 2:
                assert doc.plans  # 第三篇 is a plan, not a summary: it has no achievements
            else:
                assert doc.achievements, (p.name, doc.document.index)
            raw = open(fs.source, encoding="utf-8").read()
            for name in SECTIONS:
                for item in doc.section(name):
                    assert_evidence_at_span(raw, item)
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_seed_004_gives_five_documents(tmp_path):
    proc = run_cli("summarise", str(seed("004")), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fs = FileSummary.model_validate_json(proc.stdout)
    assert [d.document.index for d in fs.documents] == [0, 1, 2, 3, 4]
    assert fs.documents[2].plans and fs.documents[3].problems


def test_jsonl_has_one_document_per_line(tmp_path):
    proc = run_cli("summarise", str(seed("004")), "--format", "jsonl", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5
    assert all(json.loads(line)["document"]["index"] == i for i, line in enumerate(lines))


def test_markdown_of_the_bundled_example(tmp_path):
    proc = run_cli("summarise", str(EXAMPLES), "--format", "md", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for label in ("成效", "措施", "问题", "打算"):
        assert f"## {label}" in proc.stdout


def test_one_bad_file_does_not_lose_the_batch(tmp_path):
    good = seed("000")
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\x00\x01\x02\xff\xfe\x00binary\x00" * 50)
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("summarise", str(good), str(bad), str(empty), "--out", str(out), home=tmp_path)
    _no_traceback(proc)
    assert proc.returncode == 1
    assert "broken.txt" in proc.stderr and "empty.txt" in proc.stderr
    # Outputs mirror the inputs relative to their common folder.
    common = Path(os.path.commonpath([good.resolve(), bad.resolve()]))
    assert (out / good.resolve().parent.relative_to(common) / f"{good.stem}.json").exists()
    assert not list(out.rglob("broken.json"))


def test_usage_errors_exit_2_without_traceback(tmp_path):
    for args in (
        ("summarise", str(tmp_path / "missing.txt")),
        ("summarise", str(seed("000")), "--format", "xml"),
        ("summarise", str(seed("000")), "--backend", "magic"),
        ("summarise",),
    ):
        proc = run_cli(*args, home=tmp_path)
        _no_traceback(proc)
        assert proc.returncode == 2, (args, proc.stderr)


def test_help_explains_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in ("summarise", "verify", "prompts", "runs", "show", "regenerate", "diff"):
        assert cmd in proc.stdout


def test_runs_show_and_diff_of_offline_runs(tmp_path):
    src = str(seed("004"))
    first = run_cli("summarise", src, home=tmp_path)
    second = run_cli("summarise", src, "--chunk-chars", "600", home=tmp_path)
    assert first.returncode == second.returncode == 0
    runs = run_cli("runs", home=tmp_path)
    assert runs.returncode == 0
    lines = runs.stdout.splitlines()
    assert lines[0].startswith("id\t") and len(lines) == 3
    newest, oldest = lines[1].split("\t")[0], lines[2].split("\t")[0]
    assert lines[1].split("\t")[5] == "5"  # documents
    show = run_cli("show", newest, "--format", "json", home=tmp_path)
    assert show.returncode == 0
    assert len(FileSummary.model_validate_json(show.stdout).documents) == 5
    diff = run_cli("diff", oldest, newest, "--json", home=tmp_path)
    assert diff.returncode == 0
    assert len(json.loads(diff.stdout)) == 5
    missing = run_cli("show", "no-such-run", home=tmp_path)
    assert missing.returncode == 2 and "no run" in missing.stderr


def test_verify_accepts_own_output_and_catches_a_tampered_number(tmp_path):
    src = seed("000")
    proc = run_cli("summarise", str(src), home=tmp_path)
    assert proc.returncode == 0
    summary = tmp_path / "s.json"
    summary.write_text(proc.stdout, encoding="utf-8")
    ok = run_cli("verify", str(src), str(summary), home=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    tampered = tmp_path / "t.md"
    tampered.write_text("- 高新技术产业投入达10.96亿元\n- 增长了32.3%\n", encoding="utf-8")
    bad = run_cli("verify", str(src), str(tampered), "--json", home=tmp_path)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert "10.96" in json.dumps(report, ensure_ascii=False)
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    assert run_cli("verify", str(src), str(junk), home=tmp_path).returncode == 2
