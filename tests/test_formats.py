"""One report, every format it reaches users in: the same items, every figure intact.

The report (fixtures_build.LONG_PARAGRAPHS, written for these tests) is written as .txt, as a
.txt hard-wrapped at 37 characters with CRLF line ends, .docx, .doc and .wps (LibreOffice
writes the Word 97 file; WPS Office's .wps is that format), a multi-page PDF wrapped at the
page width with a running header and "第 N 页" footers, LibreOffice's own PDF export, a saved
government web page, and a scanned PDF (LibreOffice's PDF rasterised, read back by OCR).
Each is summarised offline by the rules backend; per section, the items and their figures
must equal the plain .txt's. OCR must keep at least 90% of the figures exactly (the share is
printed: `pytest -s tests/test_formats.py`).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from fixtures_build import (
    LONG_PARAGRAPHS,
    LONG_REPORT,
    LONG_TITLE,
    gov_pages,
    rasterise_pdf,
    soffice,
    wrap_lines,
    write_doc,
    write_docx,
    write_text,
    write_wrapped_pdf,
)

from reportsum.grounding.numbers import scan
from reportsum.models import FileSummary
from reportsum.pipeline import summarise_file

SECTIONS = ("achievements", "measures", "problems", "plans")


def _libreoffice_pdf(path: Path) -> Path:
    binary = soffice()
    with tempfile.TemporaryDirectory() as tmp:
        src = write_docx(Path(tmp) / "report.docx", LONG_PARAGRAPHS)
        subprocess.run(
            [binary, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
             "--convert-to", "pdf", "--outdir", tmp, str(src)],
            check=True, capture_output=True, timeout=120,
        )
        path.write_bytes((Path(tmp) / "report.pdf").read_bytes())
    return path


def _build(kind: str, folder: Path) -> Path:
    if kind == "txt":
        return write_text(folder / "report.txt", LONG_REPORT, "utf-8")
    if kind == "txt-wrapped-crlf":
        wrapped = "\n".join(wrap_lines(LONG_REPORT, 37))
        return write_text(folder / "wrapped.txt", wrapped, "gbk", newline="\r\n")
    if kind == "docx":
        return write_docx(folder / "report.docx", LONG_PARAGRAPHS)
    if kind == "doc":
        return write_doc(folder / "report.doc", LONG_PARAGRAPHS)
    if kind == "wps":
        return write_doc(folder / "report.wps", LONG_PARAGRAPHS)
    if kind == "pdf-paged":
        return write_wrapped_pdf(folder / "paged.pdf", header="青溪县农业农村局文件")
    if kind == "pdf-libreoffice":
        return _libreoffice_pdf(folder / "lo.pdf")
    if kind == "html":
        path = folder / "page.html"
        path.write_text(gov_pages()["wrapper-main-zoom"], encoding="utf-8")
        return path
    if kind == "pdf-scanned":
        return rasterise_pdf(_libreoffice_pdf(folder / "lo.pdf"), folder / "scan.pdf")
    raise AssertionError(kind)


def _figures(summary: FileSummary) -> dict[str, list[tuple[float, str, str]]]:
    """Per section, every figure of every item: (value, unit, kind), in order."""
    (doc,) = summary.documents
    return {
        s: [(n.value, n.unit, n.kind) for item in getattr(doc, s) for n in item.numbers]
        for s in SECTIONS
    }


def _counts(summary: FileSummary) -> dict[str, int]:
    (doc,) = summary.documents
    return {s: len(getattr(doc, s)) for s in SECTIONS}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> FileSummary:
    return summarise_file(_build("txt", tmp_path_factory.mktemp("txt")))


def test_baseline_reads_the_report(baseline):
    (doc,) = baseline.documents
    assert doc.document.title == LONG_TITLE
    assert doc.document.period == "2023年"
    counts = _counts(baseline)
    assert all(counts[s] >= 1 for s in SECTIONS), counts
    # every figure of the report's body is in some item
    source = {(m.value, m.unit, m.kind) for m in scan(LONG_REPORT)}
    found = {f for figs in _figures(baseline).values() for f in figs}
    assert len(found) >= 0.8 * len(source)


@pytest.mark.parametrize(
    "kind",
    ["txt-wrapped-crlf", "docx", "doc", "wps", "pdf-paged", "pdf-libreoffice", "html"],
)
def test_same_items_and_figures_in_every_format(kind, baseline, tmp_path):
    summary = summarise_file(_build(kind, tmp_path))
    (doc,) = summary.documents
    assert doc.document.title == LONG_TITLE
    assert doc.document.period == "2023年"
    assert _counts(summary) == _counts(baseline)
    assert _figures(summary) == _figures(baseline)
    # no page furniture or page number became part of an item
    for s in SECTIONS:
        for item in getattr(doc, s):
            assert "第 1 页" not in item.evidence and "青溪县农业农村局文件" not in item.evidence


@pytest.mark.slow
def test_scanned_pdf_through_ocr_keeps_the_figures(baseline, tmp_path):
    pytest.importorskip("rapidocr", reason="the ocr extra (make installs it) reads scans")
    summary = summarise_file(_build("pdf-scanned", tmp_path))
    (doc,) = summary.documents
    assert "ocr" in doc.document.warnings
    assert doc.document.title == LONG_TITLE
    assert doc.document.period == "2023年"
    expected = [f for s in SECTIONS for f in _figures(baseline)[s]]
    got = [f for s in SECTIONS for f in _figures(summary)[s]]
    remaining = list(got)
    intact = 0
    for figure in expected:
        if figure in remaining:
            remaining.remove(figure)
            intact += 1
    share = intact / len(expected)
    print(f"\nOCR: {intact}/{len(expected)} figures intact ({share:.0%}); items {_counts(summary)} "
          f"vs {_counts(baseline)}")
    assert share >= 0.9


def test_items_quoting_a_low_scored_ocr_line_are_flagged():
    # What the OCR reader hands on (tests of the recogniser itself are above): the text with
    # the spans of the lines it scored low. The items quoting them carry the flag, the others not.
    import hashlib

    from reportsum.pipeline import (
        OCR_LOW_CONFIDENCE,
        Settings,
        make_backend,
        resolve_backend,
        run_sync,
        summarise_raw,
    )
    from reportsum.stages.ingest import RawDocument

    line = next(p for p in LONG_PARAGRAPHS if "35.1%" in p)
    start = LONG_REPORT.index(line)
    raw = RawDocument(
        path=Path("scan.png"), text=LONG_REPORT, encoding="ocr", kind="image",
        sha256=hashlib.sha256(LONG_REPORT.encode()).hexdigest(),
        warnings=("ocr",), low_confidence=((start, start + len(line)),),
    )
    backend = make_backend(resolve_backend(Settings(backend="rules")))
    summary = run_sync(summarise_raw(raw, backend))
    (doc,) = summary.documents
    assert "ocr" in doc.document.warnings
    items = [item for s in SECTIONS for item in getattr(doc, s)]
    flagged = [item for item in items if OCR_LOW_CONFIDENCE in item.warnings]
    assert flagged and all("35.1%" in item.evidence or item.evidence in line for item in flagged)
    assert all(
        OCR_LOW_CONFIDENCE not in item.warnings
        for item in items
        if item.span is not None and (item.span[1] <= start or item.span[0] >= start + len(line))
    )
    # the Markdown and HTML outputs show the flag beside the item
    from reportsum.outputs.render import render

    assert OCR_LOW_CONFIDENCE in render(summary, "md")
    assert OCR_LOW_CONFIDENCE in render(summary, "html", LONG_REPORT)
