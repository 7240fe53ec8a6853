"""Numerals that are not figures: slogans, political formulas and ordinals.

Formal reports are full of numerals that name a formula rather than count anything:
五年来, 党的二十届四中全会, “四个意识”, 中央八项规定, “十五五”规划, “三公”经费, 第十四个五年规划.
They must not count as an item's figures, neither in a summary's numbers nor in eval's number
precision. `slogan_spans(text)` gives the [start, end) spans of such numerals;
`is_slogan_numeral(text, start, end)` says whether a scanned number lies inside one.

Pure functions, no imports of ours (the grounding core imports nothing else of the package).
"""

from __future__ import annotations

import re

_CN = "一二三四五六七八九十两"

SLOGAN_PATTERNS: tuple[str, ...] = (
    # “四个意识” “两个维护” “三公” “一岗双责” “十五五”: a quoted formula holding a numeral
    rf"[“\"「『][^”\"」』]{{0,10}}[{_CN}][^”\"」』]{{0,10}}[”\"」』]",
    # 四个意识, 两个确立, 四个全面 (unquoted)
    rf"[{_CN}]+个(?:意识|自信|维护|确立|全面|代表|务必|必须|注重|统筹|坚持|聚焦|率先|走在前列|着力|现代化)",
    # 党的二十大, 二十届四中全会, 十四届人大, 中央八项规定, 三项制度
    rf"[{_CN}]+(?:大(?:精神|报告|以来|代表)|届(?:[{_CN}]+中)?全会|届人大|届政协|届人民代表大会|届纪委|"
    rf"项规定|项制度|五规划|五时期)",
    rf"二十大|十九大|十八大|[{_CN}]+中全会",
    # 十四五, 十五五 (a five-year plan's name), 第十四个五年规划
    rf"十[{_CN}]五(?![年%％])|第?[{_CN}]+个五年规划",
    # 五年来, 三年来, 一年来, 过去五年: a span of time, not a figure
    rf"(?:过去|近|这)?[{_CN}]+年(?:来|以来|间|中)|过去[{_CN}]+年",
)
_SLOGAN = re.compile("|".join(f"(?:{p})" for p in SLOGAN_PATTERNS))

NOT_FIGURE_KINDS = frozenset({"ordinal"})
"""Number kinds that are never an item's figures (第五届, 第十四个)."""


def slogan_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of every slogan or formula numeral in `text`."""
    return [m.span() for m in _SLOGAN.finditer(text)]


def is_slogan_numeral(text: str, start: int, end: int, *, spans: list[tuple[int, int]] | None = None) -> bool:
    """Whether `text[start:end]` (a scanned number) lies inside a slogan numeral."""
    for a, b in spans if spans is not None else slogan_spans(text):
        if a <= start and end <= b:
            return True
    return False


def is_formula_numeral(text: str, start: int, end: int, kind: str) -> bool:
    """A number that is not a figure: an ordinal, or a numeral inside a slogan or formula."""
    return kind in NOT_FIGURE_KINDS or is_slogan_numeral(text, start, end)
