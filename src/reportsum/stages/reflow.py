"""Reflow: undo the layout of paginated and hard-wrapped text, deleting only.

A PDF's text layer, OCR output and a .txt hard-wrapped at a fixed width break lines where
the page ran out, not where the author ended a paragraph; pages add running headers, footers
and page numbers. Left alone, every such break ends a sentence: `35.1%` becomes the items
`...35` and `1%...`. This step, run first in `clean`, deletes

- page-number lines (`第 1 页`, `第1页 共5页`, `- 1 -`, `1/5`, a bare number at a page edge);
- running headers and footers: the same short line at the top or bottom of several pages;
- soft line breaks (and the form feeds ingest puts between pages): a break after a line
  that fills the text's wrap width and does not end a sentence, unless the next line starts
  a heading; and any break that falls inside a number (`9.` | `6亿元`, `12` | `.4%`,
  `128` | `家`) after a full line.

Only deletions, so `MappedText` keeps every remaining character's offset in the text as read.
A text whose lines do not share a wrap width (one paragraph per line: .docx, web pages, most
.txt) has no soft breaks and is left as it is, apart from page-number lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from reportsum.stages.textmap import MappedText

Spans = list[tuple[int, int]]

# Ends of a sentence: a break after one may end a paragraph, so it stays (a sentence cut
# there loses nothing). Clause ends (；：，) on a full line continue the paragraph.
_SENTENCE_END = "。！？!?…"
_CLOSERS = "”’」』）)》】\"'"

_CN = "一二三四五六七八九十"
# A line that starts a heading or a list item: 一、 （一） 1. 1、 (1) ① 第X条/章/节/部分 一是
_HEADING_START = re.compile(
    rf"^[ \t\u3000]*(?:[{_CN}]{{1,3}}[、．.]"
    rf"|[（(][{_CN}\d]{{1,3}}[）)]"
    r"|\d{1,2}[、．.](?![\d.．])"
    r"|[①-⑳]"
    rf"|第[{_CN}百零〇两\d]{{1,4}}(?:条|章|节|部分|篇)"
    rf"|[{_CN}]是)"
)
_PAGE_NUMBER = re.compile(
    r"^[ \t\u3000]*(?:"
    r"第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页"
    r"|[-—–]\s*\d{1,4}\s*[-—–]"
    r"|(?:page|Page|PAGE)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"
    r"|\d{1,4}\s*/\s*\d{1,4}"
    r")[ \t\u3000]*$"
)
_TABULAR = re.compile(r"\t|[ \u3000]{2,}\S")
_BARE_NUMBER = re.compile(r"^[ \t\u3000]*\d{1,4}[ \t\u3000]*$")
# Characters that may follow a number and belong to it (units, percent, magnitudes).
_UNIT_START = re.compile(
    r"[%％‰亿万千百十元角分个家人名户项次件台套座条所辆吨斤亩公米千克平方立方年月日天小时倍位款批场期届个篇册余多]"
    r"|[.．]\d|km|kg|m²|mm|cm"
)


# Characters per line beyond which lines are paragraphs, not a page's or terminal's wrap.
_MAX_WRAP = 100


def _width(s: str) -> int:
    """Display columns: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


_BREAK = re.compile(r"\f\n|\n|\f")


def _lines(text: str) -> list[tuple[int, int]]:
    """[start, end) of each line, without its terminator ("\\n", or "\\f\\n" ending a page)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _BREAK.finditer(text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    return out


def _delete_lines(text: str, spans: list[tuple[int, int]]) -> Spans:
    """Spans deleting the given lines with the "\\n" that ends each (a page's "\\f" stays)."""
    out: Spans = []
    for s, e in spans:
        if text.startswith("\f\n", e):
            out.append((s, e) if s == 0 or text[s - 1] != "\n" else (s - 1, e))
        elif e < len(text):
            out.append((s, e + 1))
        else:
            out.append((s - 1 if s > 0 and text[s - 1] == "\n" else s, e))
    return out


# ---------------------------------------------------------------- page furniture


def _pages(text: str) -> list[list[tuple[int, int]]]:
    """Non-blank lines of each page (pages end with "\\f")."""
    pages: list[list[tuple[int, int]]] = [[]]
    pos = 0
    for m in _BREAK.finditer(text):
        if text[pos : m.start()].strip():
            pages[-1].append((pos, m.start()))
        if "\f" in m.group():
            pages.append([])
        pos = m.end()
    if text[pos:].strip():
        pages[-1].append((pos, len(text)))
    return [p for p in pages if p]


def page_furniture(text: str) -> Spans:
    """Page-number lines anywhere, bare numbers and repeated lines at page edges."""
    found: list[tuple[int, int]] = []
    for s, e in _lines(text):
        if _PAGE_NUMBER.match(text[s:e]):
            found.append((s, e))
    pages = _pages(text)
    if len(pages) >= 2:
        for lines in pages:
            for s, e in lines[:2] + lines[-2:]:
                if _BARE_NUMBER.match(text[s:e]):
                    found.append((s, e))

        # running headers/footers: short edge lines repeated on at least half the pages
        # (digits normalised: "2021年工作总结 3" and "... 4" are one footer)
        def key(s: int, e: int) -> str:
            return re.sub(r"\d+", "#", text[s:e].strip())

        counts: Counter[str] = Counter()
        for lines in pages:
            edge = lines[:2] + lines[-2:]
            counts.update({key(s, e) for s, e in edge if _width(text[s:e].strip()) <= 60})
        need = max(2, (len(pages) + 1) // 2)
        running = {k for k, n in counts.items() if n >= need}
        for lines in pages:
            for s, e in lines[:2] + lines[-2:]:
                if key(s, e) in running:
                    found.append((s, e))
    return _delete_lines(text, sorted(set(found)))


# ---------------------------------------------------------------- soft breaks


def wrap_width(text: str) -> tuple[int, int, bool] | None:
    """(width, tolerance, wide) the text was wrapped at, or None when it is not wrapped.

    Wrapped text has most of its long lines within a few columns of one width (a paragraph's
    last line is the exception); text with one paragraph per line does not. Width is counted
    in characters (a .txt wrapped at 37 characters) or in display columns, CJK counting two
    (a PDF's proportional lines: digits are half as wide as ideographs); whichever clusters.
    """
    rows = [text[s:e].strip() for s, e in _lines(text)]
    best: tuple[float, int, int, bool] | None = None
    for wide in (False, True):
        widths = sorted(_width(r) if wide else len(r) for r in rows if r)
        floor = 16 if wide else 8
        long = [w for w in widths if w >= floor]
        if len(long) < 6:
            continue
        # the widest line once the top 5% (tables, stray long lines) are set aside
        top = long[min(len(long) - 1, int(len(long) * 0.95))]
        tolerance = max(2 if not wide else 4, top // 10)
        share = sum(1 for w in long if top - tolerance <= w <= top + 2) / len(long)
        # no page or terminal wraps wider than this: longer lines are paragraphs
        if top > (_MAX_WRAP * 2 if wide else _MAX_WRAP):
            continue
        if share >= 0.5 and (best is None or share > best[0]):
            best = (share, top, tolerance, wide)
    return None if best is None else best[1:]


def _junction_is_number(prev: str, nxt: str) -> bool:
    """The break falls inside a number: digit|digit, digit|unit, `9.`|`6`, `12`|`.4`."""
    if not prev or not nxt:
        return False
    a = prev[-1]
    if a.isdigit():
        return nxt[0].isdigit() or bool(_UNIT_START.match(nxt))
    if a in ".．" and len(prev) >= 2 and prev[-2].isdigit():
        return nxt[0].isdigit()
    return False


def soft_breaks(text: str) -> Spans:
    """Spans (the break and the spaces around it) joining lines cut by wrapping."""
    wrapped = wrap_width(text)
    if wrapped is None:
        return []
    width, tolerance, wide = wrapped
    lines = _lines(text)
    spans: Spans = []
    for (s, e), (ns, ne) in zip(lines, lines[1:], strict=False):
        prev = text[s:e].rstrip(" \t\u3000")
        nxt = text[ns:ne].lstrip(" \t\u3000")
        if not prev.strip() or not nxt:
            continue
        full = (_width(prev.strip()) if wide else len(prev.strip())) >= width - tolerance
        # a row of a table laid out with tabs or runs of spaces is not a wrapped line: its
        # cells must not be glued to the next row's ("21" + "2022年")
        if not full or _TABULAR.search(prev.strip()) or _TABULAR.search(nxt):
            continue
        if _junction_is_number(prev, nxt):
            join = True
        else:
            join = (
                prev[-1] not in _SENTENCE_END
                and prev[-1] not in _CLOSERS
                and not _HEADING_START.match(nxt)
                and not _starts_latin_word(prev, nxt)
            )
        if join:
            spans.append((s + len(prev), ne - len(nxt)))
    return spans


def _starts_latin_word(prev: str, nxt: str) -> bool:
    """Latin letters on both sides: deleting the break would glue two words together."""
    return prev[-1].isascii() and prev[-1].isalpha() and nxt[0].isascii() and nxt[0].isalpha()


def reflow(text: MappedText) -> MappedText:
    """Delete page furniture, then soft line breaks; a page's form feed left is deleted."""
    furniture = page_furniture(text.text)
    if furniture:
        text = text.delete(furniture)
    spans = soft_breaks(text.text)
    joined = {s for s, _ in spans}
    # a page break that is not a soft break is a line break: its "\\f" goes, its "\\n" stays
    for m in re.finditer(r"\f", text.text):
        if not any(s <= m.start() < e for s, e in spans if s in joined):
            spans.append((m.start(), m.end()))
    return text.delete(spans) if spans else text
