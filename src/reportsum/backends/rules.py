"""The offline backend: verbatim clauses chosen by how the report marks time and role.

No network, no model, deterministic. Every item's text and evidence are the same verbatim
slice of the document, so grounding can only fail if the document changes under it.

How an item is chosen:

1. The document is cut into sentences (`reportsum.stages.sentences`), each into clauses at ；
   (a short sentence too, when ；separates claims), long ones at enumerations (一是…二是…), at
   其中/如/同时/并有 and at commas where a new subject with its own figure starts.
2. A clause's section is read from its own markers first (`_classify`): difficulty (不足, 偏少,
   滞后, 有待…) -> problems; intention (将继续…, 力争, 确保, 计划于…) -> plans; an organising verb
   at its head (组织, 开展, 举办, 走访, 设立…) or a counted activity (培训4期, 660人次) ->
   measures; a completed result with figures, an award or a ranking -> achievements. The
   enclosing heading, or the part of a long report (2025年工作回顾, 存在的不足, 2026年重点工作),
   is the prior when the markers are silent. A 力争… frame spreads over the run of targets
   after it; a 清醒看到…困难和问题 lead-in makes the clauses after it problems.
3. Headings (also glued ones), site boilerplate, lead-ins (现将…总结如下), preambles
   (在…领导下), principles, place descriptions, political formulas (`FORMULA_PATTERNS`) without
   a figure, sign-offs and clauses under 8 CJK characters are skipped.
4. A short report keeps each section's best-scoring clauses (`section_cap`). A long one
   (`LONG_REPORT` characters or more) ranks the clauses of each part by `_salience` and keeps
   `part_cap` of them (about one per `CHARS_PER_ITEM` characters); the rest are `minor`
   candidates, kept apart so nothing is lost. `rank_candidates` applies the same cap to a
   model backend's candidates.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from reportsum.backends.base import BackendResult, Candidate
from reportsum.grounding.slogans import slogan_spans
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

# Parts of a long report (issue 19), read from a heading of up to _MAX_PART_TITLE characters:
# the review part, the problems paragraph, the plan part. A clause's prior comes from the part
# it sits in; a plan or problems part outranks a 措施/成效 sub-heading inside it.
_MAX_PART_TITLE = 24
_PART_SECTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("measures", re.compile(r"整改")),
    ("problems", re.compile(r"存在的?(?:主要)?问题|存在的?不足|困难和问题|问题和不足|不足和问题|短板|差距和不足|困難")),
    ("achievements", re.compile(r"完成情况|完成情況|工作回顾|工作回顧|回顾|回顧|工作总结|工作總結|主要成效|主要成绩|取得的成")),
    # "重点工作推进情况", "落实情况": a report of what was done, though it names 重点工作.
    ("achievements", re.compile(
        r"^(?!.*(?:下一步|明年|今后|打算|计划|計劃|思路|安排|展望|设想)).*"
        r"(?:推进|推進|落实|落實|开展|開展|进展|進展|执行|執行|运行|運行)情[况況]"
    )),
    ("plans", re.compile(
        r"工作安排|重点工作|重點工作|工作打算|工作思路|工作计划|工作計劃|主要目标|目标任务|预期目标|总体要求|"
        r"下一步|明年|今年|十五五|工作要点|工作要點|发展规划|努力方向|工作设想|工作目标|工作目標"
    )),
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
    r"获批|獲批|被认定|认定为|被评为|評為|荣获|通过.{0,12}验收|居.{0,8}前列|第一名|(?:居|列|位居|排名|位列).{0,8}首位|"
    r"成为.{0,20}(?:示范|试点|基地|城市|单位|先进)|確認為|认定為|認定為|"
    r"达成.{0,30}(?:协议|意向|合作)|填补.{0,6}空白|国内领先|国际先进|达到.{0,10}水平|成功(?:举办|引进|申报|助力|创建)|"
    r"获评|獲評|列全[国省市区县][^，,]{0,4}第|第\d+位|第[一二三四五六七八九十]\d*位"
)
_MEASURE = re.compile(
    r"加强|加強|推进|推進|实施|實施|组织|組織|开展|開展|建立|完善|召开|召開|制定|出台|举办|舉辦|引导|"
    r"鼓励|強化|强化|深化|落实|落實|培育|推动|推動|注重|坚持|堅持|加大|设立|成立|修订|征集|宣传|培训|"
    r"動員|动员|走访|辅导|申报|部署|搭建|打造|引进|聘请|扶持|健全|创建|實行|实行|抓|保证|优先|设立|選派|选派|上线|"
    r"纳入|安排|召开|投入"
)
_PROBLEM = re.compile(
    r"不足|薄弱|不高|较少|較少|难以|難以|有待|不够|不夠|瓶颈|瓶頸|短板|滞后|制约|缺乏|不强|偏低|"
    r"不健全|不理想|差距|困难|较弱|欠缺|不平衡|不充分|率低|偏少|较低|不完善|不明显|缺少"
)
# Without a 存在问题 heading only unambiguous shortfall words count, and not where the
# sentence says what was done about them (针对…不足, 为了补足…短板).
_PROBLEM_STRONG = re.compile(
    r"不足|薄弱|不高|较少|較少|难以|難以|有待|不够|不夠|滞后|缺乏|不强|偏低|不健全|不理想|率低|偏少|较低|不完善|缺少"
)
# A lead-in to the problems paragraph (同时，我们也清醒地看到…还面临不少困难和问题。): not an
# item itself, it makes the clauses after it on the same line problems.
_PROBLEM_LEAD = re.compile(
    r"清醒(?:地)?(?:看到|认识到)|(?:还|仍|也)(?:存在|面临)(?:着)?(?:一些|不少|许多|诸多)?.{0,12}"
    r"(?:困难和问题|问题和不足|差距和不足|不足和问题|困难和挑战|短板弱项|短板和弱项|薄弱环节|问题|不足|差距)[，,。：:]?$"
)
_PROBLEM_SOLVED = re.compile(r"解决|解決|克服|缓解|緩解|破解|针对|針對|补足|弥补|补齐|为了|为此|面对")
_PLAN = re.compile(
    r"下一步|明年|今后|(?<!必)将(?:继续|进一步|着力|加快|加大|重点|全力|积极|大力|努力)|"
    r"要(?:进一步|继续|加快|着力)|力争|计划(?:于|在|到)|拟(?:于|在|用)"
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
    r"实现|建成|完成|启动|开展|推进|持续|全面|深入|不断|坚持|紧紧|举|重点|突出|争取|组织|实施|加强)|确保|拟(?:于|在|用|新建|建设|开展|实施|启动)|"
    r"计划(?:于|在|到|用|新增|实施|建设|完成)|目标(?:是|为)|不少于|(?<![需主重必])要(?=进一步|继续|加快|着力|加大|把|以|在|坚持|全力|切实|大力|积极|深入|全面)"
)
# action: what the office did, at the head of the clause (after a short subject and adverbs).
_ACTION_HEAD = re.compile(
    r"^[^，,；;：:]{0,10}?(?:积极|认真|大力|全面|深入|先后|还|共|全年|主动|及时|专门|相继|广泛|着力|重点|"
    r"多次|定期|每年|每月|每季度|继续|进一步|切实|扎实|精心|成功|专题|牵头|联合|共同)*"
    r"(?:开展|組織|组织|举办|舉辦|召开|召開|实施|實施|出台|推行|设立|設立|建立|成立|制定|修订|走访|"
    r"选派|聘请|签订|宣传|培训|引进|上线(?![\d率人])|组建|印发|下发|编制|启动|搭建|举行|邀请|协助|帮助|动员|"
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
    r"安排|出台|印发|制定|修订|推行|选派|聘请|成立|组建|签订|征集|开办|上线(?![\d率人])|资助|检查|排查|接待|协调|收购|"
    r"否决|化解|慰问|帮扶|调度|督查|巡查|整治|执法|约谈|拜访|带队|(?<!研发|科技|财政|资金|经费|經費)投入)"
)
_GROWTH = re.compile(r"增长|增長|同比|比上年|比去年|获批|荣获|评为|評為|认定为|被认定")
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
    r"^其中(?:的)?(?:一些|部分|有的)|^对(?:这些|以上|上述)问题|^(?:一方面|另一方面)|越来越|日益|逐年加大|充分认识到|不断提高$|"
    # an enumerated sub-heading standing as a sentence ("四是企业创新主体培育力度进一步加大")
    r"^[一二三四五六七八九十]是[^，,；;]{2,16}(?:力度|机制|工作|水平|能力|氛围|成效|体系|合作|作用)?"
    r"(?:进一步|不断|持续|初步|稳步|深入|明显|显著|全面)?(?:加大|加强|形成|开展|提升|提高|推进|完善|增强|优化|显现)$|"
    r"^[一二三四五六七八九十]是抓[^，,；;]{2,14}$"
)
# Political formulas and slogans (issue 19): a clause built on one and without a figure of
# its own is not an item; with a figure it ranks lower. Listed in the README.
FORMULA_PATTERNS: tuple[str, ...] = (
    r"习近平|新时代中国特色社会主义|党的二十|二十届|十九届|党中央|两个确立|两个维护|四个意识|四个自信|四个全面|五位一体",
    r"八项规定|“四风”|四风|一岗双责|全面从严治党|从严治党|党风廉政|廉洁自律|清正廉洁|为民务实|政治站位|政治判断力|政治领悟力|"
    r"政治执行力|初心使命|主题教育|理论学习|民主生活会|第一议题|意识形态",
    r"稳中求进|以进促稳|先立后破|守正创新|中国式现代化|以人民为中心|新发展理念|新发展格局|高质量发展(?!.{0,4}[\d])|"
    r"总基调|人民满意|获得感|幸福感|安全感|实干担当|真抓实干|担当作为|勇毅前行|砥砺奋进|奋勇争先|开拓进取|凝心聚力|团结奋斗",
    r"同志们|各位代表|致以|衷心感谢|热烈祝贺|表示感谢|请予审议|提请.{0,10}审议|请各位.{0,8}(?:委员|代表)",
)
_FORMULA = re.compile("|".join(f"(?:{p})" for p in FORMULA_PATTERNS))
# The place described, not work done: 下辖4镇6街道, 人口42.1万.
_CONTEXT = re.compile(r"下辖|辖\d+个|总人口|常住人口\d|流动人口|总面积|国土面积|区域面积")
_BOILERPLATE = re.compile(
    r"文档|文檔|下载|VIP|版权|本站|网站|會員|会员|投稿|来源于|欢迎|點擊|点击|收藏|评论|关注|http|www\.|"
    r"\.com|\.docx?\b|\.pdf\b|全文共|未完|省略|文章标题|热门文章|上传|付费|举报|如下[:：]?$"
)
_LEAD_IN = re.compile(
    r"(?:总结|總結|汇报|匯報|报告|報告)如下|现将|現將|主要表现在|表现在以下|具体如下|主要有以下|情况如下|重点抓好以下"
)
# A lead-in to a paragraph of what was done (我们主要在几个方面下了功夫 / 主要做法是 / 采取了以下
#措施): not an item itself, it makes the paragraph's clauses measures unless they say a result.
_MEASURE_LEAD = re.compile(
    r"(?:几|幾|以下|下面|这|這)(?:个|個)?方面(?:下了?功夫|开展|開展|着力|入手|发力|做了|抓)|"
    r"主要(?:做法|举措|措施)(?:是|有|如下)|(?:采取|採取)了?(?:以下|如下|一系列)(?:措施|举措|做法)|"
    r"(?:主要|重点)(?:做了|抓了|开展了)(?:以下|如下)"
)
# "一是强化政策引导。": an enumerated sub-heading; the sentences after it carry the content.
_ENUM_TITLE = re.compile(r"^\s*[一二三四五六七八九十]+是[^，,；;：:\d]{2,12}[。：:]?\s*$")
_DOC_TITLE = re.compile(
    r"(?:总结|總結|汇报|匯報|材料|报告|報告|规划|規劃|计划|計劃|打算|要点|要點|思路)$"
)
# Where a long clause splits so each part keeps its own subject and figures.
_SPLIT = re.compile(r"[；;]|[，,](?=如|同时|同時|并有|並有|此外|另外)|[，,:：]?(?=[一二三四五六七八九十]是)")
_LEADING_ADVERBIAL = re.compile(
    r"(?:今年以来|今年上半年|上半年|下半年|今年|去年|全年|近年来|近两年来|一年来|目前|截至目前|截止目前|"
    r"同时|此外|另外|其中|[\dxX]{2,4}年(?:以来)?|\d{1,2}月(?:份)?)[，,]"
)
# A total for the whole area or year (全年…, 全区…, 累计…): the headline figures analysts cite.
_RUN_ITEM = re.compile(r"\s*(?:[一二三四五六七八九十]是|[（(]?\d{1,2}[)）、.．]|[（(][一二三四五六七八九十]{1,2}[)）])")
_MEASURE_BONUS = 0.0
_PERCENT = re.compile(r"\d(?:\.\d+)?\s*[%％]")
_MONEY = re.compile(r"\d(?:\.\d+)?\s*(?:亿|万)?元")
_NAMED = re.compile(r"[“《][^”》]{2,30}[”》]")
_ENUM_HEAD = re.compile(r"[一二三四五六七八九十]是")
_BREAKDOWN = re.compile(r"其中|从.{1,6}看|分别")
_LEAD_BONUS = (1.5, 0.5)
"""Salience added to the first clauses after a heading or a paragraph start (headline figures)."""
_TOTAL_HEAD = re.compile(r"^(?:全年|全区|全县|全市|全镇|全乡|全省|累计|全社会|年内)")
_RANK = re.compile(r"第\d+位|第[一二三四五六七八九十]名|前列|第一|首位|居全|位列|排名")
# A generic intention or principle at the head of a clause (坚持…, 持续推进…, 不断完善…).
_GENERIC_HEAD = re.compile(r"^(?:坚持|持续|深入|不断|加快|着力|全面|进一步|大力|积极|努力|切实|始终|更加|统筹|扎实)")
_EDGE = "，,。；;：:、 \t\n\u3000！？!?"
_LIST_MARKER = re.compile(r"(?:\d{1,2}[、.．]|[（(][\d一二三四五六七八九十]{1,3}[）)]|[一二三四五六七八九十]{1,2}、)(?!\d)")
# A comma before a phrase that opens with one of these continues the same statement
# ("…达到83334件,比上年同期增长13.2%").
_DEPENDENT = re.compile(
    r"[比较較占高低为為居达達增下提同其分并並且及和与與但而使以从從在]|同比|分别|分別|增长|增長|下降|提高"
)
_VERY_LONG = 90
_SEMICOLON = re.compile(r"[；;]")
# Where a long report's appendix starts (附：…指标完成情况, 附件, 名词解释, 注释).
_APPENDIX = re.compile(r"^[ \t\u3000]*(?:附[：:]|附件\d*[：:\s]|附表|名词解释|注释|注[：:])", re.M)
_LONG_CLAUSE_LONG_REPORT = 140
_VERY_LONG_LONG_REPORT = 200
_MARKS = re.compile(r"[（()），,]")


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    section: str
    score: float
    salience: float = 0.0


def _cjk(s: str) -> int:
    return len(_CJK.findall(s))


_REPORT_WORDS = re.compile(r"总结|總結|汇报|匯報|材料|报告|報告")


@lru_cache(maxsize=4096)
def _heading_section(heading: Heading) -> str | None:
    """The section a heading's title names, if it is short enough to be a section label.

    Report titles (level 0, or 第N篇) name one only when they aren't a summary: "五年规划"
    is all plans, "年度工作总结和明年工作打算" is not. Part headings of long reports
    ("2025年工作回顾", "2026年工作总体要求和主要目标", "存在的不足") name one up to
    `_MAX_PART_TITLE` characters."""
    title = heading.title
    if heading.level <= 1:
        if _REPORT_WORDS.search(title):
            return None
    else:
        if len(title) <= _MAX_PART_TITLE:
            for section, pattern in _PART_SECTIONS:
                if pattern.search(title):
                    return section
        if len(title) > _MAX_HEADING_TITLE:
            return None
    for section, pattern in _HEADING_SECTIONS:
        if pattern.search(title):
            return section
    return None


# A heading that names the coming period, not only 目标/任务.
# 计划/规划/安排 name the coming period as nouns (工作计划, 发展规划, 工作安排), not inside a
# measure's label ("坚持规划引领，强化顶层设计", "实施…计划"): there a verb comes first.
_FUTURE_TITLE = re.compile(
    r"明年|下一步|今后|打算|思路|20\d\d年|十五五|展望|设想|"
    r"^(?!(?:坚持|堅持|强化|強化|加强|加強|推进|推進|实施|實施|聚焦|突出|注重|狠抓|深化|优化|完善|健全|着力|立足|坚定))"
    r".*(?:计划|計劃|规划|規劃|安排)"
)


def _hint(stack: Sequence[Heading]) -> str | None:
    """The section prior of the innermost heading naming one; a plans or problems part
    above it wins over a 措施/成效 sub-heading (a 保障措施 under 2026年工作安排 is plans)."""
    named = [(sec, x) for sec, x in ((_heading_section(x), x) for x in reversed(stack)) if sec]
    if not named:
        return None
    inner, inner_heading = named[0]
    for outer, _ in named[1:]:
        if outer in ("plans", "problems") and inner in ("measures", "achievements"):
            return outer
        # "（一）明确目标任务" under 主要做法 or 工作回顾 is how the work was done, not a plan
        if inner == "plans" and outer in ("measures", "achievements") and not _FUTURE_TITLE.search(
            inner_heading.title
        ):
            return outer
    return inner


def _own_line(text: str, s: int, e: int) -> str | None:
    """The sentence `text[s:e]` stripped, when it is its line's whole content; else None."""
    line_start = text.rfind("\n", 0, s) + 1
    line_end = text.find("\n", e)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end].strip()
    return line if line == text[s:e].strip() else None


def _is_doc_title(text: str, s: int, e: int) -> bool:
    """A report title on its own line ("区科技工作汇报材料"): it starts a new context."""
    line = _own_line(text, s, e)
    return (
        line is not None
        and len(line) <= 30
        and not re.search(r"[，,。；;：:]", line)
        and _DOC_TITLE.search(line) is not None
    )


_BARE_TITLE_MAX = 12


def _bare_title(text: str, s: int, e: int) -> Heading | None:
    """A section title on a line of its own with no outline marker ("主要成绩", "问题与不足",
    "下一步打算"): short, no punctuation or figure, naming a section. As a part heading (the
    level of 一、) it gives the paragraphs under it their prior, and is not an item itself."""
    line = _own_line(text, s, e)
    if line is None or not 2 <= len(line) <= _BARE_TITLE_MAX:
        return None
    if re.search(r"[，,。；;：:！!？?、\d]", line):
        return None
    heading = Heading(s, e, 2, "", line)
    return heading if _heading_section(heading) is not None else None


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


def _clauses(
    text: str, s: int, e: int, *, long_clause: int = _LONG_CLAUSE, very_long: int = _VERY_LONG,
    semicolons: bool = True,
) -> list[tuple[int, int]]:
    """The sentence itself if short, else its parts at ；, enumerations and 其中/如/同时."""
    if e - s <= long_clause:
        if not semicolons:
            return [_trim(text, s, e)]
        # a short sentence stays whole unless ；separates claims in it
        cuts = [s, *(m.end() for m in _SEMICOLON.finditer(text, s, e) if m.end() < e), e]
        return [_trim(text, a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    cuts = [s, *(m.start() for m in _SPLIT.finditer(text, s, e) if m.start() > s), e]
    out: list[tuple[int, int]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        out.extend(_split_figures(text, *_trim(text, a, b), very_long=very_long))
    return out


def _split_figures(text: str, s: int, e: int, *, very_long: int = _VERY_LONG) -> list[tuple[int, int]]:
    """Cut a very long clause at commas where a new subject with its own figure begins.

    "全市专利申请量达到83334件,比上年同期增长13.2%,专利授权量达到58406件" becomes two items;
    commas inside brackets and before dependent phrases (比…, 同比…, 占…) never cut.
    """
    if e - s <= very_long:
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


_SLOGAN_HINT = re.compile(r"[一二三四五六七八九十两“\"「『]")


def _without_slogans(piece: str) -> str:
    """`piece` with slogan and formula numerals blanked (五年来, 二十届, 八项规定 are not figures)."""
    if _SLOGAN_HINT.search(piece) is None:
        return piece
    spans = slogan_spans(piece)
    if not spans:
        return piece
    out = list(piece)
    for a, b in spans:
        out[a:b] = "　" * (b - a)
    return "".join(out)


def _salience(piece: str, section: str) -> float:
    """How much an analyst would cite this item (roughly log-odds): concrete figures, money and
    percentages, totals for the whole area or year, rankings and awards; against political
    formulas, slogans and generic intentions without a figure."""
    bare = _without_slogans(piece)
    figures = len(_FIGURE.findall(bare)) + len(_PERCENT.findall(bare))
    score = (-2.0, 0.0, 1.0, 1.5)[min(figures, 3)]
    if _MONEY.search(bare):
        score += 1.0
    if _PERCENT.search(bare):
        score += 0.5
    if _TOTAL_HEAD.match(piece):
        score += 1.5
    if _COMPLETED.search(piece):
        score += 0.5
    if _RANK.search(piece):
        score += 1.0
    if _STRONG_ACHIEVED.search(piece):
        score += 0.5
    if _NAMED.search(bare):
        score += 0.3
    if section == "problems":
        score += 2.0
    elif section == "measures":
        score += _MEASURE_BONUS  # a concrete action with its counts is cited like a result
    if _FORMULA.search(piece):
        score -= 2.0
    if not figures and _GENERIC_HEAD.match(piece):
        score -= 0.5
    if len(piece) < 14:
        score -= 0.5
    return score


_RECURRING = re.compile(r"每年|每月|每季度|每半年|每周|定期|常态化")
_BY_YEAR = re.compile(r"20\d\d年(?:底|前|内)")  # a deadline (下一步/明年/力争 are _PLAN's)


def _classify(piece: str, hint: str | None) -> tuple[str, float] | None:
    """The section and score of one clause, or None when it says nothing worth listing.

    The clause's own markers of time and role decide first (difficulty, intention, a counted
    activity, a completed result); the heading it sits under is the prior when they are silent
    and tips the balance when they conflict weakly.
    """
    bare = _without_slogans(piece)
    figures = len(_FIGURE.findall(bare))
    activity = len(_ACTIVITY_FIGURE.findall(bare))
    results = max(figures - activity, 0)
    achieved = len(_ACHIEVED.findall(piece))
    strong = _STRONG_ACHIEVED.search(piece) is not None
    measures = len(_MEASURE.findall(piece))
    action_head = _ACTION_HEAD.match(piece) is not None
    problem = _PROBLEM.search(piece) is not None
    shortfall = _PROBLEM_STRONG.search(piece) is not None and not _PROBLEM_SOLVED.search(piece)
    done_mark = "了" in piece or "已" in piece
    completed = done_mark or _COMPLETED.search(piece) is not None
    intended = (_INTENDED.search(piece) is not None or _PLAN.search(piece) is not None) and not (
        done_mark
    )
    if intended and hint in ("measures", "achievements") and _RECURRING.search(piece) and not (
        _PLAN.search(piece) or _BY_YEAR.search(piece)
    ):
        # "每年安排科技专项资金不少于1.5亿元" under 主要做法: a standing practice, not a target
        intended = False
    length_fit = 1.0 if 15 <= len(piece) <= 90 else (-1.0 if len(piece) > 160 else 0.0)

    if not figures and not strong and (_PREAMBLE.search(piece) or _FORMULA.search(piece)):
        return None
    if _CONTEXT.search(piece):
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
    if _ORGANISE_HEAD.match(piece) and not _GROWTH.search(piece) and not (strong and results):
        return "measures", mea() + (0.5 if hint == "measures" else 0.0)
    if action_head and not strong and (activity or not results) and (measures or activity):
        return "measures", mea() + (0.5 if hint == "measures" else 0.0)
    if hint == "measures" and not strong and (measures or figures) and not (
        results and (completed or achieved)
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
    """Every clause worth listing, with its section, score and salience, in document order.

    A long report keeps whole sentences up to `_LONG_CLAUSE_LONG_REPORT` characters (its
    items are fewer and each should carry its context)."""
    long_report = len(text) >= LONG_REPORT
    if long_report:
        # an appended indicator table or glossary repeats or explains the body: not items
        m = _APPENDIX.search(text)
        if m is not None and m.start() > len(text) // 2:
            text = text[: m.start()]
    long_clause = _LONG_CLAUSE_LONG_REPORT if long_report else _LONG_CLAUSE
    very_long = _VERY_LONG_LONG_REPORT if long_report else _VERY_LONG
    headings = find_headings(text)
    heading_at = {h.start: h for h in headings}
    stack: list[Heading] = []
    k = 0
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(pos: int) -> int:
        return bisect_right(newlines, pos - 1)

    pieces: list[_Piece] = []
    lead = 0  # clauses since the last heading or paragraph start (headline figures come first)
    plan_line = -1  # the line a plan frame (力争…) was opened in: it spreads over the run of targets
    problem_line = -1  # the line a 清醒看到…困难和问题 lead-in opened: what follows on it is problems
    measure_line = -1  # the line a 主要在几个方面下了功夫 lead-in opened: what follows on it is measures
    for s, e in sentence_spans(text):
        # the plan frame carries into the next sentence only along an enumeration (二是…)
        if plan_line >= 0 and (line_of(s) != plan_line or not _RUN_ITEM.match(text, s)):
            plan_line = -1
        while k < len(headings) and headings[k].start <= s:
            h = headings[k]
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            k += 1
            lead = 0
            plan_line = -1
        if s == 0 or text[s - 1] == "\n":
            lead = 0
        if _is_doc_title(text, s, e):
            stack[:] = [Heading(s, e, 0, "", text[s:e].strip())]
            continue
        at = heading_at.get(s)
        if at is not None and _cjk(text[at.end : e]) < _MIN_CJK:
            continue  # the sentence is the heading
        bare = _bare_title(text, s, e)
        if bare is not None:
            # "问题与不足" alone on its line, no marker: a part heading of an unnumbered report
            while stack and stack[-1].level >= bare.level:
                stack.pop()
            stack.append(bare)
            lead = 0
            plan_line = -1
            continue
        sentence = text[s:e]
        line_no = line_of(s)
        if problem_line >= 0 and line_no != problem_line:
            problem_line = -1
        if _PROBLEM_LEAD.search(sentence):
            problem_line = line_no
            continue
        if measure_line >= 0 and line_no != measure_line:
            measure_line = -1
        if _MEASURE_LEAD.search(sentence) and not _FIGURE.search(sentence):
            measure_line = line_no
            continue
        if (
            _BOILERPLATE.search(sentence)
            or _LEAD_IN.search(sentence)
            or (_ENUM_TITLE.match(sentence) and _continues_on_line(text, e)
                and not _PROBLEM.search(sentence))
            or is_signature(sentence)
        ):
            continue
        hint = _hint(stack)
        for a, b in _clauses(
            text, s, e, long_clause=long_clause, very_long=very_long, semicolons=not long_report
        ):
            piece = text[a:b]
            n = _cjk(piece)
            if n < _MIN_CJK_PROBLEM or _BOILERPLATE.search(piece):
                continue
            verdict = _classify(piece, hint)
            if verdict is None and plan_line >= 0 and _FIGURE.search(piece):
                verdict = ("plans", 1.0)  # a bare target in a 力争… run (新建…场馆2个)
            if verdict is None:
                continue
            section, score = verdict
            if n < _MIN_CJK and not (section == "problems" and _PROBLEM.search(piece)):
                continue
            if (
                measure_line >= 0 and section == "achievements" and hint in (None, "achievements")
                and not _GROWTH.search(piece) and not _STRONG_ACHIEVED.search(piece)
            ):
                section = "measures"
            if problem_line >= 0 and section != "plans" and (
                _PROBLEM.search(piece) or _ENUM_HEAD.match(piece)
            ):
                section = "problems"
            if section == "plans" and hint != "plans":
                plan_line = line_of(a)
            elif (
                plan_line >= 0
                and section in ("achievements", "measures")
                and not _COMPLETED.search(piece)
                and "已" not in piece and "了" not in piece
            ):
                section = "plans"  # the next targets of a 力争… run
            salience = _salience(piece, section) + (_LEAD_BONUS[lead] if lead < len(_LEAD_BONUS) else 0.0)
            if _BREAKDOWN.match(piece):
                salience -= 1.5
            lead += 1
            pieces.append(_Piece(a, b, section, score, salience))
    return pieces


def section_cap(text: str, max_items: int = 12, *, chars_per_item: int = 80) -> int:
    """Items kept per section of a short report: `max_items`, or one per `chars_per_item` of a
    dense one (analysts list about that many in dense reports)."""
    return max(max_items, len(text) // chars_per_item)


LONG_REPORT = 6000
"""Reports this long (characters) are summarised by parts with a salience cap."""
CHARS_PER_ITEM = 240
"""A long report's part keeps about one item per this many characters (see `part_cap`)."""
_MAX_PROBLEMS_PER_PART = 10


def _parts(text: str) -> list[int]:
    """Start offsets of a long report's top-level parts (its outermost numbered headings)."""
    headings = [h for h in find_headings(text) if h.level >= 2]
    if not headings:
        return [0]
    top = min(h.level for h in headings)
    return [0, *(h.start for h in headings if h.level == top)]


def part_cap(part_chars: int, figure_items: int) -> int:
    """Items a part of a long report keeps (problems apart): one per `CHARS_PER_ITEM`
    characters, at least one, and never more than the part's items with a concrete figure
    when it has more characters than figures (a part of generic prose yields few items)."""
    by_length = max(1, round(part_chars / CHARS_PER_ITEM))
    return min(by_length, max(1, figure_items)) if figure_items else 1


def _select(text: str, pieces: list[_Piece], max_items: int) -> tuple[list[_Piece], list[_Piece]]:
    """(kept, minor): a short report keeps each section's best `section_cap` clauses; a long
    one keeps the most salient clauses of each part up to `part_cap`, problems apart."""
    if len(text) < LONG_REPORT:
        kept: list[_Piece] = []
        minor: list[_Piece] = []
        for section in ("achievements", "measures", "problems", "plans"):
            mine = sorted((p for p in pieces if p.section == section), key=lambda p: (-p.score, p.start))
            cap = section_cap(text, max_items)
            kept.extend(mine[:cap])
            minor.extend(mine[cap:])
        return kept, minor
    starts = _parts(text)
    bounds = [*starts, len(text)]
    kept, minor = [], []
    for a, b in zip(bounds, bounds[1:], strict=False):
        mine = [p for p in pieces if a <= p.start < b]
        problems = sorted((p for p in mine if p.section == "problems"), key=lambda p: (-p.salience, p.start))
        kept.extend(problems[:_MAX_PROBLEMS_PER_PART])
        minor.extend(problems[_MAX_PROBLEMS_PER_PART:])
        rest = sorted((p for p in mine if p.section != "problems"), key=lambda p: (-p.salience, p.start))
        with_figures = sum(1 for p in rest if _FIGURE.search(_without_slogans(text[p.start : p.end])))
        cap = part_cap(b - a, with_figures)
        kept.extend(rest[:cap])
        minor.extend(rest[cap:])
    return kept, minor


def rank_candidates(
    text: str, candidates: Sequence[Candidate], *, all_items: bool = False
) -> list[Candidate]:
    """The long-report cap for candidates from any backend (a model's chunks each return
    their items and nothing chooses): in a report of `LONG_REPORT` characters or more, each
    candidate is placed by its evidence, scored by `_salience` and kept up to `part_cap` per
    part; the others come back with `minor=True`. Shorter reports, and `all_items`, pass
    through unchanged."""
    if all_items or len(text) < LONG_REPORT:
        return list(candidates)
    pieces: list[_Piece] = []
    index: dict[int, int] = {}
    for k, c in enumerate(candidates):
        pos = text.find(c.evidence, c.hint or 0) if c.evidence else -1
        if pos < 0 and c.evidence:
            pos = text.find(c.evidence)
        start = pos if pos >= 0 else min(max(c.hint or 0, 0), len(text))
        piece = _Piece(start, start + len(c.evidence), c.section, 0.0, _salience(c.text, c.section))
        index[id(piece)] = k
        pieces.append(piece)
    _, minor = _select(text, pieces, 12)
    ranked_out = {index[id(p)] for p in minor}
    return [replace(c, minor=True) if k in ranked_out else c for k, c in enumerate(candidates)]


def extract_candidates(
    text: str, chunks: Sequence[Chunk] = (), *, max_items: int = 12, all_items: bool = False
) -> list[Candidate]:
    """Verbatim candidates for `text` in document order: the kept items, then the minor ones
    (`minor=True`: ranked out by the cap, kept apart so nothing is lost; `all_items` keeps
    them in their sections).

    `chunk_index` is the chunk holding each item's start (0 when no chunks are given) and
    `hint` is the item's offset in `text`.
    """
    kept, minor = _select(text, _candidate_pieces(text), max_items)
    if all_items:
        kept, minor = kept + minor, []
    kept.sort(key=lambda p: p.start)
    minor.sort(key=lambda p: p.start)
    starts = [c.start for c in chunks]
    out: list[Candidate] = []
    seen: set[str] = set()  # a repeated sentence is one item (merge keeps the first anyway)
    for is_minor, group in ((False, kept), (True, minor)):
        for p in group:
            quote = text[p.start : p.end]
            if quote in seen:
                continue
            seen.add(quote)
            index = chunks[max(bisect_right(starts, p.start) - 1, 0)].index if chunks else 0
            out.append(Candidate(p.section, quote, quote, chunk_index=index, hint=p.start, minor=is_minor))
    return out


class RulesBackend:
    """Offline default backend (see the module docstring for how items are chosen)."""

    name = "rules"
    model: str | None = None

    def __init__(self, *, max_items: int = 12, all_items: bool = False) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be positive, got {max_items}")
        self.max_items = max_items
        self.all_items = all_items

    async def extract(
        self, text: str, chunks: Sequence[Chunk], *, grounding: GroundingSource
    ) -> BackendResult:
        """Candidates for the whole `text`; `grounding` is not needed (quotes are verbatim)."""
        return BackendResult(
            candidates=extract_candidates(text, chunks, max_items=self.max_items, all_items=self.all_items)
        )
