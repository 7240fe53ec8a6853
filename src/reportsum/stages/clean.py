"""Clean: delete scraped-page noise from a report, keeping a map back to the text as read.

Reports reach users as pages saved from document-sharing and essay sites. Around (and
inside) the report sit download rules, banners, author blocks, "related documents" lists,
site footers, truncation notices, page numbers glued into sentences, ruby pinyin glued after
characters and mojibake. Cleaning only ever *deletes* spans, so every character left maps back
to the same character of the input (`MappedText.to_original`).

The rules are data: `RULES` is an ordered list of named rules, most of them one compiled
pattern. They describe the *kinds* of noise (a line of site rules, a bracketed domain, a
"时间:...我要投稿" meta line) rather than one site's strings, so other sites' pages clean too.
Order matters: each rule sees the text left by the rules before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reportsum.stages.reflow import reflow
from reportsum.stages.textmap import MappedText

Spans = list[tuple[int, int]]

TRUNCATED = "truncated"

# Characters that can end a sentence or a complete line (closing quotes/brackets included).
TERMINAL = "。!?！？…;；:：”’」』)）】》.~～"


@dataclass(frozen=True)
class Cleaned:
    """The cleaned text (mapped to the text as read) and file-level warnings."""

    text: MappedText
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A named kind of noise: `find` returns the [start, end) spans to delete in a text.

    `warning` is raised (once) when the rule deletes anything.
    """

    name: str
    find: Callable[[str], Spans]
    warning: str | None = None


def pattern_rule(
    name: str, pattern: str, *, flags: int = re.M, warning: str | None = None,
    requires: tuple[str, ...] | re.Pattern[str] = (),
) -> Rule:
    """A rule deleting every match of `pattern` (multiline by default: ^ and $ are lines).

    `requires`: literals of which every match contains one (or a pattern every match contains
    a match of). A text holding none is not searched: a pattern that can start anywhere
    (optional leading parts) is tried at every position, and a substring test rules such texts
    out far faster.
    """
    compiled = re.compile(pattern, flags)

    def absent(text: str) -> bool:
        if isinstance(requires, re.Pattern):
            return requires.search(text) is None
        return bool(requires) and not any(word in text for word in requires)

    def find(text: str) -> Spans:
        if absent(text):
            return []
        return [m.span() for m in compiled.finditer(text) if m.end() > m.start()]

    return Rule(name, find, warning)


def _line(body: str) -> str:
    """A pattern matching a whole line whose content is `body`, with its line break."""
    return rf"^[ \t\u3000]*(?:{body})[ \t\u3000]*(?:\n|$)"


# ---------------------------------------------------------------- vocabulary

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
# Tone-marked pinyin vowels: a parenthesised syllable containing one is ruby, not content.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = rf"[a-zü]*[{_TONED}][a-zü{_TONED}]*"
_DOMAIN = r"(?:https?://)?(?:[\w-]+\.)+(?:com|cn|net|org|cc|info|top|vip)(?:/[\w./?=&%-]*)?"

# Words of a document-sharing site's own rules. Report prose may say 网站 or 下载, never with
# one of the strong words (本站, VIP, 侵权必究...), which only the site's notices use.
_SITE_STRONG = (
    "本站", "VIP", "退款", "侵权必究", "版权申诉", "举报电话", "免打扰", "精品文档", "文档贡献者",
    "上传文档",
)
_SITE_WEAK = ("网站", "下载", "上传", "会员", "客服", "权益", "文档", "付费", "网友")


def _site_rule_lines(text: str) -> Spans:
    """Lines of a site's download rules or VIP blurbs: a strong site word plus another."""
    spans: Spans = []
    for m in re.finditer(r"^[^\n]*(?:\n|$)", text, re.M):
        line = m.group()
        strong = sum(1 for w in _SITE_STRONG if w in line)
        weak = sum(1 for w in _SITE_WEAK if w in line)
        if strong >= 2 or (strong == 1 and weak >= 1):
            spans.append(m.span())
    return spans


_META_LABELS = re.compile(r"(?:时间|日期|来源|作者|发布|浏览|点击|阅读|字号|字体)[:：]|我要投稿|【?打印】?|分享到")


def _meta_lines(text: str) -> Spans:
    """Short page-meta lines ("工作总结范文 时间:2018-03-31 我要投稿", "来源:… 作者:…")."""
    spans: Spans = []
    for m in re.finditer(r"^[^\n]*(?:\n|$)", text, re.M):
        line = m.group().strip()
        if 0 < len(line) <= 80 and "。" not in line and len(_META_LABELS.findall(line)) >= 2:
            spans.append(m.span())
    return spans


_PAGE_MARKER = re.compile(r"^(\d{1,3})、", re.M)


def _ends_open(line: str) -> bool:
    line = line.rstrip()
    return bool(line) and line[-1] not in TERMINAL


def _page_markers(text: str) -> Spans:
    """Page numbers "2、", "3、"… at line starts that continue a sentence cut by a page break.

    A list number also sits at a line start, so a marker counts as a page number only when
    the line before is a long one left open mid-sentence and the numbers run consecutively
    (at least two of them). The marker and the line break before it are deleted so the
    sentence rejoins; a leading "1、" before such a run goes too (it heads the first page).
    """
    candidates: list[tuple[int, re.Match[str]]] = []
    for m in _PAGE_MARKER.finditer(text):
        start = m.start()
        prev_start = text.rfind("\n", 0, max(start - 1, 0)) + 1
        prev = text[prev_start : max(start - 1, 0)]
        if start > 0 and len(prev.strip()) >= 40 and _ends_open(prev):
            candidates.append((int(m.group(1)), m))
    runs: list[list[tuple[int, re.Match[str]]]] = []
    for number, m in candidates:
        if runs and runs[-1][-1][0] + 1 == number:
            runs[-1].append((number, m))
        else:
            runs.append([(number, m)])
    spans: Spans = []
    for run in runs:
        if len(run) < 2:
            continue
        first = run[0][1]
        if run[0][0] == 2:
            # the line just before the "2、" page: does it start with the first page's "1、"?
            head_start = text.rfind("\n", 0, first.start() - 1) + 1
            if text.startswith("1、", head_start):
                spans.append((head_start, head_start + 2))
        for _, m in run:
            spans.append((m.start() - 1, m.end()))
    return spans


RULES: tuple[Rule, ...] = (
    # --- ruby pinyin first: it also sits inside the notices and site names below
    pattern_rule("ruby-pinyin", rf"(?<=[{_CJK}])[(（]{_PINYIN}[)）]"),
    pattern_rule("mojibake-orphan-ruby", rf"[?？\ufffd]{_PINYIN}[)）]"),
    # --- truncation notices (before URL rules: they contain the site's address)
    pattern_rule(
        "truncation-omitted",
        r"[ \t]*[…\.]*[(（][^()（）\n]{0,80}?省略\s*\d+\s*字[^()（）\n]{0,60}[)）][…\.]*",
        warning=TRUNCATED,
        requires=("省略",),
    ),
    pattern_rule(
        "truncation-unfinished",
        r"[ \t]*[…\.]*[(（]?\s*未完[,，、]?(?:待续)?[^\n]{0,80}?(?:全文共\s*\d+\s*字|提示信息|阅读全文|閱讀|完整)[^\n]{0,60}",
        warning=TRUNCATED,
        requires=("未完",),
    ),
    pattern_rule(
        "truncation-members-only",
        r"[ \t]*[…\.]*[(（]?[^()（）\n。]{0,30}(?:正式会员|正式會員|登录后|登錄後)[^()（）\n]{0,20}(?:完整阅读|完整閱讀|查看全文|阅读全文)[)）]?[…\.]*",
        warning=TRUNCATED,
        requires=("正式会员", "正式會員", "登录后", "登錄後"),
    ),
    # --- lines of site furniture
    Rule("site-rules", _site_rule_lines),
    pattern_rule("shared-by-member", r"^[^\n]*(?:由会员分享|由會員分享|可在线阅读|可在線閱讀|请在[^\n]{0,40}上搜索)[^\n]*(?:\n|$)"),
    pattern_rule("banner", _line(r"欢迎(?:来到|访问|光临|您来到|您访问)[^\n。]{1,24}|歡迎(?:來到|訪問|光臨)[^\n。]{1,24}")),
    Rule("page-meta", _meta_lines),
    pattern_rule("bracketed-site", rf"【[^】\n]{{0,40}}{_DOMAIN}[^】\n]{{0,40}}】"),
    pattern_rule(
        "source-credit",
        rf"^[^\n]{{0,60}}(?:来源于|来源|来自|轉載|转载|出自|本文)[^\n]{{0,20}}{_DOMAIN}[^\n]{{0,60}}(?:\n|$)",
    ),
    pattern_rule("source-credit-welcome", rf"^[^\n]{{0,60}}{_DOMAIN}[^\n]{{0,10}}欢迎[^\n]{{0,40}}(?:\n|$)",
                 requires=("欢迎",)),
    pattern_rule("comments", _line(r"(?:文档|文章|網友|网友)?评论\s*[(（]\d+[)）]|發表評論|发表评论|我要评论")),
    pattern_rule(
        "navigation",
        _line(
            r"相关文档|相关文章|相关推荐|热门文章|热门推荐|热门文档|最新文章|推荐阅读|猜你喜欢|精彩推荐"
            r"|相關文檔|相關文章|熱門文章|查看更多|查看全部|展开全文|更多>+|返回顶部|返回首页"
        ),
    ),
    # saved government pages: the nav trail, attachment links and the site's copyright line
    pattern_rule(
        "breadcrumb",
        _line(r"(?:当前位置|您的位置|你的位置|您现在的位置|所在位置|当前位置是)[:：][^\n。]{0,120}"
              r"|[^\n。,，]{1,12}(?:[ \t]*[>»＞›][ \t]*[^\n。,，>»＞›]{1,20}){2,6}"),
    ),
    pattern_rule(
        "attachment",
        _line(r"附件\s*\d*\s*[:：]?[^\n。]{0,100}\.(?:docx?|wps|pdf|xlsx?|et|zip|rar|ofd)"),
        requires=("附件",),
    ),
    pattern_rule(
        "copyright",
        _line(r"(?:Copyright|COPYRIGHT|版权所有|©|\(c\))[^\n。]{0,160}"),
    ),
    pattern_rule("prev-next", _line(r"(?:上一篇|下一篇|上一页|下一页|上一篇文章|下一篇文章)[:：][^\n]{0,60}")),
    pattern_rule(
        "author-block",
        _line(
            r"实名认证|個人認證|实名認證|个人认证|机构认证|认证用户|文档贡献者|貢獻者|上传者[:：]?[^\n]{0,30}"
            r"|内容提供者|[^\s\n]{1,30}\s*\+\s*关注|(?:该用户|这个人)很懒[^\n]{0,30}|這個(?:用戶|人)很懶[^\n]{0,30}"
        ),
    ),
    pattern_rule("doc-footer-label", _line(r"-\s*(?:配套讲稿|特殊限制|文档属性)[:：][^\n]{0,40}")),
    # the keywords label and the "- 词 词 词" line under it
    pattern_rule(
        "doc-footer-keywords",
        _line(r"-\s*关\s*键\s*词[:：][^\n]{0,40}") + r"(?:[ \t]*-[ \t]+[^\n]{0,80}(?:\n|$))?",
    ),
    pattern_rule("doc-footer-ppt", _line(r"如PPT文件的首页显示word图标[^\n]*")),
    pattern_rule("doc-footer-rights", _line(r"部分文档作品中含有的[^\n]*")),
    pattern_rule("comment-limit", _line(r"限制\d+(?:字)?(?:以)?内")),
    pattern_rule("bookmark", _line(r"收藏《[^》\n]{1,80}》[)）]?")),
    pattern_rule("outline-label", _line(r"目[录錄](?:\s*/\s*提[纲綱])?[:：]?[…\.]*")),
    pattern_rule("title-label", r"^[ \t\u3000]*(?:文章标题|文章標題|标题|標題)[:：]"),
    pattern_rule("file-extension", r"(?<=\S)\.(?:docx?|wps|pdf|pptx?|txt)(?:[ \t]*VIP)?(?=[ \t]*$)"),
    # a number counts as a phone number only with a label or in a service-number shape
    pattern_rule(
        "phone-number",
        r"(?:(?:举报|联系|咨询|客服|服务)?(?:电话|热线)[:：]?\s*)?"
        r"(?<![\d-])(?:400|800)-\d{3}-\d{4}(?![\d-])(?:[(（][^()（）\n]{0,20}[)）])?"
        r"|(?:举报|联系|咨询|客服|服务)?(?:电话|热线|手机|联系方式)[:：]?\s*"
        r"(?:(?<![\d-])0\d{2,3}-?\d{7,8}|(?<![\d-])1[3-9]\d{9})(?![\d-])",
        requires=("400-", "800-", "电话", "热线", "手机", "联系方式"),
    ),
    # --- damage inside the report's own sentences
    Rule("page-break-marker", _page_markers),
    pattern_rule(
        "mojibake-cyrillic",
        r"(?<=[!！,，、;；。\s])[^!！,，、;；。\s]{0,8}"
        rf"(?:[{_CJK}][\u0400-\u04ff]|[\u0400-\u04ff][{_CJK}])[^!！,，、;；。\s]{{0,8}}(?=[!！,，、;；。\s])",
        requires=re.compile("[\u0400-\u04ff]"),
    ),
    pattern_rule("replacement-char", r"\ufffd+"),
)


def ends_mid_sentence(text: str) -> bool:
    """True when the text's last line is a paragraph (not a heading or signature) left open.

    Preview pages cut the report off mid-sentence without always saying so; a final line
    that is prose (long, or holding a full stop) and does not end with sentence punctuation
    is the sign. Headings and signatures are short and hold no full stop.
    """
    stripped = text.rstrip()
    if not stripped:
        return False
    last = stripped[stripped.rfind("\n") + 1 :].strip()
    return (len(last) >= 50 or "。" in last) and _ends_open(last)


def _tidy(text: MappedText) -> MappedText:
    """Trim the document and collapse the blank-line runs that deleted lines leave."""
    spans: Spans = []
    s = text.text
    lead = len(s) - len(s.lstrip())
    if lead:
        spans.append((0, lead))
    trail = len(s.rstrip())
    if trail < len(s):
        spans.append((trail, len(s)))
    for m in re.finditer(r"\n[ \t\u3000]*\n(?:[ \t\u3000]*\n)+", s):
        spans.append((m.start() + 1, m.end() - 1))
    return text.delete(spans) if spans else text


def clean(text: str) -> Cleaned:
    """Delete scraped-page noise from `text` (the text as read); warn "truncated" if cut off.

    Layout goes first (`reflow`: page numbers, running headers, soft line breaks), so the
    rules below see lines as the author wrote them.
    """
    current = reflow(MappedText.identity(text))
    warnings: list[str] = []
    for rule in RULES:
        spans = rule.find(current.text)
        if not spans:
            continue
        current = current.delete(spans)
        if rule.warning and rule.warning not in warnings:
            warnings.append(rule.warning)
    current = _tidy(current)
    if TRUNCATED not in warnings and ends_mid_sentence(current.text):
        warnings.append(TRUNCATED)
    return Cleaned(current, tuple(warnings))
