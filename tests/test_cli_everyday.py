"""The everyday CLI through the real command (issue 18), and every input accounted for with
outputs that never collide (issue 11, points 5-7). Offline: the rules backend."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, closing_counts, make_reports, report_text, run_cli, seed

from reportsum.models import SECTIONS, FileSummary
from reportsum.pipeline import CUT_WARNING, ITEM_MAX_CHARS
from reportsum.stages.ingest import SUPPORTED

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr


def _unsupported_suffixes(n: int) -> list[str]:
    # Suffixes no reader claims, whatever readers are added later.
    return [s for s in (".xls", ".zip", ".bin", ".xyz", ".numbers") if s not in SUPPORTED][:n]


def _unreadable_file(path: Path) -> Path:
    """A file that exists and cannot be read, also when the tests run as root."""
    if IS_ROOT:
        path.symlink_to("/proc/self/mem")  # open works, read fails with EIO
    else:
        path.write_text(report_text(7), encoding="utf-8")
        path.chmod(0)
    return path


# ------------------------------------------------------------ issue 11.5: every input accounted for

def test_every_entry_of_a_folder_is_summarised_or_named_with_its_reason(tmp_path):
    rep = tmp_path / "rep"
    make_reports(rep, 2)
    bad1, bad2 = _unsupported_suffixes(2)
    (rep / f"scan{bad1}").write_bytes(b"x")
    (rep / "sub").mkdir()
    (rep / "sub" / f"old{bad2}").write_bytes(b"x")
    (rep / "dangling.txt").symlink_to(rep / "gone.txt")
    (rep / "self").symlink_to(rep / "self")  # a link to itself: ELOOP
    (rep / "sub" / "up").symlink_to(rep)  # a folder linking back above itself
    (rep / ".hidden.txt").write_text(report_text(9), encoding="utf-8")
    locked = rep / "locked"
    locked.mkdir()
    (locked / "z.txt").write_text(report_text(5), encoding="utf-8")
    locked.chmod(0)
    try:
        proc = run_cli("summarise", str(rep), "-o", str(tmp_path / "out"), home=tmp_path)
    finally:
        locked.chmod(0o755)
    _ok(proc)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()

    def named(path: Path, reason: str) -> bool:
        return any(line.startswith(f"reportsum: {path}: skipped: {reason}") for line in lines)

    assert named(rep / f"scan{bad1}", f"unsupported file type '{bad1}'")
    assert named(rep / "sub" / f"old{bad2}", f"unsupported file type '{bad2}'")
    assert named(rep / "dangling.txt", "broken link")
    assert named(rep / "self", "symlink loop")
    assert named(rep / "sub" / "up", "symlink loop")
    skipped = 5
    if not IS_ROOT:  # root reads any folder
        assert named(locked, "unreadable folder")
        skipped += 1
    assert not any(".hidden" in line for line in lines)
    counts = closing_counts(proc.stderr)
    assert counts[:4] == (2 + IS_ROOT, 2 + IS_ROOT + skipped, 2 + IS_ROOT, 0)
    assert f"0 failed, {skipped} skipped;" in proc.stderr


def test_a_folder_of_unsupported_files_names_them_and_exits_2(tmp_path):
    rep = tmp_path / "rep"
    rep.mkdir()
    for suffix in _unsupported_suffixes(2):
        (rep / f"a{suffix}").write_bytes(b"x")
    proc = run_cli("summarise", str(rep), home=tmp_path)
    _ok(proc)
    assert proc.returncode == 2
    for suffix in _unsupported_suffixes(2):
        assert f"{rep / ('a' + suffix)}: skipped: unsupported file type" in proc.stderr
    assert "no input files to summarise: 2 skipped" in proc.stderr
    assert "no input files found" not in proc.stderr


def test_an_unreadable_file_given_by_name_is_one_failed_input(tmp_path):
    good = make_reports(tmp_path / "in", 2)
    bad = _unreadable_file(tmp_path / "in" / "secret.txt")
    proc = run_cli("summarise", str(good[0]), str(bad), str(good[1]), "-o", str(tmp_path / "out"), home=tmp_path)
    _ok(proc)
    assert proc.returncode == 1
    fails = [line for line in proc.stderr.splitlines() if ": failed: " in line]
    assert len(fails) == 1 and "secret.txt: failed: cannot read file" in fails[0], proc.stderr
    assert closing_counts(proc.stderr)[:4] == (2, 3, 2, 1)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json")) == ["r000.json", "r001.json"]


def test_the_output_folder_inside_the_input_folder_is_never_read(tmp_path):
    rep = tmp_path / "rep"
    make_reports(rep, 2)
    (rep / "summaries").mkdir()
    (rep / "summaries" / "stray.txt").write_text(report_text(4), encoding="utf-8")
    for fmt in ("md", "md", "json"):
        proc = run_cli("summarise", str(rep), "-o", str(rep / "summaries"), "-f", fmt, "--no-resume",
                       home=tmp_path)
        _ok(proc)
        assert proc.returncode == 0, proc.stderr
        assert closing_counts(proc.stderr)[:2] == (2, 2)
    written = sorted(p.relative_to(rep / "summaries").as_posix()
                     for p in (rep / "summaries").rglob("*") if p.is_file() and not p.name.startswith("."))
    assert written == ["r000.json", "r000.md", "r001.json", "r001.md", "stray.txt"]


# ------------------------------------------------------------ issue 11.6: outputs never collide

def test_same_named_inputs_in_two_folders_get_two_outputs(tmp_path):
    a, b = tmp_path / "a" / "x.txt", tmp_path / "b" / "x.txt"
    for i, p in enumerate((a, b)):
        p.parent.mkdir()
        p.write_text(report_text(i), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("summarise", str(a), str(b), "-o", str(out), home=tmp_path)
    _ok(proc)
    assert proc.returncode == 0, proc.stderr
    for p in (a, b):
        target = out / p.parent.name / "x.json"
        assert FileSummary.model_validate_json(target.read_text(encoding="utf-8")).source == str(p)
    # The same through two folders given.
    proc = run_cli("summarise", str(a.parent), str(b.parent), "-o", str(tmp_path / "out2"), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.relative_to(tmp_path / "out2").as_posix()
                  for p in (tmp_path / "out2").rglob("*.json")) == ["a/x.json", "b/x.json"]


def test_inputs_that_would_share_an_output_stop_the_run_before_anything_is_written(tmp_path):
    rep = tmp_path / "rep"
    rep.mkdir()
    for name in ("x.txt", "x.md", "x.txt.md"):  # x.txt.json twice: x.txt (kept suffix) and x.txt.md
        (rep / name).write_text(report_text(1), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("summarise", str(rep), "-o", str(out), home=tmp_path)
    _ok(proc)
    assert proc.returncode == 2
    assert f"{rep / 'x.txt'} and {rep / 'x.txt.md'} would both be written to x.txt.json" in proc.stderr
    assert not out.exists()


def test_regenerate_names_outputs_as_summarise_does_with_an_index(tmp_path):
    a, b = tmp_path / "a" / "x.txt", tmp_path / "b" / "x.txt"
    for i, p in enumerate((a, b)):
        p.parent.mkdir()
        p.write_text(report_text(i), encoding="utf-8")
    first = run_cli("summarise", str(a), str(b), "-o", str(tmp_path / "s"), "-f", "html", home=tmp_path)
    assert first.returncode == 0, first.stderr
    regen = run_cli("regenerate", "last", "-o", str(tmp_path / "r"), "-f", "html", home=tmp_path)
    _ok(regen)
    assert regen.returncode == 0, regen.stderr
    pages = sorted(p.relative_to(tmp_path / "r").as_posix() for p in (tmp_path / "r").rglob("*.html"))
    assert pages == ["a/x.html", "b/x.html", "index.html"]
    assert pages == sorted(p.relative_to(tmp_path / "s").as_posix() for p in (tmp_path / "s").rglob("*.html"))
    index = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert 'href="a/x.html"' in index and 'href="b/x.html"' in index and "built-in" not in index


# ------------------------------------------------------------ issue 18: help

def test_help_reads_like_a_well_kept_cli():
    top = run_cli("--help", env={"COLUMNS": "120"})
    assert top.returncode == 0
    assert "--install-completion" in top.stdout and "--version" in top.stdout
    for cmd in ("summarise", "runs", "prune", "show", "regenerate", "diff", "verify", "eval", "prompts",
                "export"):
        assert re.search(rf"│ {cmd}\s", top.stdout), cmd
        proc = run_cli(cmd, "--help", env={"COLUMNS": "120"})
        assert proc.returncode == 0, cmd
        text = proc.stdout
        assert not re.search(r"<\w+|LIST\[", text), (cmd, text)  # no <bool>, <list[Path]>, LIST[STR]
        assert not re.search(r"\{\w+", text.split("\n", 3)[1]), text  # no `{paths}...` in Usage
        assert "Example" in text, cmd
    summ = run_cli("summarise", "--help", env={"COLUMNS": "120"}).stdout
    assert re.search(r"Usage: reportsum summarise \[OPTIONS\] PATH\.\.\. *\n", summ)
    assert "tools|json|md_json" in summ and "openai|rules" in summ
    fmt = summ[summ.index("--format"):summ.index("--backend")]
    assert all(f"{name}:" in fmt for name in ("json", "jsonl", "md", "html"))
    assert "xlsx, csv, parquet" in fmt
    assert "json|jsonl|md|html" in run_cli("regenerate", "--help", env={"COLUMNS": "120"}).stdout
    assert "[default: 6000]" in summ and "quote|ref" in summ
    for cmd, tag in (("eval", "GOLD..."), ("diff", "RUN_A RUN_B")):
        assert tag in run_cli(cmd, "--help", env={"COLUMNS": "120"}).stdout
    concurrency = run_cli("eval", "--help", env={"COLUMNS": "120"}).stdout
    assert re.search(r"--concurrency\s+-j\s+INTEGER\s+Model calls", concurrency)
    version = run_cli("--version")
    assert version.returncode == 0 and re.fullmatch(r"reportsum \d+\.\d+\.\d+\S*\n", version.stdout)


# ------------------------------------------------------------ issue 18: settings, hints, quiet

def test_usage_errors_are_one_line(tmp_path):
    for args, says in ((("summarise", "x.txt", "--format", "xml"), "'xml' is not one of"),
                       (("summarise",), "Missing argument 'PATH...'"),
                       (("nosuch",), "No such command 'nosuch'"),
                       (("summarise", "x.txt", "--nosuch"), "No such option: --nosuch")):
        proc = run_cli(*args, home=tmp_path)
        assert proc.returncode == 2, args
        (line,) = proc.stderr.splitlines()
        assert line.startswith("reportsum: error: ") and says in line, (args, line)


def test_the_no_model_hint_only_when_it_applies(tmp_path):
    src = str(seed("000"))
    chosen = run_cli("summarise", src, "--backend", "rules", home=tmp_path)
    assert chosen.returncode == 0 and "no model configured" not in chosen.stderr
    default = run_cli("summarise", src, home=tmp_path)
    assert default.returncode == 0 and "no model configured" in default.stderr
    bad_store = run_cli("summarise", src, "--store", "/dev/null/x.db", home=tmp_path)
    assert bad_store.returncode == 2 and "no model configured" not in bad_store.stderr
    assert "cannot open store" in bad_store.stderr


def test_settings_are_checked_whatever_the_backend(tmp_path):
    src = str(seed("000"))
    for args, says in ((("--mode", "foo"), "foo"), (("--prompt", "nosuch"), "unknown prompt 'nosuch'"),
                       (("--chunk-chars", "5"), "chunk-chars")):
        proc = run_cli("summarise", src, "--backend", "rules", *args, home=tmp_path)
        _ok(proc)
        assert proc.returncode == 2 and says in proc.stderr, (args, proc.stderr)
        assert proc.stdout == ""


def test_quiet_prints_only_errors_and_verbose_adds_library_warnings(tmp_path):
    good = make_reports(tmp_path / "in", 2)
    quiet = run_cli("summarise", *map(str, good), "-q", home=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert len(json.loads(quiet.stdout)) == 2
    bad = tmp_path / "in" / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nbroken")
    quiet_bad = run_cli("summarise", *map(str, good), str(bad), "-q", home=tmp_path)
    assert quiet_bad.returncode == 1
    lines = quiet_bad.stderr.splitlines()
    assert lines[0].startswith(f"reportsum: {bad}: failed: ") and len(lines) == 2  # + closing line
    # On a terminal the bar replaces per-file lines; -v brings them back above it.
    plain = _on_a_terminal(["summarise", *map(str, good)], tmp_path)
    verbose = _on_a_terminal(["summarise", *map(str, good), "-v"], tmp_path)
    assert "summarising" in plain and "summarising" in verbose
    for p in good:
        assert f"{p}: 1 documents" not in plain and f"{p}: 1 documents" in verbose


def _on_a_terminal(args: list[str], home: Path) -> str:
    """What `reportsum ARGS` writes to a terminal on stderr (stdout to /dev/null)."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REPORTSUM_"))}
    proc = subprocess.Popen([sys.executable, "-m", "reportsum", *args], stdout=subprocess.DEVNULL,
                            stderr=slave, env={**env, "REPORTSUM_HOME": str(home), "TERM": "xterm",
                                               "COLUMNS": "200"}, cwd=ROOT)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


# ------------------------------------------------------------ issue 18: stdout and stdin

def test_several_inputs_print_one_json_array_and_jsonl_one_document_per_line(tmp_path):
    files = make_reports(tmp_path / "in", 3)
    proc = run_cli("summarise", str(tmp_path / "in"), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list) and sorted(d["source"] for d in data) == sorted(map(str, files))
    for d in data:
        FileSummary.model_validate(d)
    one = run_cli("summarise", str(files[0]), home=tmp_path)
    assert isinstance(json.loads(one.stdout), dict)  # one input: one object, as before
    lines = run_cli("summarise", str(tmp_path / "in"), "-f", "jsonl", home=tmp_path).stdout.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["document"]["source"] for line in lines)


def test_dash_reads_a_report_from_stdin(tmp_path):
    text = seed("000").read_text(encoding="utf-8")
    proc = run_cli("summarise", "-", home=tmp_path, input=text)
    _ok(proc)
    assert proc.returncode == 0, proc.stderr
    fs = FileSummary.model_validate_json(proc.stdout)
    assert fs.source == "-" and fs.documents[0].achievements
    both = run_cli("summarise", "-", str(seed("001")), "-o", str(tmp_path / "out"), home=tmp_path, input=text)
    assert both.returncode == 0, both.stderr
    assert (tmp_path / "out" / "stdin.json").is_file()
    empty = run_cli("summarise", "-", home=tmp_path, input="")
    assert empty.returncode == 2 and "stdin: empty input" in empty.stderr


# ------------------------------------------------------------ issue 18: the store

def test_read_only_commands_never_create_a_store(tmp_path):
    missing = tmp_path / "nope" / "x.db"
    for args in (("runs",), ("runs", "--json"), ("show", "last"), ("diff", "a", "b"), ("regenerate", "last"),
                 ("prune", "--dry-run"), ("eval", str(ROOT / "eval" / "gold"), "--run", "last"),
                 ("export", "last", "-o", str(tmp_path / "t.xlsx"))):
        proc = run_cli(*args, "--store", str(missing), home=tmp_path)
        _ok(proc)
        assert proc.returncode == 2 and f"no store at {missing}" in proc.stderr, (args, proc.stderr)
        assert not missing.parent.exists(), args


def test_runs_json_and_store_size(tmp_path):
    make_reports(tmp_path / "in", 2)
    assert run_cli("summarise", str(tmp_path / "in"), home=tmp_path).returncode == 0
    proc = run_cli("runs", "--json", home=tmp_path)
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    # The database itself, and its write-ahead log while open.
    assert data["size_bytes"] >= (tmp_path / "reportsum.db").stat().st_size > 0
    assert data["store"] == str(tmp_path / "reportsum.db") and data["documents"] == 2
    (run,) = data["runs"]
    assert run["docs"] == 2 and run["backend"] == "rules" and run["outcome"] == "ok" and run["model"] is None
    show = run_cli("show", "last", home=tmp_path)
    assert show.returncode == 0 and len(json.loads(show.stdout)) == 2  # two files: one array
    table = run_cli("runs", home=tmp_path)
    assert re.search(r"store .*reportsum\.db: \d+(\.\d)? KB, 1 runs, 2 document texts", table.stderr)


def test_prune_dry_run_then_prune(tmp_path):
    make_reports(tmp_path / "in", 3)
    for _ in range(2):
        assert run_cli("summarise", str(tmp_path / "in"), "--no-cache", home=tmp_path).returncode == 0
    runs = json.loads(run_cli("runs", "--json", home=tmp_path).stdout)
    assert runs["runs_total"] == 2 and runs["documents"] == 3
    recent = run_cli("prune", home=tmp_path)  # default: older than 30 days: nothing yet
    assert recent.returncode == 0 and "removed 0 runs, 0 document texts" in recent.stdout
    dry = run_cli("prune", "--older-than", "0", "--dry-run", home=tmp_path)
    assert dry.returncode == 0 and "would remove 2 runs, 3 document texts" in dry.stdout
    assert json.loads(run_cli("runs", "--json", home=tmp_path).stdout)["runs_total"] == 2
    kept = run_cli("prune", "--older-than", "0s", "--keep-texts", home=tmp_path)
    assert kept.returncode == 0 and "removed 2 runs, texts kept" in kept.stdout
    after = json.loads(run_cli("runs", "--json", home=tmp_path).stdout)
    assert after["runs_total"] == 0 and after["documents"] == 3
    gone = run_cli("prune", "--older-than", "0", home=tmp_path)
    assert "removed 0 runs, 3 document texts" in gone.stdout
    assert json.loads(run_cli("runs", "--json", home=tmp_path).stdout)["documents"] == 0
    assert run_cli("prune", "--older-than", "soon", home=tmp_path).returncode == 2


# ------------------------------------------------------------ issue 18: messages

def test_one_line_per_failure_naming_the_file_once(tmp_path):
    mixed = tmp_path / "mixed"
    make_reports(mixed, 1)
    (mixed / "blank.txt").write_text("", encoding="utf-8")
    (mixed / "bad.pdf").write_bytes(b"%PDF-1.4\nbroken")
    proc = run_cli("summarise", str(mixed), "-o", str(tmp_path / "out"), home=tmp_path)
    _ok(proc)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    blank = [line for line in lines if "blank.txt" in line]
    assert blank == [f"[{blank[0][1]}/3] {mixed / 'blank.txt'}: failed: empty file"]
    pdf = [line for line in lines if "bad.pdf" in line]
    assert len(pdf) == 1 and pdf[0].count("bad.pdf") == 1, lines
    assert len(lines) == 5  # hint, 3 files, closing line: nothing else


def test_library_warnings_are_captured_onto_the_files_line(tmp_path):
    """bs4 warns (warnings.warn) when a saved page is only a URL: never raw on stderr; with -v
    it is on that file's line, cut to one sentence."""
    page = tmp_path / "link.html"
    page.write_text("https://www.example.gov.cn/art/2024/1/1/art_1.html", encoding="utf-8")
    plain = run_cli("summarise", str(page), home=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "looks more like a URL" not in plain.stderr and "Warning" not in plain.stderr
    verbose = run_cli("summarise", str(page), "-v", home=tmp_path)
    (line,) = [x for x in verbose.stderr.splitlines() if "link.html" in x]
    assert line.startswith(f"[1/1] {page}: 1 documents, 0 items, 0 rejected (bs4: The input ")
    assert line.endswith("looks more like a URL than HTML or XML.)"), line


def test_a_warning_before_a_read_failure_joins_the_failure(tmp_path, monkeypatch):
    """The failure path of the capture (a library logs, then the read fails), in process: the
    reader is replaced by one that logs as pypdf does on a truncated PDF."""
    import logging

    from reportsum import pipeline
    from reportsum.backends.rules import RulesBackend
    from reportsum.stages.ingest import IngestError

    def failing_read(path):
        logging.getLogger("pypdf._reader").warning("EOF marker not found")
        raise IngestError(f"{path.name}: not a readable PDF")

    monkeypatch.setattr(pipeline, "read_file", failing_read)
    outcome = pipeline.run_sync(pipeline.summarise_path(tmp_path / "bad.pdf", RulesBackend()))
    assert outcome.error == "bad.pdf: not a readable PDF (pypdf: EOF marker not found)"
    assert logging.getLogger().handlers == [] or all(
        type(h).__name__ != "_Notes" for h in logging.getLogger().handlers)


def test_control_characters_in_file_names_are_escaped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "evil\nname\x1b[31m.txt").write_text("", encoding="utf-8")
    make_reports(folder, 1)
    proc = run_cli("summarise", str(folder), home=tmp_path)
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "evil" in x]
    assert line.endswith("evil\\nname\\x1b[31m.txt: failed: empty file"), line


# ------------------------------------------------------------ issue 18: the live display

@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by `make test`")
def test_live_progress_leaves_a_clean_screen_in_a_real_terminal(tmp_path):
    """Run a batch with failures on a real terminal (tmux) while stdout goes to a file: the
    screen ends with the failure lines and the closing line only, and the JSON is in the file."""
    folder = tmp_path / "in"
    files = make_reports(folder, 40)
    for i in (5, 20, 35):
        files[i].write_text("", encoding="utf-8")
    session = f"rs{os.getpid()}"
    env = f"REPORTSUM_HOME={tmp_path} TERM=xterm-256color"
    out = tmp_path / "stdout.json"
    cmd = (f"cd {ROOT} && env {env} {sys.executable} -m reportsum summarise {folder} --backend rules "
           f"-w 1 > {out}; echo EXIT=$?; sleep 60")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "90", "-y", "40", cmd], check=True)
    try:
        deadline = time.monotonic() + 120
        screen = ""
        while "EXIT=" not in screen and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-J", "-t", session],
                                    capture_output=True, text=True).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    assert lines[-1] == "EXIT=1", screen
    assert [line for line in lines if ": failed: " in line] == [
        f"reportsum: {files[i]}: failed: empty file" for i in (5, 20, 35)], screen
    assert "summarising" not in screen and "chunks ·" not in screen, screen
    assert len(lines) == 5 and "37 of 40 files summarised" in lines[3], screen
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 37


# ------------------------------------------------------------ issue 18: item cap

def test_a_megabyte_line_without_punctuation_is_not_one_huge_item(tmp_path):
    filler = "的工作会议推进建设发展项目完成增长全市企业服务管理"
    body = "".join(filler[(i * 7) % len(filler)] for i in range(330_000))
    src = tmp_path / "big.txt"
    src.write_text("2024年工作总结\n" + body + "完成投资12.5亿元" + body[:3000] + "\n", encoding="utf-8")
    proc = run_cli("summarise", str(src), home=tmp_path)
    _ok(proc)
    assert proc.returncode == 0, proc.stderr
    fs = FileSummary.model_validate_json(proc.stdout)
    items = [it for d in fs.documents for s in SECTIONS for it in d.section(s)]
    assert items and all(len(it.text) <= ITEM_MAX_CHARS and len(it.evidence) <= ITEM_MAX_CHARS for it in items)
    assert any(CUT_WARNING in it.warnings for it in items)
