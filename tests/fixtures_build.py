"""Build input fixtures at test time: txt in several encodings, docx, pdf, html, broken files.

The report text is written for these tests, in the genre of the seeds (a district science
bureau's year summary with figures, measures, problems and plans); no seed text is copied.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TITLE = "东湖区科技局2021年工作总结"

PARAGRAPHS: tuple[str, ...] = (
    TITLE,
    "2021年,区科技局紧紧围绕创新驱动发展战略,扎实推进各项工作,全年目标任务顺利完成。",
    "一、主要成效",
    "全区高新技术企业达到128家,比上年净增21家;全社会研发投入6.35亿元,同比增长12.4%。",
    "二、主要措施",
    "一是出台科技创新券管理办法,全年兑现创新券1860万元;二是组织产学研对接活动8场。",
    "三、存在问题",
    "企业研发投入不均衡,科技人才总量偏少,成果转化渠道不够畅通。",
    "四、2022年工作打算",
    "力争新增高新技术企业20家以上,研发投入占GDP比重达到2.6%。",
    "东湖区科技局",
    "2021年12月30日",
)

REPORT = "\n".join(PARAGRAPHS) + "\n"

# A character outside GBK: a file holding it can only be GB18030.
GB18030_ONLY = "𠀀"


def write_text(path: Path, text: str, encoding: str, *, newline: str = "\n") -> Path:
    """Write `text` encoded as `encoding` (Python codec names; "utf-8-sig" adds a BOM)."""
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def write_docx(path: Path, paragraphs: tuple[str, ...] = PARAGRAPHS, *,
               table: list[list[str]] | None = None, table_after: int = 3) -> Path:
    """A .docx with the paragraphs; `table` rows are inserted after paragraph `table_after`."""
    import docx

    document = docx.Document()
    for k, text in enumerate(paragraphs):
        document.add_paragraph(text)
        if table is not None and k == table_after:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    grid.cell(r, c).text = value
    document.save(str(path))
    return path


def write_pdf(path: Path, lines: tuple[str, ...] = PARAGRAPHS, *, text_layer: bool = True) -> Path:
    """A PDF with the lines in a built-in CJK font (no font file needed); or an image-only page."""
    pytest.importorskip("reportlab", reason="reportlab (dev extra) builds the PDF fixtures")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    if text_layer:
        page.setFont("STSong-Light", 10)
        y = 800
        for line in lines:
            page.drawString(40, y, line)
            y -= 16
    else:
        # what a scanner produces: marks on the page, no text objects
        page.rect(40, 400, 300, 200, fill=1)
    page.save()
    return path


def html_page(charset: str | None = "utf-8") -> str:
    """A scraped-looking page: banner, nav, the report in an article div, sidebar, footer."""
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "".join(
        f"<h1>{p}</h1>" if k == 0 else f"<p>\n    {p}\n  </p>" for k, p in enumerate(PARAGRAPHS)
    )
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{TITLE}_范文网</title>"
        "<style>p { margin: 0 }</style><script>var ad = '广告';</script></head><body>"
        "<header>欢迎来到范文网!</header><nav><a href='/'>首页</a> | <a href='/zj'>工作总结</a></nav>"
        f"<div class='article-content'>{body}</div>"
        "<aside><h3>热门文章</h3><ul><li>2020年工作总结</li><li>个人述职报告</li></ul></aside>"
        "<footer>版权所有 范文网 客服电话:400-123-4567</footer>"
        "<!-- a comment that is not text -->"
        "</body></html>"
    )


def write_html(path: Path, *, charset: str | None = "utf-8", encoding: str = "utf-8") -> Path:
    path.write_bytes(html_page(charset).encode(encoding))
    return path


def write_corrupt_docx(path: Path) -> Path:
    """A file named .docx that is a truncated zip: what a failed download leaves."""
    good = write_docx(path.with_name("good_" + path.name))
    path.write_bytes(good.read_bytes()[:300])
    return path


def write_binary(path: Path) -> Path:
    """Bytes of an image-like file saved with a text extension."""
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return path
