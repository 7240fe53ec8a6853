"""Saved web pages: the main text, block elements as lines.

The main text is found by this module's own heuristic, kept over trafilatura by measurement
(bench/html_extractors.py, on pages built in five common government-site layouts: both keep
every paragraph; trafilatura flattens table layouts into one line and takes the title from
<title>, "_青溪县人民政府" and all). Government CMSs wrap the whole page in a div whose class
says "main" and put the article in #zoom or .TRS_Editor beside a 相关文章 list, so the main
element is the deepest content-named element holding nearly all of the page's non-link text,
link lists inside it are dropped, and the title is the page's own heading above the article,
never the <title>, a nav trail or a sidebar.
"""

from __future__ import annotations

import codecs
import re

from reportsum.stages.ingest.txt import decode_text

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_DROP_TAGS = ["script", "style", "nav", "aside", "noscript", "template", "iframe", "form", "svg"]
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body dd div dl dt fieldset figcaption figure h1 h2 h3 h4 h5 h6 "
    "hr li main ol p pre section table tbody thead tfoot tr td th ul caption center".split()
)
_CONTENT_HINT = re.compile(
    r"(?:^|[-_ ])(?:article|content|main|post|entry|detail|text|body|zoom|trs_editor|con|artibody|"
    r"zw|wzzw|nr|news_?content|art_?con)(?:$|[-_ ])|^zoom$|trs_editor",
    re.I,
)
# Page furniture by its class or id: nav trails, link columns, share bars, footers.
_FURNITURE_HINT = re.compile(
    r"(?:^|[-_ ])(?:position|crumbs?|breadcrumbs?|location|weizhi|dqwz|share|bdshare|print|"
    r"footer|foot|copyright|related|relate|xgwz|side|sidebar)(?:$|[-_ ])",
    re.I,
)
_TITLE_HINT = re.compile(r"title|biaoti|bt", re.I)
# Of the page's non-link text, the share the chosen main element must keep.
_MAIN_SHARE = 0.8


def _decode_html(data: bytes, name: str) -> tuple[str, str]:
    """The page's declared charset when it decodes, else the same detection as for text."""
    m = _META_CHARSET.search(data[:4096])
    if m and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        declared = m.group(1).decode("ascii").lower()
        # gb2312/gbk pages routinely contain characters only gb18030 covers
        codec = "gb18030" if declared in ("gb2312", "gbk", "gb18030", "x-gbk") else declared
        try:
            return data.decode(codec), declared
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data, name)


def read_html(data: bytes, name: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    markup, encoding = _decode_html(data, name)
    soup = BeautifulSoup(markup, "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(["header", "footer"]):
        # the page's banner and footer go; an article's own header holds its title
        if tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    for tag in soup.find_all(True):
        if getattr(tag, "decomposed", False):
            continue
        names = _names(tag)
        if names.strip() and _FURNITURE_HINT.search(names) and not _CONTENT_HINT.search(names):
            tag.decompose()
    root = soup.body or soup
    main = _main_element(root)
    if main is not root:
        _drop_link_lists(main)
    text = _block_lines(main)
    heading = _own_heading(main) if main is not root else None
    if heading and heading not in text[: len(heading) + 200]:
        text = heading + "\n" + text
    return text, encoding


def _names(el) -> str:  # type: ignore[no-untyped-def]
    """An element's id and classes, space-separated."""
    return " ".join([str(el.get("id") or ""), *(el.get("class") or [])])


def _text_len(el) -> int:  # type: ignore[no-untyped-def]
    return len("".join(el.get_text().split()))


def _link_len(el) -> int:  # type: ignore[no-untyped-def]
    return sum(len("".join(a.get_text().split())) for a in el.find_all("a"))


def _main_element(root):  # type: ignore[no-untyped-def]
    """The deepest content-named element (or <article>/<main>) holding nearly all the page's
    non-link text; the page itself when none does."""
    total = _text_len(root) - _link_len(root)
    if total <= 0:
        return root
    candidates = list(root.find_all(["article", "main"]))
    candidates += [
        el
        for el in root.find_all(["div", "section", "td"])
        if _CONTENT_HINT.search(_names(el))
    ]
    best = None
    best_depth = -1
    best_own = 0
    for el in candidates:
        own = _text_len(el) - _link_len(el)
        if own < _MAIN_SHARE * total:
            continue
        depth = len(list(el.parents))
        if depth > best_depth or (depth == best_depth and own > best_own):
            best, best_depth, best_own = el, depth, own
    if best is not None:
        return best
    return _legacy_main(root, _text_len(root))


def _legacy_main(root, total: int):  # type: ignore[no-untyped-def]
    """The <article>/<main> (or an element named like content) holding most of the text."""
    if total == 0:
        return root
    candidates = list(root.find_all(["article", "main"]))
    candidates += [
        el
        for el in root.find_all(["div", "section", "td"])
        if _CONTENT_HINT.search(_names(el))
    ]
    best = None
    best_len = 0
    for el in candidates:
        n = _text_len(el)
        if n > best_len:
            best, best_len = el, n
    if best is not None and best_len >= 0.5 * total:
        return best
    return root


def _drop_link_lists(main) -> None:  # type: ignore[no-untyped-def]
    """Lists and boxes that are mostly links (相关文章, 上一篇/下一篇) inside the main element."""
    for el in main.find_all(["ul", "ol", "dl", "div", "table"]):
        if getattr(el, "decomposed", False):
            continue
        n = _text_len(el)
        links = el.find_all("a")
        if n and len(links) >= 2 and _link_len(el) >= 0.6 * n:
            el.decompose()


def _own_heading(main) -> str | None:  # type: ignore[no-untyped-def]
    """The page's own heading for the article: a heading (h1-h3, or an element named like a
    title) inside the main element or just above it, not a link and not in a link list."""
    def title_of(el) -> str | None:  # type: ignore[no-untyped-def]
        if el.find_parent("a") is not None or el.find("a") is not None:
            return None
        names = _names(el)
        # bold text standing alone in its cell or paragraph is an old page's heading
        alone = el.name in ("b", "strong") and el.parent is not None and (
            " ".join(el.parent.get_text().split()) == " ".join(el.get_text().split())
        )
        if el.name not in ("h1", "h2", "h3") and not _TITLE_HINT.search(names) and not alone:
            return None
        text = " ".join(el.get_text().split())
        return text if 4 <= len(text) <= 80 else None

    for el in main.find_all(["h1", "h2", "h3", "div", "p", "td", "b", "strong"], limit=40):
        found = title_of(el)
        if found:
            return found
    for k, el in enumerate(main.find_all_previous(["h1", "h2", "h3", "div", "p", "td", "b", "strong"])):
        if k >= 40:
            break
        found = title_of(el)
        if found:
            return found
    return None


def _block_lines(root) -> str:  # type: ignore[no-untyped-def]
    """Text with a line break around every block element and <br>; inline whitespace collapsed."""
    from bs4 import NavigableString
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    skip = (Comment, Declaration, Doctype, ProcessingInstruction)
    pieces: list[str] = []
    # iterative walk: scraped pages nest deeply enough to hit the recursion limit
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if isinstance(node, NavigableString):
                if not isinstance(node, skip):
                    pieces.append(str(node))
            else:
                pieces.append(node)
            continue
        tag_name = getattr(node, "name", None)
        if tag_name == "br":
            pieces.append("\n")
            continue
        block = tag_name in _BLOCK_TAGS
        if block:
            pieces.append("\n")
            stack.append("\n")
        stack.extend(reversed(list(getattr(node, "children", ()))))
    lines = []
    for line in "".join(pieces).split("\n"):
        line = re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)
