"""Ingest: every format and encoding users have becomes the same text; bad files say why."""

from __future__ import annotations

import hashlib

import pytest
from fixtures_build import (
    GB18030_ONLY,
    GOV_NOISE,
    LONG_PARAGRAPHS,
    LONG_TITLE,
    PARAGRAPHS,
    REPORT,
    TITLE,
    gov_pages,
    write_binary,
    write_corrupt_docx,
    write_doc,
    write_docx,
    write_html,
    write_image,
    write_pdf,
    write_text,
)
from helpers import seed_files

from reportsum.stages.ingest import SUPPORTED, IngestError, decode_text, iter_inputs, read_file


@pytest.mark.parametrize(
    ("codec", "expected_encoding"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16-le"),  # Python writes a little-endian BOM
        ("utf-16-le", "utf-16-le"),  # no BOM
        ("utf-16-be", "utf-16-be"),  # no BOM
        ("gbk", "gbk"),
    ],
)
def test_decodes_report_in_each_encoding(tmp_path, codec, expected_encoding):
    path = write_text(tmp_path / "report.txt", REPORT, codec)
    raw = read_file(path)
    assert raw.text == REPORT
    assert raw.encoding == expected_encoding
    assert raw.kind == "text"
    assert not raw.text.startswith("\ufeff")


def test_decodes_gb18030_with_characters_outside_gbk(tmp_path):
    text = REPORT.replace("东湖区", f"东{GB18030_ONLY}区")
    raw = read_file(write_text(tmp_path / "r.txt", text, "gb18030"))
    assert raw.text == text
    assert raw.encoding == "gb18030"


@pytest.mark.parametrize("text", ["加强领导", "科技局", "三是经费不足。", "青阳镇人民政府\n"])
def test_short_gbk_file_is_not_mistaken_for_big5_or_korean(tmp_path, text):
    # charset-normalizer alone reads these as big5 / cp949; the strict GBK step must win
    raw = read_file(write_text(tmp_path / "short.txt", text, "gbk"))
    assert raw.text == text
    assert raw.encoding == "gbk"


def test_normalises_crlf_and_cr_line_endings(tmp_path):
    raw = read_file(write_text(tmp_path / "dos.txt", REPORT, "gbk", newline="\r\n"))
    assert raw.text == REPORT
    raw = read_file(write_text(tmp_path / "mac.txt", REPORT, "utf-8", newline="\r"))
    assert raw.text == REPORT


def test_sha256_is_of_the_file_bytes(tmp_path):
    path = write_text(tmp_path / "r.txt", REPORT, "utf-16")
    assert read_file(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_markdown_and_text_extensions_read_as_text(tmp_path):
    for name in ("r.md", "r.text", "R.TXT"):
        assert read_file(write_text(tmp_path / name, REPORT, "utf-8")).text == REPORT


def test_reads_docx_paragraphs_and_table_cells_in_order(tmp_path):
    table = [["指标", "2021年"], ["高新技术企业", "128家"]]
    raw = read_file(write_docx(tmp_path / "r.docx", table=table, table_after=3))
    lines = raw.text.split("\n")
    assert raw.kind == "docx"
    assert lines[:4] == list(PARAGRAPHS[:4])
    assert lines[4:8] == ["指标", "2021年", "高新技术企业", "128家"]
    assert lines[8:] == list(PARAGRAPHS[4:])


def test_reads_chinese_pdf_text_layer(tmp_path):
    raw = read_file(write_pdf(tmp_path / "r.pdf"))
    assert raw.kind == "pdf"
    for paragraph in PARAGRAPHS:
        assert paragraph in raw.text


def test_pdf_without_text_layer_says_to_install_ocr(tmp_path, monkeypatch):
    from reportsum.stages.ingest import ocr

    monkeypatch.setattr(ocr, "available", lambda: False)
    path = write_pdf(tmp_path / "scan.pdf", text_layer=False)
    with pytest.raises(IngestError, match=r"scan\.pdf: no text layer \(scanned PDF\): .*reportsum\[ocr\]"):
        read_file(path)


def test_corrupt_pdf_is_an_ingest_error(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    with pytest.raises(IngestError, match=r"broken\.pdf: "):
        read_file(path)


def test_corrupt_docx_is_an_ingest_error(tmp_path):
    with pytest.raises(IngestError, match=r"bad\.docx: not a readable \.docx file"):
        read_file(write_corrupt_docx(tmp_path / "bad.docx"))


@pytest.mark.parametrize(("charset", "encoding"), [("utf-8", "utf-8"), ("gbk", "gbk"), ("gb2312", "gbk"), (None, "gbk")])
def test_html_main_text_as_lines_without_page_furniture(tmp_path, charset, encoding):
    raw = read_file(write_html(tmp_path / "page.html", charset=charset, encoding=encoding))
    assert raw.kind == "html"
    assert raw.text.split("\n") == list(PARAGRAPHS)
    for furniture in ("欢迎来到", "首页", "热门文章", "版权所有", "var ad", "comment", "margin"):
        assert furniture not in raw.text


def test_html_without_article_keeps_body_blocks(tmp_path):
    page = "<html><body><div>甲镇2020年工作总结</div><p>全年完成<b>投资</b>3亿元。<br>新增企业5家。</p></body></html>"
    path = tmp_path / "plain.htm"
    path.write_text(page, encoding="utf-8")
    assert read_file(path).text == "甲镇2020年工作总结\n全年完成投资3亿元。\n新增企业5家。"


def test_html_article_header_keeps_the_title(tmp_path):
    page = (
        "<html><body><header>某某文库</header><article><header><h1>乙县2019年科技工作总结</h1></header>"
        "<p>全县新增高新技术企业6家。</p><footer>乙县科技局</footer></article><footer>版权所有</footer></body></html>"
    )
    path = tmp_path / "a.html"
    path.write_text(page, encoding="utf-8")
    assert read_file(path).text == "乙县2019年科技工作总结\n全县新增高新技术企业6家。\n乙县科技局"


def test_unsupported_extension_names_the_file_and_type(tmp_path):
    path = tmp_path / "report.xls"
    path.write_bytes(b"whatever")
    with pytest.raises(IngestError, match=r"report\.xls: unsupported file type '\.xls'"):
        read_file(path)


def test_binary_file_with_text_extension_is_rejected(tmp_path):
    with pytest.raises(IngestError, match=r"image\.txt: binary file, not text"):
        read_file(write_binary(tmp_path / "image.txt"))


@pytest.mark.parametrize("content", [b"", b"   \n\r\n\t  ", "\u3000\n".encode()])
def test_empty_or_blank_file_is_rejected(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=r"empty\.txt: empty file"):
        read_file(path)


def test_decode_text_rejects_nul_bytes_that_are_not_utf16():
    with pytest.raises(IngestError, match="binary"):
        decode_text(b"abc\x00\x00\x00\x01\x02defgh\x00", "x.txt")


def test_iter_inputs_walks_folders_sorted_skipping_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "b" / "c.docx").write_bytes(b"x")
    (tmp_path / "b" / ".hidden.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / ".git" / "d.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "b" / "notes.xls").write_bytes(b"x")
    found = iter_inputs([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.txt", "b/c.docx"]


def test_iter_inputs_keeps_files_as_given_and_drops_duplicates(tmp_path):
    xls = tmp_path / "given.xls"
    xls.write_bytes(b"x")
    txt = write_text(tmp_path / "a.txt", REPORT, "utf-8")
    assert iter_inputs([xls, txt, tmp_path]) == [xls, txt]


def test_iter_inputs_missing_path_is_an_error(tmp_path):
    with pytest.raises(IngestError, match=r"nope\.txt: no such file or directory"):
        iter_inputs([tmp_path / "nope.txt"])


def test_supported_extensions_are_all_readable(tmp_path):
    # every advertised extension has a reader: none falls through to "unsupported"
    for suffix in SUPPORTED:
        path = tmp_path / f"r{suffix}"
        if suffix == ".docx":
            write_docx(path)
        elif suffix == ".pdf":
            write_pdf(path)
        elif suffix in (".html", ".htm"):
            write_html(path)
        elif suffix in (".doc", ".wps"):
            write_doc(path)
        elif suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff"):
            write_image(path)
        else:
            write_text(path, REPORT, "utf-8")
        assert TITLE in read_file(path).text


@pytest.mark.seeds
def test_reads_every_seed_as_utf8():
    for path in seed_files():
        raw = read_file(path)
        assert raw.encoding == "utf-8"
        assert "\r" not in raw.text
        assert len(raw.text) > 1000


def test_characters_the_text_check_skips_are_never_controls_unassigned_or_private():
    import unicodedata

    from reportsum.stages.ingest import _SURELY_TEXT

    skipped = [chr(c) for c in range(0x10000) if _SURELY_TEXT.fullmatch(chr(c))]
    assert len(skipped) > 20000  # the ranges are really there (CJK ideographs alone: 20992)
    wrong = [
        hex(ord(ch)) for ch in skipped
        if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\t\n\f\r"
    ]
    assert wrong == []


def test_text_with_many_control_characters_is_not_text(tmp_path):
    from reportsum.stages.ingest import _looks_like_text

    prose = "全年完成投资3.5亿元，同比增长12%。\n" * 20
    assert _looks_like_text(prose)
    assert not _looks_like_text(prose + "\x01\x02\x03\ue000\U0010fffd" * 40)
    assert not _looks_like_text("\x00" * 100)


# ---------------------------------------------------------------- .doc / .wps


def test_doc_reads_the_exact_text_with_table_cells_as_lines(tmp_path):
    table = [["指标", "完成值"], ["高新技术企业", "128家"], ["研发投入", "6.35亿元"]]
    raw = read_file(write_doc(tmp_path / "r.doc", PARAGRAPHS, table=table))
    assert raw.kind == "doc"
    lines = raw.text.split("\n")
    for paragraph in PARAGRAPHS:
        assert paragraph in lines
    for row in table:
        for cell in row:
            assert cell in lines
    # cells come where the table stands: after the fourth paragraph
    assert lines.index("指标") > lines.index(PARAGRAPHS[3])
    assert lines.index("128家") < lines.index(PARAGRAPHS[4])


def test_wps_is_read_as_word_97(tmp_path):
    raw = read_file(write_doc(tmp_path / "r.wps"))
    assert raw.text == "\n".join(PARAGRAPHS)


def test_doc_renamed_docx_and_docx_renamed_doc_are_read_by_content(tmp_path):
    doc = write_doc(tmp_path / "a.doc")
    renamed = tmp_path / "a.docx"
    renamed.write_bytes(doc.read_bytes())
    assert read_file(renamed).text == "\n".join(PARAGRAPHS)
    docx_file = write_docx(tmp_path / "b.docx")
    as_doc = tmp_path / "b.doc"
    as_doc.write_bytes(docx_file.read_bytes())
    assert TITLE in read_file(as_doc).text


def test_word_files_that_are_not_word_say_what_they_are(tmp_path):
    import olefile  # noqa: F401  (a runtime dependency)

    rtf = tmp_path / "r.doc"
    rtf.write_bytes(b"{\\rtf1\\ansi " + "东湖区".encode("gbk") + b"}")
    with pytest.raises(IngestError, match=r"r\.doc: an RTF file"):
        read_file(rtf)
    junk = tmp_path / "j.docx"
    junk.write_bytes(b"this is not a word file at all")
    with pytest.raises(IngestError, match=r"j\.docx: not a Word document"):
        read_file(junk)
    # an OLE file without a WordDocument stream (an Excel .xls saved as .doc)
    from fixtures_build import write_ole_without_word

    xls = write_ole_without_word(tmp_path / "x.doc")
    with pytest.raises(IngestError, match=r"x\.doc: .*not a Word 97 / WPS document"):
        read_file(xls)
    truncated = tmp_path / "t.doc"
    truncated.write_bytes(write_doc(tmp_path / "full.doc").read_bytes()[:700])
    with pytest.raises(IngestError, match=r"t\.doc: "):
        read_file(truncated)


# ---------------------------------------------------------------- saved government pages


@pytest.mark.parametrize("layout", sorted(gov_pages()))
def test_government_page_layouts_give_the_report_and_nothing_else(tmp_path, layout):
    from reportsum.stages.clean import clean
    from reportsum.stages.split import split

    path = tmp_path / f"{layout}.html"
    path.write_text(gov_pages()[layout], encoding="utf-8")
    cleaned = clean(read_file(path).text)
    for paragraph in LONG_PARAGRAPHS:
        assert paragraph in cleaned.text.text.split("\n")
    for noise in GOV_NOISE:
        assert noise not in cleaned.text.text, noise
    (part,) = split(cleaned.text)
    assert part.title == LONG_TITLE
    assert part.period == "2023年"
    assert "truncated" not in (*part.warnings, *cleaned.warnings)


def test_pdf_read_in_reading_order_when_drawn_bottom_up(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "bottom-up.pdf"
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 12)
    for k, line in reversed(list(enumerate(PARAGRAPHS))):
        page.drawString(40, 800 - 18 * k, line)
    page.save()
    assert read_file(path).text.split("\n") == list(PARAGRAPHS)


def test_pdf_pages_are_marked_and_page_footers_removed_by_clean(tmp_path):
    from fixtures_build import write_wrapped_pdf

    from reportsum.stages.clean import clean

    raw = read_file(write_wrapped_pdf(tmp_path / "p.pdf", header="青溪县农业农村局文件"))
    assert raw.text.count("\f\n") >= 1
    text = clean(raw.text).text.text
    assert "第 1 页" not in text and "青溪县农业农村局文件" not in text
    for paragraph in LONG_PARAGRAPHS:
        assert paragraph in text.split("\n")


def test_password_protected_pdf_says_so_and_owner_only_protection_reads(tmp_path):
    import pypdf

    source = write_pdf(tmp_path / "src.pdf")
    locked = pypdf.PdfWriter(clone_from=str(source))
    locked.encrypt("secret")
    locked.write(str(tmp_path / "locked.pdf"))
    with pytest.raises(IngestError, match=r"locked\.pdf: password-protected PDF"):
        read_file(tmp_path / "locked.pdf")
    # restrictions without an open password (printing/copying forbidden) do not stop reading
    restricted = pypdf.PdfWriter(clone_from=str(source))
    restricted.encrypt(user_password="", owner_password="owner")
    restricted.write(str(tmp_path / "restricted.pdf"))
    assert TITLE in read_file(tmp_path / "restricted.pdf").text
