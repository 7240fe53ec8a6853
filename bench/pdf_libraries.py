"""PDF text extraction: pypdf, pypdfium2 and pdfminer.six on the PDFs reports arrive as.

Three PDFs built from the report written for the tests (tests/fixtures_build.py):
LibreOffice's export of the .docx (needs `make office`), a reportlab PDF wrapped at the page
width over two pages with a running header and "第 N 页" footers, and a page whose lines are
drawn bottom-up (content-stream order is not reading order). For each library: time per
document (best of 5), paragraphs found whole (whitespace ignored), paragraphs in reading
order, spaces put between two CJK characters, replacement characters.
Run: .venv/bin/python bench/pdf_libraries.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures_build import LONG_PARAGRAPHS, write_docx, write_wrapped_pdf  # noqa: E402


def with_pypdf(data: bytes) -> str:
    import pypdf

    return "\f\n".join(p.extract_text() or "" for p in pypdf.PdfReader(BytesIO(data)).pages)


def with_pypdfium2(data: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    out = []
    for page in doc:
        textpage = page.get_textpage()
        out.append(textpage.get_text_range())
        textpage.close()
        page.close()
    doc.close()
    return "\f\n".join(out)


def with_pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return str(extract_text(BytesIO(data)))


def with_reportsum(data: bytes) -> str:
    from reportsum.stages.ingest.pdf import read_pdf

    return read_pdf(data, "x.pdf").text


def build(folder: Path) -> dict[str, bytes]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfs: dict[str, bytes] = {}
    docx = write_docx(folder / "report.docx", LONG_PARAGRAPHS)
    try:
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(docx)],
                       check=True, capture_output=True, timeout=120)
        pdfs["libreoffice"] = (folder / "report.pdf").read_bytes()
    except (OSError, subprocess.SubprocessError):
        print("(LibreOffice missing: `make office`; its PDF is left out)")
    pdfs["reportlab-paged"] = write_wrapped_pdf(folder / "paged.pdf", header="青溪县农业农村局文件").read_bytes()
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(folder / "reversed.pdf"))
    page.setFont("STSong-Light", 12)
    for k, line in reversed(list(enumerate(LONG_PARAGRAPHS[:6]))):
        page.drawString(60, 760 - 20 * k, line[:40])
    page.save()
    pdfs["drawn-bottom-up"] = (folder / "reversed.pdf").read_bytes()
    return pdfs


def main() -> None:
    libraries = {"pypdf": with_pypdf, "pypdfium2": with_pypdfium2, "pdfminer.six": with_pdfminer,
                 "reportsum (pdfium+)": with_reportsum}
    with tempfile.TemporaryDirectory() as tmp:
        pdfs = build(Path(tmp))
    print(f"{'pdf':16} {'library':20} {'ms':>7} {'whole':>6} {'order':>6} {'cjk_sp':>6} {'repl':>4}")
    for name, data in pdfs.items():
        paragraphs = [p[:40] for p in LONG_PARAGRAPHS[:6]] if name == "drawn-bottom-up" else list(LONG_PARAGRAPHS)
        for lib, fn in libraries.items():
            fn(data)
            best = min(_timed(fn, data) for _ in range(5))
            text = fn(data)
            flat = re.sub(r"\s", "", text)
            whole = sum(1 for p in paragraphs if re.sub(r"\s", "", p) in flat)
            pos, order = -1, 0
            for p in paragraphs:
                i = flat.find(re.sub(r"\s", "", p)[:10], pos + 1)
                if i >= 0:
                    order += 1
                    pos = i
            cjk_spaces = len(re.findall(r"[\u4e00-\u9fff] +[\u4e00-\u9fff0-9]|[0-9] +[\u4e00-\u9fff]", text))
            print(f"{name:16} {lib:20} {best:7.1f} {whole:>3}/{len(paragraphs):<2} {order:>3}/{len(paragraphs):<2}"
                  f" {cjk_spaces:>6} {text.count(chr(0xFFFD)):>4}")


def _timed(fn, data: bytes) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn(data)
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    main()
