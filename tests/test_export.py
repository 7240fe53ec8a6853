"""Analyst tables: figure subjects, CSV/Excel/Parquet exports read back with other readers,
and the store's SQL views answering the README's query."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from helpers import SEEDS, run_cli

from reportsum.grounding.numbers import scan
from reportsum.models import SECTIONS, FileSummary
from reportsum.outputs.tables import COLUMNS, TABLES, build_tables, summaries_from_path
from reportsum.stages.subject import figure_subject


def _subjects(text: str) -> list[tuple[str, str]]:
    out, previous = [], None
    for m in scan(text):
        s = figure_subject(text, m.start, end=m.end, previous=previous)
        previous = (m.end, s)
        out.append((m.raw, s))
    return out


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("全社会研发经费投入18.6亿元，同比增长12.5%。",
         [("18.6亿元", "全社会研发经费投入"), ("12.5%", "全社会研发经费投入增长")]),
        ("新认定高新技术企业412家，新增市级科技型企业50家、省级工程技术研究中心12家。",
         [("412家", "高新技术企业"), ("50家", "市级科技型企业"), ("12家", "省级工程技术研究中心")]),
        ("高新技术企业达到412家。", [("412家", "高新技术企业")]),
        ("组织东风农机等12家企业参加对接活动。", [("12家", "企业")]),
        ("专利申请量83334件，授权量58406件。", [("83334件", "专利申请量"), ("58406件", "授权量")]),
        ("高新技术产业产值120亿元，占规模以上工业产值比重35.6%。",
         [("120亿元", "高新技术产业产值"), ("35.6%", "高新技术产业产值占规模以上工业产值")]),
        ("全年共开展科技培训12期。", [("12期", "科技培训")]),
    ],
)
def test_figure_subject_is_the_phrase_the_number_is_about(sentence: str, expected: list) -> None:
    assert _subjects(sentence) == expected


def test_a_subject_is_not_inherited_across_a_sentence_end() -> None:
    text = "技术合同成交额10.69亿元。同比增长32.3%。"
    assert _subjects(text)[1][1] != "技术合同成交额增长"


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list]:
    """The seeds summarised once (offline) into a JSON folder and a store."""
    if not SEEDS.is_dir():
        pytest.skip(f"seed folder {SEEDS} is absent")
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("out")
    r = run_cli("summarise", str(SEEDS), "-o", str(out), home=home)
    assert r.returncode == 0, r.stderr
    docs = [d for p in sorted(out.glob("*.json")) for d in FileSummary.model_validate_json(p.read_text()).documents]
    return home, out, docs


def _expected_counts(docs: list) -> dict[str, int]:
    items = [i for d in docs for s in SECTIONS for i in d.section(s)]
    return {"documents": len(docs), "items": len(items),
            "figures": sum(len(i.numbers) for i in items),
            "rejected": sum(len(d.rejected) for d in docs)}


def test_xlsx_export_of_the_last_run_has_four_sheets_with_the_right_rows(seed_run, tmp_path) -> None:
    import pandas as pd
    from openpyxl import load_workbook

    home, _, docs = seed_run
    target = tmp_path / "seeds.xlsx"
    r = run_cli("export", "last", "-f", "xlsx", "-o", str(target), home=home)
    assert r.returncode == 0, r.stderr
    wb = load_workbook(target)
    assert wb.sheetnames == list(TABLES)
    expected = _expected_counts(docs)
    for name in TABLES:
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert [c.value for c in ws[1]] == [c for c, _ in COLUMNS[name]]
        assert ws.max_row - 1 == expected[name], name
    figures = pd.read_excel(target, sheet_name="figures")
    assert len(figures) == expected["figures"]
    # Chinese text survives, numbers stay numbers.
    assert figures["subject"].str.contains("高新技术").any()
    assert figures["value"].dtype.kind == "f"
    assert "10.69亿元" in set(figures["raw"])


def test_csv_export_round_trips_with_a_bom(seed_run, tmp_path) -> None:
    home, out, docs = seed_run
    target = tmp_path / "csv"
    r = run_cli("export", str(out), "-f", "csv", "-o", str(target), home=home)
    assert r.returncode == 0, r.stderr
    tables = build_tables(docs)
    for name in TABLES:
        raw = (target / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        with (target / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(tables.rows[name])
        for got, want in zip(rows, tables.rows[name], strict=True):
            assert got == {k: "" if v is None else str(v) for k, v in want.items()}


def test_parquet_export_has_typed_columns(seed_run, tmp_path) -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    home, out, docs = seed_run
    target = tmp_path / "pq"
    r = run_cli("export", str(out), "-f", "parquet", "-o", str(target), home=home)
    assert r.returncode == 0, r.stderr
    schema = pq.read_schema(target / "figures.parquet")
    assert str(schema.field("value").type) == "double"
    assert str(schema.field("doc_index").type) == "int64"
    assert str(schema.field("subject").type) == "string"
    frame = pd.read_parquet(target / "items.parquet")
    assert len(frame) == _expected_counts(docs)["items"]
    assert frame["span_start"].dtype.kind == "i"


def test_summarise_can_write_the_tables_directly(tmp_path) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed folder {SEEDS} is absent")
    from openpyxl import load_workbook

    target = tmp_path / "run.xlsx"
    r = run_cli("summarise", str(sorted(SEEDS.glob("000_*"))[0]), "-f", "xlsx", "-o", str(target), home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert load_workbook(target)["items"].max_row > 10
    r = run_cli("summarise", str(sorted(SEEDS.glob("000_*"))[0]), "-f", "csv", home=tmp_path)
    assert r.returncode == 2 and "--out" in r.stderr


def test_store_views_hold_the_same_tables(seed_run) -> None:
    home, _, docs = seed_run
    db = sqlite3.connect(home / "reportsum.db")
    run_id = db.execute("SELECT id FROM runs ORDER BY created DESC LIMIT 1").fetchone()[0]
    tables = build_tables(docs)
    for view, name in (("summary_documents", "documents"), ("summary_items", "items"),
                       ("summary_figures", "figures"), ("summary_rejected", "rejected")):
        n = db.execute(f"SELECT count(*) FROM {view} WHERE run_id=?", (run_id,)).fetchone()[0]
        assert n == len(tables.rows[name]), view
    cols = [c for c, _ in COLUMNS["figures"]]
    got = db.execute(f"SELECT {', '.join(cols)} FROM summary_figures WHERE run_id=? "
                     "ORDER BY source, doc_index, span_start", (run_id,)).fetchall()
    want = sorted((tuple(r[c] for c in cols) for r in tables.rows["figures"]),
                  key=lambda t: (t[0], t[1], t[cols.index("span_start")]))
    assert [tuple(g) for g in got] == want


def test_readme_query_compares_a_figure_across_reports(seed_run) -> None:
    home, _, _ = seed_run
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    query = readme.split("```sql\n", 1)[1].split("```", 1)[0]
    rows = sqlite3.connect(home / "reportsum.db").execute(query).fetchall()
    assert len({r[0] for r in rows}) >= 2, rows  # the figure in more than one report
    assert all("高新技术" in r[2] for r in rows)


def test_export_errors_are_one_line_and_exit_2(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    r = run_cli("export", str(bad), "-o", str(tmp_path / "x.xlsx"), home=tmp_path)
    assert r.returncode == 2 and "not a reportsum JSON output" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("export", "no-such-run", "-o", str(tmp_path / "x.xlsx"), home=tmp_path)
    assert r.returncode == 2 and "no-such-run" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("export", str(bad), "-f", "ods", "-o", str(tmp_path / "x"), home=tmp_path)
    assert r.returncode == 2 and "'ods'" in r.stderr and all(f"'{f}'" in r.stderr for f in ("csv", "xlsx", "parquet"))
    assert len(r.stderr.splitlines()) == 1


def test_outputs_written_before_subjects_existed_still_load(tmp_path) -> None:
    from reportsum.pipeline import summarise_text

    doc = summarise_text("科技局2024年工作总结\n一、主要成效\n全年新认定高新技术企业46家，同比增长12%。\n")[0]
    data = json.loads(FileSummary(source="x.txt", documents=[doc]).model_dump_json())
    for s in SECTIONS:
        for item in data["documents"][0][s]:
            for n in item["numbers"]:
                del n["subject"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tables = build_tables(summaries_from_path(old))
    assert tables.rows["figures"] and all(r["subject"] == "" for r in tables.rows["figures"])
