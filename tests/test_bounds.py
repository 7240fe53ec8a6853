"""The bound model of approximate claims (突破千亿, 百余家, 近千, 超过五成, 数十, 不超过...):
both sides of every bound, README's table, and a randomised differential test of
`check_item` against a brute-force reference written from the words' definitions."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportsum.grounding.ground import GroundingSource, check_item
from reportsum.grounding.numbers import BOUNDS_TABLE, claimed_bounds, scan

README = Path(__file__).resolve().parents[1] / "README.md"


def grounded(evidence_figure: str, claim: str, unit: str = "家") -> bool:
    """Whether `claim` (an item text) is grounded by an evidence that states `evidence_figure`."""
    evidence = f"全年新增企业{evidence_figure}{unit}"
    return check_item(GroundingSource(f"一、{evidence}。"), f"新增企业{claim}", evidence).ok


# (claim, a value it allows, a value it does not): each bound from both sides, at its ends
BOTH_SIDES = [
    ("突破千亿元", "1000亿", "999.9亿", "元"),
    ("突破千亿元", "1286.4亿", "412.37亿", "元"),
    ("超千万元", "1000.1万", "1000万", "元"),
    ("超千万元", "1200万", "500万", "元"),
    ("百余家", "101", "100", "家"),
    ("百余家", "199", "200", "家"),
    ("百余家", "150", "50", "家"),
    ("千余家", "1001", "2000", "家"),
    ("十余家", "11", "20", "家"),
    ("3000余人", "3001", "4000", "人"),
    ("60多个", "61", "70", "个"),
    ("近千家", "900", "899", "家"),
    ("近千家", "999", "1000", "家"),
    ("近千家", "970余", "1200余", "家"),
    ("上千人", "1000", "999", "人"),
    ("上万个", "13000", "9999", "个"),
    ("数十场", "20", "19", "场"),
    ("数十场", "99", "100", "场"),
    ("数万个", "20000", "13000", "个"),
    ("超过1200亿元", "1286.4亿", "1200亿", "元"),
    ("400余亿元", "412.37亿", "500亿", "元"),
    ("1.2万人以上", "1.2万", "1.19万", "人"),
    ("不少于50家", "50", "49", "家"),
    ("不超过200万元", "200万", "200.1万", "元"),
    ("不到200万元", "199万", "200万", "元"),
    ("约1300亿元", "1286.4亿", "1234亿", "元"),
    ("约1300亿元", "1350亿", "1351亿", "元"),
]


@pytest.mark.parametrize(("claim", "inside", "outside", "unit"), BOTH_SIDES)
def test_each_bound_from_both_sides(claim: str, inside: str, outside: str, unit: str) -> None:
    assert grounded(inside, claim, unit), (claim, inside)
    assert not grounded(outside, claim, unit), (claim, outside)


TENTHS = [
    ("超过五成", "50.1", "50"),
    ("超过五成", "53.2", "35.7"),
    ("五成以上", "50", "49.9"),
    ("近五成", "45", "44.9"),
    ("近五成", "49.9", "50"),
    ("近九成", "89", "90"),
    ("五成", "45", "55"),
    ("五成", "54.9", "44.9"),
    ("约三成", "33.8", "35"),
    ("三成多", "30.1", "40"),
    ("不到八成", "79.9", "80"),
    ("过半", "50.1", "50"),
    ("半数以上", "50", "48.6"),
]


@pytest.mark.parametrize(("claim", "inside", "outside"), TENTHS)
def test_tenths_from_both_sides(claim: str, inside: str, outside: str) -> None:
    def ok(v: str) -> bool:
        ev = f"受访企业中{v}%表示满意"
        return check_item(GroundingSource(ev + "。"), f"{claim}受访企业表示满意", ev).ok

    assert ok(inside), (claim, inside)
    assert not ok(outside), (claim, outside)


def test_fraction_and_tenths_compare() -> None:
    ev = "全镇三分之一以上的村集体经济年收入超过10万元"
    src = GroundingSource(ev + "。")
    assert check_item(src, "超过1/3的村集体经济收入超10万元", ev).ok
    assert check_item(src, "超过三成的村集体经济收入超10万元", ev).ok
    assert not check_item(src, "超过半数的村集体经济收入超10万元", ev).ok
    assert not check_item(src, "1/4以上的村集体经济收入超10万元", ev).ok


def test_ranks_are_bounds_on_a_place() -> None:
    ev = "营商环境评价位列全省第3名"
    src = GroundingSource(ev + "。")
    assert check_item(src, "营商环境进入全省前三", ev).ok
    assert not check_item(src, "营商环境进入全省前二", ev).ok
    ev5 = "首次进入全省营商环境评价前五"
    src5 = GroundingSource(ev5 + "。")
    assert check_item(src5, "首次进入全省前5", ev5).ok
    assert not check_item(src5, "首次进入全省前三", ev5).ok
    assert not check_item(src5, "首次进入全省前十", ev5).ok


def test_approximate_claims_are_marked_in_the_output() -> None:
    ev = "全市规模以上工业企业实现营业收入1286.4亿元"
    check = check_item(GroundingSource(ev + "。"), "规上工业营业收入突破千亿元", ev)
    assert check.ok and check.warnings
    (number,) = check.numbers
    claim = check.claim_of(0)
    assert number.raw == "1286.4亿元" and claim is not None and claim.raw == "突破千亿元"
    model = number.to_model(claim=claim)
    assert (model.claim, model.bounds) == ("突破千亿元", (1e11, None))
    exact = check_item(GroundingSource(ev + "。"), "营业收入1286.4亿元", ev)
    assert exact.claim_of(0) is None and exact.numbers[0].to_model().bounds is None


def test_readme_lists_the_bounds_table() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Grounding") :]
    for qualifiers, example, rule in BOUNDS_TABLE:
        row = f"| {qualifiers} | {example} | {rule} |"
        assert row in section, row


# ---------------------------------------------------------------- differential test

MAG_WORDS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def _sig_step(n: Decimal) -> Decimal:
    """The place of the last nonzero digit of n, by reading its digits."""
    digits = format(n.normalize(), "f")
    if "." in digits:
        return Decimal(1).scaleb(-len(digits.split(".")[1]))
    stripped = digits.rstrip("0")
    return Decimal(10) ** (len(digits) - len(stripped))


def reference(q: str, n: Decimal, v: Decimal) -> bool:
    """Whether the claim "q N" holds for the true value v, from the words' definitions."""
    if q in ("余", "多"):
        # N余: v is above N and still written with N's leading digits (百余: 101-199)
        step = _sig_step(n)
        return v > n and (v // step) * step == n
    if q in ("超过", "逾"):
        return v > n
    if q in ("突破", "以上", "不少于", "上"):
        return v >= n
    if q == "近":
        return n * Decimal("0.9") <= v < n
    if q == "不超过":
        return v <= n
    if q == "不到":
        return v < n
    if q == "数":
        # 数十: two to nine tens
        return 2 <= v // n <= 9
    if q == "约":
        # about N: N is v rounded at N's last digit (either way at the half), and within 5%
        return abs(v - n) <= _sig_step(n) / 2 and abs(v - n) <= n * Decimal("0.05")
    raise AssertionError(q)


def _claim_text(q: str, n_text: str) -> str:
    if q in ("余", "多"):
        return f"{n_text}{q}家"
    if q == "以上":
        return f"{n_text}家以上"
    return f"{q}{n_text}家"


DIGIT_QUALIFIERS = ["余", "多", "超过", "逾", "突破", "以上", "不少于", "近", "不超过", "不到", "约"]
WORD_QUALIFIERS = ["余", "多", "超过", "突破", "近", "上", "数", "不到"]


@st.composite
def claims(draw: st.DrawFn) -> tuple[str, Decimal, str]:
    if draw(st.booleans()):
        word = draw(st.sampled_from(sorted(MAG_WORDS)))
        q = draw(st.sampled_from(WORD_QUALIFIERS))
        if q == "上" and word == "十":
            word = "百"  # 上十 is not written
        return q, Decimal(MAG_WORDS[word]), _claim_text(q, word).replace("超过", "超")
    lead = draw(st.integers(min_value=1, max_value=99))
    zeros = draw(st.integers(min_value=0, max_value=3))
    n = Decimal(lead) * Decimal(10) ** zeros
    q = draw(st.sampled_from(DIGIT_QUALIFIERS))
    return q, n, _claim_text(q, str(n))


@settings(max_examples=800, deadline=None)
@given(claims(), st.data())
def test_bound_model_matches_the_brute_force_reference(
    claim: tuple[str, Decimal, str], data: st.DataObject
) -> None:
    q, n, text = claim
    # a true value near the claim's figure (where the bounds are), as a report writes it
    scale = _sig_step(n)
    top = int(n / scale) * (120 if q == "数" else 12) + 12
    k = data.draw(st.integers(min_value=1, max_value=top))
    # half of the draws land on or next to a place where some qualifier's bound changes
    edges = [n * f for f in (Decimal("0.8"), Decimal("0.9"), 1, 2, 10)]
    edges += [n + scale, n + scale / 2, n - scale / 2]
    edge = data.draw(st.sampled_from(edges)) + scale / 10 * data.draw(st.sampled_from([-1, 0, 1]))
    v = (edge if data.draw(st.booleans()) and edge > 0 else scale * k / 10).normalize()
    figure = format(v, "f")
    evidence = f"全年新增企业{figure}家"
    check = check_item(GroundingSource(f"一、{evidence}。"), f"新增企业{text}", evidence)
    (m,) = scan(text)
    assert claimed_bounds(m) is not None, text
    assert check.ok is reference(q, n, v), (text, figure, check.reasons)


def test_reference_agrees_with_the_table_examples() -> None:
    # the reference itself, on the brief's figures
    assert reference("余", Decimal(100), Decimal(150)) and not reference("余", Decimal(100), Decimal(50))
    assert reference("近", Decimal(1000), Decimal(970)) and not reference("近", Decimal(1000), Decimal(1000))
    assert reference("数", Decimal(10), Decimal(20)) and not reference("数", Decimal(10), Decimal(100))
    assert re.fullmatch(r"\d+", format(_sig_step(Decimal(3000)), "f")) is not None
