"""Word 2007+ (.docx): paragraphs and table cells in document order."""

from __future__ import annotations

from io import BytesIO

from reportsum.stages.ingest.base import IngestError, normalise_newlines


def read_docx(data: bytes, name: str) -> str:
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
    return normalise_newlines("\n".join(lines))
