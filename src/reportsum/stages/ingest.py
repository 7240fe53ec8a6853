"""Ingest: files as users have them -> one decoded text per file ("the text as read").

Every later stage indexes `RawDocument.text`, so this module decides once what that text is:
plain text decoded from its bytes (never trusting the extension for the encoding) with line
endings normalised to "\\n"; the paragraphs and table cells of a .docx; the text layer of a
PDF; the main text of an HTML page with block elements as lines.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

SUPPORTED = (".txt", ".text", ".md", ".docx", ".pdf", ".html", ".htm")

_KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
}


@dataclass(frozen=True)
class RawDocument:
    """One input file as read: `text` is what every span in the output indexes."""

    path: Path
    text: str
    encoding: str
    kind: str
    sha256: str


class IngestError(Exception):
    """A file that cannot be read as a report; the message names the file and the reason."""


def iter_inputs(paths: Sequence[Path]) -> list[Path]:
    """Expand the paths a user gave into the files to read.

    Files are kept as given (even with an unsupported extension, so that `read_file` can say
    why it rejects them); folders are walked recursively in sorted order, skipping hidden
    files and folders and keeping only supported extensions. Duplicates are dropped.
    """
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)

    for given in paths:
        path = Path(given)
        if not path.exists():
            raise IngestError(f"{path}: no such file or directory")
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                rel = found.relative_to(path).parts
                if any(part.startswith(".") for part in rel):
                    continue
                if found.is_file() and found.suffix.lower() in SUPPORTED:
                    add(found)
        else:
            add(path)
    return out


def read_file(path: Path) -> RawDocument:
    """Read one file into a `RawDocument`; raises `IngestError` with a clear reason."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        shown = suffix or "(none)"
        raise IngestError(
            f"{name}: unsupported file type '{shown}' (supported: {', '.join(SUPPORTED)})"
        )
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise IngestError(f"{name}: is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if not data.strip():
        raise IngestError(f"{name}: empty file")
    kind = _KINDS[suffix]
    if kind == "text":
        text, encoding = decode_text(data, name)
    elif kind == "docx":
        text, encoding = _read_docx(data, name), "docx"
    elif kind == "pdf":
        text, encoding = _read_pdf(data, name), "pdf"
    else:
        text, encoding = _read_html(data, name)
    if not text.strip():
        raise IngestError(f"{name}: empty file (no text)")
    return RawDocument(
        path=path,
        text=text,
        encoding=encoding,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
    )


# ---------------------------------------------------------------- plain text


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


# Characters that are never controls, unassigned or private (checked in the tests against
# unicodedata): printable ASCII and Latin-1, CJK ideographs, CJK and fullwidth punctuation.
# Only the others need a category lookup, which a per-character loop made the slowest step of
# reading a large file.
_SURELY_TEXT = re.compile(r"[\t\n\f\r\x20-\x7e\xa0-\xff\u3000-\u303f\u4e00-\u9fff\uff01-\uff9f]+")


def _looks_like_text(text: str) -> bool:
    """True when few characters are controls or unassigned: decoded noise fails this."""
    if not text:
        return False
    bad = sum(
        1
        for ch in _SURELY_TEXT.sub("", text)
        if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") or ch == "\ufffd"
    )
    return bad / len(text) < 0.02


def _mostly_cjk(text: str) -> bool:
    """Among non-ASCII letters, CJK ideographs and CJK punctuation dominate (Chinese text)."""
    non_ascii = [ch for ch in text if ord(ch) > 0x7F and not ch.isspace()]
    if not non_ascii:
        return False
    cjk = sum(1 for ch in non_ascii if _is_cjk(ch) or 0x3000 <= ord(ch) <= 0x303F or 0xFF00 <= ord(ch) <= 0xFFEF)
    return cjk / len(non_ascii) > 0.7


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII characters (digits, newlines) leave NULs on one parity."""
    if len(data) % 2:
        return None
    even = data[0::2].count(0)
    odd = data[1::2].count(0)
    if odd > 3 * even and odd > 0:
        codec = "utf-16-le"
    elif even > 3 * odd and even > 0:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return codec if _looks_like_text(text) else None


def decode_text(data: bytes, name: str = "<bytes>") -> tuple[str, str]:
    """Decode the bytes of a text file; returns (text with "\\n" line endings, encoding).

    Order matters on Chinese text: strict UTF-8 first (it almost never decodes anything
    else), then BOMs, then UTF-16 by its NUL pattern, then GB18030 when it decodes strictly
    into mostly CJK (charset-normalizer alone sometimes calls GBK Big5), then
    charset-normalizer for everything else.
    """
    for bom, codec, label in (
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                raise IngestError(f"{name}: starts with a {label} byte-order mark but is not valid {label}") from None
            return _finish(text, label, name)
    if b"\x00" not in data:
        try:
            return _finish(data.decode("utf-8"), "utf-8", name)
        except UnicodeDecodeError:
            pass
    else:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise IngestError(f"{name}: binary file, not text")
        return _finish(data.decode(utf16), utf16, name)
    for codec in ("gbk", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _mostly_cjk(text) and _looks_like_text(text):
            return _finish(text, codec, name)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        text = str(best)
        if _looks_like_text(text):
            return _finish(text, best.encoding, name)
    raise IngestError(f"{name}: binary file, not text (no text encoding decodes it)")


def _finish(text: str, encoding: str, name: str) -> tuple[str, str]:
    text = _normalise_newlines(text)
    if not _looks_like_text(text):
        raise IngestError(f"{name}: binary file, not text")
    if not text.strip():
        raise IngestError(f"{name}: empty file (only whitespace)")
    return text, encoding


# ---------------------------------------------------------------- docx


def _read_docx(data: bytes, name: str) -> str:
    """Paragraphs and table cells in document order, one per line."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(BytesIO(data))
        lines: list[str] = []
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                lines.append(Paragraph(element, document).text)
            elif tag == "tbl":
                for row in Table(element, document).rows:
                    seen: set[int] = set()
                    for cell in row.cells:
                        # merged cells appear once per grid column: keep the first
                        if id(cell._tc) in seen:
                            continue
                        seen.add(id(cell._tc))
                        lines.append(cell.text)
    # python-docx raises many unrelated types (zip, XML, KeyError) on a damaged file
    except Exception as exc:
        raise IngestError(f"{name}: not a readable .docx file ({type(exc).__name__}: {exc})") from None
    return _normalise_newlines("\n".join(lines))


# ---------------------------------------------------------------- pdf


def _read_pdf(data: bytes, name: str) -> str:
    """The text layer of every page, pages separated by a newline."""
    import pypdf

    try:
        reader = pypdf.PdfReader(BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [page.extract_text() or "" for page in reader.pages]
    # pypdf raises its own errors but also bare ValueError/KeyError/TypeError on damaged files
    except Exception as exc:
        raise IngestError(f"{name}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    text = _normalise_newlines("\n".join(p.rstrip("\n") for p in pages))
    if not text.strip():
        raise IngestError(f"{name}: no text layer (scanned PDF?)")
    return text


# ---------------------------------------------------------------- html

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


def _read_html(data: bytes, name: str) -> tuple[str, str]:
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
