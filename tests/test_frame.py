"""Claim frames: what a clause says about each figure besides its value."""

from __future__ import annotations

import pytest

from reportsum.grounding.frame import Frame, conflict, cores, frames, heads, member_named
from reportsum.grounding.numbers import scan


def frame_of(text: str, raw: str) -> Frame:
    ms = scan(text)
    found = frames(text, ms, 0, len(text))
    for k, m in enumerate(ms):
        if m.raw == raw:
            return found[k]
    raise AssertionError(f"{raw} not in {[m.raw for m in ms]}")


@pytest.mark.parametrize(
    ("text", "raw", "direction", "relation", "basis"),
    [
        ("营业收入同比增长8.7%", "8.7%", "up", "change", "yoy"),
        ("利润总额比上年下降1.3%", "1.3%", "down", "change", "yoy"),
        ("工业增加值环比增长2.3%", "2.3%", "up", "change", "mom"),
        ("工业增加值12亿元", "12亿元", "", "", ""),
        ("占规上工业比重达50.84%", "50.84%", "", "share", ""),
        ("占比提高到15%", "15%", "up", "level", ""),
        ("是2020年的2.1倍", "2.1倍", "", "times", ""),
        ("增长2.1倍", "2.1倍", "up", "change", ""),
        ("城镇化率达到63.2%", "63.2%", "", "level", ""),
        ("同比增长达到12%", "12%", "up", "change", "yoy"),
        ("增速回落到7.2%", "7.2%", "up", "change", ""),
        ("降幅为3%", "3%", "down", "change", ""),
        ("利润增长-1.3%", "1.3%", "down", "change", ""),
        ("贫困发生率降为0", "0", "down", "level", ""),
        ("为企业减负12亿元", "12亿元", "", "", ""),
    ],
)
def test_direction_relation_basis(
    text: str, raw: str, direction: str, relation: str, basis: str
) -> None:
    f = frame_of(text, raw)
    assert (f.direction, f.relation, f.basis) == (direction, relation, basis)


def test_a_list_after_a_figure_shares_its_frame() -> None:
    f = frame_of("同比分别增长12%、8%", "8%")
    assert (f.direction, f.basis) == ("up", "yoy")


def test_fenbie_names() -> None:
    text = "国家级、省级企业技术中心分别为12家、8家"
    a, b = frame_of(text, "12家"), frame_of(text, "8家")
    assert a.names == b.names == ("国家级", "省级企业技术中心")
    assert (a.member, b.member) == (0, 1)
    assert heads(a.names) == ("国家", "省级")
    assert member_named("国家级企业技术中心", a.names) == 0
    assert member_named("技术中心", a.names) == -1


def test_subjects_tell_figures_of_one_kind_apart() -> None:
    text = "办结率98.6%，群众满意率达到92.3%"
    f = frame_of(text, "98.6%")
    assert f.labels == ("办结率", "群众满意率") and f.label == 0
    assert cores(f.labels) == ("办结", "群众满意")


def test_conflicts_only_where_both_sides_state_the_attribute() -> None:
    down = frame_of("同比下降1.3%", "1.3%")
    assert conflict(frame_of("增长1.3%", "1.3%"), down, "1.3%") == "原文是下降1.3%，不是增长"
    assert conflict(frame_of("减少1.3%", "1.3%"), down, "1.3%") == ""
    assert conflict(frame_of("利润1.3%", "1.3%"), down, "1.3%") == ""
    assert conflict(frame_of("环比下降1.3%", "1.3%"), down, "1.3%").startswith("原文是同比")


def test_a_threshold_before_a_count_belongs_to_it() -> None:
    text = "引进亿元以上项目46个，其中10亿元以上项目8个"
    assert frame_of(text, "46个").threshold == "亿元以上"
    assert frame_of(text, "8个").threshold == "10亿元以上"
