"""The number scanner: values, kinds, units, approximation words, and what is not a number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reportsum.grounding.numbers import Mention, scan

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def one(text: str) -> Mention:
    found = scan(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "text",
    [
        "10.69亿元",
        "106900万元",
        "1069000000元",
        "10.69 亿元",
        "１０．６９亿元",
        "1,069,000,000元",
        "十点六九亿元",
    ],
)
def test_magnitudes_are_multiplied_out(text: str) -> None:
    m = one(text)
    assert (m.value, m.unit, m.kind) == (1069000000.0, "元", "number")


@pytest.mark.parametrize(
    ("text", "value", "unit", "kind"),
    [
        ("两万吨", 20000, "吨", "number"),
        ("一万二千人", 12000, "人", "number"),
        ("兩萬人", 20000, "人", "number"),
        ("1.5億元", 1.5e8, "元", "number"),
        ("32.3%", 32.3, "%", "percent"),
        ("32.3％", 32.3, "%", "percent"),
        ("百分之三十二点三", 32.3, "%", "percent"),
        ("7.72个百分点", 7.72, "个百分点", "percentage-point"),
        ("7.72個百分點", 7.72, "个百分点", "percentage-point"),
        ("1.94倍", 1.94, "倍", "multiple"),
        ("翻番", 2, "倍", "multiple"),
        ("翻两番", 4, "倍", "multiple"),
        ("三分之一", 1 / 3, "", "fraction"),
        ("第九届", 9, "届", "ordinal"),
        ("第9届", 9, "届", "ordinal"),
        ("第一名", 1, "名", "ordinal"),
        ("2013年", 2013, "年", "year"),
        ("二〇一三年", 2013, "年", "year"),
        ("3个月", 3, "个月", "number"),
        ("3月", 300, "月", "date"),
        ("十项", 10, "项", "number"),
        ("十二項", 12, "项", "number"),
    ],
)
def test_values_units_and_kinds(text: str, value: float, unit: str, kind: str) -> None:
    m = one(text)
    assert m.value == pytest.approx(value)
    assert (m.unit, m.kind) == (unit, kind)
    assert text[m.start : m.end] == m.raw


def test_ratio_with_either_colon_is_the_same_value() -> None:
    a, b = one("1:10.3"), one("1∶10.3")
    assert a.kind == b.kind == "ratio"
    assert a.value == b.value


@pytest.mark.parametrize(
    ("text", "lo", "hi"), [("3至5万元", 30000, 50000), ("3-5万元", 30000, 50000), ("3—5家", 3, 5)]
)
def test_ranges_keep_both_ends(text: str, lo: float, hi: float) -> None:
    m = one(text)
    assert (m.kind, m.value, m.high) == ("range", lo, hi)


def test_year_range_is_a_year_span() -> None:
    m = one("2014—2017年度")
    assert (m.kind, m.value, m.high) == ("year", 2014, 2017)


def test_full_date_is_one_mention_after_its_year() -> None:
    found = scan("2018年12月25日")
    assert [(m.kind, m.value) for m in found] == [("year", 2018), ("date", 1225)]


@pytest.mark.parametrize(
    ("text", "approx"),
    [
        ("3000余人", "余"),
        ("60多个", "多"),
        ("逾3000人", "逾"),
        ("约5亿元", "约"),
        ("近800个", "近"),
        ("100人以上", "以上"),
    ],
)
def test_approximation_words_are_recorded_not_valued(text: str, approx: str) -> None:
    m = one(text)
    assert m.approx == approx
    assert m.value in (3000, 60, 5e8, 800, 100)


@pytest.mark.parametrize(
    "text", ["xx家", "xxx家", "xxxx年", "XX项", "x.xx%", "20xx年", "**", "xx万元", "xG"]
)
def test_redacted_placeholders_are_never_numbers(text: str) -> None:
    m = one(text)
    assert (m.kind, m.value) == ("redacted", None)


@pytest.mark.parametrize(
    "text",
    [
        "一是",
        "二是",
        "一批",
        "一系列",
        "统一",
        "进一步",
        "十九大",
        "十八大",
        "三个代表",
        "一区多园",
        "一对一",
        "万众",
        "一手抓",
        "两手抓",
        "四两拔千斤",
        "第一生产力",
        "一方面",
        "一年来",
        "一直",
        "一定",
        "数三",
    ],
)
def test_numeral_characters_inside_words_are_not_quantities(text: str) -> None:
    assert scan(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "RFID",
        "T800",
        "SAEJ441",
        "HP2-52C",
        "K4",
        "SL-D0062",
        "LED",
        "5G",
        "“3315”",
        "400-050-0827",
        "9:00-18:30",
    ],
)
def test_codes_phone_numbers_and_times_are_not_quantities(text: str) -> None:
    assert scan(text) == []


def test_units_next_to_codes_still_count() -> None:
    assert [(m.value, m.unit) for m in scan("T800规模化生产线年产1000吨")] == [(1000, "吨")]


def test_spans_map_through_an_offset_function() -> None:
    m = one("共10项")
    model = m.to_model(lambda i: i + 100)
    assert model.span == (101, 104)
    assert model.kind == "number"


def _seed(name: str) -> str:
    if not SEEDS.is_dir():
        pytest.skip(f"seed folder {SEEDS} is absent")
    files = sorted(SEEDS.glob(f"{name}_*.txt"))
    if not files:
        pytest.skip(f"seed {name} is absent")
    return files[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["001", "003", "004"])
def test_every_placeholder_in_seeds_is_redacted(name: str) -> None:
    text = _seed(name)
    redacted = [(m.start, m.end) for m in scan(text) if m.kind == "redacted"]
    placeholders = [
        p
        for p in re.finditer(
            r"(?<![A-Za-z0-9])(?:[xX]{2,4}(?:\.[xX]+)?|x\.[xX]+|\*\*+)(?![A-Za-z])", text
        )
    ]
    assert placeholders or name == "004"
    for p in placeholders:
        assert any(s <= p.start() and p.end() <= e for s, e in redacted), text[
            p.start() - 10 : p.end() + 10
        ]


@pytest.mark.parametrize("text", ["1，478万元", "１，４７８万元", "1,478万元", "1478万元"])
def test_thousands_separators_ascii_or_full_width(text: str) -> None:
    m = one(text)
    assert (m.value, m.unit, m.raw) == (14780000.0, "元", text)


def test_full_width_comma_without_three_digit_group_separates_figures() -> None:
    found = scan("分别为3，45家")
    assert [(m.raw, m.value) for m in found] == [("3", 3), ("45家", 45)]


def test_repeated_scans_return_independent_equal_lists() -> None:
    text = "新认定市级企业技术中心12家、市级科技项目12项"
    first = scan(text)
    first.clear()
    again = scan(text)
    assert [(m.raw, m.start) for m in again] == [("12家", 11), ("12项", 21)]
    assert again == scan(text) and again is not scan(text)


def test_long_texts_scan_like_their_parts() -> None:
    part = "全区实现产值10.69亿元，同比增长32.3%，第九届博览会，xx家企业。"
    long_text = part * 200  # beyond the cached length: scanned afresh every time
    found = scan(long_text)
    assert len(found) == 200 * len(scan(part))
    shift = len(part) * 199
    assert [(m.raw, m.start - shift) for m in found[-len(scan(part)) :]] == [
        (m.raw, m.start) for m in scan(part)
    ]


# ---------------------------------------------------------------- issue 13: forms real models write


@pytest.mark.parametrize(
    ("text", "value", "unit", "kind", "approx"),
    [
        ("突破千亿元", 1e11, "元", "number", "突破"),
        ("超千万元", 1e7, "元", "number", "超"),
        ("百余家", 100, "家", "number", "余"),
        ("千余家", 1000, "家", "number", "余"),
        ("近千家", 1000, "家", "number", "近"),
        ("上千人", 1000, "人", "number", "上"),
        ("数十家", 10, "家", "number", "数"),
        ("几百人", 100, "人", "number", "几"),
        ("数千万元", 1e7, "元", "number", "数"),
        ("万余人", 1e4, "人", "number", "余"),
        ("五成", 50, "%", "percent", ""),
        ("超过五成", 50, "%", "percent", "超过"),
        ("近九成", 90, "%", "percent", "近"),
        ("三成多", 30, "%", "percent", "多"),
        ("七成以上", 70, "%", "percent", "以上"),
        ("九成五", 95, "%", "percent", ""),
        ("半数", 50, "%", "percent", ""),
        ("过半", 50, "%", "percent", "过"),
        ("超过半数", 50, "%", "percent", "超过"),
        ("前五", 5, "", "rank", ""),
        ("前5", 5, "", "rank", ""),
        ("前5名", 5, "名", "rank", ""),
        ("1/3", 1 / 3, "", "fraction", ""),
        ("超过1/3", 1 / 3, "", "fraction", "超过"),
        ("三分之一以上", 1 / 3, "", "fraction", "以上"),
        ("6万千瓦", 60000, "千瓦", "number", ""),
        ("60000千瓦", 60000, "千瓦", "number", ""),
        ("3千米", 3, "公里", "number", ""),
        ("不超过200万元", 2e6, "元", "number", "不超过"),
        ("超过了200万元", 2e6, "元", "number", "超过了"),
        ("不少于5家", 5, "家", "number", "不少于"),
        ("不到八成", 80, "%", "percent", "不到"),
        ("100人以下", 100, "人", "number", "以下"),
        ("3.5%以内", 3.5, "%", "percent", "以内"),
    ],
)
def test_forms_real_models_write(text: str, value: float, unit: str, kind: str, approx: str) -> None:
    m = one(text)
    assert m.value == pytest.approx(value)
    assert (m.unit, m.kind, m.approx, m.raw) == (unit, kind, approx, text)


@pytest.mark.parametrize(
    "text",
    [
        "统一成品油价格",
        "一成不变",
        "建成区",
        "提前一年",
        "目前5家",
        "今年前三季度",
        "前10个月",
        "“863”计划",
        "863计划",
        "236工程",
        "千瓦时",
        "四两拔千斤",
        "另一半",
        "超过半年",
    ],
)
def test_words_and_names_that_are_no_figures(text: str) -> None:
    assert scan(text) == []


def test_a_date_with_slashes_is_no_fraction() -> None:
    assert [m.kind for m in scan("2023/1/3")] == ["number"]


def test_the_same_rule_reads_both_forms_of_a_rank_and_of_a_name() -> None:
    assert [(m.value, m.kind) for m in scan("首次进入全省前五")] == [(5, "rank")]
    assert [(m.value, m.kind) for m in scan("首次进入全省前5")] == [(5, "rank")]
    assert scan("深入实施“863”计划") == scan("深入实施863计划") == []
