from __future__ import annotations

import json

from reportsum.models import (
    DocumentInfo,
    DocumentSummary,
    FileSummary,
    NumberMention,
    RejectedItem,
    RunInfo,
    SummaryItem,
)
from reportsum.outputs.html import render_html, segments
from reportsum.outputs.render import render
from reportsum.stages.merge import merge_items

SOURCE = "总结<script>alert(1)</script>。全区投入达10.69亿元,增长32.3%。"


def _file() -> FileSummary:
    a = SOURCE.index("全区")
    b = SOURCE.index("。", a) + 1
    n = SOURCE.index("10.69")
    item = SummaryItem(
        text="投入10.69亿元 <b>", evidence=SOURCE[a:b], span=(a, b),
        numbers=[NumberMention(raw="10.69亿元", value=1.069e9, unit="元", kind="number", span=(n, n + 7))],
    )
    doc = DocumentSummary(
        document=DocumentInfo(source="r.txt", sha256="0" * 64, chars=len(SOURCE), title="<i>标题</i>",
                              warnings=["truncated"]),
        run=RunInfo(backend="rules"),
        achievements=[item],
        rejected=[RejectedItem(section="achievements", text="投入10.96亿元<script>", reasons=["数字不符"])],
    )
    return FileSummary(source="r.txt", documents=[doc])


def test_html_escapes_source_and_model_text():
    page = render_html(_file(), SOURCE)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page and "<i>标题</i>" not in page
    assert page.count("<script>") == 1  # only the page's own


def test_html_highlights_evidence_and_numbers():
    page = render_html(_file(), SOURCE)
    assert 'data-target="ev-0-achievements-0"' in page
    assert 'class="ev ev-0-achievements-0 num">10.69亿元</span>' in page
    assert "未通过核验" in page and "truncated" in page


def test_segments_cover_the_source_exactly():
    segs = segments(SOURCE, [(3, 10, "a"), (5, 20, "b")], [(6, 8)])
    assert "".join(s.text for s in segs) == SOURCE
    assert [s.item_ids for s in segs if s.text == SOURCE[6:8]] == [("a", "b")]


def test_markdown_escapes_and_lists_rejections():
    md = render(_file(), "md")
    assert "<script>" not in md and "&lt;b&gt;" in md
    assert "## 成效 Achievements (1)" in md and "Rejected (1)" in md


def test_json_and_jsonl_round_trip():
    fs = _file()
    assert FileSummary.model_validate_json(render(fs, "json")) == fs
    lines = render(fs, "jsonl").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["document"]["source"] == "r.txt"


def test_merge_drops_overlapping_repeats_and_orders_by_position():
    def it(text, span):
        return SummaryItem(text=text, evidence=text, span=span)

    merged = merge_items([it("乙", (50, 60)), it("甲", (0, 10)), it("乙 again", (51, 60)), it("甲", (80, 90))])
    assert [m.text for m in merged] == ["甲", "乙"]


def test_markdown_lists_minor_items_apart_with_their_section() -> None:
    from reportsum.models import MinorItem

    doc = _file().documents[0]
    kept = doc.achievements[0]
    minor = MinorItem(section="measures", text="召开座谈会3次", evidence=kept.evidence, span=kept.span)
    md = render(FileSummary(source="r.txt", documents=[doc.model_copy(update={"minor": [minor]})]), "md")
    assert "## 其他 Minor (1)" in md
    assert "- [measures] 召开座谈会3次" in md
    assert "## 其他 Minor" not in render(_file(), "md")
    data = json.loads(render(FileSummary(source="r.txt", documents=[doc.model_copy(update={"minor": [minor]})]), "json"))
    assert data["documents"][0]["minor"][0]["section"] == "measures"


def test_html_shows_minor_items_apart_escaped_and_highlighted_in_the_source() -> None:
    from reportsum.models import MinorItem

    doc = _file().documents[0]
    kept = doc.achievements[0]
    minor = MinorItem(section="measures", text="召开<座谈会>3次", evidence=kept.evidence, span=kept.span)
    page = render_html(FileSummary(source="r.txt", documents=[doc.model_copy(update={"minor": [minor]})]), SOURCE)
    assert '<details class="minor"><summary>其他 Minor (1)' in page
    assert "召开&lt;座谈会&gt;3次" in page and "<座谈会>" not in page
    # clicking it lights its evidence in the source, as for the four sections
    assert 'data-target="ev-0-minor-0"' in page and "ev-0-minor-0" in page.split('<section id="source">')[1]
    assert '<details class="minor">' not in render_html(_file(), SOURCE)
