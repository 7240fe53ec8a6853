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


# A longer report for the cross-format test (tests/test_formats.py): paragraphs long enough
# to wrap on a page and at 37 columns, figures of every shape a wrap can cut (decimals,
# percentages, amounts with units, counts, years). Written for these tests, not seed text.
LONG_TITLE = "青溪县农业农村局2023年工作总结"

LONG_PARAGRAPHS: tuple[str, ...] = (
    LONG_TITLE,
    "2023年,县农业农村局在县委、县政府的坚强领导下,坚持稳粮保供和农民增收两条主线,"
    "统筹推进乡村发展、乡村建设和乡村治理,各项工作取得了新的进展,现将有关情况总结如下。",
    "一、主要成效",
    "全县粮食播种面积稳定在42.6万亩,总产量达到18.35万吨,同比增长3.2%;"
    "农村居民人均可支配收入达到21864元,同比增长7.9%,增速高于城镇居民1.4个百分点。",
    "新培育县级以上农业产业化龙头企业12家,累计达到87家,带动农户3.5万户;"
    "农产品加工业产值实现46.8亿元,与农业总产值之比提高到2.1∶1。",
    "二、主要做法",
    "一是抓牢耕地保护,建成高标准农田5.2万亩,整治撂荒地1860亩;"
    "二是抓实科技服务,组织农技人员下乡服务320人次,推广水稻机插秧技术11.5万亩。",
    "三是抓好金融支农,协调发放乡村振兴贷款9.6亿元,政策性农业保险覆盖率达到35.1%,"
    "为2.7万户农户提供风险保障4.3亿元。",
    "三、存在的问题",
    "农业基础设施仍然薄弱,部分灌区渠系老化,抗御自然灾害能力不强;"
    "新型经营主体规模偏小,带动能力有限,农村人才外流问题比较突出。",
    "四、2024年工作打算",
    "力争粮食总产量稳定在18万吨以上,新建高标准农田4万亩,"
    "农村居民人均可支配收入增长7%以上,新增省级示范家庭农场15家。",
    "青溪县农业农村局",
    "2023年12月28日",
)

LONG_REPORT = "\n".join(LONG_PARAGRAPHS) + "\n"


def wrap_lines(text: str, width: int) -> list[str]:
    """Hard-wrap every line of `text` at `width` characters, as a mail client or editor does."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line:
            out.append("")
            continue
        out.extend(line[k : k + width] for k in range(0, len(line), width))
    return out


def write_wrapped_pdf(path: Path, paragraphs: tuple[str, ...] = LONG_PARAGRAPHS, *,
                      width: int = 30, per_page: int = 12, header: str | None = None) -> Path:
    """A multi-page PDF whose paragraphs wrap at `width` characters, with a running header
    and a "第 N 页" footer on every page: the layout a word processor's export has."""
    pytest.importorskip("reportlab", reason="reportlab (dev extra) builds the PDF fixtures")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    # wrap by printed width, as a word processor does (digits are narrower than ideographs)
    limit = pdfmetrics.stringWidth("国" * width, "STSong-Light", 12)
    lines: list[str] = []
    for paragraph in paragraphs:
        line = ""
        for ch in paragraph:
            if line and pdfmetrics.stringWidth(line + ch, "STSong-Light", 12) > limit:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    pages = [lines[k : k + per_page] for k in range(0, len(lines), per_page)]
    doc = canvas.Canvas(str(path))
    for number, page_lines in enumerate(pages, 1):
        doc.setFont("STSong-Light", 12)
        if header:
            doc.drawString(60, 800, header)
        y = 760
        for line in page_lines:
            doc.drawString(60, y, line)
            y -= 20
        doc.drawString(280, 40, f"第 {number} 页")
        doc.showPage()
    doc.save()
    return path


def soffice() -> str:
    """LibreOffice's command line (Makefile target `office` installs it), or skip."""
    import shutil

    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice (make office) writes the .doc fixtures")
    return found


_DOC_CACHE: dict[tuple[str, ...], bytes] = {}


def write_doc(path: Path, paragraphs: tuple[str, ...] = PARAGRAPHS, *,
              table: list[list[str]] | None = None) -> Path:
    """A Word 97 .doc written by LibreOffice from a .docx of the paragraphs (WPS Office's .wps
    is this same format: save it under a .wps name for one). Cached per content: LibreOffice
    takes seconds to start."""
    import subprocess
    import tempfile

    key = (*paragraphs, repr(table))
    if key not in _DOC_CACHE:
        binary = soffice()
        with tempfile.TemporaryDirectory() as tmp:
            src = write_docx(Path(tmp) / "source.docx", paragraphs, table=table)
            subprocess.run(
                [binary, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                 "--convert-to", "doc", "--outdir", tmp, str(src)],
                check=True, capture_output=True, timeout=120,
            )
            _DOC_CACHE[key] = (Path(tmp) / "source.doc").read_bytes()
    path.write_bytes(_DOC_CACHE[key])
    return path


def rasterise_pdf(source: Path, path: Path, *, scale: float = 2.0, pages: int | None = None) -> Path:
    """An image-only PDF of `source`'s pages (what a scanner gives): each page rendered by
    pdfium, then saved as a PDF of images with no text layer."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 renders the pages")
    document = pdfium.PdfDocument(str(source))
    count = len(document) if pages is None else min(pages, len(document))
    images = [document[k].render(scale=scale).to_pil().convert("RGB") for k in range(count)]
    document.close()
    images[0].save(str(path), "PDF", resolution=72 * scale, save_all=True, append_images=images[1:])
    return path


def write_image(path: Path, line: str = TITLE) -> Path:
    """One line of text as an image (PNG, JPEG or TIFF by the suffix): a photographed title."""
    import tempfile

    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 renders the text")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = write_pdf(Path(tmp) / "line.pdf", (line,))
        document = pdfium.PdfDocument(str(pdf))
        image = document[0].render(scale=3).to_pil().convert("RGB")
        document.close()
    # the text sits at the page's top left: crop to it so OCR has one small image to read
    image = image.crop((60, 60, 90 + 30 * len(line), 140))
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}
    image.save(str(path), fmt[path.suffix.lower()])
    return path


# ---------------------------------------------------------------- saved government pages
#
# The layouts government sites publish reports in, built around LONG_PARAGRAPHS: every
# page also holds a nav trail, a 相关文章 / 热点 sidebar whose headlines look like report
# titles and sentences (other years, other periods), an attachment line and a copyright
# footer. `GOV_NOISE` lists strings of that furniture: none may reach the report text.

GOV_NOISE: tuple[str, ...] = (
    "当前位置", "相关文章", "青溪县2021年农业农村工作总结", "关于做好2024年春耕生产工作的通知",
    "附件", "Copyright", "ICP备", "发布时间", "字号", "热点新闻", "全县2022年完成造林面积1.2万亩",
)

_SIDEBAR_ITEMS = (
    "青溪县2021年农业农村工作总结",
    "关于做好2024年春耕生产工作的通知",
    "全县2022年完成造林面积1.2万亩,森林覆盖率提高到63.5%。",
    "县政府召开2025年第一季度经济形势分析会",
)


def _paragraphs_html(paragraphs: tuple[str, ...], indent: bool = True) -> str:
    style = ' style="text-indent:2em"' if indent else ""
    return "".join(f"<p{style}>{p}</p>" for p in paragraphs)


def _sidebar(tag: str = "div", cls: str = "main-right") -> str:
    items = "".join(f"<li><a href='/art/{k}.html'>{t}</a></li>" for k, t in enumerate(_SIDEBAR_ITEMS))
    return f"<{tag} class='{cls}'><h3>相关文章</h3><ul>{items}</ul><h3>热点新闻</h3></{tag}>"


_NAV_TRAIL = "<div class='position'>当前位置:<a href='/'>首页</a> &gt; <a href='/zwgk'>政务公开</a> &gt; <a href='/gzzj'>工作总结</a></div>"
_INFO = "<div class='info'>发布时间:2024-01-05 09:30 来源:青溪县农业农村局 字号:[大 中 小] 【打印】</div>"
_ATTACH = "<p>附件:<a href='/att/1.doc'>1.青溪县2023年农业农村主要指标完成情况表.doc</a></p>"
_FOOTER = "<div class='footer'>Copyright 2025 青溪县人民政府 版权所有 主办:青溪县人民政府办公室 ICP备12345678号</div>"
_HEAD = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{t}_青溪县人民政府</title></head><body>"


def gov_pages(paragraphs: tuple[str, ...] = LONG_PARAGRAPHS) -> dict[str, str]:
    """Saved pages in five common government-site layouts, by name."""
    title, body = paragraphs[0], paragraphs[1:]
    head = _HEAD.format(t=title)
    menu = "<div class='nav'><a href='/'>首页</a><a href='/zwgk'>政务公开</a><a href='/bsfw'>办事服务</a></div>"
    return {
        # a wrapper whose class contains "main" holds everything; the article is in #zoom
        "wrapper-main-zoom": head + menu + "<div class='main'>" + _NAV_TRAIL
        + "<div class='main-left'>"
        + f"<h1 class='title'>{title}</h1>" + _INFO
        + f"<div id='zoom'>{_paragraphs_html(body)}</div>" + _ATTACH + "</div>"
        + _sidebar() + "</div>" + _FOOTER + "</body></html>",
        # TRS CMS: the title above the article, the text in .TRS_Editor, a side column
        "trs-editor": head + menu + _NAV_TRAIL
        + "<div class='content'><div class='article'>"
        + f"<div class='article-title'>{title}</div>" + _INFO
        + f"<div class='article-con'><div class='TRS_Editor'>{_paragraphs_html(body)}</div></div>"
        + _ATTACH + "</div>" + _sidebar("div", "side") + "</div>" + _FOOTER + "</body></html>",
        # an old table layout: the article in a cell, the sidebar in the next cell
        "table-layout": head + "<table width='1000'><tr><td colspan='2'>" + menu + _NAV_TRAIL
        + "</td></tr><tr><td class='main-td' width='700'>"
        + f"<table><tr><td align='center'><b>{title}</b></td></tr><tr><td>{_INFO}</td></tr>"
        + f"<tr><td class='zoom'>{'<br>'.join(body)}</td></tr></table>" + _ATTACH
        + "</td><td width='300'>" + _sidebar("div", "list") + "</td></tr></table>" + _FOOTER
        + "</body></html>",
        # HTML5: <main> around an <article> and an <aside>
        "html5-article": head + "<header>" + menu + "</header><main>" + _NAV_TRAIL
        + f"<article><h1>{title}</h1>" + _INFO + _paragraphs_html(body) + _ATTACH + "</article>"
        + _sidebar("aside", "related") + "</main><footer>" + _FOOTER + "</footer></body></html>",
        # the sidebar comes first in the markup (floated left), the article after it
        "sidebar-first": head + menu + _NAV_TRAIL + "<div class='wrap'>" + _sidebar("div", "left-list")
        + f"<div class='detail'><h2>{title}</h2>" + _INFO
        + f"<div class='detail-text'>{_paragraphs_html(body, indent=False)}</div>" + _ATTACH
        + "</div></div>" + _FOOTER + "</body></html>",
    }


def write_ole_without_word(path: Path) -> Path:
    """An OLE compound file holding no WordDocument stream (as an .xls or a Works file is):
    a Word 97 file whose directory entry for that stream is renamed."""
    data = write_doc(path).read_bytes()
    name = "WordDocument".encode("utf-16-le")
    assert data.count(name) == 1
    path.write_bytes(data.replace(name, "XordDocument".encode("utf-16-le")))
    return path
