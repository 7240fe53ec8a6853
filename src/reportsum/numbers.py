"""The number scanner: every quantitative mention in a Chinese work report.

`scan(text)` runs one compiled alternation over the text and looks at a few characters
around each hit (approximation words, units, 第, article-like 一) to decide what it is.
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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import cn2an

from reportsum.models import NumberMention

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

_AR = rf"(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9])|[{_D}]+)(?:[.．][{_D}]+)?"
_ARM = rf"{_AR}[十百千万亿萬億]*"
_CN = rf"[{_CN_DIGIT}{_CN_MAG}]+(?:[点點][{_CN_DIGIT}]+)?"
_NUM = rf"(?:{_ARM}|{_CN})"
_RANGE_SEP = r"(?:至|到|~|～|－|——|—|–|-)"

# Order matters: at one position the first alternative that matches wins. The leading
# lookahead lets the regex engine skip ahead to characters that can start a mention (7x faster).
_START = rf"[{_D}xX*“\"「{_CN_DIGIT}{_CN_MAG}翻]"
_MASTER = re.compile(
    rf"(?={_START})(?:"
    + "|".join(
        [
            # not quantities: phone numbers / dates written with dashes, clock-time ranges,
            # digits in quotes (a programme's name such as “3315”)
            r"(?P<skip>[0-9]+(?:-[0-9]+){2,}"
            r"|[0-9]{1,2}[:：][0-9]{2}(?:[-—~～至][0-9]{1,2}[:：][0-9]{2})"
            r"|(?<=[“\"「])[0-9]+(?=[”\"」]))",
            # redacted placeholders: xx, xxx, XX, x.xx, 20xx, xG, **
            r"(?P<red>(?<![A-Za-z0-9])(?:[0-9]{0,2}[xX]{1,4}(?:[.．][xX]{1,4})?"
            r"(?:G(?![A-Za-z0-9]))?(?![A-Za-z0-9])|\*{2,}))",
            rf"(?P<pctcn>百分之(?P<pctn>{_NUM}))",
            rf"(?P<frac>(?P<fden>{_NUM})分之(?P<fnum>{_NUM}))",
            r"(?P<fan>翻了?(?P<fann>[一两二三四])?番)",
            rf"(?P<ratio>(?P<ra>{_AR})\s?[:：∶]\s?(?P<rb>{_AR}))",
            rf"(?P<range>(?P<lo>{_NUM})(?P<loax>[余多])?\s?{_RANGE_SEP}\s?(?P<hi>{_NUM}))",
            rf"(?P<num>{_NUM})",
        ]
    )
    + ")"
)

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
_SUFFIX = re.compile(
    rf"[ \u3000]?(?P<ax>[余多餘])?(?P<unit>{_UNITS})?(?P<ax2>以上|左右|多)?(?P<day>[0-9０-９]{{1,2}}[日号]"
    rf"|[{_CN_DIGIT}十]{{1,3}}[日号])?"
)
_APPROX_BEFORE = ("超过", "将近", "接近", "大约", "突破", "约", "近", "超", "逾")
_AR_FIRST = frozenset("0123456789０１２３４５６７８９")
# characters that can follow a Chinese numeral that is a quantity (cheap early rejection)
_UNIT_FIRST = frozenset(u[0] for u in _UNITS.split("|") if u and u[0] != "(") | frozenset(
    " \u3000余多餘"
)
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
            kind=self.kind,
            span=span,  # type: ignore[arg-type]
            approx=self.approx,
        )


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


def _f(d: Decimal) -> float:
    return float(d)


def _approx_before(text: str, start: int) -> str:
    if not start or text[start - 1] not in _APPROX_LAST:
        return ""
    for w in _APPROX_BEFORE:
        if text.startswith(w, start - len(w)):
            return w
    return ""


def _unit_of(unit: str) -> tuple[int, str]:
    """Split a unit into (magnitude, base unit): 万元 -> (1e4, 元)."""
    if unit in _MAG_UNITS:
        mag, base = _MAG_UNITS[unit]
        return _MAG_VALUE[mag], base
    return 1, unit.translate(_UNIT_CANON).lower()


def scan(text: str) -> list[Mention]:
    """Every quantitative mention in `text`, in order, with spans into `text`."""
    out: list[Mention] = []
    n = len(text)
    last_end = 0
    for m in _MASTER.finditer(text):
        group = m.lastgroup
        start, end = m.start(), m.end()
        if group == "skip" or start < last_end:
            continue  # last_end: a suffix already consumed this (the 25 of 12月25日)
        if group in ("num", "range", "ratio"):
            prev = text[start - 1] if start else ""
            # digits glued to ASCII letters are codes (T800, SL-D0062, K4)
            if prev.isascii() and prev.isalpha():
                continue
            if (
                prev == "-"
                and start >= 2
                and text[start - 2].isascii()
                and text[start - 2].isalnum()
            ):
                continue
        if group == "red":
            sm = _SUFFIX.match(text, end)
            unit = sm.group("unit") or ""
            stop = sm.end("unit") if unit else end
            out.append(Mention(text[start:stop], None, unit, "redacted", start, stop))
            continue
        if group == "fan":
            k = "一两二三四".find(m.group("fann") or "一")
            times = {0: 1, 1: 2, 2: 2, 3: 3, 4: 4}[k]
            out.append(Mention(text[start:end], float(2**times), "倍", "multiple", start, end))
            continue
        if group == "pctcn":
            v = parse_numeral(m.group("pctn"))
            if v is not None:
                ax = _approx_before(text, start)
                s0 = start - len(ax)
                out.append(Mention(text[s0:end], _f(v), "%", "percent", s0, end, ax))
            continue
        if group == "frac":
            den, num = parse_numeral(m.group("fden")), parse_numeral(m.group("fnum"))
            if den and num is not None:
                out.append(Mention(text[start:end], _f(num / den), "", "fraction", start, end))
            continue
        if group == "ratio":
            a, b = parse_numeral(m.group("ra")), parse_numeral(m.group("rb"))
            if a is not None and b:
                out.append(Mention(text[start:end], _f(a / b), "", "ratio", start, end))
            continue
        mention = _quantity(text, m, group or "num", start, end, n)
        if mention is not None:
            out.append(mention)
            last_end = mention.end
    return out


def _quantity(
    text: str, m: re.Match[str], group: str, start: int, end: int, n: int
) -> Mention | None:
    """A plain numeral or a range, with its unit, approximation word and kind."""
    if group == "range":
        lo_s, hi_s = m.group("lo"), m.group("hi")
        core = hi_s
    else:
        lo_s = hi_s = core = m.group("num")
    cn = core[0] not in _AR_FIRST
    ordinal = start > 0 and text[start - 1] == "第"
    if cn and not ordinal and group != "range" and text[end : end + 1] not in _UNIT_FIRST:
        return None  # 一是, 十九大, 统一: a numeral character inside a word
    if cn and _IDIOMS.match(text, start):
        return None
    if cn and start and text[start - 1] in "数幾几":
        return None  # 数十家, 几百人: not a figure
    sm = _SUFFIX.match(text, end)
    unit = sm.group("unit") or ""
    ax = sm.group("ax") or ""
    ax2 = sm.group("ax2") or ""
    if unit == "余人":
        unit, ax = "人", "余"
    if ax == "多" and not unit:
        # 多 right after a numeral without a unit is a word (十多年 is handled by the unit rule)
        ax = ""
    stop = sm.end("ax2") if ax2 else (sm.end("unit") if unit else (sm.end("ax") if ax else end))
    if ordinal:
        if cn and not (unit and unit[0] in _ORDINAL_UNITS):
            return None  # 第一生产力, 第二, ...
    elif cn:
        if not unit and group != "range":
            return None  # 一是, 十九大, 统一
        if core in ("一", "壹") and unit not in ("%", "％", "倍") and unit not in _PP_UNITS:
            return None  # indefinite article: 一批, 一个, 一年来
    after = text[stop] if stop < n else ""
    if not cn and not unit and after.isascii() and after.isalpha():
        return None  # 5G, 52C: a code, not a quantity
    hi = parse_numeral(hi_s)
    if hi is None:
        return None
    lo = parse_numeral(lo_s) if group == "range" else hi
    if lo is None:
        return None
    if group == "range" and not _is_cn(lo_s) and _mag_of(lo_s) == 1 and _mag_of(hi_s) > 1:
        lo *= _mag_of(hi_s)  # 3-5万元: both ends in 万
    umag, base = _unit_of(unit)
    kind = "number"
    if unit in ("%", "％"):
        kind, base = "percent", "%"
    elif unit in _PP_UNITS:
        kind, base = "percentage-point", "个百分点"
    elif unit == "倍":
        kind = "multiple"
    lo *= umag
    hi *= umag
    pre = _approx_before(text, start) if not ordinal else ""
    s0 = start - (1 if ordinal else len(pre))
    raw_end = stop
    day = sm.group("day")
    if ordinal:
        kind = "ordinal"
    elif (
        base == "年" and hi == int(hi) and 1900 <= hi <= 2100 and len(core.translate(_CN_T2S)) == 4
    ):
        kind = "year"
    elif base == "月" and unit != "个月" and group == "num" and hi == int(hi) and 1 <= hi <= 12:
        kind = "date"
        dv = 0
        if day:
            dd = parse_numeral(day[:-1])
            if dd is not None and 1 <= dd <= 31:
                dv = int(dd)
                raw_end = sm.end("day")
        lo = hi = Decimal(int(hi) * 100 + dv)
    if group == "range" and kind != "year":
        if kind == "number":
            kind = "range"
        return Mention(text[s0:raw_end], _f(lo), base, kind, s0, raw_end, pre or ax or ax2, _f(hi))
    if group == "range":
        return Mention(text[s0:raw_end], _f(lo), base, "year", s0, raw_end, "", _f(hi))
    return Mention(text[s0:raw_end], _f(hi), base, kind, s0, raw_end, pre or ax or ax2)
