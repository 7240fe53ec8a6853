"""Self-contained HTML pages: one per input file (the four sections beside the source text,
evidence highlighted, numbers marked, rejected items and warnings shown apart) and an index
page linking the pages written into an output folder.

Every piece of source or model text goes through Jinja2 autoescaping: a report containing
`<script>` shows it as text. The pages need no network (inline CSS and a few lines of JS).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, select_autoescape

from reportsum.models import SECTION_LABELS, SECTIONS, FileSummary, SummaryItem

INDEX_NAME = "index.html"


@dataclass(frozen=True)
class Segment:
    """A piece of the source text with the items whose evidence covers it."""

    text: str
    item_ids: tuple[str, ...] = ()
    number: bool = False


@dataclass(frozen=True)
class IndexEntry:
    """One page of an output folder, as the index lists it."""

    href: PurePath
    source: str
    title: str
    documents: int
    items: int
    rejected: int
    warnings: int


def segments(source: str, marks: list[tuple[int, int, str]], numbers: list[tuple[int, int]]) -> list[Segment]:
    """Cut `source` at every mark and number boundary; each piece knows which items cover it."""
    cuts = {0, len(source)}
    for a, b, _ in marks:
        cuts.update((max(0, a), min(len(source), b)))
    for a, b in numbers:
        cuts.update((max(0, a), min(len(source), b)))
    points = sorted(cuts)
    out: list[Segment] = []
    for a, b in zip(points, points[1:], strict=False):
        if b <= a:
            continue
        ids = tuple(i for s, e, i in marks if s <= a and b <= e)
        num = any(s <= a and b <= e for s, e in numbers)
        out.append(Segment(source[a:b], ids, num))
    return out


_FONTS = ('system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",'
          "sans-serif")

_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
html,body{height:100%;margin:0}
body{font-family:{{ fonts|safe }};color:#222;display:flex;flex-direction:column}
header{padding:.6em 1em;background:#123;color:#fff;flex:none}
header .src{opacity:.75;font-size:.9em}
main{flex:1;min-height:0;display:grid;grid-template-columns:minmax(320px,1fr) 1fr;gap:1em;padding:0 1em}
#summary,#source{overflow:auto;padding:1em 0}
#source{white-space:pre-wrap;line-height:1.7;border-left:1px solid #ccc;padding-left:1em}
h1{font-size:1.3em;margin:.2em 0}
h2{font-size:1.05em;border-bottom:1px solid #ddd;margin:1em 0 .3em}
ul{padding-left:0;margin:.2em 0}
.meta{color:#555;margin:.2em 0}
.item{cursor:pointer;padding:.25em .4em;border-radius:4px;margin:.15em 0;list-style:none}
.item:hover,.item:focus{background:#eef;outline:none}
.item.selected{background:#dde6ff}
.item.no-ev{cursor:default;color:#666}
.item .iw,.warn{color:#a60}
.none{color:#888;font-style:italic;list-style:none}
.ev{background:#fff3b0}
.ev.active{background:#ffb347;box-shadow:0 2px 0 #e67e00}
.num{font-weight:bold;color:#a30}
.minor{margin-top:1em;color:#444}
.minor summary{cursor:pointer;font-weight:bold}
.rejected{border:1px solid #e3b0b0;background:#fff6f6;border-radius:4px;padding:.2em .8em;margin-top:1em}
.rejected h2{color:#900;border-color:#e3b0b0}
.rejected li{list-style:none;margin:.3em 0}
.rejected .why{color:#900;font-size:.9em}
.rejected .quote{color:#666;font-size:.9em}
.doc{margin-bottom:2em}
.error{color:#900}
</style></head>
<body>
{% macro item(it) %}<li class="item{% if not it.located %} no-ev{% endif %}" data-target="{{ it.id }}" tabindex="0"{% if it.evidence %} title="{{ it.evidence }}"{% endif %}>{% if it.section %}[{{ it.section }}] {% endif %}{{ it.text }}{% for w in it.warnings %} <span class="iw">⚠ {{ w }}</span>{% endfor %}</li>{% endmacro %}
<header><strong>{{ title }}</strong> <span class="src">· {{ source }}</span></header>
<main>
<section id="summary">
{% for doc in docs %}
<div class="doc" id="doc-{{ doc.index }}">
<h1>{{ doc.title }}</h1>
<p class="meta">{% if doc.issuer %}{{ doc.issuer }} · {% endif %}{% if doc.period %}{{ doc.period }} · {% endif %}{{ doc.backend }}</p>
{% for w in doc.warnings %}<p class="warn">⚠ {{ w }}</p>{% endfor %}
{% for sec in doc.sections %}
<h2>{{ sec.label }} ({{ sec.entries|length }})</h2>
<ul>{% for it in sec.entries %}{{ item(it) }}
{% else %}<li class="none">未找到 none found</li>{% endfor %}</ul>
{% endfor %}
{% if doc.minor %}<details class="minor"><summary>其他 Minor ({{ doc.minor|length }}) · 长报告中按重要性排在后面的要点（--all-items 将其留在各自类别中）</summary>
<ul>{% for it in doc.minor %}{{ item(it) }}
{% endfor %}</ul></details>{% endif %}
{% if doc.rejected %}<div class="rejected"><h2>未通过核验 Rejected ({{ doc.rejected|length }})</h2>
<ul>{% for r in doc.rejected %}<li>[{{ r.section }}] {{ r.text }}{% if r.evidence %}<div class="quote">“{{ r.evidence }}”</div>{% endif %}{% for reason in r.reasons %}<div class="why">✗ {{ reason }}</div>{% endfor %}</li>
{% endfor %}</ul></div>{% endif %}
</div>
{% endfor %}
{% for e in errors %}<p class="error">{{ e }}</p>{% endfor %}
</section>
<section id="source">{% for seg in segs %}{% if seg.item_ids or seg.number %}<span class="{% if seg.item_ids %}ev {{ seg.item_ids|join(' ') }}{% endif %}{% if seg.number %} num{% endif %}">{{ seg.text }}</span>{% else %}{{ seg.text }}{% endif %}{% endfor %}</section>
</main>
<script>
document.querySelectorAll('.item').forEach(function (el) {
  function go() {
    document.querySelectorAll('.ev.active').forEach(function (e) { e.classList.remove('active'); });
    document.querySelectorAll('.item.selected').forEach(function (e) { e.classList.remove('selected'); });
    el.classList.add('selected');
    var hits = document.getElementsByClassName(el.dataset.target);
    for (var i = 0; i < hits.length; i++) hits[i].classList.add('active');
    if (hits.length) hits[0].scrollIntoView({block: 'center'});
  }
  el.addEventListener('click', go);
  el.addEventListener('keydown', function (e) { if (e.key === 'Enter') go(); });
});
</script>
</body></html>
"""

_INDEX = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reportsum · {{ entries|length }} reports</title>
<style>
body{font-family:{{ fonts|safe }};color:#222;margin:2em}
table{border-collapse:collapse}
th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right}
.src{color:#666;font-size:.9em}
</style></head>
<body>
<h1>reportsum · {{ entries|length }} 份报告 reports</h1>
<table>
<tr><th>报告 report</th><th>文档 docs</th><th>条目 items</th><th>未通过 rejected</th><th>警告 warnings</th></tr>
{% for e in entries %}<tr><td><a href="{{ e.url }}">{{ e.title }}</a><div class="src">{{ e.source }}</div></td><td class="n">{{ e.documents }}</td><td class="n">{{ e["items"] }}</td><td class="n">{{ e.rejected }}</td><td class="n">{{ e.warnings }}</td></tr>
{% endfor %}</table>
</body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_page = _env.from_string(_PAGE)
_index = _env.from_string(_INDEX)


def render_html(summary: FileSummary, source_text: str) -> str:
    """The page for one input file; `source_text` is the text as read (spans index it)."""
    marks: list[tuple[int, int, str]] = []
    numbers: list[tuple[int, int]] = []
    docs = []
    for doc in summary.documents:
        d = doc.document
        sections = []

        def entry(item: SummaryItem, item_id: str, section: str | None = None) -> dict[str, Any]:
            """An item of the page; its evidence span and numbers are marked in the source."""
            if item.span is not None:
                marks.append((item.span[0], item.span[1], item_id))
            numbers.extend(n.span for n in item.numbers)
            return {"id": item_id, "text": item.text, "evidence": item.evidence, "section": section,
                    "located": item.span is not None, "warnings": item.warnings}

        for name in SECTIONS:
            items = [entry(item, f"ev-{d.index}-{name}-{k}") for k, item in enumerate(doc.section(name))]
            sections.append({"label": SECTION_LABELS[name], "entries": items})
        minor = [entry(item, f"ev-{d.index}-minor-{k}", SECTION_LABELS.get(item.section, item.section))
                 for k, item in enumerate(doc.minor)]
        docs.append({
            "index": d.index,
            "title": d.title or f"{d.source} #{d.index}",
            "issuer": d.issuer,
            "period": d.period,
            "backend": doc.run.backend + (f" / {doc.run.model}" if doc.run.model else ""),
            "warnings": d.warnings,
            "sections": sections,
            "minor": minor,
            "rejected": [
                {"section": SECTION_LABELS.get(r.section, r.section), "text": r.text,
                 "evidence": r.evidence, "reasons": r.reasons}
                for r in doc.rejected
            ],
        })
    title = next((d["title"] for d in docs), summary.source)
    return _page.render(
        title=title, source=summary.source, docs=docs, errors=summary.errors, fonts=_FONTS,
        segs=segments(source_text, marks, numbers),
    )


def index_entry(href: PurePath, summary: FileSummary) -> IndexEntry:
    """The index line of the page written at `href` (relative to the index) for `summary`."""
    docs = summary.documents
    return IndexEntry(
        href=href,
        source=summary.source,
        title=next((d.document.title for d in docs if d.document.title), PurePath(summary.source).name),
        documents=len(docs),
        items=sum(len(d.section(name)) for d in docs for name in SECTIONS),
        rejected=sum(len(d.rejected) for d in docs),
        warnings=sum(len(d.document.warnings) for d in docs),
    )


def index_name(pages: Iterable[PurePath]) -> PurePath:
    """Where the index goes: `index.html`, unless a report's own page already has that name."""
    taken = {p.as_posix() for p in pages}
    name = INDEX_NAME
    while name in taken:
        name = "_" + name
    return PurePath(name)


def render_index(entries: Sequence[IndexEntry]) -> str:
    """An index page linking every page in `entries`; links are relative, percent-encoded
    (file names may hold `#`, `?` or spaces) and, like all text, HTML-escaped."""
    rows = [
        {"url": quote(e.href.as_posix()), "title": e.title, "source": e.source,
         "documents": e.documents, "items": e.items, "rejected": e.rejected, "warnings": e.warnings}
        for e in entries
    ]
    return _index.render(entries=rows, fonts=_FONTS)
