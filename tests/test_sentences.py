from __future__ import annotations

import re

import pytest
from helpers import seed_files
from hypothesis import given, settings
from hypothesis import strategies as st

from reportsum.stages.sentences import clause_spans, find_headings, sentence_spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_splits_at_terminal_punctuation_keeping_closing_quotes():
    text = "局长指出：“创新是第一动力。”全年新增企业12家！还有问题吗？有。"
    assert sentences(text) == ["局长指出：“创新是第一动力。”", "全年新增企业12家！", "还有问题吗？", "有。"]


def test_skips_whitespace_between_sentences():
    text = "  产值增长了10%。 \u3000 利税增长了8%。\n\n"
    assert sentences(text) == ["产值增长了10%。", "利税增长了8%。"]


def test_joins_a_line_wrapped_in_the_middle_of_a_sentence():
    text = "人才是实现科技进步、经济\n腾飞的决定性因素。推进科技进步,必须建设人才队伍。"
    assert sentences(text)[0] == "人才是实现科技进步、经济\n腾飞的决定性因素。"


def test_a_short_title_line_in_wrapped_text_is_not_a_wrap_even_before_a_short_sentence():
    # A PDF's text: lines wrapped at ~45 characters, paragraphs without blank lines between.
    text = ("还有一点，一些学校的安全管理还有薄弱环节，寄宿制学校夜间值守人员不足，宿\n"
            "管员年龄普遍偏大。\n下一步打算\n明年主要想干这么几件事。\n")
    assert sentences(text) == [
        "还有一点，一些学校的安全管理还有薄弱环节，寄宿制学校夜间值守人员不足，宿\n管员年龄普遍偏大。",
        "下一步打算",
        "明年主要想干这么几件事。",
    ]


def test_joins_a_long_wrapped_line_even_when_the_next_line_starts_with_a_digit():
    text = ("组织企业申报国家、省市级科技计划项目达200多项,立项132项,获得市级以上\n"
            "财政科技资金首次突破2000万元。")
    assert len(sentence_spans(text)) == 1


def test_breaks_a_line_without_punctuation_before_a_heading():
    text = "五是技术含量高的企业较少,整体发展后劲不足\n二、2014年工作目标\n一是实现科技创新指标翻番"
    assert sentences(text) == [
        "五是技术含量高的企业较少,整体发展后劲不足", "二、2014年工作目标", "一是实现科技创新指标翻番",
    ]


def test_a_short_title_line_is_its_own_sentence():
    text = "区科技工作汇报材料\n近年来,全区科技工作取得较大进步。"
    assert sentences(text) == ["区科技工作汇报材料", "近年来,全区科技工作取得较大进步。"]


def test_a_numbered_line_wrapped_mid_sentence_is_not_a_heading():
    text = "(5)开展推广有关人口、健康、防灾减灾和社会\n安全领域的关键技术。广泛宣传优生优育知识。"
    assert sentences(text)[0] == "(5)开展推广有关人口、健康、防灾减灾和社会\n安全领域的关键技术。"
    assert find_headings(text) == []


def test_a_heading_whose_body_starts_with_a_clause_stays_a_heading():
    text = "二、加大科技资金投入,形成创新合力\n科技要发展,财力需保障。镇政府十分重视科技投入。"
    assert [h.title for h in find_headings(text)] == ["加大科技资金投入,形成创新合力"]
    assert sentences(text)[0] == "二、加大科技资金投入,形成创新合力"


def test_clause_spans_cut_after_semicolons():
    text = "新闸街道争取项目经费;五星街道规划孵化器；永红街道纳入考核。"
    clauses = [text[s:e] for s, e in clause_spans(text)]
    assert clauses == ["新闸街道争取项目经费;", "五星街道规划孵化器；", "永红街道纳入考核。"]


def test_finds_line_headings_of_every_outline_level():
    text = ("第一篇:青阳镇科技工作总结\n一、工作开展情况\n（一）工作措施\n1.抓体系,注重创新环境构建。"
            "制定政策注重专而精。\n（1）建立示范工程\n2、抓重点\n")
    got = [(h.level, h.marker, h.title) for h in find_headings(text)]
    assert got == [
        (1, "第一篇", "青阳镇科技工作总结"),
        (2, "一、", "工作开展情况"),
        (3, "（一）", "工作措施"),
        (4, "1.", "抓体系,注重创新环境构建"),
        (5, "（1）", "建立示范工程"),
        (4, "2、", "抓重点"),
    ]
    for h in find_headings(text):
        assert text[h.start:h.end].endswith(h.title)


def test_enumerations_are_not_headings():
    text = "三、存在问题:一是基层科普网络薄弱。二是经费不足。\n一是巩固科技创新平台\n"
    assert [h.title for h in find_headings(text)] == ["存在问题"]
    assert sentences(text)[:2] == ["三、存在问题:", "一是基层科普网络薄弱。"]


def test_finds_a_heading_that_lost_its_line_break():
    text = "营造了良好氛围。 二、有效投入、高新技术产业发展迅猛 随着科技经费的引导作用不断加强,投入加大。"
    (h,) = find_headings(text)
    assert (h.level, h.title) == (2, "有效投入、高新技术产业发展迅猛")
    assert sentences(text) == [
        "营造了良好氛围。", "二、有效投入、高新技术产业发展迅猛", "随着科技经费的引导作用不断加强,投入加大。",
    ]


def test_cuts_a_heading_glued_to_a_numbered_subheading():
    text = "现将全年工作总结如下:一、2019年工作总结1.积极培育高新技术产业,提升企业能力,做好认定工作。"
    titles = [h.title for h in find_headings(text)]
    assert titles == ["2019年工作总结"]


@pytest.mark.parametrize("text", [
    "投资1.5亿元建设研发中心。",
    "2012、2013年连续两年获得优秀单位。",
    "获省科技进步奖32项(其中,一、二等奖14项)。",
    "1、建成比较完善的与社会主义市场经济体制相配套的科技运行机制,建立科技活动中心,提高科技服务体系的整体服务功能。",
])
def test_numbers_and_numbered_paragraphs_are_not_headings(text: str):
    assert find_headings(text) == []


def _check_spans(text: str) -> None:
    spans = sentence_spans(text)
    covered = set()
    last = 0
    for s, e in spans:
        assert last <= s < e
        assert not text[s].isspace() and not text[e - 1].isspace()
        covered.update(range(s, e))
        last = e
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


_ALPHABET = st.sampled_from(list("科技工作产值增长亿元万") + list("。！？!?；;，,、：:”）“（ \n\u3000")
                            + ["一、", "（二）", "3.", "1.5", "一是", "第一篇", "\n\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_sentences_are_ordered_trimmed_and_cover_every_visible_character(text: str):
    _check_spans(text)
    for h in find_headings(text):
        assert 0 <= h.start < h.end <= len(text)


def test_seed_sentences_cover_every_visible_character():
    for path in seed_files():
        text = path.read_text(encoding="utf-8")
        _check_spans(text)
        # Sentences of real reports are rarely longer than a paragraph.
        assert max(e - s for s, e in sentence_spans(text)) < 800, path.name


def test_seed_004_finds_every_report_and_its_outline():
    (path,) = [p for p in seed_files() if p.name.startswith("004")]
    headings = find_headings(path.read_text(encoding="utf-8"))
    assert [h.marker for h in headings if h.level == 1] == ["第一篇", "第二篇", "第三篇", "第四篇", "第五篇"]
    assert any(re.fullmatch("存在问题", h.title) for h in headings)


def test_a_part_title_stays_a_heading_before_a_short_first_sentence():
    text = "三、2025年工作计划\n新增高新技术企业15家以上。"
    assert [h.title for h in find_headings(text)] == ["2025年工作计划"]
    assert sentences(text) == ["三、2025年工作计划", "新增高新技术企业15家以上。"]
