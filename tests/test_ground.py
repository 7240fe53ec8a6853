"""Evidence location and the number policy, including hypothesis properties and the seeds."""

from __future__ import annotations

import random
import re
from pathlib import Path

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportsum.grounding.ground import (
    GroundingSource,
    _find_near,
    _match_number,
    check_details,
    check_item,
    find_problems,
    locate_problems,
    reask_message,
)
from reportsum.grounding.numbers import scan

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
SOURCE = (
    "一、主要成效\n今年以来，全区实现高新技术产业产值10.69亿元，同比增长32.3%。"
    "新认定市级企业技术中心12家、市级科技项目12项。\n全区实现高新技术产业产值10.69亿元的目标已提前完成。"
)


def test_locate_exact_and_nearest_occurrence() -> None:
    src = GroundingSource(SOURCE)
    quote = "全区实现高新技术产业产值10.69亿元"
    first = src.locate(quote)
    assert (
        first is not None and first.method == "exact" and SOURCE[first.start : first.end] == quote
    )
    second = src.locate(quote, near=len(SOURCE) - 5)
    assert second is not None and second.start > first.start


def test_locate_normalized_maps_back_to_original_offsets() -> None:
    text = "科技工作呈現(xiàn)良好局面，投入１０．６９億元。"
    src = GroundingSource(text)
    m = src.locate("科技工作呈现良好局面，投入10.69亿元")
    assert m is not None and m.method == "normalized"
    assert (m.start, m.end) == (0, len(text) - 1)


def test_nfkc_is_for_matching_only() -> None:
    text = "孵化面积①达到12万㎡。"
    src = GroundingSource(text)
    m = src.locate("孵化面积1达到12万m2")
    assert m is not None and text[m.start : m.end] == "孵化面积①达到12万㎡"
    assert src.text == text


def test_unfindable_quote_is_rejected_with_reason() -> None:
    check = check_item(GroundingSource(SOURCE), "产值10.69亿元", "全市工业产值再创新高")
    assert not check.ok and check.span is None
    assert "evidence not found in source" in check.reasons[0]


def test_reason_names_item_and_what_the_evidence_says() -> None:
    check = check_item(
        GroundingSource(SOURCE), "产值10.96亿元", "全区实现高新技术产业产值10.69亿元"
    )
    assert check.reasons == (
        "条目“产值10.96亿元”：数字“10.96亿元”在原文引文中找不到（原文引文中为：10.69亿元）",
    )
    message = reask_message("achievements", 2, check)
    assert message.startswith("achievements[2]") and "10.69亿元" in message


def test_grounded_numbers_are_source_mentions() -> None:
    check = check_item(
        GroundingSource(SOURCE), "技术中心12家", "新认定市级企业技术中心12家、市级科技项目12项"
    )
    assert check.ok
    assert [(m.raw, SOURCE[m.start : m.end]) for m in check.numbers] == [("12家", "12家")]


def test_dropped_qualifier_is_accepted_with_warning() -> None:
    check = check_item(GroundingSource("引进人才3000余人。"), "引进人才3000人", "引进人才3000余人")
    assert check.ok and check.warnings


def test_rounding_only_when_allowed() -> None:
    src = GroundingSource(SOURCE)
    ev = "全区实现高新技术产业产值10.69亿元"
    assert not check_item(src, "产值10.7亿元", ev).ok
    rounded = check_item(src, "产值10.7亿元", ev, allow_rounding=True)
    assert rounded.ok and rounded.warnings
    assert not check_item(src, "产值10.8亿元", ev, allow_rounding=True).ok


# ---------------------------------------------------------------- properties

BASE = st.tuples(st.integers(min_value=1, max_value=9999), st.integers(min_value=0, max_value=99))


def _forms(whole: int, cents: int) -> list[str]:
    """Faithful forms of whole.cents 万元."""
    value = f"{whole}.{cents:02d}".rstrip("0").rstrip(".")
    yuan = whole * 10000 + cents * 100
    full = value.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    return [
        f"{value}万元",
        f"{yuan}元",
        f"{yuan:,}元",
        f"{full}万元",
        f"{cn2an.an2cn(value)}万元",
        f"{value} 万元",
    ]


@settings(max_examples=60, deadline=None)
@given(BASE, st.integers(min_value=0, max_value=5))
def test_any_faithful_form_is_accepted(base: tuple[int, int], pick: int) -> None:
    whole, cents = base
    source_form = _forms(whole, cents)[0]
    evidence = f"全年争取科技资金{source_form}"
    src = GroundingSource(f"今年以来，{evidence}，成效明显。")
    text = f"争取资金{_forms(whole, cents)[pick]}"
    check = check_item(src, text, evidence)
    assert check.ok, check.reasons


@settings(max_examples=60, deadline=None)
@given(BASE, st.integers(min_value=0, max_value=3), st.data())
def test_any_changed_digit_magnitude_or_kind_is_rejected(
    base: tuple[int, int], how: int, data: st.DataObject
) -> None:
    whole, cents = base
    value = f"{whole}.{cents:02d}".rstrip("0").rstrip(".")
    evidence = f"全年争取科技资金{value}万元"
    src = GroundingSource(f"今年以来，{evidence}，成效明显。")
    if how == 0:
        i = data.draw(st.integers(min_value=0, max_value=len(value) - 1))
        if value[i] == ".":
            i -= 1
        new = data.draw(st.sampled_from([d for d in "0123456789" if d != value[i]]))
        changed = value[:i] + new + value[i + 1 :]
        if float(changed) == float(value):
            return
        text = f"争取资金{changed}万元"
    elif how == 1:
        text = f"争取资金{value}{data.draw(st.sampled_from(['亿元', '千元', '元']))}"
    elif how == 2:
        text = f"资金增长{value}{data.draw(st.sampled_from(['%', '个百分点', '倍']))}"
    else:
        text = f"争取资金{value}万美元"
    assert not check_item(src, text, evidence).ok


# ---------------------------------------------------------------- seeds


def _seed_texts() -> list[tuple[str, str]]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed folder {SEEDS} is absent")
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]


@pytest.mark.parametrize("with_evidence", [True, False])
def test_source_sentences_verify_cleanly_on_every_seed(with_evidence: bool) -> None:
    for name, text in _seed_texts():
        src = GroundingSource(text)
        for sentence in (s for s in re.split(r"[。！？；]", text) if s.strip()):
            check = check_item(src, sentence, sentence if with_evidence else None)
            assert check.ok, (name, check.reasons)


def test_fuzzy_quote_is_located_near_the_hint_first() -> None:
    para = "全区实现高新技术产业产值10.69亿元，同比增长32.3%"
    text = "一、" + para + "。" + "各项工作有序推进。" * 900 + "二、" + para + "。"
    src = GroundingSource(text)
    quote = "全区实现高新技术产业总产值10.69亿元，同比增长32.3%"  # one character added
    first = src.locate(quote, near=0)
    second = src.locate(quote, near=len(text) - 5)
    assert first is not None and second is not None
    assert first.method == second.method == "fuzzy"
    # the alignment may take in a neighbouring character; what matters is which occurrence
    assert abs(first.start - text.index(para)) <= 2
    assert abs(second.start - text.rindex(para)) <= 2


def test_fuzzy_quote_with_a_changed_number_is_rejected() -> None:
    src = GroundingSource("今年以来，全区实现高新技术产业产值10.69亿元，同比增长32.3%。")
    check = check_item(src, "产值10.69亿元", "全区实现高新技术产业总产值10.96亿元，同比增长32.3%")
    assert not check.ok and check.warnings
    assert any("10.96亿元" in r for r in check.reasons)


def test_full_width_thousands_comma_grounds_the_plain_figure() -> None:
    src = GroundingSource("争取上级科技扶持资金1，478万元。")
    assert check_item(src, "扶持资金1478万元", "争取上级科技扶持资金1，478万元").ok
    assert not check_item(src, "扶持资金1487万元", "争取上级科技扶持资金1，478万元").ok


def test_find_problems_agrees_with_check_details() -> None:
    src = GroundingSource(SOURCE)
    for text, evidence in [
        ("产值10.96亿元，增长32.3%", "全区实现高新技术产业产值10.69亿元，同比增长32.3%"),
        ("技术中心12家", None),
        ("产值10.69亿元", "全市工业产值再创新高"),
    ]:
        check, problems = check_details(src, text, evidence)
        found, warnings = find_problems(src, text, evidence)
        assert tuple(found) == problems and tuple(warnings) == check.warnings
        assert check.ok is (not found)


def _spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^。！？；]+", text) if m.group().strip()]


def _variants(text: str) -> list[str]:
    # the seeds and two digit permutations of them (as the throughput bench rewrites copies)
    perms = [
        str.maketrans("0123456789", "".join(str((a * d + k) % 10) for d in range(10)))
        for a, k in ((3, 1), (7, 4))
    ]
    return [text] + [text.translate(p) for p in perms]


def test_mentions_read_off_the_source_equal_a_fresh_scan_of_every_seed_sentence() -> None:
    for name, seed in _seed_texts():
        for text in _variants(seed):
            src = GroundingSource(text)
            for s, e in _spans(text):
                derived = src.mentions_of(s, e)
                assert derived is not None, (name, text[s:e])
                assert derived == tuple(scan(text[s:e])), (name, text[s:e])


def test_mentions_of_any_slice_are_none_or_a_fresh_scan() -> None:
    rng = random.Random(7)
    for name, text in _seed_texts():
        src = GroundingSource(text)
        for _ in range(400):
            s = rng.randrange(len(text))
            e = min(len(text), s + rng.randrange(1, 120))
            derived = src.mentions_of(s, e)
            if derived is not None:
                assert derived == tuple(scan(text[s:e])), (name, s, e)


def test_mentions_of_a_slice_cutting_a_figure_or_its_context_is_none() -> None:
    text = "一、产值10.69亿元。第3批，约300人。T800型。"
    src = GroundingSource(text)
    assert src.mentions_of(0, len(text)) is not None
    for piece in ("产值10.6", "9亿元", "3批，约300人", "300人", "00型"):
        s = text.index(piece)
        assert src.mentions_of(s, s + len(piece)) is None, piece
    assert [m.raw for m in src.mentions_of(0, text.index("。第")) or ()] == ["10.69亿元"]


def test_verbatim_items_ground_the_same_mentions_as_matching_a_fresh_scan() -> None:
    for _, seed in _seed_texts():
        for text in _variants(seed)[:2]:
            src = GroundingSource(text)
            for s, e in _spans(text):
                sentence = text[s:e]
                # the sentence itself, and its first clause (a substring of the quote)
                for item in {sentence, sentence.split("，")[0]}:
                    check = check_item(src, item, sentence)
                    assert check.ok and not check.warnings and check.span is not None
                    pool = src.mentions_in(*check.span)  # a repeated sentence: its first place
                    expected: dict[int, object] = {}
                    for t in scan(item):
                        found, warning, reason = _match_number(t, pool, "原文引文", False)
                        assert found is not None and not warning and not reason
                        expected.setdefault(id(found), found)
                    assert [id(m) for m in check.numbers] == list(expected), item


def _find_near_reference(hay: str, needle: str, near: int | None) -> int:
    # the definition: the closest occurrence to `near`, the earlier one on a tie
    if near is None:
        return hay.find(needle)
    after = hay.find(needle, max(0, near))
    before = hay.rfind(needle, 0, max(0, near) + len(needle) - 1)
    if after < 0 or before < 0:
        return max(after, before) if min(after, before) < 0 else after
    return before if near - before <= after - near else after


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="ab。", max_size=40),
    st.text(alphabet="ab。", min_size=1, max_size=4),
    st.none() | st.integers(min_value=-3, max_value=45),
)
def test_find_near_picks_the_closest_occurrence(hay: str, needle: str, near: int | None) -> None:
    assert _find_near(hay, needle, near) == _find_near_reference(hay, needle, near)


def test_locate_problems_returns_the_span_for_the_next_item() -> None:
    src = GroundingSource(SOURCE)
    quote = "新认定市级企业技术中心12家"
    span, problems, warnings = locate_problems(src, "技术中心12家", quote)
    assert span == (SOURCE.index(quote), SOURCE.index(quote) + len(quote))
    assert not problems and not warnings
    assert locate_problems(src, "技术中心12家", None)[0] is None


# ---------------------------------------------------------------- issue 13: claim frames


FRAMES = "全市规上工业实现利润总额86.3亿元，同比下降1.3%；营业收入同比增长8.7%，环比增长2.1%。"


@pytest.mark.parametrize(
    ("text", "evidence", "ok"),
    [
        ("利润总额同比减少1.3%", "实现利润总额86.3亿元，同比下降1.3%", True),
        ("利润总额降低1.3%", "实现利润总额86.3亿元，同比下降1.3%", True),
        ("利润总额同比变动1.3%", "实现利润总额86.3亿元，同比下降1.3%", True),
        ("利润总额增长1.3%", "实现利润总额86.3亿元，同比下降1.3%", False),
        ("营业收入同比增长8.7%", "营业收入同比增长8.7%，环比增长2.1%", True),
        ("营业收入比上年增长8.7%", "营业收入同比增长8.7%，环比增长2.1%", True),
        ("营业收入环比增长8.7%", "营业收入同比增长8.7%，环比增长2.1%", False),
        ("营业收入下降8.7%", "营业收入同比增长8.7%，环比增长2.1%", False),
    ],
)
def test_direction_and_basis(text: str, evidence: str, ok: bool) -> None:
    assert check_item(GroundingSource(FRAMES), text, evidence).ok is ok


def test_reask_names_the_frame() -> None:
    ev = "实现利润总额86.3亿元，同比下降1.3%"
    check = check_item(GroundingSource(FRAMES), "利润总额增长1.3%", ev)
    assert not check.ok
    assert "原文是下降1.3%，不是增长" in check.reasons[0]
    assert "原文是下降1.3%，不是增长" in reask_message("achievements", 0, check)


@pytest.mark.parametrize(
    ("text", "ok", "why"),
    [
        ("中央预算内资金占比33.8%", True, "same share"),
        ("中央预算内资金占比提高到33.8%", True, "a level reached is a level, like a share"),
        ("中央预算内资金增长33.8%", False, "占比 is no growth"),
    ],
)
def test_relation_share_against_change(text: str, ok: bool, why: str) -> None:
    ev = "其中中央预算内资金占比33.8%"
    assert check_item(GroundingSource("全区共争取上级资金412.37亿元，" + ev + "。"), text, ev).ok is ok, why


def test_multiple_as_a_level_is_not_a_growth() -> None:
    ev = "全年实现农村居民人均可支配收入2.36万元，是2012年的2.1倍"
    src = GroundingSource(ev + "。")
    assert check_item(src, "农村居民收入是2012年的2.1倍", ev).ok
    assert check_item(src, "农村居民收入达到2012年的2.1倍", ev).ok
    bad = check_item(src, "农村居民收入比2012年增长2.1倍", ev)
    assert not bad.ok and "倍数" in bad.reasons[0]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("国家级企业技术中心12家", True),
        ("省级企业技术中心8家", True),
        ("省级、国家级企业技术中心分别为8家、12家", True),
        ("企业技术中心8家", True),
        ("国家级企业技术中心8家", False),
        ("省级企业技术中心12家", False),
        ("国家级、省级企业技术中心分别为8家、12家", False),
    ],
)
def test_fenbie_lists_give_each_figure_its_name(text: str, ok: bool) -> None:
    ev = "全市国家级、省级企业技术中心分别为12家、8家"
    check = check_item(GroundingSource("截至年底，" + ev + "。"), text, ev)
    assert check.ok is ok, check.reasons
    if not ok:
        assert "属于“" in check.reasons[0]


def test_frames_follow_the_source_sentence_when_the_quote_is_cut() -> None:
    # the quote leaves the 分别 list's names out; the source sentence still gives them
    src = GroundingSource("高新区、经开区分别实现地区生产总值356.2亿元、218.7亿元，分别增长9.1%、6.4%。")
    assert check_item(src, "经开区增长6.4%", "分别增长9.1%、6.4%").ok
    assert not check_item(src, "经开区增长9.1%", "分别增长9.1%、6.4%").ok


def test_one_written_as_a_word_grounds_the_digit() -> None:
    ev = "每季度召开一次安全形势分析会"
    src = GroundingSource("全年召开安委会全体会议4次，" + ev + "。")
    assert check_item(src, "每季度召开1次安全形势分析会", ev).ok
    assert not check_item(src, "每季度召开2次安全形势分析会", ev).ok


def test_programme_names_must_keep_their_digits() -> None:
    ev = "深入实施“863”计划和“236”工程"
    src = GroundingSource(ev + "。")
    assert check_item(src, "实施863计划和236工程", ev).ok
    bad = check_item(src, "实施963计划", ev)
    assert not bad.ok and "963" in bad.reasons[0]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("信访办结率98.6%，群众满意率92.3%", True),
        ("办结率：98.6%", True),
        ("群众满意率（92.3%）与办结率（98.6%）均保持高位", True),
        ("群众满意率达到98.6%", False),
        ("群众满意率：98.6%", False),
        ("办结率92.3%", False),
    ],
)
def test_figures_keep_the_subject_their_clause_gives_them(text: str, ok: bool) -> None:
    ev = "全年受理群众信访事项1526件，办结率98.6%，群众满意率达到92.3%"
    check = check_item(GroundingSource(ev + "。"), text, ev)
    assert check.ok is ok, check.reasons


def test_a_bound_is_not_satisfied_by_another_subjects_figure() -> None:
    ev = "全年共发放创业担保贷款2.6亿元，扶持创业1860人，带动就业5400余人"
    src = GroundingSource(ev + "。")
    assert check_item(src, "扶持创业近2000人", ev).ok
    assert check_item(src, "带动就业超5000人", ev).ok
    assert not check_item(src, "扶持创业超2000人", ev).ok


def test_fenbie_after_figures_names_them_by_their_subjects() -> None:
    # 分别 with no names before it refers to the figures before it, one per figure after it
    ev = "财政总收入20.5亿元,其中地方财政收入9.6亿元,分别增11.2、8.4"
    src = GroundingSource("全年经济平稳运行;" + ev + ";农民人均纯收入9100元,增10.1。")
    assert check_item(src, ev.replace(",", "，"), ev).ok
    assert check_item(src, "地方财政收入9.6亿元，增长8.4", ev).ok
    assert not check_item(src, "地方财政收入9.6亿元，增长11.2", ev).ok


@pytest.mark.parametrize(
    ("source", "text", "ok"),
    [
        ("全年规上工业增加值增速回落到7.2%", "规上工业增加值增长7.2%", True),
        ("全年规上工业增加值增速回落到7.2%", "规上工业增加值增速下降到7.2%", True),
        ("全年规上工业增加值增速回落到7.2%", "规上工业增加值下降7.2%", False),
        ("全县贫困发生率由2015年的12.3%下降到0", "贫困发生率从12.3%降为0", True),
        ("全县贫困发生率由2015年的12.3%下降到0", "贫困发生率下降12.3%", False),
        ("全市常住人口城镇化率达到63.2%", "城镇化率提升至63.2%", True),
        ("全市常住人口城镇化率达到63.2%", "城镇化率提高63.2%", False),
        ("全年新增城镇就业8632人，同比增长达到12%", "新增城镇就业增长12%", True),
    ],
)
def test_levels_against_changes(source: str, text: str, ok: bool) -> None:
    check = check_item(GroundingSource(source + "。"), text, source)
    assert check.ok is ok, check.reasons
