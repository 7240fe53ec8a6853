"""The offline backend: verbatim sentences and clauses chosen by headings and cue words.

No network, no model, deterministic. Every item's text and evidence are the same verbatim
slice of the document, so grounding can only fail if the document changes under it.

How an item is chosen:

1. The document is cut into sentences (`reportsum.stages.sentences`), each long sentence into clauses
   at ；, at enumerations (一是…二是…) and at 其中/如/同时/并有, so a figure stays with its
   subject and an item says one thing.
2. A clause's section comes from the nearest enclosing heading whose short title names one
   (存在问题 -> problems, 工作目标 -> plans, 成效 -> achievements, 工作措施 -> measures) and,
   where no heading does, from cue words (增长/实现/获批 with a figure -> achievements,
   加强/推进/组织 -> measures, 不足/薄弱/有待 -> problems, 将继续/力争/下一步 -> plans).
3. Headings, site boilerplate, lead-ins (现将…总结如下) and clauses under 8 CJK characters are
   skipped; each section keeps its best-scoring clauses (figures count most for achievements),
   listed in document order.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportsum.backends.base import BackendResult, Candidate
from reportsum.stages.sentences import Heading, find_headings, sentence_spans
from reportsum.stages.split import is_signature

if TYPE_CHECKING:
    from reportsum.grounding.ground import GroundingSource
    from reportsum.stages.chunk import Chunk

_CJK = re.compile(r"[\u4e00-\u9fff]")
_MIN_CJK = 8
_MIN_CJK_PROBLEM = 4
_LONG_CLAUSE = 60
_MAX_HEADING_TITLE = 14

# Heading titles that name a section; checked in this order ("主要工作进展和成效" is results).
_HEADING_SECTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("problems", re.compile(r"问题|問題|不足|困难|困難|短板")),
    ("plans", re.compile(r"打算|计划|計劃|思路|目标|目標|下一步|明年|规划|規劃|任务|任務")),
    ("achievements", re.compile(r"成效|成绩|成績|进展|進展|情况|情況|成果")),
    ("measures", re.compile(r"措施|做法|举措|舉措|主要工作")),
)

_UNIT = (
    r"(?:%|％|‰|个百分点|倍|[万亿千百]*(?:元|人次|人|家|项|項|件|个|個|次|名|只|册|份|吨|噸|台|套|篇|所|"
    r"期|亩|畝|届|屆|批|条|條|起|户|戶|村|种|種|支|座|平方米|千瓦|kwh|KW)|[万亿萬億])"
)
_FIGURE = re.compile(
    rf"(?:\d+(?:[.,]\d+)*|[xX]{{1,4}}(?:\.[xX]+)?)\s*(?:余|多)?\s*{_UNIT}"
    rf"|[二三四五六七八九十两百千]+[项項家件名个]"
)
_ACHIEVED = re.compile(
    r"达到|达|達|增长|增長|提高|提升|完成|实现|實現|获|獲|认定|認定|立项|突破|新增|累计|累計|签约|"
    r"建成|投产|落户|居|位列|列入|荣获|评为|通过|成功|首次|取得|授权|授權|超过|增加|翻番|同比|比上年|比去年"
)
_STRONG_ACHIEVED = re.compile(
    r"获批|獲批|被认定|认定为|被评为|評為|荣获|通过.{0,12}验收|居.{0,8}前列|第一名|首位|"
    r"达成.{0,30}(?:协议|意向|合作)|填补.{0,6}空白|国内领先|国际先进|达到.{0,10}水平|成功(?:举办|引进|申报|助力|创建)"
)
_MEASURE = re.compile(
    r"加强|加強|推进|推進|实施|實施|组织|組織|开展|開展|建立|完善|召开|召開|制定|出台|举办|舉辦|引导|"
    r"鼓励|強化|强化|深化|落实|落實|培育|推动|推動|注重|坚持|堅持|加大|设立|成立|修订|征集|宣传|培训|"
    r"動員|动员|走访|辅导|申报|部署|搭建|打造|引进|聘请|扶持|健全|创建|實行|实行|抓|保证|优先|设立|選派|选派|上线|"
    r"纳入|安排|召开|投入"
)
_PROBLEM = re.compile(
    r"不足|薄弱|不高|较少|較少|难以|難以|有待|不够|不夠|瓶颈|瓶頸|短板|滞后|制约|缺乏|不强|偏低|"
    r"不健全|不理想|差距|困难|较弱|欠缺|不平衡|不充分|率低|偏少|较低|不完善|不明显"
)
# Without a 存在问题 heading only unambiguous shortfall words count, and not where the
# sentence says what was done about them (针对…不足, 为了补足…短板).
_PROBLEM_STRONG = re.compile(
    r"不足|薄弱|不高|较少|較少|难以|難以|有待|不够|不夠|滞后|缺乏|不强|偏低|不健全|不理想|率低|偏少|较低|不完善"
)
_PROBLEM_SOLVED = re.compile(r"解决|解決|克服|缓解|緩解|破解|针对|針對|补足|弥补|补齐|为了|为此|面对")
_PLAN = re.compile(
    r"下一步|明年|今后|(?<!必)将(?:继续|进一步|着力|加快|加大|重点|全力|积极|大力|努力)|"
    r"要(?:进一步|继续|加快|着力)|力争|计划(?:于|在|到)|拟"
)
# How Chinese reports mark time and role (issue 15). A clause's role is read from these
# markers first; the enclosing heading is a prior that a clear marker overrides.
# completed: the work is done and counted.
_COMPLETED = re.compile(
    r"已(?!经成为|成为)|已经|完成了|实现了|达到了|取得了|获评|荣获|累计|累計|截至|截止|"
    r"同比|比上年|比去年|较上年|全年(?:共|累计)?(?:完成|实现|新增|认定|引进)|共(?:计)?(?:完成|新增|获|申请|引进|签约)"
)
# intended: a target or an intention for the coming period.
_INTENDED = re.compile(
    r"下一步|明年|今后|力争|(?<![必即])将(?:继续|进一步|着力|加快|加大|重点|全力|积极|大力|努力|围绕|以|在|按照|"
    r"实现|建成|完成|启动|开展|推进|持续|全面|深入|不断|坚持|紧紧|举|重点|突出|争取|组织|实施|加强)|确保|争取(?!上级|到位|资金|省|市|国家)|拟|"
    r"计划(?:于|在|到|用|新增|实施|建设|完成)|目标(?:是|为)|不少于|(?<![需主重必])要(?=进一步|继续|加快|着力|加大|把|以|在|坚持|全力|切实|大力|积极|深入|全面)"
)
# action: what the office did, at the head of the clause (after a short subject and adverbs).
_ACTION_HEAD = re.compile(
    r"^[^，,；;：:]{0,10}?(?:积极|认真|大力|全面|深入|先后|还|共|全年|主动|及时|专门|相继|广泛|着力|重点|"
    r"多次|定期|每年|每月|每季度|继续|进一步|切实|扎实|精心|成功|专题|牵头|联合|共同)*"
    r"(?:开展|組織|组织|举办|舉辦|召开|召開|实施|實施|出台|推行|设立|設立|建立|成立|制定|修订|走访|"
    r"选派|聘请|签订|宣传|培训|引进|上线|组建|印发|下发|编制|启动|搭建|举行|邀请|协助|帮助|动员|"
    r"指导|兑现|安排|落实|坚持|推进|推动|加强|强化|深化|完善|健全|优化|抓|发放|争取|申报|"
    r"召集|部署|筹办|承办|主办|配合|督促|检查|整合|创新|建设|打造|构建|实行|落地|引导|鼓励|支持|"
    r"扶持|保证|保障|投入|资助|奖励|表彰|调处|查处|受理|办理|评审|审核|考核|纳入|将)"
)
# organising verbs: a clause headed by one is a measure even with figures (组织申报了…,
# 设立总规模5亿元的基金), unless it reports growth or an award.
_ORGANISE_HEAD = re.compile(
    r"^[^，,；;：:]{0,10}?(?:积极|认真|大力|全面|深入|先后|还|共|全年|主动|及时|专门|相继|广泛|着力|重点|"
    r"多次|定期|每年|每月|每季度|继续|进一步|切实|扎实|精心|专题|牵头|联合|共同|再次|公开)*"
    r"(?:组织|組織|开展|開展|举办|舉辦|召开|召開|举行|承办|主办|走访|宣传|培训|动员|邀请|发放|兑现|设立|設立|"
    r"安排|出台|印发|制定|修订|推行|选派|聘请|成立|组建|签订|征集|开办|上线|资助)"
)
_GROWTH = re.compile(r"增长|增長|同比|比上年|比去年|提高|提升|获批|荣获|评为|評為|认定为|被认定")
# counted activities (培训N期、N人次, 走访N家次): counts of what was done, not results.
_ACTIVITY_FIGURE = re.compile(
    r"(?:\d+(?:\.\d+)?|[xX]{1,4})\s*(?:余|多)?\s*(?:万)?(?:人次|家次|场次|次|期|场|轮|批次|课时|班)"
)
# Not items: preambles, principles and context statements without a figure of their own.
_PREAMBLE = re.compile(
    r"在.{0,40}(?:领导|領導|指导|指導|关心|關心|支持|帮助)下|取得了?(?:较好|显著|明显|新的|良好|长足)?的?(?:成绩|成效|进展)$|"
    r"始终把.{0,20}(?:放在|作为)|必须|(?:紧紧)?围绕.{0,40}(?:中心|主线|主题|目标|要求)|"
    r"以.{0,40}为(?:抓手|主线|重点|核心|引领|统领|指导)|坚持.{0,30}(?:主线|方针|理念)|"
    r"是.{0,30}(?:重要|关键|根本|第一|必然|前提|基础)|正处于|势在必行|"
    r"抓好[一二三四五六七八九十两几]+(?:方面|项|个方面)|突出“|做好“|^(?:如|例如|比如)(?!期)|"
    r"^其中(?:的)?(?:一些|部分|有的)|^(?:一方面|另一方面)"
)
_BOILERPLATE = re.compile(
    r"文档|文檔|下载|VIP|版权|本站|网站|會員|会员|投稿|来源于|欢迎|點擊|点击|收藏|评论|关注|http|www\.|"
    r"\.com|\.docx?\b|\.pdf\b|全文共|未完|省略|文章标题|热门文章|上传|付费|举报|如下[:：]?$"
)
_LEAD_IN = re.compile(r"(?:总结|總結|汇报|匯報|报告|報告)如下|现将|現將")
# "一是强化政策引导。": an enumerated sub-heading; the sentences after it carry the content.
_ENUM_TITLE = re.compile(r"^\s*[一二三四五六七八九十]+是[^，,；;：:\d]{2,12}[。：:]?\s*$")
_DOC_TITLE = re.compile(
    r"(?:总结|總結|汇报|匯報|材料|报告|報告|规划|規劃|计划|計劃|打算|要点|要點|思路)$"
)
# Where a long clause splits so each part keeps its own subject and figures.
_SPLIT = re.compile(r"[；;]|[，,](?=其中|如|同时|同時|并有|並有|此外|另外)|[，,:：]?(?=[一二三四五六七八九十]是)")
_LEADING_ADVERBIAL = re.compile(
    r"(?:今年以来|今年上半年|上半年|下半年|今年|去年|全年|近年来|近两年来|一年来|目前|截至目前|截止目前|"
    r"同时|此外|另外|其中|[\dxX]{2,4}年(?:以来)?|\d{1,2}月(?:份)?)[，,]"
)
_EDGE = "，,。；;：:、 \t\n\u3000！？!?"
_LIST_MARKER = re.compile(r"(?:\d{1,2}[、.．]|[（(]\d{1,2}[）)])(?!\d)")
# A comma before a phrase that opens with one of these continues the same statement
# ("…达到83334件,比上年同期增长13.2%").
_DEPENDENT = re.compile(
    r"[比较較占高低为為居达達增下提同其分并並且及和与與但而使以从從在]|同比|分别|分別|增长|增長|下降|提高"
)
_VERY_LONG = 90
_MARKS = re.compile(r"[（()），,]")


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    section: str
    score: float


def _cjk(s: str) -> int:
    return len(_CJK.findall(s))


_REPORT_WORDS = re.compile(r"总结|總結|汇报|匯報|材料|报告|報告")


def _heading_section(heading: Heading) -> str | None:
    """The section a heading's title names, if it is short enough to be a section label.

    Report titles (level 0, or 第N篇) name one only when they aren't a summary: "五年规划"
    is all plans, "年度工作总结和明年工作打算" is not."""
    title = heading.title
    if heading.level <= 1:
        if _REPORT_WORDS.search(title):
            return None
    elif len(title) > _MAX_HEADING_TITLE:
        return None
    for section, pattern in _HEADING_SECTIONS:
        if pattern.search(title):
            return section
    return None


def _is_doc_title(text: str, s: int, e: int) -> bool:
    """A report title on its own line ("区科技工作汇报材料"): it starts a new context."""
    line_start = text.rfind("\n", 0, s) + 1
    line_end = text.find("\n", e)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end].strip()
    return (
        line == text[s:e].strip()
        and len(line) <= 30
        and not re.search(r"[，,。；;：:]", line)
        and _DOC_TITLE.search(line) is not None
    )


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in _EDGE:
        s += 1
    while e > s and text[e - 1] in _EDGE:
        e -= 1
    m = _LIST_MARKER.match(text, s, e)
    if m is not None:
        s = m.end()
    m = _LEADING_ADVERBIAL.match(text, s, e)
    if m is not None and _cjk(text[m.end() : e]) >= _MIN_CJK:
        s = m.end()
    return s, e


def _clauses(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """The sentence itself if short, else its parts at ；, enumerations and 其中/如/同时."""
    if e - s <= _LONG_CLAUSE:
        return [_trim(text, s, e)]
    cuts = [s, *(m.start() for m in _SPLIT.finditer(text, s, e) if m.start() > s), e]
    out: list[tuple[int, int]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        out.extend(_split_figures(text, *_trim(text, a, b)))
    return out


def _split_figures(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Cut a very long clause at commas where a new subject with its own figure begins.

    "全市专利申请量达到83334件,比上年同期增长13.2%,专利授权量达到58406件" becomes two items;
    commas inside brackets and before dependent phrases (比…, 同比…, 占…) never cut.
    """
    if e - s <= _VERY_LONG:
        return [(s, e)]
    cuts = [s]
    depth = 0
    has_figure = False
    for mark in _MARKS.finditer(text, s, e):  # only brackets and commas change anything
        i = mark.start()
        ch = text[i]
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(depth - 1, 0)
        elif depth == 0:
            nxt = text.find(",", i + 1, e)
            nxt2 = text.find("，", i + 1, e)
            stop = min(x for x in (nxt, nxt2, e) if x >= 0)
            phrase = text[i + 1 : stop].lstrip()
            has_figure = has_figure or bool(_FIGURE.search(text[cuts[-1] : i]))
            if has_figure and _FIGURE.search(phrase) and not _DEPENDENT.match(phrase):
                cuts.append(i + 1)
                has_figure = False
    cuts.append(e)
    return [_trim(text, a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _continues_on_line(text: str, end: int) -> bool:
    """Whether more text follows on the same line (so a short sentence is a lead-in title)."""
    rest = text[end : end + 80].lstrip(" \t\u3000")
    return bool(rest) and rest[0] != "\n"


def _classify(piece: str, hint: str | None) -> tuple[str, float] | None:
    """The section and score of one clause, or None when it says nothing worth listing.

    The clause's own markers of time and role decide first (difficulty, intention, a counted
    activity, a completed result); the heading it sits under is the prior when they are silent
    and tips the balance when they conflict weakly.
    """
    figures = len(_FIGURE.findall(piece))
    activity = len(_ACTIVITY_FIGURE.findall(piece))
    results = max(figures - activity, 0)
    achieved = len(_ACHIEVED.findall(piece))
    strong = _STRONG_ACHIEVED.search(piece) is not None
    measures = len(_MEASURE.findall(piece))
    action_head = _ACTION_HEAD.match(piece) is not None
    problem = _PROBLEM.search(piece) is not None
    shortfall = _PROBLEM_STRONG.search(piece) is not None and not _PROBLEM_SOLVED.search(piece)
    completed = _COMPLETED.search(piece) is not None or re.search(r"了", piece) is not None
    intended = (_INTENDED.search(piece) is not None or _PLAN.search(piece) is not None) and not (
        re.search(r"已|了", piece)
    )
    length_fit = 1.0 if 15 <= len(piece) <= 90 else (-1.0 if len(piece) > 160 else 0.0)

    if not figures and not strong and _PREAMBLE.search(piece):
        return None

    def ach() -> float:
        return 2.0 * min(figures, 3) + min(achieved, 3) + (2.0 if strong else 0.0) + length_fit

    def mea() -> float:
        return min(measures, 3) + 0.5 * min(figures, 2) + (1.0 if action_head else 0.0) + length_fit

    if hint == "problems":
        return "problems", 1.0 + problem + length_fit
    if hint == "plans" and not (completed and not intended and (figures or strong)):
        return "plans", 1.0 + intended + 0.5 * min(figures, 2) + length_fit
    if shortfall and figures == 0 and not strong:
        return "problems", 1.0 + length_fit
    if intended and not strong:
        return "plans", 1.0 + intended + 0.5 * min(figures, 2) + length_fit
    # an organising verb at the head (组织申报了…, 设立…基金), a counted activity (开展培训4次,
    # 参训660人次) or an action with no result figure
    if _ORGANISE_HEAD.match(piece) and not _GROWTH.search(piece):
        return "measures", mea() + (0.5 if hint == "measures" else 0.0)
    if action_head and not strong and (activity or not results) and (measures or activity):
        return "measures", mea() + (0.5 if hint == "measures" else 0.0)
    if hint == "measures" and not strong and (measures or figures) and not (
        results and completed
    ):
        return "measures", mea() + 0.5
    if (figures and (achieved or completed)) or results >= 2 or strong:
        return "achievements", ach()
    if hint == "achievements" and (figures or achieved):
        return "achievements", ach() - 1.0
    if measures:
        return "measures", mea() + (0.5 if hint == "measures" else 0.0)
    if hint is not None and figures:
        return hint, 0.5 + length_fit
    return None


def _candidate_pieces(text: str) -> list[_Piece]:
    headings = find_headings(text)
    heading_at = {h.start: h for h in headings}
    stack: list[Heading] = []
    k = 0
    pieces: list[_Piece] = []
    for s, e in sentence_spans(text):
        while k < len(headings) and headings[k].start <= s:
            h = headings[k]
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            k += 1
        if _is_doc_title(text, s, e):
            stack[:] = [Heading(s, e, 0, "", text[s:e].strip())]
            continue
        at = heading_at.get(s)
        if at is not None and _cjk(text[at.end : e]) < _MIN_CJK:
            continue  # the sentence is the heading
        sentence = text[s:e]
        if (
            _BOILERPLATE.search(sentence)
            or _LEAD_IN.search(sentence)
            or (_ENUM_TITLE.match(sentence) and _continues_on_line(text, e)
                and not _PROBLEM.search(sentence))
            or is_signature(sentence)
        ):
            continue
        hint = next(
            (sec for sec in (_heading_section(x) for x in reversed(stack)) if sec), None
        )
        for a, b in _clauses(text, s, e):
            piece = text[a:b]
            n = _cjk(piece)
            if n < _MIN_CJK_PROBLEM or _BOILERPLATE.search(piece):
                continue
            verdict = _classify(piece, hint)
            if verdict is None:
                continue
            section, score = verdict
            if n < _MIN_CJK and not (section == "problems" and _PROBLEM.search(piece)):
                continue
            pieces.append(_Piece(a, b, section, score))
    return pieces


def section_cap(text: str, max_items: int = 12, *, chars_per_item: int = 120) -> int:
    """Items kept per section: `max_items`, or one per `chars_per_item` of a long report
    (analysts list about that many in dense reports)."""
    return max(max_items, len(text) // chars_per_item)


def extract_candidates(
    text: str, chunks: Sequence[Chunk] = (), *, max_items: int = 12
) -> list[Candidate]:
    """Verbatim candidates for `text`, at most `section_cap(text, max_items)` per section,
    in document order.

    `chunk_index` is the chunk holding each item's start (0 when no chunks are given) and
    `hint` is the item's offset in `text`.
    """
    chosen: list[_Piece] = []
    pieces = _candidate_pieces(text)
    for section in ("achievements", "measures", "problems", "plans"):
        mine = [p for p in pieces if p.section == section]
        best = sorted(mine, key=lambda p: (-p.score, p.start))[: section_cap(text, max_items)]
        chosen.extend(best)
    chosen.sort(key=lambda p: p.start)
    starts = [c.start for c in chunks]
    out: list[Candidate] = []
    for p in chosen:
        quote = text[p.start : p.end]
        index = chunks[max(bisect_right(starts, p.start) - 1, 0)].index if chunks else 0
        out.append(Candidate(p.section, quote, quote, chunk_index=index, hint=p.start))
    return out


class RulesBackend:
    """Offline default backend (see the module docstring for how items are chosen)."""

    name = "rules"
    model: str | None = None

    def __init__(self, *, max_items: int = 12) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be positive, got {max_items}")
        self.max_items = max_items

    async def extract(
        self, text: str, chunks: Sequence[Chunk], *, grounding: GroundingSource
    ) -> BackendResult:
        """Candidates for the whole `text`; `grounding` is not needed (quotes are verbatim)."""
        return BackendResult(candidates=extract_candidates(text, chunks, max_items=self.max_items))
