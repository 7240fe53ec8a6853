"""Reflow: layout undone by deletions only; a wrapped number is always one number again."""

from __future__ import annotations

import re

from fixtures_build import LONG_PARAGRAPHS, LONG_REPORT, REPORT, wrap_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from reportsum.stages.clean import clean
from reportsum.stages.reflow import page_furniture, reflow, soft_breaks, wrap_width
from reportsum.stages.sentences import sentence_spans
from reportsum.stages.textmap import MappedText


def _exact(derived: MappedText, original: str) -> None:
    for i, ch in enumerate(derived.text):
        assert original[derived.to_original(i)] == ch


def _paragraph_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def test_wrapped_text_gets_its_paragraphs_back():
    wrapped = "\n".join(wrap_lines(LONG_REPORT, 37))
    assert wrap_width(wrapped) is not None
    out = reflow(MappedText.identity(wrapped))
    _exact(out, wrapped)
    assert _paragraph_lines(out.text) == list(LONG_PARAGRAPHS)


def test_every_wrap_width_keeps_numbers_whole():
    # at some width each figure of the report is cut by a line end: the join restores it.
    # A full line that ends a sentence (。) may end a paragraph, so that break may stay:
    # every line left is a paragraph or a run of its whole sentences or enumerated clauses.
    for width in range(24, 45):
        wrapped = "\n".join(wrap_lines(LONG_REPORT, width))
        out = _paragraph_lines(reflow(MappedText.identity(wrapped)).text)
        k = 0
        for paragraph in LONG_PARAGRAPHS:
            got = ""
            while got != paragraph:
                assert k < len(out) and paragraph.startswith(got + out[k]), (width, paragraph)
                got += out[k]
                k += 1
                rest = paragraph[len(got) :]
                # kept breaks: after a sentence, or before an enumeration (二是…)
                assert got == paragraph or got.endswith(("。", "！", "？")) or re.match(
                    "[一二三四五六七八九十]是", rest
                ), (width, got)
        assert k == len(out)


def test_one_paragraph_per_line_is_left_alone():
    for text in (REPORT, LONG_REPORT):
        assert wrap_width(text) is None
        assert reflow(MappedText.identity(text)).text == text


def test_headings_and_sentence_ends_keep_their_breaks():
    # every line is full width; only the open ones continue
    lines = [
        "全县新增高新技术企业12家,研发投入达到3.5亿元,同比增长",
        "12.4%。一是抓好政策落实,全年兑现各类奖补资金2800万元。",
        "二、存在问题企业创新能力总体不强,龙头企业带动作用不足。",
        "部分乡镇工作推进不平衡,科技服务体系仍不健全,有待加强。",
        "（一）加强统筹调度,定期召开推进会议,研究解决突出问题和",
        "困难,确保各项目标任务按期完成,全年争取项目资金1.2亿元",
        "第三条 本办法自发布之日起施行,由县科技局负责解释和修订。",
    ]
    text = "\n".join(lines)
    out = reflow(MappedText.identity(text)).text.split("\n")
    assert out == [
        lines[0] + lines[1],
        lines[2],
        lines[3],
        lines[4] + lines[5],
        lines[6],
    ]


def test_number_cut_after_its_point_or_before_its_unit_is_joined():
    base = "国" * 30
    cases = {
        f"{base}累计发放贷款9.\n6亿元,同比增长。": "9.6亿元",
        f"{base}占比达到35\n.1%,较上年提高。": "35.1%",
        f"{base}新增企业12\n8家,其中规上企业。": "128家",
        f"{base}全年投入资金6\n亿元,用于基础设施。": "6亿元",
    }
    for case, figure in cases.items():
        # the other lines give the text its wrap width
        text = "\n".join([base + "一二三四五六"] * 6 + [case])
        out = reflow(MappedText.identity(text))
        assert figure in out.text, case
        _exact(out, text)


def test_page_numbers_and_running_headers_go():
    pages = []
    for n in range(1, 4):
        body = "\n".join(wrap_lines(LONG_REPORT, 37)[(n - 1) * 8 : n * 8])
        pages.append(f"青溪县农业农村局文件\n{body}\n第 {n} 页 共 3 页")
    text = "\f\n".join(pages)
    furniture = page_furniture(text)
    removed = [text[s:e] for s, e in furniture]
    assert any("第 1 页" in r for r in removed)
    assert sum("青溪县农业农村局文件" in r for r in removed) == 3
    out = reflow(MappedText.identity(text))
    _exact(out, text)
    assert "\f" not in out.text
    assert "第 2 页" not in out.text and "青溪县农业农村局文件" not in out.text
    # the sentences cut by the page breaks are whole again
    flat = out.text.replace("\n", "")
    for paragraph in LONG_PARAGRAPHS[: len(LONG_PARAGRAPHS) // 2]:
        assert paragraph in flat


def test_page_number_shapes():
    for line in ("第 3 页", "第3页 共12页", "- 4 -", "— 5 —", "6/12", "Page 7 of 9"):
        text = f"前一行的文字。\n{line}\n后一行的文字。"
        spans = page_furniture(text)
        assert [text[s:e].strip() for s, e in spans] == [line], line
    # a bare number is a page number only at a page edge
    assert page_furniture("甲。\n12\n乙。") == []


def test_clean_reflows_before_its_rules():
    wrapped = "\r\n".join(wrap_lines(LONG_REPORT, 37)).replace("\r\n", "\n")
    cleaned = clean(wrapped)
    _exact(cleaned.text, wrapped)
    sentences = [cleaned.text.text[s:e] for s, e in sentence_spans(cleaned.text.text)]
    assert any("政策性农业保险覆盖率达到35.1%" in s for s in sentences)
    assert not any(s.startswith(("1%", ".1%", "6亿元")) for s in sentences)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=12, max_value=60), st.sampled_from(["\n", "\f\n"]))
def test_reflow_only_deletes(width, page_break):
    lines = wrap_lines(LONG_REPORT, width)
    text = page_break.join(["\n".join(lines[: len(lines) // 2]), "\n".join(lines[len(lines) // 2 :])])
    out = reflow(MappedText.identity(text))
    _exact(out, text)
    assert len(soft_breaks(text)) <= text.count("\n")


def test_table_rows_laid_out_with_spaces_are_not_joined():
    rows = [f"第{k}项指标名称较长的一行  {2000 + k}年  {k * 37}" for k in range(10, 20)]
    text = "\n".join(rows)
    assert reflow(MappedText.identity(text)).text == text
