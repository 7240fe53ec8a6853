"""PDF: the text layer of every page by pdfium; pages without one go to OCR when installed.

pypdfium2 was chosen by measurement against pypdf and pdfminer.six (bench/pdf_libraries.py,
README "Input formats"): the same CJK text on word-processor and reportlab PDFs, 5-15x
faster than pypdf and 15-50x faster than pdfminer.six. Like pypdf it reads in content-stream
order; the glyph boxes it gives fix the two orders that go wrong (`_in_line_order`).
Pages end with "\\f" ("\\f\\n" between pages) so `reflow` can find page headers, footers and
numbers, and join a sentence that runs over a page break.
"""

from __future__ import annotations

import re

from reportsum.stages.ingest.base import IngestError, Read, normalise_newlines

_CJK = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
# pdfium writes a space wherever two runs of glyphs leave a gap: between a CJK font's run and
# a Latin font's ("在 42.6 万亩") and inside justified CJK lines. Chinese puts no spaces
# there, so one such space between CJK and a digit, letter or CJK goes.
_LAYOUT_SPACE = re.compile(
    rf"(?<=[{_CJK}]) (?=[{_CJK}0-9A-Za-z])|(?<=[0-9A-Za-z%]) (?=[{_CJK}])"
)

# A page with fewer non-space characters than this in its text layer is an image of text.
_MIN_PAGE_CHARS = 8


def _in_line_order(textpage) -> str:  # type: ignore[no-untyped-def]
    """The page's text in reading order: lines top-down, each line's glyphs left to right.

    Lines keep pdfium's (content-stream) order, so a second column stays whole after the
    first, unless most lines sit above the one before (a page drawn bottom-up): then they are
    sorted top-down. A line whose glyphs go backwards is rebuilt from their boxes: word
    processors write some glyphs out of order (LibreOffice writes a fallback font's "∶"
    after the digit that follows it: "2.1∶1" reads "2.1 1∶" in pdfium, pypdf and pdfminer).
    """
    text = textpage.get_text_range()
    n = textpage.count_chars()
    if len(text) != n:  # characters outside the BMP: no index alignment, keep pdfium's text
        return str(text)
    lines: list[tuple[float, str]] = []
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        top = next(
            (textpage.get_charbox(start + k)[3] for k, ch in enumerate(line) if not ch.isspace()),
            None,
        )
        lines.append((top if top is not None else float("nan"), _ordered_line(textpage, line, start)))
        start = end + 1
    # a page drawn bottom-up (most lines above the one before): read it top-down. A second
    # column goes up once and stays in content order.
    tops = [t for t, _ in lines if t == t]
    upward = sum(1 for a, b in zip(tops, tops[1:], strict=False) if b > a + 1)
    if len(tops) >= 3 and upward > (len(tops) - 1) / 2:
        placed = sorted((t for t in lines if t[0] == t[0]), key=lambda t: -t[0])
        lines = placed + [t for t in lines if t[0] != t[0]]
    return "\n".join(line.rstrip("\r") for _, line in lines)


def _ordered_line(textpage, line: str, offset: int) -> str:  # type: ignore[no-untyped-def]
    glyphs = []
    for k, ch in enumerate(line):
        if ch.isspace():
            continue
        left, bottom, right, top = textpage.get_charbox(offset + k)
        glyphs.append((left, right, top - bottom, ch))
    if all(b[0] >= a[0] - 0.5 for a, b in zip(glyphs, glyphs[1:], strict=False)):
        return line
    glyphs.sort(key=lambda g: g[0])
    height = max(g[2] for g in glyphs)
    rebuilt = ""
    prev_right = None
    for left, right, _, ch in glyphs:
        # a word space only between Latin letters: digits and their points never part
        if rebuilt and prev_right is not None and left - prev_right > 0.2 * height and (
            rebuilt[-1].isascii() and rebuilt[-1].isalpha() and ch.isascii() and ch.isalpha()
        ):
            rebuilt += " "
        rebuilt += ch
        prev_right = right
    return rebuilt + ("\r" if line.endswith("\r") else "")


def read_pdf(data: bytes, name: str) -> Read:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise IngestError(f"{name}: password-protected PDF") from None
        raise IngestError(f"{name}: not a readable PDF ({reason})") from None
    try:
        pages: list[str] = []
        scanned: list[int] = []
        for k in range(len(document)):
            page = document[k]
            textpage = page.get_textpage()
            text = _in_line_order(textpage)
            textpage.close()
            page.close()
            # pdfium marks a hyphen it inserted at a line end with \x02 / \ufffe
            text = normalise_newlines(text).replace("\x02", "").replace("\ufffe", "")
            text = _LAYOUT_SPACE.sub("", text)
            pages.append(text.strip("\n"))
            if len("".join(text.split())) < _MIN_PAGE_CHARS:
                scanned.append(k)
        if not scanned:
            return Read("\f\n".join(pages), "pdf")
        from reportsum.stages.ingest import ocr

        if not ocr.available():
            if len(scanned) == len(pages):
                raise IngestError(f"{name}: no text layer (scanned PDF): {ocr.HOW_TO_INSTALL}")
            return Read("\f\n".join(pages), "pdf", warnings=("pages-without-text",))
        images = [document[k].render(scale=ocr.RENDER_SCALE).to_pil() for k in scanned]
        recognised = ocr.recognise_pages(images, name)
        by_page = dict(zip(scanned, recognised, strict=True))
        parts: list[str] = []
        low: list[tuple[int, int]] = []
        pos = 0
        for k, text in enumerate(pages):
            if k in by_page:
                page_text, page_low = by_page[k]
                low.extend((pos + s, pos + e) for s, e in page_low)
                text = page_text
            parts.append(text)
            pos += len(text) + 2
        if not "".join(parts).strip():
            raise IngestError(f"{name}: no text layer, and OCR found no text on its pages")
        return Read("\f\n".join(parts), "pdf+ocr", warnings=("ocr",), low_confidence=tuple(low))
    finally:
        document.close()
