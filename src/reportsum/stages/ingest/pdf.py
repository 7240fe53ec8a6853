"""PDF: the text layer of every page by pdfium; pages without one go to OCR when installed.

pypdfium2 was chosen by measurement against pypdf and pdfminer.six (README, "Input
formats"): the same CJK text on word-processor and reportlab PDFs, about 5x faster than
pypdf and 10x faster than pdfminer.six; like pypdf it reads in content-stream order.
Pages end with "\\f" ("\\f\\n" between pages) so `reflow` can find page headers, footers and
numbers, and join a sentence that runs over a page break.
"""

from __future__ import annotations

from reportsum.stages.ingest.base import IngestError, Read, normalise_newlines

# A page with fewer non-space characters than this in its text layer is an image of text.
_MIN_PAGE_CHARS = 8


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
            text = textpage.get_text_range()
            textpage.close()
            page.close()
            # pdfium marks a hyphen it inserted at a line end with \x02 / \ufffe
            text = normalise_newlines(text).replace("\x02", "").replace("\ufffe", "")
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
