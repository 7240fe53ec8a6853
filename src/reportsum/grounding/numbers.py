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
    "平方公里|平方千米|平方米|千瓦时|千瓦時|立方米|"
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
        rf"(?P<{p}ax2>以上|左右|多)?(?P<{p}day>[0-9０-９]{{1,2}}[日号]|[{_CN_DIGIT}十]{{1,3}}[日号])?"
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
_START = rf"[{_D}xX*“\"「{_CN_DIGIT}{_CN_MAG}翻]"
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
            # one guard for the three alternatives that need a literal after the numeral
            rf"(?={_RUN}(?:分之|\s?[:：∶]|[余多]?\s?{_RANGE_SEP}))(?:"
            rf"(?P<frac>(?P<fden>{_NUM})分之(?P<fnum>{_NUM}))"
            rf"|(?P<ratio>(?P<ra>{_AR})\s?[:：∶]\s?(?P<rb>{_AR}))"
            rf"|(?P<range>(?P<lo>{_NUM})(?P<loax>[余多])?\s?{_RANGE_SEP}\s?(?P<hi>{_NUM})"
            rf"(?={_suffix('r_')})))",
            rf"(?P<num>{_NUM}(?={_suffix('n_')}))",
        ]
    )
    + ")"
)

_APPROX_BEFORE = ("超过", "将近", "接近", "大约", "突破", "约", "近", "超", "逾")
_AR_FIRST = frozenset("0123456789０１２３４５６７８９")
_APPROX_LAST = frozenset(w[-1] for w in _APPROX_BEFORE)
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

    def to_model(self, offset: Callable[[int], int] = lambda i: i) -> NumberMention:
        """The output-schema form, with the span mapped through `offset` (e.g. to the text as read)."""
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
    if not start or text[start - 1] not in _APPROX_LAST:
        return ""
    for w in _APPROX_BEFORE:
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
        elif group == "frac":
            den, num = parse_numeral(m.group("fden")), parse_numeral(m.group("fnum"))
            if den and num is not None:
                out.append(_mention(text[start:end], float(num / den), "", "fraction", start, end))
    return out


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
    cn = core[0] not in _AR_FIRST
    ordinal = prev == "第"
    if cn:
        if not ordinal and group != "range" and text[end : end + 1] not in _UNIT_FIRST:
            return None  # 一是, 十九大, 统一: a numeral character inside a word
        if _IDIOMS.match(text, start):
            return None
        if prev and prev in "数幾几":
            return None  # 数十家, 几百人: not a figure
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
