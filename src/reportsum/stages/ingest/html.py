"""Saved web pages: the main text, block elements as lines."""

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
_CONTENT_HINT = re.compile(r"(?:^|[-_ ])(?:article|content|main|post|entry|detail|text|body)(?:$|[-_ ])", re.I)


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
    root = soup.body or soup
    total = len(root.get_text(strip=True))
    main = _main_element(root, total)
    return _block_lines(main), encoding


def _main_element(root, total: int):  # type: ignore[no-untyped-def]
    """The <article>/<main> (or an element named like content) holding most of the text."""
    if total == 0:
        return root
    candidates = list(root.find_all(["article", "main"]))
    candidates += [
        el
        for el in root.find_all(["div", "section", "td"])
        if _CONTENT_HINT.search(" ".join([el.get("id") or "", *(el.get("class") or [])]))
    ]
    best = None
    best_len = 0
    for el in candidates:
        n = len(el.get_text(strip=True))
        if n > best_len:
            best, best_len = el, n
    # a content element that lost most of the page's text would drop report paragraphs
    if best is not None and best_len >= 0.5 * total:
        return best
    return root


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
