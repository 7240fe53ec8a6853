"""What a figure is about: the phrase before a number in its clause (`全社会研发经费投入` for
18.6亿元, `高新技术企业` for 412家), so that a table of figures can be pivoted by subject.

Offline and deterministic: the clause the number sits in is cut at punctuation and at the
previous number, then lead-in words (其中, 全年, 新增, 累计…) and trailing verbs (达到, 为,
同比增长…) are peeled off. A clause that names no subject of its own (`，同比增长32.3%`) takes
the subject of the figure before it in the same sentence, with its relation
(`研发经费投入增长`).
"""

from __future__ import annotations

import re

# Where a clause starts: sentence and clause punctuation, list commas, brackets, line breaks.
_CLAUSE_START = re.compile(r"[。；;！？!?\n\r，,、：:“”\"‘’【】《》\[\]]")
# A sentence ends here: a subject is never inherited across it.
_SENTENCE_END = re.compile(r"[。；;！？!?\n\r]")

# Lead-in words: time frames, list markers, adverbs and the verbs that introduce a count.
# Lead-in words: time frames, list markers, adverbs and the verbs that introduce a count
# (longest first, so 新增 is peeled whole rather than as 新).
_LEAD_WORDS = (
    "其中 另外 此外 同时 全年 上半年 下半年 今年 去年 当年 本年 年内 截至目前 截止目前 目前 截至 截止 共计 总计 "
    "合计 累计 共 已经 已 均 并 还 又 再 新 首次 成功 全面 有效 进一步 新增 新认定 认定 新建 建成 "
    "建设 引进 培育 完成 实现 获得 获批 获 争取到 争取 申报 组织 开展 举办 召开 推动 推荐 帮助 "
    "指导 落实 兑现 发放 带动 达到 达成 达 签订 签约 洽谈 提出 征集 超过 突破 为 有 拥有 我们 我局 我委 "
    "我镇 我区 我市 我县 再次 公开 至此 累計 實現 獲得 新增 達到 達 為 共計"
).split()
_LEAD = re.compile(
    r"^(?:[一二三四五六七八九十]+是|"
    + "|".join(sorted(map(re.escape, _LEAD_WORDS), key=len, reverse=True))
    + r")+"
)
# Trailing words between the subject and its number.
_TRAIL = re.compile(
    r"(?:同比|环比|比上年同期|比去年同期|较上年同期|较去年同期|比上年|比去年|较上年|较去年|同期|比\d{4}年|较\d{4}年|分别|共计|总计|合计|累计|共|"
    r"已经|已|达到|达|为|是|有|超过|超|突破|逾|近|约|增长|增加|提高|提升|上升|下降|减少|降低|"
    r"净增|新增|完成|实现|占比|比重|增幅|增速|到|至|了|就|已达|总数|总量达|的|達到|達|為|增長|累計|實現)+$"
)
_RELATION = re.compile(r"(增长|增加|提高|提升|上升|下降|减少|降低|增幅|增速|占比|比重|占)")
_RELATION_END = re.compile(r"(?:增长|增加|提高|提升|上升|下降|减少|降低|增幅|增速|占比|比重)$|(?<=.)占(?!地).*$")
# A number, Arabic or Chinese with a magnitude, and its unit: where the previous figure ends.
_NUMBER = re.compile(r"[0-9０-９][0-9０-９.,，．]*\s*(?:[%％‰]|[万亿千百]*[\u4e00-\u9fff]?)")

MAX_CHARS = 20

# A count whose noun follows it (`12家企业`, `9个科研院所`, `4次大型培训`): the subject is that noun.
_CLASSIFIER = set("家个项名位只人所批件款台套座条户次期场部篇株头辆艘")
_AFTER_STOP = re.compile(
    r"实现|完成|达到|参加|参会|随|与|被|已|在|列入|享受|通过|成为|对接|签约|超过|获|通过|进行|开展|落户|入驻|入选|纳入|"
    r"提出|共|累计|分别|来|赴|以上|以下|左右|次|同比|比|增长|合计|和|及|[0-9０-９一二三四五六七八九十百千万]"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _clean(phrase: str) -> str:
    phrase = phrase.strip(" \t　-—·•(（)）")
    if "了" in phrase[:-1]:
        phrase = phrase.rsplit("了", 1)[1]
    for _ in range(3):
        before = phrase
        phrase = _LEAD.sub("", phrase)
        phrase = _TRAIL.sub("", phrase)
        if phrase == before:
            break
    if len(phrase) > MAX_CHARS and "的" in phrase:
        phrase = phrase.rsplit("的", 1)[1]
    if len(phrase) > MAX_CHARS:
        phrase = phrase[-MAX_CHARS:]
    return phrase.strip(" \t　(（)）")


def _noun_after(text: str, end: int) -> str:
    """The noun a count is followed by (`家企业` -> 企业), or "" when none follows."""
    if end <= 0 or text[end - 1] not in _CLASSIFIER or end >= len(text) or not _CJK.match(text[end]):
        return ""
    after = text[end:end + 24]
    cut = _CLAUSE_START.search(after)
    if cut is not None:
        after = after[:cut.start()]
    stop = _AFTER_STOP.search(after)
    if stop is not None:
        after = after[:stop.start()]
    if "的" in after:
        after = after.rsplit("的", 1)[1]
    return after[:MAX_CHARS].strip()


def figure_subject(
    text: str, start: int, *, end: int | None = None, previous: tuple[int, str] | None = None
) -> str:
    """The subject of the number at `text[start:end]`.

    `previous` is (end offset, subject) of the figure before it in the same item, inherited
    when this clause names no subject of its own and no sentence ends in between."""
    if end is not None:
        noun = _noun_after(text, end)
        if len(noun) >= 2:
            return noun
    lo = max(0, start - 80)
    window = text[lo:start]
    cut = 0
    for m in _CLAUSE_START.finditer(window):
        cut = m.end()
    if previous is not None and previous[0] > lo + cut:
        cut = previous[0] - lo
    clause = window[cut:]
    # A number earlier in the clause (`产值120亿元占35%`): the subject follows it.
    last = None
    for m in _NUMBER.finditer(clause):
        if not m.group().endswith(("年", "月", "日")):  # a date inside the subject stays
            last = m
    if last is not None and last.end() < len(clause):
        clause = clause[last.end():]
    subject = _clean(clause)
    inherit = previous is not None and bool(previous[1]) and not _SENTENCE_END.search(
        text[previous[0]:start]
    )
    base = _RELATION_END.sub("", previous[1]) if previous is not None else ""
    if subject.startswith("占") and inherit:
        # `…投入18.6亿元，占地区生产总值的2.5%`: a share of the previous figure's subject.
        return base + subject if len(base + subject) <= MAX_CHARS else subject
    if len(subject) >= 2:
        return subject
    if inherit:
        rel = _RELATION.search(window[cut:])
        return base + (rel.group(1) if rel else "")
    return subject
