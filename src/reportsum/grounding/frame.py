"""The claim frame of a figure: what a sentence says about a number besides its value.

`frames(text, mentions, lo, hi)` reads, for every mention inside `text[lo:hi]` (one sentence),
the words of its clause before it:

* direction: 增长/增加/提高/上升/新增 (up) or 下降/减少/降低/下滑/回落 (down);
* relation: a change (增长, 增速, 提高, 下降), a share (占比, 比重, 占), a multiple stated as a
  level (是/为/相当于 N倍), or a level reached (提高到, 增至, 降至);
* basis: 同比 / 比上年 (year on year) or 环比 / 比上月 (on the previous period);
* inside a 分别 list (A、B分别为12家、8家), the name the figure belongs to.

The nearest word of each kind before the figure wins, within its clause (back to a comma, 、,
or the previous figure; years and dates don't end a clause: 是2020年的2.1倍). A figure right
after another with only 、/和/及/与 between them shares its frame (分别增长12%、8%).
The same function reads the text of an item and the sentence of the source around its
evidence, so both sides follow one set of rules. Grounding compares frames only where both
sides state the same attribute: a text that says nothing about direction passes against a
directed source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from reportsum.grounding.numbers import Mention

_DIRECTION = {
    # longer words first in the regex (增长到 before 增长, 增加值 before 增加)
    **{w: ("up", "change") for w in "增长 增加 提高 提升 上升 上涨 上行 增幅 增速 涨幅 攀升 扩大 新增 多增 增 升 涨".split()},
    **{
        w: ("down", "change")
        for w in "负增长 下降 减少 降低 下滑 回落 下跌 下行 降幅 跌幅 缩小 萎缩 缩减 减 降 跌".split()
    },
    # a level reached: 提高到, 增至, 降为
    **{
        w + end: ("up", "level")
        for w in "增长 增加 提高 提升 上升 扩大 增 升".split()
        for end in "到至为"
    },
    **{
        w + end: ("down", "level")
        for w in "下降 减少 降低 回落 缩小 下滑 降 减".split()
        for end in "到至为"
    },
    # a comparison with another figure: a direction, no change of its own
    **{w: ("up", "") for w in "高于 高出".split()},
    **{w: ("down", "") for w in "低于 低出".split()},
    # nouns that contain a direction word but state none
    **{
        w: ("", "")
        for w in (
            "增加值 增长点 增长极 降本 减税 降税 降费 减费 减负 减排 降耗 减量 减员 升级 提升行动 "
            "增收 增效 增信 占地 占用"
        ).split()
    },
}
_SHARE = frozenset("占比 比重 份额 占".split())
_LEVEL = frozenset("达到 达 为 稳定在 保持在 控制在 由 从".split())
"""Words that state a level reached, unless a change word came first (增长达12% is a change)."""
_TIMES = frozenset("是 为 相当于".split())
_BASIS = {
    "同比": "yoy",
    "比上年": "yoy",
    "较上年": "yoy",
    "比去年": "yoy",
    "较去年": "yoy",
    "比上年同期": "yoy",
    "较上年同期": "yoy",
    "较去年同期": "yoy",
    "比去年同期": "yoy",
    "环比": "mom",
    "比上月": "mom",
    "较上月": "mom",
    "比上季度": "mom",
    "较上季度": "mom",
    "比上季": "mom",
}
_WORDS = sorted({*_DIRECTION, *_SHARE, *_TIMES, *_BASIS, *_LEVEL}, key=len, reverse=True)
_TOKEN = re.compile("|".join(map(re.escape, _WORDS)))
_CLAUSE_END = frozenset("，,。；;！？!?\n、（）()")
_SENTENCE_END = frozenset("。；;！？!?\n")
_LIST_GAP = frozenset("、和及与以 ")
_UNFRAMED = frozenset({"year", "date", "ordinal", "rank", "redacted"})
_LEAD = re.compile(
    "^(?:其中|全年|今年|年内|本年度|全市|全区|全县|全省|全镇|新认定|认定|新增|新建|建成|培育|引进|"
    "获批|实现|完成|累计|共有|共|有|新)+"
)

DIRECTION_LABEL = {"up": "增长", "down": "下降"}
RELATION_LABEL = {"change": "增减变化", "share": "占比", "times": "倍数", "level": "达到的水平"}
BASIS_LABEL = {"yoy": "同比", "mom": "环比"}


@dataclass(frozen=True)
class Frame:
    """The frame of one figure; '' (or -1) for what its clause does not state.

    `*_word` is the word as written (for messages); `names` is the 分别 list the figure is in
    and `member` its index there; `claim` is the clause before the figure (the words a text
    uses to say whose number it is). `labels` are the subjects of the figures of the same
    kind and unit in the sentence (办结率, 群众满意率), `label` the index of this figure's.
    `threshold` is a figure with 以上/以下 just before this one that says what it counts
    (亿元以上项目46个), as written, and `threshold_value` its value.
    """

    direction: str = ""
    dir_word: str = ""
    relation: str = ""
    rel_word: str = ""
    basis: str = ""
    basis_word: str = ""
    names: tuple[str, ...] = ()
    member: int = -1
    claim: str = ""
    labels: tuple[str, ...] = ()
    label: int = -1
    threshold: str = ""
    threshold_value: float | None = None

    @property
    def named(self) -> str:
        """The 分别 name of the figure, '' if it is in no list."""
        return self.names[self.member] if self.member >= 0 else ""


EMPTY = Frame()


def frames(text: str, mentions: tuple[Mention, ...] | list[Mention], lo: int, hi: int) -> dict[int, Frame]:
    """The frame of every mention (by its index in `mentions`) lying in `text[lo:hi]`."""
    out: dict[int, Frame] = {}
    prev_end = lo
    prev_frame: Frame | None = None
    prev_mention: Mention | None = None
    for k, m in enumerate(mentions):
        if m.start < lo or m.end > hi:
            continue
        if m.kind in _UNFRAMED:
            continue  # years and dates neither carry a frame nor end a clause
        start = m.start
        i = start
        while i > prev_end and text[i - 1] not in _CLAUSE_END:
            i -= 1
        window = text[i:start]
        gap = text[prev_end:start]
        if prev_frame is not None and gap and len(gap) <= 2 and _LIST_GAP.issuperset(gap):
            f = Frame(
                prev_frame.direction,
                prev_frame.dir_word,
                prev_frame.relation,
                prev_frame.rel_word,
                prev_frame.basis,
                prev_frame.basis_word,
            )  # 12%、8%: the second figure has the first one's frame and no subject of its own
        else:
            # the subject stands before 占 (税收收入占一般公共预算收入的七成: not 一般公共预算收入)
            cut = _SHARE_AT.search(window)
            claim = window[: cut.start()] if cut else window
            if (
                prev_frame is not None
                and "分别" not in window
                and not _subject(claim)
                and not any(c in _SENTENCE_END for c in gap)
            ):
                claim = prev_frame.claim  # 营业收入12亿元，增长8.7%: the clause before names it
            f = _read(window, m.kind, claim)
            if f.direction == "up" and f.relation == "change" and text[start - 1 : start] in "-－−":
                # 增长-1.3%: a fall
                f = Frame(
                    "down", f.dir_word + "-", "change", f.rel_word, f.basis, f.basis_word,
                    claim=claim,
                )
        if prev_mention is not None and _threshold_of(text, prev_mention, m):
            f = replace(f, threshold=prev_mention.raw, threshold_value=prev_mention.value)
        out[k] = f
        prev_frame = f
        prev_end = m.end
        prev_mention = m
    _lists(text, mentions, lo, hi, out)
    _labels(mentions, out)
    return out


_FILLER = re.compile(
    "|".join(sorted({*_WORDS, "达到", "达", "为", "是", "共计", "合计", "总计", "共有", "约", "分别", "的"}, key=len, reverse=True))
)


def _subject(claim: str) -> str:
    """The subject a clause gives its figure: the clause without frame words, fillers and
    leading scope words (其中第二产业增加值增长 -> 第二产业增加值)."""
    return _LEAD.sub("", _FILLER.sub("", claim).strip(" ：:（("))


def _labels(mentions: tuple[Mention, ...] | list[Mention], out: dict[int, Frame]) -> None:
    """Give figures of one kind and unit in a sentence their subjects, so that a text that
    names one subject cannot take another's figure (办结率98.6% is no 满意率)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for k, f in out.items():
        if f.member < 0:  # a 分别 list names its figures itself
            m = mentions[k]
            groups.setdefault((m.kind, m.unit), []).append(k)
    for ks in groups.values():
        if len(ks) < 2:
            continue
        labels = tuple(_subject(out[k].claim) for k in ks)
        if sum(1 for x in labels if x) < 2:
            continue
        for j, k in enumerate(ks):
            out[k] = replace(out[k], labels=labels, label=j)


_RATE = frozenset("增速 增幅 涨幅 降幅 跌幅".split())
"""Nouns naming a growth rate: a level word after them (增速回落到7.2%) moves the rate, and the
figure is still a growth rate (a rise of 7.2%; a fall for 降幅)."""


def _threshold_of(text: str, prev: Mention, m: Mention) -> bool:
    """Whether `prev` (亿元以上) is a threshold that says what `m` (46个) counts: a figure
    with 以上/以下/以内 a few characters before it in the same clause (亿元以上项目46个)."""
    if prev.approx not in ("以上", "以下", "以内"):
        return False
    gap = text[prev.end : m.start]
    return len(gap) <= 6 and not any(c in _CLAUSE_END for c in gap)


def _read(window: str, kind: str, claim: str) -> Frame:
    direction = dir_word = relation = rel_word = basis = basis_word = ""
    rate = ""
    for t in _TOKEN.finditer(window):
        w = t.group()
        if w in _RATE:
            rate = w
        elif rate and (w in _LEVEL or _DIRECTION.get(w, ("", ""))[1] == "level"):
            # 增速回落到7.2%, 增幅为12%: the figure is the rate itself
            relation, rel_word = "change", rate
            direction, dir_word = ("down" if rate in ("降幅", "跌幅") else "up"), rate
            continue
        if w in _BASIS:
            basis, basis_word = _BASIS[w], w
        elif w in _SHARE:
            relation, rel_word = "share", w
        elif w in _TIMES and kind == "multiple":
            relation, rel_word = "times", w
        elif w in _LEVEL:
            if not relation:
                relation, rel_word = "level", w
        elif w in _TIMES:
            continue  # 是 before a figure that is no multiple
        else:
            d, r = _DIRECTION[w]
            if not d:
                direction = dir_word = relation = rel_word = ""  # a noun such as 增加值
                continue
            direction, dir_word = d, w
            if r:
                relation, rel_word = r, w
    return Frame(direction, dir_word, relation, rel_word, basis, basis_word, claim=claim)


_SPLIT = re.compile("以及|[、和及与]")
_SHARE_AT = re.compile("占|比重|份额")


def _lists(
    text: str, mentions: tuple[Mention, ...] | list[Mention], lo: int, hi: int, out: dict[int, Frame]
) -> None:
    """Give the figures after 分别 the names listed before it (A、B分别为12家、8家)."""
    p = text.find("分别", lo, hi)
    last: tuple[str, ...] = ()
    while p >= 0:
        i = p
        while i > lo and text[i - 1] not in _CLAUSE_END or (i > lo and text[i - 1] == "、"):
            i -= 1
        names = tuple(n.strip() for n in _SPLIT.split(text[i:p]))
        if len(names) < 2 and not names[0]:
            if last:
                names = last  # A、B分别实现…，分别增长…: the second 分别 names the same
            else:
                # 接待游客986万人次，旅游收入96.3亿元，分别增长18.2%、21.5%: the subjects of
                # the figures before 分别, one per figure after it
                s0 = max(text.rfind(c, lo, p) for c in _SENTENCE_END) + 1
                before = [k for k, m in enumerate(mentions) if k in out and s0 <= m.start and m.end <= p]
                after_n = _list_length(text, mentions, out, p, hi)
                if 2 <= after_n <= len(before):
                    names = tuple(_subject(out[k].claim) for k in before[-after_n:])
        if len(names) >= 2 and all(names):
            last = names
            after = [
                k
                for k, m in enumerate(mentions)
                if k in out and m.start > p and m.end <= hi
            ][: len(names)]
            if len(after) == len(names) and not any(
                c in _SENTENCE_END for c in text[p : mentions[after[-1]].start]
            ):
                for j, k in enumerate(after):
                    out[k] = replace(out[k], names=names, member=j)
        p = text.find("分别", p + 2, hi)


def cores(names: tuple[str, ...]) -> tuple[str, ...]:
    """What tells names apart: each name without leading verbs or scope words (新认定, 全市)
    and without the prefix and suffix all names share (A级旅游景区、5A级景区 -> A级旅游, 5A级)."""
    core = [_LEAD.sub("", n) or n for n in names]
    pre = 0
    while all(len(c) > pre + 2 for c in core) and len({c[pre] for c in core}) == 1:
        pre += 1
    suf = 0
    while all(len(c) > pre + suf + 2 for c in core) and len({c[-1 - suf] for c in core}) == 1:
        suf += 1
    out = [c[pre : len(c) - suf] for c in core]
    if len(set(out)) != len(out):
        return tuple("" for _ in out)
    return tuple(out)


def _list_length(
    text: str, mentions: tuple[Mention, ...] | list[Mention], out: dict[int, Frame], p: int, hi: int
) -> int:
    """How many figures follow 分别 at `p` as one list (17.9、13.0 and no further)."""
    n = 0
    prev_end = -1
    for k, m in enumerate(mentions):
        if k not in out or m.start <= p or m.end > hi:
            continue
        if prev_end >= 0 and not (
            0 < m.start - prev_end <= 2 and _LIST_GAP.issuperset(text[prev_end : m.start])
        ):
            break
        n += 1
        prev_end = m.end
    return n


def heads(names: tuple[str, ...]) -> tuple[str, ...]:
    """The `cores` cut to their first two characters (国家级、省级企业技术中心 -> 国家, 省级);
    all empty when two of them are alike."""
    out = [c[:2] for c in cores(names)]
    if len(set(out)) != len(out):
        return tuple("" for _ in out)
    return tuple(out)


def member_named(claim: str, names: tuple[str, ...]) -> int:
    """Which of `names` `claim` names (the words before a figure, or the name it has in its
    own 分别 list): the one whose core it contains, else the one whose head it contains;
    -1 if none or more than one."""
    for keys in (cores(names), heads(names)):
        hits = [j for j, h in enumerate(keys) if h and h in claim]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return -1
    return -1


def conflict(tf: Frame, sf: Frame, raw: str) -> str:
    """Why text frame `tf` contradicts source frame `sf` of figure `raw` as the source writes
    it ('' if it doesn't): each attribute counts only where both sides state it."""
    if tf.direction and sf.direction and tf.direction != sf.direction:
        return f"原文是{sf.dir_word}{raw}，不是{tf.dir_word}"
    if (
        tf.relation
        and sf.relation
        and tf.relation != sf.relation
        and "change" in (tf.relation, sf.relation)
    ):
        return (
            f"原文是{sf.rel_word}{raw}（{RELATION_LABEL[sf.relation]}），"
            f"不是{tf.rel_word}（{RELATION_LABEL[tf.relation]}）"
        )
    if tf.basis and sf.basis and tf.basis != sf.basis:
        return f"原文是{sf.basis_word}{raw}，不是{tf.basis_word}"
    if sf.member >= 0:
        said = member_named(tf.named or tf.claim, sf.names)
        if said >= 0 and said != sf.member:
            return f"原文中{raw}属于“{sf.names[sf.member]}”，不是“{sf.names[said]}”"
    if (
        tf.threshold
        and sf.threshold
        and tf.threshold_value is not None
        and sf.threshold_value is not None
        and abs(tf.threshold_value - sf.threshold_value) > 1e-9 * abs(sf.threshold_value)
    ):
        return f"原文中{raw}是“{sf.threshold}”的数字，不是“{tf.threshold}”的"
    if sf.label >= 0 and sf.labels[sf.label]:
        said = member_named(tf.named or _subject(tf.claim), sf.labels)
        if said >= 0 and said != sf.label and heads(sf.labels)[sf.label]:
            return f"原文中{raw}是“{sf.labels[sf.label]}”的数字，不是“{sf.labels[said]}”的"
    return ""
