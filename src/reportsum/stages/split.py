"""Split: one cleaned file -> the reports it holds, each with its title, issuer and period.

Collections put several reports in one file behind "第一篇:…", "第二篇:…" marker lines (the
marker is not part of the report). Without markers, a report that ends with its signature
("青阳镇人民政府 2011年12月") followed by another title and body is also cut there. A file with
one report gives one part. Parts are in order of appearance and indexed 0..n-1: gold
annotations refer to documents by these indexes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from reportsum.stages.clean import TRUNCATED, ends_mid_sentence
from reportsum.stages.textmap import MappedText


@dataclass(frozen=True)
class DocPart:
    """One report of a file: its text (mapped to the text as read) and what heads it."""

    text: MappedText
    index: int
    title: str | None
    issuer: str | None
    period: str | None
    warnings: tuple[str, ...]


_MARKER = re.compile(
    r"^[ \t\u3000]*第[一二三四五六七八九十百零〇两\d]{1,4}篇[ \t\u3000]*[:：][ \t\u3000]*(?P<title>[^\n]*)$",
    re.M,
)

# Words a report's title ends with (simplified and traditional).
_GENRE = re.compile(
    r"总结|總結|汇报|匯報|报告|報告|规划|規劃|计划|計劃|打算|材料|要点|要點|述职|述職|情况|情況|思路|小结|小結"
)
# Heading and list enumerators: "一、", "(一)", "1、", "1.", "一是".
_ENUMERATOR = re.compile(
    r"^[ \t\u3000]*(?:[一二三四五六七八九十]+[、.．是]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．)）])"
)
_SENTENCE_PUNCT = re.compile(r"[。,，;；!?！？]")

_ORG_SUFFIX = (
    r"人民政府|政府|委员会|委員會|办公室|辦公室|办事处|辦事處|局|委|厅|廳|中心|研究院|院|所|公司|街道|镇|鎮|乡|鄉|区|區|县|縣|市"
)
_DATE = r"(?:\d{4}|[〇零一二三四五六七八九]{4})\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?"
_SIGNATURE = re.compile(
    rf"^[ \t\u3000]*(?P<org>[^\s\d,，。;；:：、]{{1,30}}?(?:{_ORG_SUFFIX}))[ \t\u3000]*(?:{_DATE})?[ \t\u3000]*$"
)
_DATE_LINE = re.compile(rf"^[ \t\u3000]*{_DATE}[ \t\u3000]*$")
_TITLE_ORG = re.compile(
    rf"^(?P<org>[^\s\d年,，。;；:：、]{{1,16}}(?:{_ORG_SUFFIX}))"
    rf"(?=\d|[〇零一二三四五六七八九]{{4}}年|上半年|下半年|年度|第?[一二三四1-4]季度|科技|科学|工作|关于|關於)"
)
_YEAR = re.compile(r"(?<![\d０-９])(?:19|20)\d{2}(?:\s*[-—–~～至到]\s*(?:19|20)\d{2})?年|[〇零一二三四五六七八九]{4}年")
_HALF = re.compile(r"上半年|下半年|前三季度|第?[一二三四]季度|\d{1,2}\s*[-—–~～至到]\s*\d{1,2}\s*月(?:份)?|年度")
# A site's navigation trail or header, never a report's title.
_NAVIGATION = re.compile(r"[>›»]|^(?:当前)?(?:位置|您的位置|您现在的位置)\s*[:：]|^首页|\|")
# A share site's suffix on a title: "…工作总结范文", "…工作总结(精选5篇)", "…_百度文库".
_SITE_SUFFIX = re.compile(
    r"(?:[（(]?(?:精选|最新|通用|优秀)?\d*篇?[)）]?)?(?:范文|范本|模板|精选)(?:[（(]?\d+篇[)）]?)?$|"
    r"\s*[_\-—|｜].{0,12}(?:文库|网|网站|资料|文档)$"
)
# A byline under the title names the issuer: "澄川县人民政府县长 周明远",
# "（清河县科学技术局党组成员、副局长  王xx）", "来源:青石县科学技术局".
_BYLINE = re.compile(
    rf"^[ \t\u3000]*(?:来源[:：][ \t\u3000]*|[（(])?(?P<org>[^\s\d,，。;；:：、()（）]{{2,30}}?(?:{_ORG_SUFFIX}))"
    r"(?=党组|党委|书记|县长|市长|区长|镇长|乡长|局长|副局长|主任|[ \t\u3000]|$)"
)


def split(text: MappedText) -> list[DocPart]:
    """The reports in a cleaned file, in order; never an empty part."""
    regions = _regions(text.text)
    parts: list[DocPart] = []
    for start, end, marker_title in regions:
        start, end = _strip(text.text, start, end)
        if end <= start:
            continue
        body = text.slice(start, end)
        title = _title(body.text) or marker_title
        warnings = (TRUNCATED,) if ends_mid_sentence(body.text) else ()
        parts.append(
            DocPart(
                text=body,
                index=len(parts),
                title=title,
                issuer=_issuer(body.text, title),
                period=_period(body.text, title),
                warnings=warnings,
            )
        )
    return parts


# ---------------------------------------------------------------- where reports start


def _regions(text: str) -> list[tuple[int, int, str | None]]:
    """[start, end) of each report with the title its marker line gave (if any)."""
    markers = list(_MARKER.finditer(text))
    if markers:
        regions: list[tuple[int, int, str | None]] = []
        head_end = markers[0].start()
        # leftover page headers before the first marker are not a report of their own
        if _has_body(text[:head_end]):
            regions.append((0, head_end, None))
        for k, m in enumerate(markers):
            end = markers[k + 1].start() if k + 1 < len(markers) else len(text)
            regions.append((m.end(), end, m.group("title").strip() or None))
        return regions
    cuts = _signature_cuts(text)
    bounds = [0, *cuts, len(text)]
    return [(a, b, None) for a, b in zip(bounds, bounds[1:], strict=False)]


def _has_body(text: str) -> bool:
    """Holds prose: lines with full stops adding up to a paragraph, not just headers."""
    return sum(len(line) for line in text.split("\n") if "。" in line) >= 40


def _signature_cuts(text: str) -> list[int]:
    """Offsets just after a signature block that is followed by a new titled report."""
    lines = _lines(text)
    cuts: list[int] = []
    for k, (_, end, line) in enumerate(lines):
        if not is_signature(line) and not _DATE_LINE.match(line):
            continue
        if not (is_signature(line) or (k > 0 and is_signature(lines[k - 1][2]))):
            continue
        rest = [ln for ln in lines[k + 1 :] if ln[2].strip()]
        if not rest or _DATE_LINE.match(rest[0][2]):
            continue
        if _is_title(rest[0][2]) and _has_body(text[end:]):
            cuts.append(end)
    return cuts


def _lines(text: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# ---------------------------------------------------------------- title, issuer, period


def _is_title(line: str) -> bool:
    line = line.strip()
    return (
        4 <= len(line) <= 40
        and bool(_GENRE.search(line))
        and not _SENTENCE_PUNCT.search(line)
        and not _ENUMERATOR.match(line)
    )


def is_signature(line: str) -> bool:
    """Whether a line is a signature: an organisation name standing alone, maybe with a date
    ("青阳镇人民政府 2011年12月"). The rules backend skips these too."""
    line = line.strip()
    return len(line) <= 40 and not _ENUMERATOR.match(line) and bool(_SIGNATURE.match(line))


def _title(text: str) -> str | None:
    """The first title-like line before the first paragraph of prose; never a navigation
    trail (位置:首页 > … > 工作总结), and without a share site's suffix (…范文)."""
    for line in text.split("\n"):
        if _NAVIGATION.search(line.strip()):
            continue
        if len(line) >= 60 and _SENTENCE_PUNCT.search(line):
            # a title glued to the first paragraph ("…工作总结 一、营造氛围…"): take its head
            head = re.split(r"[ \t\u3000]+", line.strip(), maxsplit=1)[0]
            return _clean_title(head) if _is_title(head) else None
        if _is_title(line):
            return _clean_title(line)
    return None


def _clean_title(line: str) -> str:
    title = _SITE_SUFFIX.sub("", line.strip()).strip()
    return title if _GENRE.search(title) else line.strip()


def _issuer(text: str, title: str | None) -> str | None:
    """The organisation signing the report, else the one heading its title."""
    tail = [line for line in text.split("\n") if line.strip()][-3:]
    for line in reversed(tail):
        if is_signature(line):
            m = _SIGNATURE.match(line.strip())
            if m is not None:
                return m.group("org")
    if title:
        m = _TITLE_ORG.match(re.sub(r"^(?:关于|關於)", "", title))
        if m is not None and not re.search(r"工作|总结|總結", m.group("org")):
            return m.group("org")
        # the byline just under the title
        lines = [line for line in text.split("\n") if line.strip()]
        at = next((k for k, line in enumerate(lines[:8]) if line.strip() == title), None)
        for line in lines[at + 1 : at + 4] if at is not None else ():
            b = _BYLINE.match(line)
            if b is not None and not re.search(r"工作|总结|總結|会议|大会", b.group("org")):
                return b.group("org")
    return None


def _period(text: str, title: str | None) -> str | None:
    """The year or period the report covers: from the title, else the body's most cited year."""
    if title:
        year = _YEAR.search(title)
        half = _HALF.search(title)
        if year and half and half.group() != "年度" and half.start() == year.end():
            return year.group() + half.group()
        if year:
            return year.group()
        if half and half.group() != "年度":
            return half.group()
    # a redacted year ("20xx年") is unknown; the signature's date counts like any other mention
    years = [re.sub(r"\s+", "", m.group()) for m in _YEAR.finditer(text) if not re.search(r"[-—–~～至到]", m.group())]
    if not years:
        return None
    counts = Counter(years)
    best = max(counts.values())
    return next(y for y in years if counts[y] == best)
