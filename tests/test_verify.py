"""`verify` and `load_summary`: summary files of every accepted shape, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportsum.grounding.verify import VerifyInputError, load_summary, verify

SOURCE = (
    "全市专利申请量达到83334件，比上年增长13.2%，专利授权量达到58406件。今年共有xx家企业通过认定。"
)


def test_loads_reportsum_file_output(tmp_path: Path) -> None:
    doc = {
        "achievements": [{"text": "专利申请83334件", "evidence": "全市专利申请量达到83334件"}],
        "measures": [],
        "problems": [],
        "plans": [{"text": "继续推进"}],
    }
    p = tmp_path / "out.json"
    p.write_text(json.dumps({"documents": [doc]}, ensure_ascii=False), encoding="utf-8")
    assert load_summary(p) == [
        ("achievements", "专利申请83334件", "全市专利申请量达到83334件"),
        ("plans", "继续推进", None),
    ]


def test_loads_markdown_lines_without_markers(tmp_path: Path) -> None:
    p = tmp_path / "s.md"
    p.write_text("# 成效\n\n- 专利申请83334件\n1. 授权58406件\n", encoding="utf-8")
    assert [t for _, t, _ in load_summary(p)] == ["成效", "专利申请83334件", "授权58406件"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"foo": 1}', "not a summary"),
        ('{"achievements": [1]}', "text"),
        ('{"achievements": 3}', "must be a list"),
        ("\n\n", "empty summary"),
    ],
)
def test_bad_input_raises_clear_error(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "s.json" if content.strip() else tmp_path / "s.txt"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(VerifyInputError, match=message):
        load_summary(p)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(VerifyInputError, match="no such file"):
        load_summary(tmp_path / "nope.json")


def test_verify_reports_each_ungrounded_number() -> None:
    items = [
        (
            "achievements",
            "专利申请83334件，增长13.2%",
            "全市专利申请量达到83334件，比上年增长13.2%",
        ),
        ("achievements", "专利授权58406件", None),
        ("achievements", "25家企业通过认定", None),
        ("achievements", "授权量增长31.2%", "专利授权量达到58406件"),
    ]
    report = verify(SOURCE, items)
    assert not report.ok and report.checked == 4
    assert [(u.index, u.number) for u in report.ungrounded] == [(2, "25家"), (3, "31.2%")]
    data = report.to_dict()
    assert data["ok"] is False and data["ungrounded"][0]["section"] == "achievements"
    assert "2 grounded" in report.format_text() and "31.2%" in report.format_text()


def test_verify_all_grounded_is_ok() -> None:
    report = verify(SOURCE, [("text", "xx家企业通过认定", None), ("text", "授权58406件", None)])
    assert report.ok and report.to_dict()["ungrounded"] == []


def test_repeated_quote_is_taken_near_the_previous_item() -> None:
    source = "一、产值增长5%，成效明显。二、各项工作有序推进。三、产值增长5倍，成效明显。"
    alone = verify(source, [("achievements", "产值增长5%", "产值增长5")])
    assert alone.ok  # the first occurrence, 5%, grounds it
    after = verify(
        source,
        [
            ("achievements", "各项工作有序推进", "各项工作有序推进"),
            ("achievements", "产值增长5倍", "三、产值增长5倍"),
            ("achievements", "产值增长5%", "产值增长5"),
        ],
    )
    # the third quote is taken at its occurrence next to the second item's: 5倍, not 5%
    assert [(u.index, u.number) for u in after.ungrounded] == [(2, "5%")]
