"""Sentences, clauses and outline headings of Chinese report text.

Scraped reports come in two broken shapes: pages that lost their line breaks (a whole report
on one line, paragraphs separated by a space, headings glued into the running text) and pages
whose lines were wrapped mid-sentence. So a line break is a sentence boundary only when the
line looks complete (terminal punctuation, a heading, a short title-like line, a list item)
or the next line starts a heading or an enumeration; and a heading marker found after a
sentence end or a gap of spaces starts a heading even in the middle of a line.

All results are offsets into the text given, so callers can quote it verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

TERMINALS = "。！？!?"
CLOSERS = "”’」』）)》】\"'"
CLAUSE_BREAKS = "；;"
_COLONS = "：:"
_CN = "一二三四五六七八九十"
_CJK = re.compile(r"[\u4e00-\u9fff]")

# One alternation per outline level; a group name says the level.
_MARKER = re.compile(
    rf"(?P<l1>第[{_CN}百零〇两\d]{{1,4}}(?:篇|部分|章))"
    rf"|(?P<l2>[{_CN}]{{1,3}}[、．.])(?![{_CN}]{{1,3}}[、．.])"
    rf"|(?P<l3>[（(][{_CN}]{{1,3}}[）)])"
    r"|(?P<l4>\d{1,2}[.．、])(?!\d)"
    r"|(?P<l5>[（(]\d{1,2}[）)])"
    r"|(?P<l6>[①-⑳])"
)
_LEVELS = {"l1": 1, "l2": 2, "l3": 3, "l4": 4, "l5": 5, "l6": 6}
_SEPARATOR = re.compile(r"[ \t\u3000:：、.．]*")
# A title ends at a line break, a sentence or clause end, a colon, a gap of spaces, or where an
# Arabic marker, an enumeration (一是) or a sub-heading is glued to it ("一、2019年工作总结1.积极培育…"
# lost its line break).
_TITLE_END = re.compile(
    r"[\n\r。！？!?：:；;]|[ \t\u3000]|(?<=[\u4e00-\u9fff])\d{1,2}[.．、](?=[\u4e00-\u9fff])"
    # a glued enumeration or sub-heading ("三、存在的不足一是…", "一、工作成效(一)…")
    rf"|(?<=[\u4e00-\u9fff])(?=一是|[（(][{_CN}]{{1,3}}[）)])"
)
# A title naming the plan part is complete, even when a short target follows on the next line
# ("三、2025年工作计划\n新增高新技术企业15家以上。").
_PART_TITLE = re.compile(r"(?:计划|計劃|打算|目标|目標|思路|安排|要点|要點|任务|任務)$")
_ENUMERATION = re.compile(rf"[ \t\u3000]*(?:[{_CN}]是|首先|其次|再次|最后)")
_PROSE_PUNCT = re.compile(r"[，,、；;]")
# A clause break and a figure in one "title": prose with a list marker, not a heading.
_PROSE_FIGURE = re.compile(r"[，,].*\d|\d.*[，,]")
_MAX_TITLE = 45
# A wrapped line continues when its sentence ends this soon on the next line.
_CONTINUATION_REACH = 20
_TITLE_LINE_MAX = 30
_ENUM_LINE_MAX = 40


@dataclass(frozen=True)
class Heading:
    """An outline heading: `text[start:end]` is the marker plus the title."""

    start: int
    end: int
    level: int
    marker: str
    title: str


@dataclass(frozen=True)
class _Analysis:
    headings: tuple[Heading, ...]
    cuts: tuple[int, ...]


def _skip_closers(text: str, i: int) -> int:
    while i < len(text) and text[i] in CLOSERS:
        i += 1
    return i


def _heading_at(text: str, pos: int, *, max_level: int = 6) -> tuple[Heading, int] | None:
    """The heading starting at `pos` and the offset after its terminator, if one is there."""
    m = _MARKER.match(text, pos)
    if m is None or m.lastgroup is None:
        return None
    level = _LEVELS[m.lastgroup]
    if level > max_level:
        return None
    sep = _SEPARATOR.match(text, m.end())
    t0 = sep.end() if sep else m.end()
    end_m = _TITLE_END.search(text, t0)
    t1 = end_m.start() if end_m else len(text)
    title = text[t0:t1].rstrip()
    if len(title) > _MAX_TITLE or len(_CJK.findall(title)) < 2 or title.startswith("是"):
        return None
    if _PROSE_FIGURE.search(title):
        return None  # "2、全镇…达到44.5%,比上年提高3.2个百分点": a numbered sentence, not a title
    end = t0 + len(title)
    after = end
    if after < len(text) and text[after] in TERMINALS + CLAUSE_BREAKS + _COLONS:
        after = _skip_closers(text, after + 1)
    return Heading(pos, end, level, m.group().strip(), title), after


def _line_bounds(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _content_start(text: str, s: int, e: int) -> int:
    while s < e and text[s] in " \t\u3000\r":
        s += 1
    return s


def _ends_complete(line: str) -> bool:
    stripped = line.rstrip().rstrip(CLOSERS)
    return bool(stripped) and (
        stripped[-1] in TERMINALS + CLAUSE_BREAKS + _COLONS or stripped.endswith("…")
    )


def _continues(text: str, nxt: tuple[int, int] | None) -> bool:
    """Whether line `nxt` reads as the tail of a sentence wrapped from the line before."""
    if nxt is None:
        return False
    s = _content_start(text, *nxt)
    body = text[s : nxt[1]]
    if not body or _ENUMERATION.match(body) or _heading_at(text, s) is not None:
        return False
    # A wrapped tail is a bare phrase ("安全领域的关键技术。"); a body sentence after a heading
    # usually has clauses of its own ("科技要发展,财力需保障。").
    m = re.search(r"[。！？!?；;，,]", body)
    # (a list item ending at ；after a heading is the list, not a wrapped tail)
    return m is not None and m.group() not in "，,；;" and m.start() < _CONTINUATION_REACH


@lru_cache(maxsize=16)
def _analyse(text: str) -> _Analysis:
    """Headings and sentence cut points of `text` (cached: chunk and rules both ask)."""
    lines = _line_bounds(text)
    headings: list[Heading] = []
    cuts: set[int] = set()
    prev_complete = True
    # A soft wrap happens only on a full line: a line a third of the widest one long cannot
    # be one, whatever the next line reads like ("下一步打算\n明年主要想干这么几件事。" in a PDF).
    wrap_width = max((le - ls for ls, le in lines), default=0)
    for i, (ls, le) in enumerate(lines):
        cs = _content_start(text, ls, le)
        line = text[cs:le]
        if not line.strip():
            prev_complete = True
            cuts.add(ls)
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        found = _heading_at(text, cs, max_level=6 if prev_complete else 3)
        # A title that runs to the end of its line may be a sentence wrapped mid-way.
        if (
            found is not None
            and not text[found[0].end : le].strip()
            and _continues(text, nxt)
            and not _PART_TITLE.search(found[0].title)
        ):
            found = None
        line_heading = found is not None
        if found is not None:
            headings.append(found[0])
            cuts.update((found[0].start, found[1]))
        if prev_complete or line_heading or _ENUMERATION.match(line):
            cuts.add(ls)
        headings.extend(_inline_headings(text, cs, le, cuts, skip=found[0] if found else None))
        stripped = line.rstrip()
        heading_to_end = found is not None and text[found[1] : le].strip() == ""
        prev_complete = (
            _ends_complete(line)
            or heading_to_end
            or (len(stripped) <= _TITLE_LINE_MAX and not _PROSE_PUNCT.search(stripped)
                and (not _continues(text, nxt) or 3 * len(stripped.strip()) <= wrap_width))
            or (_ENUMERATION.match(line) is not None and len(stripped) <= _ENUM_LINE_MAX)
        )
        if prev_complete:
            cuts.add(le)
    for m in re.finditer(rf"[{TERMINALS}]+", text):
        cuts.add(_skip_closers(text, m.end()))
    headings.sort(key=lambda h: h.start)
    return _Analysis(tuple(headings), tuple(sorted(cuts)))


def _inline_headings(
    text: str, cs: int, le: int, cuts: set[int], *, skip: Heading | None
) -> list[Heading]:
    """Headings inside a line: after a sentence end, a colon, or a gap of spaces."""
    out: list[Heading] = []
    for m in _MARKER.finditer(text, cs, le):
        p = m.start()
        if p == cs or (skip is not None and skip.start <= p < skip.end):
            continue
        q = p
        while q > cs and text[q - 1] in " \t\u3000":
            q -= 1
        gap = q < p
        prev = text[q - 1] if q > cs else ""
        if prev in CLOSERS and q - 2 >= cs and text[q - 2] in TERMINALS:
            prev = text[q - 2]
        if prev in TERMINALS or (gap and prev and prev not in "，,、"):
            found = _heading_at(text, p)
        elif prev in _COLONS:
            found = _heading_at(text, p, max_level=3)
        else:
            continue
        if found is not None:
            out.append(found[0])
            cuts.update((found[0].start, found[1]))
    return out


def find_headings(text: str) -> list[Heading]:
    """Outline headings (第一篇, 一、, （一）, 1. / 1、, （1）, ①) in order of position.

    A heading is a marker at a line start, or after a sentence end, a colon or a gap of spaces,
    followed by a short title (at most 45 characters) that ends at a line break, a sentence or
    clause end, a colon or a space. "一是…二是…" enumerations are not headings.
    """
    return list(_analyse(text).headings)


def _spans_between(text: str, cuts: tuple[int, ...]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    bounds = [0, *cuts, len(text)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence [start, end) spans, whitespace trimmed, in order.

    A sentence ends at 。！？!? (closing quotes and brackets stay with it), at a heading's end,
    or at a line break that ends a complete line (see the module docstring).
    """
    return _spans_between(text, _analyse(text).cuts)


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Like `sentence_spans`, but also cut after ；/; (the semicolon stays with its clause)."""
    cuts = set(_analyse(text).cuts)
    for m in re.finditer(rf"[{CLAUSE_BREAKS}]+", text):
        cuts.add(_skip_closers(text, m.end()))
    return _spans_between(text, tuple(sorted(cuts)))
