"""Render summaries as JSON, JSON Lines or Markdown."""

from __future__ import annotations

from reportsum.models import SECTION_LABELS, SECTIONS, DocumentSummary, FileSummary

FORMATS = ("json", "jsonl", "md", "html")
SUFFIX = {"json": ".json", "jsonl": ".jsonl", "md": ".md", "html": ".html"}


def render_json(summary: FileSummary) -> str:
    """One JSON object per input file holding its list of document summaries."""
    return summary.model_dump_json(indent=2) + "\n"


def render_jsonl(summary: FileSummary) -> str:
    """One document summary per line."""
    return "".join(d.model_dump_json() + "\n" for d in summary.documents)


def _md_escape(text: str) -> str:
    # Source text is data: keep it from turning into Markdown structure or raw HTML.
    return (
        text.replace("\\", "\\\\")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("*", "\\*")
        .replace("_", "\\_")
        .replace("`", "\\`")
        .replace("\n", " ")
    )


def render_document_md(doc: DocumentSummary) -> str:
    """A readable Markdown page for one document summary."""
    d = doc.document
    title = d.title or f"{d.source} #{d.index}"
    lines = [f"# {_md_escape(title)}", ""]
    meta = [f"来源 source: `{d.source}` (document {d.index}, {d.chars} chars)"]
    if d.issuer:
        meta.append(f"发布 issuer: {_md_escape(d.issuer)}")
    if d.period:
        meta.append(f"期间 period: {_md_escape(d.period)}")
    run = doc.run
    backend = run.backend + (f" / {run.model}" if run.model else "")
    if run.prompt:
        backend += f" / prompt {run.prompt}"
    meta.append(f"backend: {backend}")
    if d.warnings:
        meta.append("warnings: " + ", ".join(_md_escape(w) for w in d.warnings))
    lines += [f"- {m}" for m in meta] + [""]
    for name in SECTIONS:
        items = doc.section(name)
        lines.append(f"## {SECTION_LABELS[name]} ({len(items)})")
        lines.append("")
        if not items:
            lines.append("_(none found)_")
        for item in items:
            flags = f" _(⚠ {', '.join(_md_escape(w) for w in item.warnings)})_" if item.warnings else ""
            lines.append(f"- {_md_escape(item.text)}{flags}")
            if item.evidence and item.evidence != item.text:
                lines.append(f"  > {_md_escape(item.evidence)}")
        lines.append("")
    if doc.minor:
        lines.append(f"## 其他 Minor ({len(doc.minor)})")
        lines.append("")
        lines.append("_Ranked out by the salience cap of a long report; `--all-items` keeps them in their sections._")
        lines.append("")
        for m in doc.minor:
            lines.append(f"- [{m.section}] {_md_escape(m.text)}")
        lines.append("")
    if doc.rejected:
        lines.append(f"## 未通过核验 Rejected ({len(doc.rejected)})")
        lines.append("")
        for r in doc.rejected:
            lines.append(f"- [{r.section}] {_md_escape(r.text)}")
            for reason in r.reasons:
                lines.append(f"  - {_md_escape(reason)}")
        lines.append("")
    return "\n".join(lines)


def render_markdown(summary: FileSummary) -> str:
    """Every document of a file, one after another."""
    parts = [render_document_md(d) for d in summary.documents]
    for err in summary.errors:
        parts.append(f"**error:** {_md_escape(err)}\n")
    return "\n---\n\n".join(parts)


def render(summary: FileSummary, fmt: str, source_text: str | None = None) -> str:
    """Render in `fmt`; html also needs the text as read, to highlight evidence in it."""
    if fmt == "html":
        from reportsum.outputs.html import render_html

        return render_html(summary, source_text or "")
    if fmt == "json":
        return render_json(summary)
    if fmt == "jsonl":
        return render_jsonl(summary)
    if fmt == "md":
        return render_markdown(summary)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
