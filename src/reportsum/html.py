"""A self-contained HTML page for one input file: the four sections beside the source text,
evidence highlighted, numbers marked, rejected items and warnings shown apart.

Every piece of source or model text goes through Jinja2 autoescaping: a report containing
`<script>` shows it as text. The page needs no network (inline CSS and a few lines of JS).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, select_autoescape

from reportsum.models import SECTION_LABELS, SECTIONS, FileSummary


@dataclass(frozen=True)
class Segment:
    text: str
    item_ids: tuple[str, ...] = ()
    number: bool = False


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


_TEMPLATE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;margin:0;color:#222}
header{padding:.6em 1em;background:#123;color:#fff}
main{display:grid;grid-template-columns:minmax(320px,1fr) 1fr;gap:1em;padding:1em;height:calc(100vh - 4em);box-sizing:border-box}
#summary,#source{overflow:auto}
#source{white-space:pre-wrap;line-height:1.7;border-left:1px solid #ccc;padding-left:1em}
.item{cursor:pointer;padding:.25em .4em;border-radius:4px;margin:.15em 0;list-style:none}
.item:hover{background:#eef}
.ev{background:#fff3b0}
.ev.active{background:#ffb347;outline:2px solid #e67e00}
.num{font-weight:bold;color:#a30}
.rejected{color:#900}
.warn{color:#a60}
h2{font-size:1.05em;border-bottom:1px solid #ddd}
.doc{margin-bottom:2em}
</style></head>
<body>
<header><strong>{{ title }}</strong> · {{ source }}</header>
<main>
<section id="summary">
{% for doc in docs %}
<div class="doc" id="doc-{{ doc.index }}">
<h1>{{ doc.title }}</h1>
<p>{% if doc.issuer %}{{ doc.issuer }} · {% endif %}{% if doc.period %}{{ doc.period }} · {% endif %}{{ doc.backend }}</p>
{% for w in doc.warnings %}<p class="warn">⚠ {{ w }}</p>{% endfor %}
{% for sec in doc.sections %}
<h2>{{ sec.label }} ({{ sec.entries|length }})</h2>
<ul>{% for it in sec.entries %}<li class="item" data-target="{{ it.id }}" tabindex="0">{{ it.text }}</li>{% endfor %}</ul>
{% endfor %}
{% if doc.rejected %}<h2 class="rejected">未通过核验 Rejected ({{ doc.rejected|length }})</h2>
<ul>{% for r in doc.rejected %}<li class="rejected">[{{ r.section }}] {{ r.text }}<ul>{% for reason in r.reasons %}<li>{{ reason }}</li>{% endfor %}</ul></li>{% endfor %}</ul>{% endif %}
</div>
{% endfor %}
{% for e in errors %}<p class="rejected">{{ e }}</p>{% endfor %}
</section>
<section id="source">{% for seg in segs %}{% if seg.item_ids or seg.number %}<span class="{% if seg.item_ids %}ev {{ seg.item_ids|join(' ') }}{% endif %}{% if seg.number %} num{% endif %}">{{ seg.text }}</span>{% else %}{{ seg.text }}{% endif %}{% endfor %}</section>
</main>
<script>
document.querySelectorAll('.item').forEach(function (el) {
  function go() {
    document.querySelectorAll('.ev.active').forEach(function (e) { e.classList.remove('active'); });
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

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_template = _env.from_string(_TEMPLATE)


def render_html(summary: FileSummary, source_text: str) -> str:
    """The page for one input file; `source_text` is the text as read (spans index it)."""
    marks: list[tuple[int, int, str]] = []
    numbers: list[tuple[int, int]] = []
    docs = []
    for doc in summary.documents:
        d = doc.document
        sections = []
        for name in SECTIONS:
            items = []
            for k, item in enumerate(doc.section(name)):
                item_id = f"ev-{d.index}-{name}-{k}"
                if item.span is not None:
                    marks.append((item.span[0], item.span[1], item_id))
                numbers.extend(n.span for n in item.numbers)
                items.append({"id": item_id, "text": item.text})
            sections.append({"label": SECTION_LABELS[name], "entries": items})
        docs.append({
            "index": d.index,
            "title": d.title or f"{d.source} #{d.index}",
            "issuer": d.issuer,
            "period": d.period,
            "backend": doc.run.backend + (f" / {doc.run.model}" if doc.run.model else ""),
            "warnings": d.warnings,
            "sections": sections,
            "rejected": doc.rejected,
        })
    title = next((d["title"] for d in docs), summary.source)
    return _template.render(
        title=title, source=summary.source, docs=docs, errors=summary.errors,
        segs=segments(source_text, marks, numbers),
    )
