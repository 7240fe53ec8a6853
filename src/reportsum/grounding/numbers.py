"""The number scanner: every quantitative mention in a Chinese work report.

`scan(text)` runs one compiled alternation over the text; each hit carries its suffix (unit,
approximation word, day of a date) read by a lookahead in the same regex, and a few characters
before it (第, approximation words, article-like 一) decide what it is. Parses of a numeral
with its unit and scans of short texts (items, quotes) are cached.
Values have magnitudes multiplied out (10.69亿元 -> 1.069e9 元) so that every faithful
form of a figure compares equal; redacted placeholders (xx, x.xx%, 20xx年, **) are
`kind="redacted"` with no value and are never numbers.

Policy decisions (tested in tests/test_numbers.py):

* A Chinese numeral counts only when it is a quantity by its context: followed by a unit or
  measure word, %, 倍 or 个百分点, inside 百分之…/…分之…/翻…番, after 第 with an ordinal
  suffix, or a digit-by-digit year (二〇一三年). Everything else (一是, 十九大, 统一, 万众)
  is a word. A bare 一 before a measure word (一批, 一系列, 一年来, 一个) is an indefinite
  article, not a count; fixed political and idiomatic phrases (三个代表, 两手抓) are words.
* Digits glued to ASCII letters are model or product codes (T800, K4, HP2-52C, 5G), digits
  in quotes are names (“3315”), and phone numbers / clock times are not quantities.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

import cn2an

from reportsum.grounding.mention import NumberMention

# ------------------------------------------------------------------ character classes

_FW_DIGITS = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")
_CN_T2S = str.maketrans(
    {
        "萬": "万",
        "億": "亿",
        "兩": "两",
        "貳": "贰",
        "參": "叁",
        "陸": "陆",
        "點": "点",
        "○": "零",
        "〇": "零",
    }
)

_D = "0-9０-９"
_CN_DIGIT = "零〇○一二三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖两兩"
_CN_MAG = "十百千万亿萬億拾佰仟"
_MAG_VALUE = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8, "萬": 10**4, "億": 10**8}

# Thousands separators: ASCII commas, or full-width commas (1，478) as scraped pages write them;
# one separator style per figure, groups of exactly three digits.
_AR = (
    rf"(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9])|[{_D}]{{1,3}}(?:，[{_D}]{{3}})+(?![{_D}])|[{_D}]+)"
    rf"(?:[.．][{_D}]+)?"
)
_ARM = rf"{_AR}[十百千万亿萬億]*"
_CN = rf"[{_CN_DIGIT}{_CN_MAG}]+(?:[点點][{_CN_DIGIT}]+)?"
_NUM = rf"(?:{_ARM}|{_CN})"
_RANGE_SEP = r"(?:至|到|~|～|－|——|—|–|-)"

_UNITS = (
    "个百分点|個百分點|百分点|百分點|"
    "平方公里|平方千米|平方米|千瓦时|千瓦時|立方米|千伏安|千伏|千帕|千焦|千卡|"
    "人次|项次|件次|家次|个月|個月|余人|"
    "公顷|公頃|公里|千米|千克|公斤|千瓦|兆瓦|平米|小时|小時|分钟|"
    "亿元|億元|万元|萬元|"
    "美元|港元|欧元|日元|元|人|名|位|个|個|家|项|項|件|次|场|場|批|届|屆|期|所|座|条|條|台|臺|套|辆|輛|架|艘|"
    "篇|部|本|册|冊|份|张|張|种|種|类|類|户|戶|村|镇|鎮|处|處|间|間|栋|棟|幢|亩|畝|米|吨|噸|"
    "斤|克|度|年|月|周|天|日|岁|歲|层|層|轮|輪|组|組|支|门|門|例|株|头|頭|只|棵|笔|筆|"
    "所|校|床|课|课时|期次|单|單|万|亿|"
    "(?i:kwh|kw|mw|km|kg|mm|cm|m2|m3|m)(?![A-Za-z])|㎡|%|％|倍"
)


# first characters of the units ((?i:...) codes start with k, m or c in either case)
_UNIT_LEAD = frozenset(u[0] for u in _UNITS.split("|") if u and u[0] != "(")
_UNIT_LEAD_CLASS = "".join(re.escape(c) for c in sorted(_UNIT_LEAD)) + "KMC"
# characters that can follow a Chinese numeral that is a quantity (cheap early rejection)
_UNIT_FIRST = _UNIT_LEAD | frozenset(" \u3000余多餘")


def _suffix(p: str) -> str:
    """What may follow a figure (approximation word, unit, 以上, the day of a date), as a
    pattern whose groups are named with prefix `p` (it is embedded once per alternative)."""
    # the lookahead on the unit's first character skips the long alternation when no unit follows
    return (
        rf"[ \u3000]?(?P<{p}ax>[余多餘])?(?P<{p}unit>(?=[{_UNIT_LEAD_CLASS}])(?:{_UNITS}))?"
        rf"(?P<{p}ax2>以上|以下|以内|左右|多)?(?P<{p}day>[0-9０-９]{{1,2}}[日号]|[{_CN_DIGIT}十]{{1,3}}[日号])?"
    )


# Every character a numeral (_NUM) can contain: a possessive run of them, then the literal that
# must follow, is a cheap necessary condition checked before the fraction, ratio and range
# alternatives (those literals are not numeral characters, so the numeral must end where the run
# ends and the guard never rejects a match an alternative would make). 翻 starts no numeral, so
# 翻番 may be tried before the fraction and ratio.
_RUN = rf"[{_D}{_CN_DIGIT}{_CN_MAG}点點.．,，]*+"

# Order matters: at one position the first alternative that matches wins. The leading
# lookahead lets the regex engine skip ahead to characters that can start a mention (7x faster).
# The suffix of a figure is read by a lookahead inside its group, so one match gives the unit
# without moving where the scan resumes, and the group still closes last (`lastgroup`).
_START = rf"[{_D}xX*“\"「{_CN_DIGIT}{_CN_MAG}翻前半]"
_MASTER = re.compile(
    rf"(?={_START})(?:"
    + "|".join(
        [
            # not quantities: phone numbers / dates written with dashes, clock-time ranges,
            # digits in quotes (a programme's name such as “3315”)
            r"(?P<skip>[0-9]++(?:-[0-9]+){2,}"
            r"|[0-9]{1,2}[:：][0-9]{2}(?:[-—~～至][0-9]{1,2}[:：][0-9]{2})"
            r"|(?<=[“\"「])[0-9]+(?=[”\"」]))",
            # redacted placeholders: xx, xxx, XX, x.xx, 20xx, xG, **
            r"(?P<red>(?<![A-Za-z0-9])(?:[0-9]{0,2}[xX]{1,4}(?:[.．][xX]{1,4})?"
            r"(?:G(?![A-Za-z0-9]))?(?![A-Za-z0-9])|\*{2,})"
            rf"(?={_suffix('x_')}))",
            rf"(?P<pctcn>百分之(?P<pctn>{_NUM}))",
            r"(?P<fan>翻了?(?P<fann>[一两二三四])?番)",
            # 五成, 九成五: tenths (not 一成不变, 三成为, 建成); 半数; 前五 (one lookahead
            # skips the three at every other position)
            r"(?=[一二三四五六七八九两十]成|[半前]|一半)(?:"
            r"(?P<cheng>[一二三四五六七八九两十]成[一二三四五六七八九]?"
            r"(?![为立员效果长功本绩型交品就熟都千年人份分色像批套全不]))",
            # 半数, 过半: one half
            r"(?P<half>半数|(?<![另这那])一半|(?<=过)半(?![年月天日小个程径]))",
            # 前五, 前5名, 前三季度: a rank or leading count (the same value either way written)
            rf"(?P<rank>前(?P<rankn>[一二三两四五六七八九十]{{1,3}}|[{_D}]{{1,3}})"
            r"(?![0-9０-９.．%％百千万亿])(?P<rku>名|位|强|甲|家|个月|个|项|季度|年|月|天|周|日|小时)?))",
            # one guard for the alternatives that need a literal after the numeral
            rf"(?={_RUN}(?:分之|\s?[:：∶]|[余多]?\s?{_RANGE_SEP}|/))(?:"
            r"(?P<slash>(?P<sa>[0-9]{1,4})/(?P<sb>[0-9]{1,4})(?![0-9/.．]))"
            rf"|(?P<frac>(?P<fden>{_NUM})分之(?P<fnum>{_NUM}))"
            rf"|(?P<ratio>(?P<ra>{_AR})\s?[:：∶]\s?(?P<rb>{_AR}))"
            rf"|(?P<range>(?P<lo>{_NUM})(?P<loax>[余多])?\s?{_RANGE_SEP}\s?(?P<hi>{_NUM})"
            rf"(?={_suffix('r_')})))",
            rf"(?P<num>{_NUM}(?={_suffix('n_')}))",
        ]
    )
    + ")"
)

_NO_KILO = "(?![瓦米克伏帕焦卡])"
_KILO = re.compile(
    rf"(?P<num>(?:{_AR}(?:[十百万亿萬億]|[千仟]{_NO_KILO})*"
    rf"|(?:[{_CN_DIGIT}十百万亿萬億拾佰]|[千仟]{_NO_KILO})+(?:[点點][{_CN_DIGIT}]+)?)"
    rf"(?={_suffix('n_')}))"
)
"""The figure alternative of `_MASTER` with 千 before 瓦/米/克... left to the unit (6万千瓦)."""

_APPROX_BEFORE = tuple(
    sorted(
        (
            # more than / at least
            "超过", "超出", "突破", "超", "逾", "高于", "多于", "至少", "不少于", "不低于",
            # less than / at most
            "不超过", "未超过", "不高于", "不多于", "不到", "不足", "未达到", "未达", "不满",
            "未满", "低于", "少于",
            # nearly / about
            "将近", "接近", "近", "大约", "约",
        ),
        key=len,
        reverse=True,
    )
)
"""Qualifiers read before a figure, longest first (不超过 is not 超过)."""
_AFTER_LE = ("超过", "突破", "超", "逾")
"""Qualifiers that may be followed by 了 before the figure (超过了200万元)."""
_AR_FIRST = frozenset("0123456789０１２３４５６７８９")
_APPROX_BY_LAST: dict[str, tuple[str, ...]] = {}
for _w in _APPROX_BEFORE:
    _APPROX_BY_LAST[_w[-1]] = (*_APPROX_BY_LAST.get(_w[-1], ()), _w)
_APPROX_LAST = frozenset(_APPROX_BY_LAST) | {"了"}
_MAG_ONLY = frozenset("十百千万亿萬億拾佰仟")
"""A Chinese numeral made only of these is a magnitude word (百, 千亿): 百余家, 近千, 数十."""
_NAME_AFTER = re.compile("计划|工程|行动|战略|体系|模式|机制|方针|格局|布局|专项")
"""Words after bare digits that make the digits a name (863计划, 236工程), not a count."""
_BARE_MAG = frozenset("百千万亿佰仟萬億")
"""First characters of magnitude words that are read only with a qualifier (百余, 近千, 超亿)."""
_NAME_FIRST = frozenset("计工行战体模机方格布专")
_KILO_NEXT = frozenset("瓦米克伏帕焦卡")
"""千 before these starts a unit (千瓦, 千米), it is no magnitude (6万千瓦 is 60000 千瓦)."""
_RANK_NOT_AFTER = frozenset("提之目此以事当空向超面跟眼日节会战赛课睡饭门阵胸从先史")
"""前 after these is part of a word (提前, 目前, 此前), not a rank (全省前五)."""
_ORDINAL_UNITS = frozenset("届屆名批次个個期位季度年条條款章篇项項阶段轮輪家号號")
_IDIOMS = re.compile(
    "三个代表|三個代表|两手抓|兩手抓|一手抓|四两拔千斤|四兩拔千斤|千家万户|千家萬戶|"
    "一对一|一對一|三严三实|两学一做|一区多园|一區多園|四个全面|四个意识|四个自信|两个维护|"
    "两个确立|五位一体|一带一路|三番五次|一五一十|千方百计|一年一度|一个中心|两个基本点|"
    "一次性|百花齐放|千头万绪|万无一失|十全十美|一天天|三天两头"
)
_PP_UNITS = frozenset({"个百分点", "個百分點", "百分点", "百分點"})
_MAG_UNITS = {
    "亿元": ("亿", "元"),
    "億元": ("亿", "元"),
    "万元": ("万", "元"),
    "萬元": ("万", "元"),
    "万": ("万", ""),
    "亿": ("亿", ""),
}
_UNIT_CANON = str.maketrans(
    "個項場屆條臺輛冊張種類戶鎮處間棟畝噸歲層輪組門頭筆單頃時",
    "个项场届条台辆册张种类户镇处间栋亩吨岁层轮组门头笔单顷时",
)


_SAME_UNIT = {"千米": "公里", "km": "公里", "千克": "公斤", "kg": "公斤", "kw": "千瓦", "kwh": "千瓦时"}
"""Units written two ways (3千米 is 3公里)."""


@dataclass(frozen=True)
class Mention:
    """One quantitative mention: `value` has magnitudes multiplied out, None if redacted.

    `high` is the upper bound of a range (kind "range", or a span of years), else None.
    """

    raw: str
    value: float | None
    unit: str
    kind: str
    start: int
    end: int
    approx: str = ""
    high: float | None = None

    def to_model(
        self, offset: Callable[[int], int] = lambda i: i, claim: Mention | None = None
    ) -> NumberMention:
        """The output-schema form, with the span mapped through `offset` (e.g. to the text as
        read); `claim` is the item's approximate wording this figure grounds, if any."""
        if self.end > self.start:
            span = (offset(self.start), offset(self.end - 1) + 1)
        else:
            span = (offset(self.start), offset(self.start))
        return NumberMention(
            raw=self.raw,
            value=self.value,
            unit=self.unit,
            kind=self.kind,  # type: ignore[arg-type]
            span=span,  # type: ignore[arg-type]
            approx=self.approx,
            **claim_fields(claim),
        )


_new_object = object.__new__


def _mention(
    raw: str,
    value: float | None,
    unit: str,
    kind: str,
    start: int,
    end: int,
    approx: str = "",
    high: float | None = None,
) -> Mention:
    """`Mention(...)` without the frozen dataclass's per-field `object.__setattr__` calls.

    The scanner builds one per figure of every text it reads; filling the instance dict directly
    makes that 3x cheaper and yields an equal, equally immutable object.
    """
    m = _new_object(Mention)
    d = m.__dict__
    d["raw"] = raw
    d["value"] = value
    d["unit"] = unit
    d["kind"] = kind
    d["start"] = start
    d["end"] = end
    d["approx"] = approx
    d["high"] = high
    return m


# ------------------------------------------------------------------ numeral parsing


@lru_cache(maxsize=65536)
def parse_numeral(s: str) -> Decimal | None:
    """Value of one numeral: Arabic (full-width, thousands separators, trailing 万/亿),
    Chinese (cn2an), or None when it is not a well-formed numeral (e.g. 万 alone)."""
    s = s.translate(_FW_DIGITS)
    if s and s[0].isdigit():
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] in ".,"):
            i += 1
        try:
            v = Decimal(s[:i].replace(",", ""))
        except InvalidOperation:
            return None
        for ch in s[i:]:
            mag = _MAG_VALUE.get(ch)
            if mag is None:
                return None
            v *= mag
        return v
    t = s.translate(_CN_T2S)
    if t[:1] in "百千万亿佰仟":
        t = "一" + t  # 百, 千亿: a magnitude word counts one of it
    if len(t) >= 2 and all(c in "零一二三四五六七八九" for c in t) and "零" not in t[:1]:
        # a digit-by-digit numeral such as 二〇一三 (years, codes)
        return Decimal("".join(str("零一二三四五六七八九".index(c)) for c in t))
    try:
        out = cn2an.cn2an(t, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return Decimal(str(out))


def _mag_of(s: str) -> int:
    """The multiplier written after an Arabic numeral (3千万 -> 1e7); 1 if none."""
    m = 1
    for ch in reversed(s):
        mag = _MAG_VALUE.get(ch)
        if mag is None:
            break
        m *= mag
    return m


def _is_cn(s: str) -> bool:
    return s[:1] not in _AR_FIRST


def decimals(raw: str) -> int:
    """Number of decimals written in the first Arabic numeral of `raw` (for rounding checks)."""
    m = re.search(r"[.．]([0-9０-９]+)", raw)
    return len(m.group(1)) if m else 0


def magnitude(raw: str) -> int:
    """The magnitude multiplier written in `raw` (10.69亿元 -> 1e8)."""
    m = re.search(rf"{_AR}([十百千万亿萬億]*)", raw)
    return _mag_of(m.group(1)) if m and m.group(1) else 1


# ------------------------------------------------------------------ scanner


def _approx_before(text: str, start: int) -> str:
    """The qualifier written right before a figure (超过, 不超过, 近, ...), '' if none;
    超过了 counts as 超过 (the span then covers 了 too)."""
    if not start or text[start - 1] not in _APPROX_LAST:
        return ""
    if text[start - 1] == "了":
        for w in _AFTER_LE:
            if text.startswith(w, start - 1 - len(w)) and not text.startswith("不", start - 2 - len(w)):
                return w + "了"
        return ""
    for w in _APPROX_BY_LAST[text[start - 1]]:
        if text.startswith(w, start - len(w)):
            return w
    return ""


@cache
def _unit_info(unit: str) -> tuple[int, str, str]:
    """(magnitude, base unit, kind) of a unit: 万元 -> (1e4, 元, number), ％ -> (1, %, percent)."""
    if unit in _MAG_UNITS:
        mag, base = _MAG_UNITS[unit]
        umag = _MAG_VALUE[mag]
    else:
        umag, base = 1, unit.translate(_UNIT_CANON).lower()
        base = _SAME_UNIT.get(base, base)
    if unit in ("%", "％"):
        return umag, "%", "percent"
    if unit in _PP_UNITS:
        return umag, "个百分点", "percentage-point"
    return umag, base, "multiple" if unit == "倍" else "number"


def _is_year(base: str, value: Decimal, core: str) -> bool:
    """2013年, 二〇一三年: four digits between 1900 and 2100 before 年."""
    return (
        base == "年"
        and value == int(value)
        and 1900 <= value <= 2100
        and len(core.translate(_CN_T2S)) == 4
    )


@lru_cache(maxsize=65536)
def _figure(core: str, unit: str) -> tuple[Decimal, float, str, str] | None:
    """(value exactly and as a float, base unit, kind) of numeral `core` written with `unit`;
    None if `core` is not a numeral. Cached: the same figures recur throughout a report."""
    umag, base, kind = _unit_info(unit)
    v = parse_numeral(core)
    if v is None:
        return None
    v *= umag
    return v, float(v), base, "year" if _is_year(base, v, core) else kind


_CACHED_CHARS = 2000
"""Scans of texts up to this length (items, quotes) are cached; whole documents are not."""


def scan(text: str) -> list[Mention]:
    """Every quantitative mention in `text`, in order, with spans into `text` (a new list)."""
    if len(text) <= _CACHED_CHARS:
        return list(_scan_cached(text))
    return _scan(text)


@lru_cache(maxsize=8192)
def _scan_cached(text: str) -> tuple[Mention, ...]:
    # an item is often checked more than once (a retry, the pipeline after the backend), and
    # mentions are immutable, so one scan per distinct text serves every caller
    return tuple(_scan(text))


def _scan(text: str) -> list[Mention]:
    out: list[Mention] = []
    last_end = 0
    for m in _MASTER.finditer(text):
        start = m.start()
        if start < last_end:
            continue  # a suffix already consumed this (the 25 of 12月25日)
        group = m.lastgroup
        prev = text[start - 1] if start else ""
        if group == "num" or group == "range" or group == "ratio":
            # digits glued to ASCII letters are codes (T800, SL-D0062, K4)
            if prev in _ASCII_LETTERS or (
                prev == "-" and start >= 2 and text[start - 2] in _ASCII_ALNUM
            ):
                continue
            if group != "ratio":
                mention = _quantity(text, m, group, start, prev)
                if mention is not None:
                    out.append(mention)
                    last_end = mention.end
                continue
            a, b = parse_numeral(m.group("ra")), parse_numeral(m.group("rb"))
            if a is not None and b:
                end = m.end()
                out.append(_mention(text[start:end], float(a / b), "", "ratio", start, end))
            continue
        end = m.end()
        if group == "red":
            unit = m.group("x_unit") or ""
            stop = m.end("x_unit") if unit else end
            out.append(_mention(text[start:stop], None, unit, "redacted", start, stop))
        elif group == "fan":
            k = "一两二三四".find(m.group("fann") or "一")
            times = {0: 1, 1: 2, 2: 2, 3: 3, 4: 4}[k]
            out.append(_mention(text[start:end], float(2**times), "倍", "multiple", start, end))
        elif group == "pctcn":
            v = parse_numeral(m.group("pctn"))
            if v is not None:
                ax = _approx_before(text, start)
                s0 = start - len(ax)
                out.append(_mention(text[s0:end], float(v), "%", "percent", s0, end, ax))
        elif group == "frac" or group == "slash":
            if group == "slash":
                if prev and (prev in _ASCII_ALNUM or prev in "/.．"):
                    continue  # 2023/1/3, v1/2: a date or a code
                den, num = parse_numeral(m.group("sb")), parse_numeral(m.group("sa"))
            else:
                den, num = parse_numeral(m.group("fden")), parse_numeral(m.group("fnum"))
            if den and num is not None:
                ax = _approx_before(text, start)
                s0, stop, ax = _around(text, start, end, ax)
                out.append(_mention(text[s0:stop], float(num / den), "", "fraction", s0, stop, ax))
                last_end = stop
        elif group == "cheng" or group == "half":
            if group == "cheng":
                c = m.group()
                if prev in _CN_NUMERAL_CHARS or (
                    c[0] == "一" and prev and prev not in _ONE_CHENG_AFTER and _is_han(prev)
                ):
                    continue  # 统一成, 九十成: a word
                pv = float(parse_numeral(c[0]) or 0) * 10
                if len(c) > 2:
                    pv += float(parse_numeral(c[2]) or 0)  # 九成五
            else:
                pv = 50.0
            ax = _approx_before(text, start)
            if group == "half" and text[start - 1 : start] == "过" and not ax:
                ax = "过"
            s0, stop, ax = _around(text, start, end, ax)
            out.append(_mention(text[s0:stop], pv, "%", "percent", s0, stop, ax))
            last_end = stop
        elif group == "rank":
            n = m.group("rankn")
            if prev in _RANK_NOT_AFTER or (n in ("一", "1") and not m.group("rku")):
                continue  # 提前, 目前, 前一阶段
            if m.group("rku") in _PERIOD_UNITS:
                continue  # 前三季度, 前10个月: a period (1-9月), not a count; read on neither side
            rv = parse_numeral(n)
            if rv is not None:
                unit = (m.group("rku") or "").translate(_UNIT_CANON)
                out.append(_mention(text[start:end], float(rv), unit, "rank", start, end))
    return out


_PERIOD_UNITS = frozenset({"个月", "季度", "年", "月", "天", "周", "日", "小时"})
_CN_NUMERAL_CHARS = frozenset(_CN_DIGIT + _CN_MAG)
_ONE_CHENG_AFTER = frozenset("占达约近超过逾有仅增降长为至足到")
"""一成 counts after these (占一成, 不足一成); after any other Han character it is a word."""


def _is_han(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def _around(text: str, start: int, end: int, ax: str) -> tuple[int, int, str]:
    """(start, end, qualifier) of a fraction or tenths figure with its qualifier before or
    after it (超过三分之一, 1/3以上, 三成多)."""
    s0 = start - len(ax)
    stop = end
    nxt = text[end : end + 2]
    if nxt in ("以上", "以下", "以内", "左右"):
        stop = end + 2
        ax = ax or nxt
    elif nxt[:1] in ("多", "余") and not ax:
        stop = end + 1
        ax = nxt[0]
    return s0, stop, ax


_NUM_SUFFIX = ("n_ax", "n_unit", "n_ax2", "n_day")
_RANGE_SUFFIX = ("r_ax", "r_unit", "r_ax2", "r_day")
_ASCII_LETTERS = frozenset(string.ascii_letters)
_ASCII_ALNUM = _ASCII_LETTERS | frozenset(string.digits)


def _quantity(text: str, m: re.Match[str], group: str, start: int, prev: str) -> Mention | None:
    """A plain numeral or a range, with its unit, approximation word and kind."""
    end = m.end()
    if group == "range":
        names = _RANGE_SUFFIX
        lo_s, hi_s = m.group("lo", "hi")
        core = hi_s
    else:
        names = _NUM_SUFFIX
        lo_s = hi_s = core = m.group()
        if core[-1] in "千仟" and text[end : end + 1] in _KILO_NEXT:
            km = _KILO.match(text, start)
            if km is None:
                return None  # 千瓦 alone: a unit without a figure
            m = km
            end = m.end()
            lo_s = hi_s = core = m.group()
    cn = core[0] not in _AR_FIRST
    ordinal = prev == "第"
    if cn:
        if not ordinal and group != "range" and text[end : end + 1] not in _UNIT_FIRST:
            return None  # 一是, 十九大, 统一: a numeral character inside a word
        if _IDIOMS.match(text, start):
            return None
        if core[0] in _MAG_ONLY and any(
            i.start() <= start < i.end()
            for i in _IDIOMS.finditer(text, max(0, start - 6), min(len(text), start + 8))
        ):
            return None  # 四两拔千斤, 千家万户: the magnitude word is inside an idiom
        if prev and prev in "数幾几" and not (group == "num" and _MAG_ONLY.issuperset(core)):
            return None  # 数三: not a figure
    ax, unit, ax2, day = m.group(*names)
    unit = unit or ""
    ax = ax or ""
    ax2 = ax2 or ""
    if unit == "余人":
        unit, ax = "人", "余"
    if ax == "多" and not unit:
        # 多 right after a numeral without a unit is a word (十多年 is handled by the unit rule)
        ax = ""
    if ax2:
        stop = m.end(names[2])
    elif unit:
        stop = m.end(names[1])
    else:
        stop = m.end(names[0]) if ax else end
    if ordinal:
        if cn and not (unit and unit[0] in _ORDINAL_UNITS):
            return None  # 第一生产力, 第二, ...
    elif cn:
        if not unit and group != "range":
            return None  # 一是, 十九大, 统一
        if core in ("一", "壹") and unit not in ("%", "％", "倍") and unit not in _PP_UNITS:
            return None  # indefinite article: 一批, 一个, 一年来
    if not cn and not unit and text[stop : stop + 1] in _ASCII_LETTERS:
        return None  # 5G, 52C: a code, not a quantity
    if (
        not unit
        and not ax
        and not ax2
        and text[stop : stop + 1] in _NAME_FIRST
        and _NAME_AFTER.match(text, stop)
    ):
        return None  # 863计划, 236工程: a programme's name (checked as a name by grounding)
    if group == "range":
        umag, base, kind = _unit_info(unit)
        hi = parse_numeral(hi_s)
        if hi is None:
            return None
        lo = parse_numeral(lo_s)
        if lo is None:
            return None
        if not _is_cn(lo_s) and _mag_of(lo_s) == 1 and _mag_of(hi_s) > 1:
            lo *= _mag_of(hi_s)  # 3-5万元: both ends in 万
        hi *= umag
        lo_f, hi_f = float(lo * umag), float(hi)
        if _is_year(base, hi, core):
            kind = "year"
    else:
        figure = _figure(core, unit)
        if figure is None:
            return None
        hi, hi_f, base, kind = figure
        lo_f = hi_f
    pre = _approx_before(text, start) if not ordinal and prev in _APPROX_LAST else ""
    if cn and not pre and prev and _MAG_ONLY.issuperset(core):
        if prev in "数幾几上":
            pre = "几" if prev == "幾" else prev  # 数十家, 几百人, 上千人: magnitude words
    if cn and not (pre or ax or ax2) and core[0] in _BARE_MAG and group == "num":
        return None  # 万元GDP能耗, 千人计划, 百家: a magnitude word states a figure with a qualifier
    s0 = start - (1 if ordinal else len(pre))
    raw_end = stop
    if ordinal:
        kind = "ordinal"
    elif base == "月" and unit != "个月" and group == "num" and hi == int(hi) and 1 <= hi <= 12:
        kind = "date"
        dv = 0
        if day:
            dd = parse_numeral(day[:-1])
            if dd is not None and 1 <= dd <= 31:
                dv = int(dd)
                raw_end = m.end(names[3])
        lo_f = hi_f = float(int(hi) * 100 + dv)
    if group == "range":
        if kind == "year":
            return _mention(text[s0:raw_end], lo_f, base, "year", s0, raw_end, "", hi_f)
        if kind == "number":
            kind = "range"
        return _mention(text[s0:raw_end], lo_f, base, kind, s0, raw_end, pre or ax or ax2, hi_f)
    return _mention(text[s0:raw_end], hi_f, base, kind, s0, raw_end, pre or ax or ax2)


# ------------------------------------------------------------------ claimed bounds

INF = float("inf")

Bounds = tuple[float, bool, float, bool]
"""(low, low included, high, high included): the values an approximate figure claims."""

_GT = frozenset({"超过", "超出", "超", "逾", "高于", "多于", "过"})
_GE = frozenset({"突破", "以上", "上", "不少于", "不低于", "至少"})
_LE = frozenset({"不超过", "未超过", "不高于", "不多于", "以下", "以内"})
_LT = frozenset({"不到", "不足", "未达到", "未达", "不满", "未满", "低于", "少于"})
_NEXT_STEP = frozenset({"余", "餘", "多"})
_NEAR = frozenset({"近", "将近", "接近"})
_SOME = frozenset({"数", "几"})
_ABOUT = frozenset({"约", "大约", "左右"})
"""约 with digits claims the figure rounded at its last significant digit, within 5%."""

BOUNDS_TABLE: tuple[tuple[str, str, str], ...] = (
    # (qualifier, example, claimed values of v for figure N whose last written digit is step s)
    ("余, 多 (N余, N多)", "百余家, 3000余人, 三成多", "N < v < N + s (百余: 100 < v < 200)"),
    ("超过, 超, 逾, 超出, 高于, 多于, 过", "超千万元, 超过五成, 过半", "v > N"),
    ("突破, 以上, 上, 不少于, 不低于, 至少", "突破千亿, 上千人, 五成以上", "v >= N"),
    ("近, 将近, 接近", "近千家, 近3000人", "0.9 N <= v < N (tenths: N - 5% <= v < N)"),
    ("不超过, 未超过, 不高于, 不多于, 以下, 以内", "不超过200万元", "v <= N"),
    ("不到, 不足, 未达到, 未达, 不满, 未满, 低于, 少于", "不到八成", "v < N"),
    ("数, 几", "数十家, 几百人, 数千亿", "2 N <= v < 10 N (数十: 20 <= v < 100)"),
    ("成, 半数 with no qualifier or 约/左右", "五成, 约三成, 半数", "N - 5% <= v < N + 5%"),
    ("约, 大约, 左右 (figures with digits)", "约1300亿元", "abs(v - N) <= min(s / 2, 5% of N)"),
    ("前N (a rank)", "进入全省前五", "1 <= place <= N, grounded by 前N or by 第k名/位 with k <= N"),
)
"""The bound model, as README's grounding section lists it (a test keeps them equal)."""


def claim_fields(claim: Mention | None) -> dict[str, Any]:
    """The `claim` and `bounds` fields of a NumberMention for an approximate claim (or none)."""
    b = claimed_bounds(claim) if claim is not None else None
    if claim is None or b is None:
        return {}
    lo = None if b[0] == -INF else b[0]
    hi = None if b[2] == INF else b[2]
    return {"claim": claim.raw, "bounds": (lo, hi)}


def step_of(value: float) -> float:
    """The place value of the last significant digit of `value` (3000 -> 1000, 12.5 -> 0.1)."""
    if value == 0:
        return 1.0
    exp = Decimal(repr(value)).normalize().as_tuple().exponent
    return 10.0 ** int(exp)


def qualifier(approx: str) -> str:
    """The qualifier of an approximation word as the bound model reads it (超过了 -> 超过)."""
    return approx[:-1] if approx.endswith("了") else approx


def is_tenths(m: Mention) -> bool:
    """五成, 半数: a coarse share in tenths (the bare word claims the nearest tenth)."""
    return m.kind == "percent" and ("成" in m.raw or "半" in m.raw)


def claimed_bounds(m: Mention) -> Bounds | None:
    """The interval of values mention `m` claims, or None for an exact figure.

    See `BOUNDS_TABLE`; 约/左右 on a figure with digits stay exact (约5.2亿元 claims 5.2亿元).
    """
    v = m.value
    if v is None or m.high is not None or m.kind not in _BOUNDED_KINDS:
        return None
    if m.kind == "rank":
        return (1.0, True, v, True)  # 前五: places 1 to 5
    w = qualifier(m.approx)
    tenths = is_tenths(m)
    if w in _NEXT_STEP:
        return (v, False, v + (10.0 if tenths else step_of(v)), False)
    if w in _GT:
        return (v, False, INF, False)
    if w in _GE:
        return (v, True, INF, False)
    if w in _NEAR:
        return (v - 5 if tenths else 0.9 * v, True, v, False)
    if w in _LE:
        return (-INF, False, v, True)
    if w in _LT:
        return (-INF, False, v, False)
    if w in _SOME:
        return (2 * v, True, 10 * v, False)
    if tenths and (not w or w in _ABOUT):
        return (v - 5, True, v + 5, False)
    if w in _ABOUT:
        d = min(step_of(v) / 2, 0.05 * abs(v))
        return (v - d, True, v + d, True)
    return None


_QUALIFIER_CHARS = "".join({c for w in _APPROX_BEFORE for c in w} | set("数几上过了"))

_BOUNDED_KINDS = frozenset(
    {"number", "percent", "fraction", "multiple", "percentage-point", "rank"}
)


def within(value: float, b: Bounds) -> bool:
    """Whether `value` lies in `b` (a relative 1e-9 tolerance at the ends, for float sums)."""
    lo, lo_in, hi, hi_in = b
    eps = 1e-9 * max(1.0, abs(value))
    above = value > lo + eps or (lo_in and value >= lo - eps)
    below = value < hi - eps or (hi_in and value <= hi + eps)
    return above and below


def contains(outer: Bounds, inner: Bounds) -> bool:
    """Whether every value of `inner` is in `outer`, ends compared without their inclusion
    (三分之一以上 grounds 超过1/3: the two claims differ only at the boundary)."""
    return _le(outer[0], inner[0]) and _le(inner[2], outer[2])


def _le(a: float, b: float) -> bool:
    if a <= b:
        return True
    if INF in (abs(a), abs(b)):
        return False
    return a - b <= 1e-9 * max(1.0, abs(a), abs(b))


def is_coarse(m: Mention) -> bool:
    """A figure written coarsely: a magnitude word (千亿, 百余), tenths (五成), or digits with one
    significant digit (1000万, 3万): such a figure may state a looser bound than the source's
    (上千 for 1200余), while 1/4以上 for 三分之一以上 is another figure."""
    if m.value is None or m.kind == "fraction":
        return False
    if is_tenths(m) or m.raw.lstrip(_QUALIFIER_CHARS)[:1] in _MAG_ONLY:
        return True
    return step_of(m.value) * 10 > abs(m.value)
