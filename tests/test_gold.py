"""Gold files: every one validates and resolves; broken ones are reported clearly."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from reportsum.evaluation.gold import GoldError, gold_json_schema, load_gold, parse_gold

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
GOLD = ROOT / "eval" / "gold"
SEED_GOLD = sorted((GOLD / "seeds").glob("*.json"))
EXAMPLE_GOLD = sorted((GOLD / "examples").glob("*.json"))
STYLES = ROOT / "eval" / "examples" / "styles"
STYLE_GOLD = sorted((GOLD / "styles").glob("*.json"))
SECTIONS = ("achievements", "measures", "problems", "plans")
LONG_EXAMPLES = ROOT / "eval" / "examples" / "long"
LONG_GOLD = sorted((GOLD / "long").glob("*.json"))
DEMO = ROOT / "examples" / "科技局2024年工作总结.txt"


def need_seeds() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed folder {SEEDS} is absent (it sits beside the checkout in CI)")


def goldspan() -> ModuleType:
    spec = importlib.util.spec_from_file_location("goldspan", ROOT / "tools" / "goldspan.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", EXAMPLE_GOLD, ids=lambda p: p.stem)
def test_example_gold_validates_and_resolves(path: Path) -> None:
    doc = load_gold(path)
    assert doc.document_path.parent == ROOT / "eval" / "examples"
    for item in doc.items:
        assert doc.document_text[item.span[0] : item.span[1]] == item.evidence
    assert all(doc.section(name) for name in ("achievements", "measures", "problems", "plans"))


@pytest.mark.parametrize("path", STYLE_GOLD, ids=lambda p: p.stem)
def test_style_gold_validates_and_resolves(path: Path) -> None:
    doc = load_gold(path)
    assert doc.document_path == (STYLES / f"{path.stem}.txt").resolve()
    assert 1500 <= len(doc.document_text) <= 4000
    assert 15 <= len(doc.items) <= 45
    data = json.loads(path.read_text(encoding="utf-8"))
    for name in SECTIONS:
        for k, raw in enumerate(data.get(name, [])):
            quote = raw["evidence"]
            assert doc.document_text.count(quote) == 1, f"{name}[{k}] quote is not unique"
    for item in doc.items:
        assert doc.document_text[item.span[0] : item.span[1]] == item.evidence
    assert all(doc.section(name) for name in SECTIONS), "every style report has all four sections"


def test_every_style_report_has_gold_and_the_texts_are_the_annotators_own() -> None:
    assert len(STYLE_GOLD) >= 8
    assert {p.stem for p in STYLE_GOLD} == {p.stem for p in STYLES.glob("*.txt")}
    for path in STYLE_GOLD:
        doc = load_gold(path)
        copied = [i.text for i in doc.items if len(i.text) >= 14 and i.text in doc.document_text]
        assert copied == [], f"{path.name}: texts copied verbatim from the report"
@pytest.mark.parametrize("path", LONG_GOLD, ids=lambda p: p.stem)
def test_long_gold_validates_and_resolves(path: Path) -> None:
    doc = load_gold(path)
    assert doc.document_path.parent == LONG_EXAMPLES
    assert len(doc.document_text) >= 12000
    for item in doc.items:
        assert doc.document_text[item.span[0] : item.span[1]] == item.evidence
    assert all(doc.section(name) for name in ("achievements", "measures", "problems", "plans"))
    # A summary, not a transcript: at most 60 items, in the annotator's own words.
    assert len(doc.items) <= 60
    copied = [i.text for i in doc.items if len(i.text) >= 12 and i.text in doc.document_text]
    assert copied == [], f"{path.name}: texts copied verbatim from the report"


def test_every_long_example_has_gold() -> None:
    reports = {p.stem for p in LONG_EXAMPLES.glob("*.txt")}
    assert len(reports) >= 3
    assert reports == {p.stem for p in LONG_GOLD}


@pytest.mark.seeds
@pytest.mark.parametrize("path", SEED_GOLD, ids=lambda p: p.stem)
def test_seed_gold_validates_and_resolves(path: Path) -> None:
    need_seeds()
    doc = load_gold(path)
    assert doc.document_path.parent == SEEDS.resolve()
    assert doc.items
    for item in doc.items:
        assert doc.document_text[item.span[0] : item.span[1]] == item.evidence


def test_every_seed_report_has_gold() -> None:
    names = {p.stem for p in SEED_GOLD}
    assert names == {"000", "001", "002", "003", "004-0", "004-1", "004-2", "004-3", "004-4"}
    for k in range(5):
        data = json.loads((GOLD / "seeds" / f"004-{k}.json").read_text(encoding="utf-8"))
        assert data["doc_index"] == k


def test_seed_gold_stores_spans_not_seed_text() -> None:
    for path in SEED_GOLD:
        gold = parse_gold(json.loads(path.read_text(encoding="utf-8")), source=path.name)
        for name in ("achievements", "measures", "problems", "plans"):
            assert all(item.evidence is None for item in getattr(gold, name)), path.name


@pytest.mark.seeds
def test_seed_gold_texts_are_the_annotators_own_words() -> None:
    need_seeds()
    for path in SEED_GOLD:
        doc = load_gold(path)
        copied = [i.text for i in doc.items if len(i.text) >= 12 and i.text in doc.document_text]
        assert copied == [], f"{path.name}: texts copied verbatim from the seed"


@pytest.mark.seeds
def test_multi_report_gold_stays_inside_its_report() -> None:
    need_seeds()
    docs = [load_gold(GOLD / "seeds" / f"004-{k}.json") for k in range(5)]
    text = docs[0].document_text
    starts = [text.index(f"第{n}篇:") for n in "一二三四五"] + [len(text)]
    for k, doc in enumerate(docs):
        assert all(starts[k] <= i.span[0] < i.span[1] <= starts[k + 1] for i in doc.items)
    assert {i.section for i in docs[2].items} == {"plans"}
    assert docs[3].section("problems")


def test_demo_input_is_the_first_eval_example() -> None:
    copy = ROOT / "eval" / "examples" / DEMO.name
    assert DEMO.read_bytes() == copy.read_bytes()
    assert 2000 <= len(DEMO.read_text(encoding="utf-8")) <= 3000


def write_gold(tmp_path: Path, **fields: object) -> Path:
    (tmp_path / "doc.txt").write_text("一、成效\n全年投入10.69亿元。\n投入增长。投入增长。\n", encoding="utf-8")
    path = tmp_path / "g.json"
    data = {"document": "doc.txt", **fields}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_span_and_quote_resolve_to_the_same_place(tmp_path: Path) -> None:
    path = write_gold(
        tmp_path,
        achievements=[{"text": "投入10.69亿元", "span": [7, 17]}],
        measures=[{"text": "投入10.69亿元", "evidence": "全年投入10.69亿元"}],
    )
    doc = load_gold(path)
    assert doc.section("achievements")[0].evidence == "投入10.69亿元。"
    assert doc.section("measures")[0].span == (5, 16)


def test_broken_span_is_reported_clearly(tmp_path: Path) -> None:
    path = write_gold(tmp_path, plans=[{"text": "x", "span": [10, 500]}])
    with pytest.raises(GoldError, match=r"plans\[0\]: span \[10, 500\] runs past the end"):
        load_gold(path)


def test_whitespace_only_span_is_reported(tmp_path: Path) -> None:
    path = write_gold(tmp_path, plans=[{"text": "x", "span": [4, 5]}])
    with pytest.raises(GoldError, match="covers only whitespace"):
        load_gold(path)


def test_missing_quote_is_reported(tmp_path: Path) -> None:
    path = write_gold(tmp_path, problems=[{"text": "x", "evidence": "投入10.96亿元"}])
    with pytest.raises(GoldError, match=r"problems\[0\]: evidence '投入10.96亿元' not found"):
        load_gold(path)


def test_ambiguous_quote_is_reported(tmp_path: Path) -> None:
    path = write_gold(tmp_path, measures=[{"text": "x", "evidence": "投入增长"}])
    with pytest.raises(GoldError, match="occurs more than once"):
        load_gold(path)


def test_missing_document_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text('{"document": "nowhere.txt"}', encoding="utf-8")
    with pytest.raises(GoldError, match="document 'nowhere.txt' not found"):
        load_gold(path)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"text": "x"}, "exactly one of `evidence`"),
        ({"text": "x", "evidence": "投入", "span": [0, 2]}, "exactly one of `evidence`"),
        ({"text": "x", "span": [5, 2]}, "0 <= start < end"),
        ({"text": "x", "span": [0, 2], "quote": "y"}, "Extra inputs are not permitted"),
        ({"text": " ", "span": [0, 2]}, "achievements.0.text"),
    ],
)
def test_invalid_items_are_rejected_with_their_location(
    tmp_path: Path, item: dict[str, object], message: str
) -> None:
    path = write_gold(tmp_path, achievements=[item])
    with pytest.raises(GoldError, match=message):
        load_gold(path)


def test_gold_schema_forbids_unknown_fields() -> None:
    schema = gold_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["GoldItem"]["additionalProperties"] is False
    assert schema["required"] == ["document"]


def test_goldspan_finds_unique_quotes_and_refuses_ambiguous_ones() -> None:
    gs = goldspan()
    text = "第一篇:甲。投入增长。第二篇:乙。投入增长。"
    assert gs.find_span(text, "甲。投入") == (4, 8)
    with pytest.raises(gs.SpanError, match="more than once"):
        gs.find_span(text, "投入增长")
    lo, hi = gs.bounds_of(text, ["第二篇:", None])
    assert gs.find_span(text, "投入增长", lo=lo, hi=hi) == (17, 21)
    with pytest.raises(gs.SpanError, match="not found"):
        gs.find_span(text, "投入下降")


def test_goldspan_build_writes_a_gold_file_with_spans(tmp_path: Path) -> None:
    gs = goldspan()
    (tmp_path / "doc.txt").write_text("第一篇:投入增长。第二篇:投入增长。\n", encoding="utf-8")
    draft = {
        "document": "doc.txt",
        "doc_index": 1,
        "bounds": ["第二篇:", None],
        "achievements": [{"text": "投入增长", "quote": "投入增长"}],
    }
    draft_path = tmp_path / "draft.json"
    draft_path.write_text(json.dumps(draft, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "g.json"
    assert gs.main(["build", str(draft_path), str(out)]) == 0
    doc = load_gold(out)
    assert doc.doc_index == 1
    assert doc.section("achievements")[0].span == (13, 17)
    assert "quote" not in out.read_text(encoding="utf-8")


def test_goldspan_build_fails_on_an_ambiguous_quote(tmp_path: Path, capsys) -> None:
    gs = goldspan()
    (tmp_path / "doc.txt").write_text("投入增长。投入增长。\n", encoding="utf-8")
    draft_path = tmp_path / "draft.json"
    draft_path.write_text(
        json.dumps({"document": "doc.txt", "plans": [{"text": "x", "quote": "投入增长"}]}),
        encoding="utf-8",
    )
    assert gs.main(["build", str(draft_path), str(tmp_path / "g.json")]) == 1
    assert "plans[0]" in capsys.readouterr().err
