"""Evidence location and the number grounding policy.

`GroundingSource` is built once per document. `locate` finds a model's quote in it: exactly,
then after normalising (whitespace, NFKC full/half width, traditional -> simplified per
character, ruby pinyin such as 現(xiàn)), then, for quotes only, by fuzzy alignment with a
high threshold. Normalisation is for matching only: a per-character map leads back to
offsets in `source.text`.

`check_item` applies the policy of grounding.md: every number of an item's text must equal
a number inside its evidence span *as it stands in the source* (never the model's quote, and
never by fuzzy string similarity): same value with magnitudes multiplied out, same kind,
same unit where the text gives one; a dropped qualifier (3000余人 -> 3000人) is a warning, a
qualifier that turns "more than" into "nearly" is a rejection; redacted placeholders only
match the same placeholder. Derived numbers fail because they are not in the evidence.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache, cached_property

import opencc
from rapidfuzz import fuzz

from reportsum.grounding.frame import EMPTY, Frame, conflict, frames
from reportsum.grounding.numbers import (
    INF,
    Bounds,
    Mention,
    _mention,
    claimed_bounds,
    contains,
    decimals,
    is_coarse,
    magnitude,
    qualifier,
    scan,
    within,
)

FUZZY_THRESHOLD = 90.0
"""Minimum rapidfuzz partial-ratio score (0-100) for a quote located by fuzzy alignment."""
FUZZY_MIN_CHARS = 10
"""Quotes shorter than this (after normalising) must match exactly or normalised."""
_FUZZY_WINDOW = 6000

_RUBY = re.compile(r"(?<=[\u4e00-\u9fff])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)")
_EXTRA = {"∶": ":", "“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "－": "-"}
_T2S = opencc.OpenCC("t2s")

_KIND_LABEL = {
    "number": "数量",
    "percent": "百分比",
    "percentage-point": "百分点",
    "ratio": "比例",
    "multiple": "倍数",
    "range": "区间",
    "fraction": "分数",
    "ordinal": "序数",
    "rank": "名次",
    "year": "年份",
    "date": "日期",
    "redacted": "占位符",
}
_OVER = frozenset(
    "余 餘 多 以上 超 超过 超出 逾 突破 上 过 高于 多于 至少 不少于 不低于".split()
)
"""Qualifiers that put the value above the figure."""
_UNDER = frozenset("近 将近 接近 不超过 未超过 不高于 不多于 以下 以内 不到 不足 未达到 未达 不满 未满 低于 少于".split())
"""Qualifiers that put the value below (or at most at) the figure."""
_SOME = frozenset({"数", "几"})
_SENTENCE_END = frozenset("。！？；;!?\n")
_NAMES = re.compile(
    r"(?<=[“\"「])([0-9]+)(?=[”\"」])"
    r"|(?<![0-9A-Za-z.．])([0-9]+)(?=计划|工程|行动|战略|体系|模式|机制|方针|格局|布局|专项)"
)
"""Digits that name something (“863”计划, 236工程): the scanner skips them on both sides, and
grounding checks them as names: the same digits must be in the evidence."""
_CROSS_KIND = {"year": "number", "number": "year"}
"""The one pair of different kinds `_kind_compatible` may accept (2013年 and a bare 2013)."""
_INERT = frozenset("。！？；")
"""Characters that no number pattern matches and no scanner rule looks at (see `_inner`)."""
_UNIT_GROUPS = (
    {"人", "名", "位"},
    {"个", "家"},
    {"项", "个"},
    {"次", "场"},
    *({"个", c} for c in "支只座所处条台套种类批间栋幢株棵"),
)
"""Measure words that count the same things (37个 and 37支 teams; 12家 and 12项 stay apart)."""


@cache
def _norm_char(c: str) -> str:
    """What one character becomes in the matching form ('' if dropped)."""
    if c.isspace():
        return ""
    if c in _EXTRA:
        return _EXTRA[c]
    s = _T2S.convert(c) if ord(c) > 0x2E80 else c
    if len(s) != 1:
        s = c  # a phrase-level conversion: keep the character (lengths must stay per-char)
    return unicodedata.normalize("NFKC", s).lower()


def normalize(text: str) -> tuple[str, array[int]]:
    """The matching form of `text` and, per character of it, the offset in `text`."""
    # ruby pinyin (現(xiàn)) is dropped; "(" check skips the regex pass for most texts
    drops = [(m.start(), m.end()) for m in _RUBY.finditer(text)] if "(" in text else []
    parts: list[str] = []
    offsets = array("i")
    di = 0
    cache = _norm_char
    for i, c in enumerate(text):
        if di < len(drops) and i >= drops[di][0]:
            if i < drops[di][1]:
                continue
            di += 1
        n = cache(c)
        if not n:
            continue
        parts.append(n)
        if len(n) == 1:
            offsets.append(i)
        else:
            offsets.extend([i] * len(n))
    return "".join(parts), offsets


@dataclass(frozen=True)
class EvidenceMatch:
    """Where a quote was found: [start, end) in `GroundingSource.text`.

    `method` is "exact", "normalized" or "fuzzy"; `score` is 100 for the first two.
    """

    start: int
    end: int
    method: str
    score: float


@dataclass(frozen=True)
class ItemCheck:
    """The verdict on one item. `ok` iff `reasons` is empty.

    `span` is the evidence span in `source.text` (None if there is no evidence or it was not
    found); `numbers` are the source mentions that ground the item's numbers (spans in
    `source.text`); `reasons` go back to the model verbatim as a reask.
    """

    ok: bool
    span: tuple[int, int] | None
    numbers: tuple[Mention, ...]
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    claims: tuple[Mention | None, ...] = ()
    """Per mention of `numbers`: the item's approximate claim it grounds (突破千亿元 for
    1286.4亿元), None where the item states the figure itself; empty when no claim is
    approximate."""

    def claim_of(self, i: int) -> Mention | None:
        """The approximate claim grounded by `numbers[i]`, if any."""
        return self.claims[i] if i < len(self.claims) else None


@dataclass(frozen=True)
class Problem:
    """One failed number (or quote): the number as the item wrote it, and why."""

    number: str
    reason: str


class GroundingSource:
    """A document prepared once for grounding many items against it.

    The normalised text and the scan of all mentions are computed lazily, on first need.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def _norm(self) -> tuple[str, array[int]]:
        return normalize(self.text)

    @cached_property
    def mentions(self) -> tuple[Mention, ...]:
        """Every mention in the source, in order."""
        return tuple(scan(self.text))

    @cached_property
    def _starts(self) -> list[int]:
        return [m.start for m in self.mentions]

    @cached_property
    def _ends(self) -> list[int]:
        # mentions never overlap, so ends are sorted too
        return [m.end for m in self.mentions]

    @cached_property
    def _frames(self) -> dict[int, Frame]:
        return {}

    def frame_of(self, m: Mention) -> Frame:
        """The claim frame of source mention `m`, read in its sentence (cached per sentence)."""
        got = self._frames.get(id(m))
        if got is not None:
            return got
        text = self.text
        lo = m.start
        while lo > 0 and text[lo - 1] not in _SENTENCE_END:
            lo -= 1
        hi = m.end
        while hi < len(text) and text[hi] not in _SENTENCE_END:
            hi += 1
        ms = self.mentions_in(lo, hi)
        found = frames(text, ms, lo, hi)
        for k, mm in enumerate(ms):
            self._frames[id(mm)] = found.get(k, EMPTY)
        return self._frames.get(id(m), EMPTY)

    def mentions_in(self, start: int, end: int) -> tuple[Mention, ...]:
        """Mentions overlapping [start, end) (a quote may cut a figure's unit off)."""
        lo = bisect_right(self._ends, start)
        hi = bisect_left(self._starts, end)
        return self.mentions[lo:hi]

    def mentions_of(self, start: int, end: int) -> tuple[Mention, ...] | None:
        """What `scan(self.text[start:end])` gives (spans relative to `start`), read off the
        source's scan; None when that slice must be scanned on its own."""
        inner = self._inner(start, end)
        if inner is None:
            return None
        return tuple(
            _mention(
                m.raw, m.value, m.unit, m.kind, m.start - start, m.end - start, m.approx, m.high
            )
            for m in inner
        )

    def _inner(self, start: int, end: int) -> tuple[Mention, ...] | None:
        """The source mentions inside [start, end), if they are exactly the mentions of that
        slice scanned alone (spans aside); None when the slice's edges could change its scan."""
        text = self.text
        # the scan of a slice differs from the source's only through what lies across its edges
        # (a figure cut in two, a unit, 第, 约 or a letter next to it); a bounding character that
        # no mention contains and the scanner never reads as context rules all of that out
        if start > 0 and text[start - 1] not in _INERT:
            return None
        if end < len(text) and text[end] not in _INERT:
            return None
        starts = self._starts
        return self.mentions[bisect_left(starts, start) : bisect_left(starts, end)]

    def locate(self, quote: str, *, near: int | None = None) -> EvidenceMatch | None:
        """Find `quote` in the source; with `near`, prefer the occurrence closest to it."""
        found = self._locate(quote, near)
        return None if found is None else EvidenceMatch(*found)

    def _locate(self, quote: str, near: int | None) -> tuple[int, int, str, float] | None:
        """`locate` as a plain tuple (start, end, method, score): grounding calls it per item."""
        if not quote or quote.isspace():
            return None
        i = _find_near(self.text, quote, near)
        if i >= 0:
            return i, i + len(quote), "exact", 100.0
        norm, offsets = self._norm
        nq, _ = normalize(quote)
        if not nq:
            return None
        near_n = None if near is None else bisect_left(offsets, near)
        j = _find_near(norm, nq, near_n)
        if j >= 0:
            return offsets[j], offsets[j + len(nq) - 1] + 1, "normalized", 100.0
        if len(nq) < FUZZY_MIN_CHARS:
            return None
        return self._fuzzy(nq, near_n)

    def _fuzzy(self, nq: str, near_n: int | None) -> tuple[int, int, str, float] | None:
        norm, offsets = self._norm
        windows = [(0, len(norm))]
        if near_n is not None:
            lo = max(0, near_n - _FUZZY_WINDOW)
            windows.insert(0, (lo, min(len(norm), near_n + _FUZZY_WINDOW)))
        for lo, hi in windows:
            al = fuzz.partial_ratio_alignment(nq, norm[lo:hi], score_cutoff=FUZZY_THRESHOLD)
            if al is not None and al.dest_end > al.dest_start:
                s, e = lo + al.dest_start, lo + al.dest_end
                return offsets[s], offsets[e - 1] + 1, "fuzzy", float(al.score)
        return None


def _find_near(hay: str, needle: str, near: int | None) -> int:
    """Index of `needle` in `hay` (the occurrence closest to `near` if given; on a tie the one
    before), or -1."""
    if near is None:
        return hay.find(needle)
    near = max(0, near)
    after = hay.find(needle, near)
    # an occurrence before `near` wins only if it is at most as far as `after`: searching back
    # no further than that keeps a search near the end of a long text from rescanning all of it
    lo = 0 if after < 0 else max(0, 2 * near - after)
    before = hay.rfind(needle, lo, near + len(needle) - 1)
    if after < 0:
        return before
    if before < 0:
        return after
    return before if near - before <= after - near else after


# ------------------------------------------------------------------ number matching


def _same_value(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _kind_compatible(t: Mention, s: Mention) -> bool:
    """Whether source mention `s` may ground text mention `t` (kinds and values)."""
    kind = t.kind
    if kind == s.kind:
        tv, sv = t.value, s.value
        if kind == "date" and tv is not None and sv is not None and tv % 100 == 0:
            return int(tv) // 100 == int(sv) // 100  # 12月 is grounded by 12月25日
        if kind == "year" and s.high is not None and t.high is None:
            return _same_value(tv, sv) or _same_value(tv, s.high)
        return _same_value(tv, sv) and _same_value(t.high, s.high)
    if {kind, s.kind} == {"year", "number"}:
        # 2013年 against a bare 2013 in a list such as 2012、2013年
        bare = s if s.kind == "number" else t
        return not bare.unit and _same_value(t.value, s.value)
    return False


def _candidates(t: Mention, pool: tuple[Mention, ...]) -> list[Mention]:
    """The mentions of `pool` that `_kind_compatible` accepts for `t`, in pool order."""
    kind, tv, th = t.kind, t.value, t.high
    if kind in ("date", "year") or (kind == "number" and not t.unit) or tv is None:
        other = _CROSS_KIND.get(kind, "")
        return [s for s in pool if (s.kind == kind or s.kind == other) and _kind_compatible(t, s)]
    # every other kind needs the same kind, value and upper bound: _kind_compatible's last rule,
    # inlined (down to _same_value's tolerance test) because this runs for every number of
    # every item against every mention of its evidence
    return [
        s
        for s in pool
        if s.kind == kind
        and (
            (sv := s.value) == tv
            or (sv is not None and abs(tv - sv) <= 1e-9 * max(abs(tv), abs(sv)))
        )
        and (s.high == th or _same_value(th, s.high))
    ]


def _first_alike(t: Mention, pool: tuple[Mention, ...]) -> Mention:
    """`_match_number`'s grounding mention for `t` when `t` itself is in `pool`: the first
    mention of the pool that grounds `t` written with its unit and qualifier (no warning)."""
    if t.kind == "redacted":
        key = t.raw.lower().replace(" ", "")
        for s in pool:
            if s.kind == "redacted" and s.raw.lower().replace(" ", "") == key:
                return s
    kind, unit, approx = t.kind, t.unit, t.approx
    for s in pool:
        # a mention of another kind never has t's unit (year and number differ by 年)
        if s is t or (
            s.kind == kind and s.unit == unit and s.approx == approx and _kind_compatible(t, s)
        ):
            return s
    return t


def _units_agree(a: str, b: str) -> bool:
    if not a or not b or a == b:
        return True
    return any(a in g and b in g for g in _UNIT_GROUPS)


def _approx_class(w: str) -> str:
    w = qualifier(w)
    if w in _OVER:
        return "over"
    if w in _UNDER:
        return "under"
    if w in _SOME:
        return "some"
    return "about" if w else ""


_BOUND_KINDS = {
    ("number", "number"): 1.0,
    ("percent", "percent"): 1.0,
    ("percent", "fraction"): 100.0,
    ("fraction", "fraction"): 1.0,
    ("fraction", "percent"): 0.01,
    ("multiple", "multiple"): 1.0,
    ("percentage-point", "percentage-point"): 1.0,
    ("rank", "ordinal"): 1.0,
}
"""(text kind, source kind) pairs a claimed bound compares, and the factor that puts the
source's value in the text's terms (三成 against 三分之一: 33.3%)."""


def _describe(b: Bounds, unit: str) -> str:
    """A bound in words for a reask (大于1000亿元、小于2000亿元)."""
    lo, lo_in, hi, hi_in = b
    parts = []
    if lo != -INF:
        parts.append(f"{'不少于' if lo_in else '大于'}{_fmt(lo)}{unit}")
    if hi != INF:
        parts.append(f"{'不超过' if hi_in else '小于'}{_fmt(hi)}{unit}")
    return "、".join(parts)


def _fmt(v: float) -> str:
    for mag, word in ((1e8, "亿"), (1e4, "万")):
        if abs(v) >= mag:
            return f"{v / mag:.6g}{word}"
    return f"{v:.6g}"


class _Frames:
    """The frames of one item's text and of its source, read when a figure needs them."""

    def __init__(self, source: GroundingSource, text: str, mentions: list[Mention]) -> None:
        self.source = source
        self.text = text
        self.mentions = mentions
        self._own: dict[int, Frame] | None = None

    def text_frame(self, t: Mention) -> Frame:
        if self._own is None:
            f = frames(self.text, self.mentions, 0, len(self.text))
            self._own = {id(self.mentions[k]): v for k, v in f.items()}
        return self._own.get(id(t), EMPTY)

    def conflict(self, t: Mention, s: Mention) -> str:
        tf = self.text_frame(t)
        if tf is EMPTY or not (tf.direction or tf.relation or tf.basis or tf.claim or tf.named):
            return ""
        return conflict(tf, self.source.frame_of(s), s.raw)


def _rounds_to(t: Mention, s: Mention) -> bool:
    """Whether `t` is `s` rounded to the precision `t` is written with (allow_rounding)."""
    if t.kind != s.kind or t.value is None or s.value is None or t.high is not None:
        return False
    if t.unit and s.unit and t.unit != s.unit:
        return False
    step = 10.0 ** -decimals(t.raw) * magnitude(t.raw)
    return abs(t.value - s.value) <= step / 2 + 1e-9 * abs(s.value)


def _pool_text(pool: tuple[Mention, ...], limit: int = 8) -> str:
    raws = list(dict.fromkeys(m.raw for m in pool))
    more = "…" if len(raws) > limit else ""
    return "、".join(raws[:limit]) + more


def _match_number(
    t: Mention,
    pool: tuple[Mention, ...],
    where: str,
    allow_rounding: bool,
    ctx: _Frames | None = None,
    evidence_text: str | None = None,
) -> tuple[Mention | None, str, str]:
    """(grounding mention, warning, reason) for one text mention against a pool.

    With `ctx`, a candidate whose frame the text contradicts (下降 for 增长, 占比 for 增长, the
    other name of a 分别 list) does not ground it; an approximate claim (突破千亿, 百余家, 超过五成)
    is grounded by a figure that satisfies its bound."""
    if t.kind == "redacted":
        key = t.raw.lower().replace(" ", "")
        for s in pool:
            if s.kind == "redacted" and s.raw.lower().replace(" ", "") == key:
                return s, "", ""
        return None, "", f"占位符“{t.raw}”在{where}中找不到"
    cands = _candidates(t, pool)
    frame_reason = ""
    if cands and ctx is not None:
        kept = [s for s in cands if not ctx.conflict(t, s)]
        if not kept:
            frame_reason = f"数字“{t.raw}”与{where}的表述不符：{ctx.conflict(t, cands[0])}"
        cands = kept
    qualifier_reason = ""
    if cands:
        unit = t.unit
        best = cands[0]
        if best.unit == unit and best.approx == t.approx:
            return best, "", ""  # the common case: the first candidate is written as in the text
        agreeing = [s for s in cands if s.unit == unit or _units_agree(unit, s.unit)]
        if not agreeing:
            return (
                None,
                "",
                (f"数字“{t.raw}”的单位与{where}不符（{where}中为：{_pool_text(tuple(cands))}）"),
            )
        preferred = [s for s in agreeing if s.unit == unit] or agreeing
        best = preferred[0]
        for s in preferred:
            if s.approx == t.approx:
                best = s
                break
        tc, sc = _approx_class(t.approx), _approx_class(best.approx)
        tb = claimed_bounds(t)
        if tc and sc and tc != sc and ({tc, sc} == {"over", "under"} or "some" in (tc, sc)):
            qualifier_reason = f"数字“{t.raw}”改变了原文的限定词（{where}中为：{best.raw}）"
        elif tc and not sc and tb is not None and best.value is not None and not within(best.value, tb):
            qualifier_reason = f"数字“{t.raw}”加了原文没有的“{qualifier(t.approx)}”（原文为：{best.raw}）"
        elif sc and not tc:
            return best, f"数字“{t.raw}”省略了原文的“{best.approx}”（原文为：{best.raw}）", ""
        elif tc and not sc:
            return best, f"数字“{t.raw}”加了原文没有的“{t.approx}”（原文为：{best.raw}）", ""
        elif best.unit != unit and unit and best.unit:
            return best, f"数字“{t.raw}”的单位与原文“{best.raw}”写法不同", ""
        else:
            return best, "", ""
    tb = claimed_bounds(t)
    if tb is not None:
        found, reason = _match_bound(t, tb, pool, where, ctx)
        if found is not None:
            return found, f"数字“{t.raw}”是近似表述，原文为“{found.raw}”", ""
        if reason and not qualifier_reason and not frame_reason:
            return None, "", reason
    if qualifier_reason:
        return None, "", qualifier_reason
    if frame_reason:
        return None, "", frame_reason
    if allow_rounding:
        for s in pool:
            if _rounds_to(t, s):
                return s, f"数字“{t.raw}”是原文“{s.raw}”的近似值", ""
    if (
        evidence_text is not None
        and t.kind == "number"
        and t.value == 1
        and t.unit
        and t.raw.lstrip(" ").startswith(("1", "１"))
        and _article_one(t, evidence_text)
    ):
        return None, "", ""  # 1次 for 一次: the scanner reads 一 before a measure word as a word
    same_value = [
        s
        for s in pool
        if s.kind != t.kind and s.value is not None and _same_value(s.value, t.value)
    ]
    if same_value:
        s = same_value[0]
        return (
            None,
            "",
            (
                f"数字“{t.raw}”与{where}中的“{s.raw}”类型不同（{_KIND_LABEL[t.kind]}≠{_KIND_LABEL[s.kind]}）"
            ),
        )
    if where == "原文":
        return None, "", f"数字“{t.raw}”在原文中找不到"
    if not pool:
        return None, "", f"数字“{t.raw}”在{where}中找不到（{where}中没有数字）"
    hint = f"数字“{t.raw}”在{where}中找不到（{where}中为：{_pool_text(pool)}）"
    if any(s.kind == "redacted" for s in pool):
        hint += "；原文的占位符（如xx）不得替换为具体数字"
    return None, "", hint


def _article_one(t: Mention, evidence_text: str) -> bool:
    """Whether the evidence writes `t` (1 with a measure word) as 一 + that word (一次)."""
    unit = t.raw.lstrip(" 1１").lstrip(" ")
    i = evidence_text.find("一" + unit[:1]) if unit else -1
    while i >= 0:
        if i == 0 or evidence_text[i - 1] not in "零〇一二三四五六七八九十百千万亿两第":
            return True
        i = evidence_text.find("一" + unit[:1], i + 1)
    return False


def _match_bound(
    t: Mention, tb: Bounds, pool: tuple[Mention, ...], where: str, ctx: _Frames | None
) -> tuple[Mention | None, str]:
    """(the pool figure that satisfies approximate claim `t`, or None; why not)."""
    comparable: list[Mention] = []
    for s in pool:
        factor = _BOUND_KINDS.get((t.kind, s.kind))
        if factor is None or s.value is None or not _units_agree(t.unit, s.unit):
            continue
        if s.kind == "ordinal" and s.unit not in ("名", "位", ""):
            continue  # 第3批 is no place in a ranking
        comparable.append(s)
        sb = claimed_bounds(s)
        if sb is None or _approx_class(s.approx) == "about":
            ok = within(s.value * factor, tb)
        else:
            # a bound in the source grounds a looser claim only when the claim is written
            # coarsely or is itself two-sided (上千 or 千余 for 1200余; not 1/4以上 for 1/3以上)
            ok = (
                is_coarse(t) or _two_sided(tb)
            ) and contains(tb, (sb[0] * factor, sb[1], sb[2] * factor, sb[3]))
        if ok and (ctx is None or not ctx.conflict(t, s)):
            return s, ""
    if not comparable:
        return None, ""
    return None, (
        f"数字“{t.raw}”表示{_describe(tb, _unit_word(t))}，"
        f"{where}中为：{_pool_text(tuple(comparable))}，不符"
    )


def _two_sided(b: Bounds) -> bool:
    return b[0] != -INF and b[2] != INF


def _unit_word(t: Mention) -> str:
    return "%" if t.kind == "percent" else t.unit


def _head(text: str, n: int = 18) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def check_details(
    source: GroundingSource,
    text: str,
    evidence: str | None,
    *,
    near: int | None = None,
    allow_rounding: bool = False,
) -> tuple[ItemCheck, tuple[Problem, ...]]:
    """`check_item` plus the failures one by one (the number as written, and the reason)."""
    claims: dict[int, Mention] = {}
    span, grounded, problems, warnings = _check(
        source, text, evidence, near, allow_rounding, claims
    )
    reasons: tuple[str, ...] = ()
    if problems:
        prefix = f"条目“{_head(text)}”："
        reasons = tuple(prefix + p.reason for p in problems)
    per_number = tuple(claims.get(k) for k in grounded) if claims else ()
    check = ItemCheck(
        not reasons, span, tuple(grounded.values()), reasons, tuple(warnings), per_number
    )
    return check, tuple(problems)


def find_problems(
    source: GroundingSource,
    text: str,
    evidence: str | None,
    *,
    near: int | None = None,
    allow_rounding: bool = False,
) -> tuple[list[Problem], list[str]]:
    """The failures and warnings of `check_details`, without building an `ItemCheck`
    (for checking many items at once, as `reportsum verify` does)."""
    _, _, problems, warnings = _check(source, text, evidence, near, allow_rounding)
    return problems, warnings


def locate_problems(
    source: GroundingSource,
    text: str,
    evidence: str | None,
    *,
    near: int | None = None,
    allow_rounding: bool = False,
) -> tuple[tuple[int, int] | None, list[Problem], list[str]]:
    """`find_problems` plus the evidence span (None if no evidence or not found), which the
    next item of a summary in document order can pass as `near`."""
    span, _, problems, warnings = _check(source, text, evidence, near, allow_rounding)
    return span, problems, warnings


def _check(
    source: GroundingSource,
    text: str,
    evidence: str | None,
    near: int | None,
    allow_rounding: bool,
    claims: dict[int, Mention] | None = None,
) -> tuple[tuple[int, int] | None, dict[int, Mention], list[Problem], list[str]]:
    """(evidence span, grounding mentions by identity, problems, warnings) of one item;
    `claims` (if given) receives, by grounding mention identity, the approximate claims."""
    problems: list[Problem] = []
    warnings: list[str] = []
    # keyed by identity: pool mentions are distinct objects of one source (dataclass == is slow)
    grounded: dict[int, Mention] = {}
    span: tuple[int, int] | None = None
    # the item's mentions read off the source's scan, when the text is found verbatim in it
    own: tuple[Mention, ...] | None = None
    if evidence is not None:
        match = source._locate(evidence, near)
        if match is None:
            problems.append(
                Problem("", "引文在原文中找不到（evidence not found in source），请逐字引用原文")
            )
            return None, grounded, problems, warnings
        start, end, method, score = match
        span = (start, end)
        pool = source.mentions_in(start, end)
        where = "原文引文"
        if method == "exact" and text:
            i = 0 if text == evidence else evidence.find(text)
            if i >= 0:
                own = source._inner(start + i, start + i + len(text))
        elif method == "fuzzy":
            warnings.append(f"引文与原文不完全一致（相似度{score:.0f}），已按原文定位")
            # the quote was located approximately: its own numbers must still be exact
            for q in scan(evidence):
                found, _, _ = _match_number(q, pool, where, False)
                if found is None:
                    problems.append(
                        Problem(
                            q.raw,
                            f"引文中的数字“{q.raw}”与原文不符（原文该处为：{_pool_text(pool) or '无数字'}）",
                        )
                    )
    else:
        pool = source.mentions
        where = "原文"
    if own is not None:
        # each of them is in the pool, so each is grounded as written
        for t in own:
            grounding = _first_alike(t, pool)
            grounded.setdefault(id(grounding), grounding)
        return span, grounded, problems, warnings
    mentions = scan(text)
    ctx = _Frames(source, text, mentions)
    evidence_text = source.text if span is None else source.text[span[0] : span[1]]
    for t in mentions:
        found, warning, reason = _match_number(
            t, pool, where, allow_rounding, ctx, evidence_text
        )
        if found is not None:
            grounded.setdefault(id(found), found)
            if warning:
                warnings.append(warning)
            if claims is not None and claimed_bounds(t) is not None:
                claims.setdefault(id(found), t)
        elif reason:
            problems.append(Problem(t.raw, reason))
    for nm in _NAMES.finditer(text):
        digits = nm.group(1) or nm.group(2)
        if not re.search(rf"(?<![0-9]){digits}(?![0-9])", evidence_text):
            problems.append(Problem(digits, f"名称中的数字“{digits}”在{where}中找不到"))
    return span, grounded, problems, warnings


def check_item(
    source: GroundingSource,
    text: str,
    evidence: str | None,
    *,
    near: int | None = None,
    allow_rounding: bool = False,
) -> ItemCheck:
    """Ground one item: locate its evidence and check every number of its text.

    `evidence=None` means a summary written elsewhere: each number must then appear somewhere
    in the source. `allow_rounding` accepts 10.7亿 for 10.69亿 (with a warning).
    """
    return check_details(source, text, evidence, near=near, allow_rounding=allow_rounding)[0]


def reask_message(section: str, index: int, check: ItemCheck) -> str:
    """A short, actionable message for the model about one failed item."""
    body = "；".join(check.reasons) if check.reasons else "未通过核验"
    return (
        f"{section}[{index}] 未通过核验：{body}。"
        "只能使用引文中逐字出现的数字（不要换算、求和、平均或填补xx），evidence 必须逐字摘自原文。"
    )
