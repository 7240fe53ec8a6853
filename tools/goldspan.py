"""Authoring helper for gold files: turn quotes typed by an annotator into exact spans.

Seed reports can't be copied into the project, so their gold stores spans, not quotes.
Annotators work from a *draft* kept outside the repository: a gold file whose items carry a
`quote` instead of a `span`, plus optional top-level `bounds` [start anchor, end anchor]
(verbatim strings, each unique in the document, either may be null) that restrict the search
to one report of a multi-report file.

    python tools/goldspan.py span DOC "quote" [--after ANCHOR] [--before ANCHOR]
        prints [start, end] of the quote's single occurrence in DOC (as read)
    python tools/goldspan.py build DRAFT.json OUT.json
        writes OUT.json with every `quote` replaced by its span, then validates it with
        `reportsum.evaluation.gold.load_gold`; `document` in the draft is relative to OUT.json

Both fail (exit 1, message on stderr) when a quote is not found or is ambiguous.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from reportsum.evaluation.gold import GoldError, load_gold, read_document
from reportsum.models import SECTIONS


class SpanError(ValueError):
    """A quote that doesn't identify exactly one place in the document."""


def anchor_at(text: str, anchor: str) -> int:
    """Offset of `anchor`, which must occur exactly once in `text`."""
    first = text.find(anchor)
    if first < 0:
        raise SpanError(f"anchor {anchor[:40]!r} not found")
    if text.find(anchor, first + 1) >= 0:
        raise SpanError(f"anchor {anchor[:40]!r} occurs more than once")
    return first


def find_span(text: str, quote: str, *, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
    """[start, end) of the single occurrence of `quote` inside text[lo:hi]."""
    hi = len(text) if hi is None else hi
    if not quote.strip():
        raise SpanError("empty quote")
    first = text.find(quote, lo, hi)
    if first < 0:
        raise SpanError(f"quote {quote[:40]!r} not found in [{lo}, {hi})")
    if text.find(quote, first + 1, hi) >= 0:
        raise SpanError(f"quote {quote[:40]!r} occurs more than once in [{lo}, {hi}): quote more")
    return first, first + len(quote)


def bounds_of(text: str, bounds: list[str | None] | None) -> tuple[int, int]:
    """The [lo, hi) search window given by a draft's `bounds` anchors."""
    lo, hi = 0, len(text)
    if bounds:
        start, end = bounds
        if start is not None:
            lo = anchor_at(text, start)
        if end is not None:
            hi = anchor_at(text, end)
    if hi <= lo:
        raise SpanError(f"bounds give an empty window [{lo}, {hi})")
    return lo, hi


def build(draft: dict[str, Any], out: Path) -> dict[str, Any]:
    """The gold JSON for a draft: quotes become spans; `bounds` is dropped."""
    doc = (out.parent / draft["document"]).resolve()
    text = read_document(doc)
    lo, hi = bounds_of(text, draft.get("bounds"))
    gold: dict[str, Any] = {"document": draft["document"], "doc_index": draft.get("doc_index", 0)}
    for name in SECTIONS:
        items = []
        for k, item in enumerate(draft.get(name, [])):
            item = dict(item)
            quote = item.pop("quote", None)
            if quote is not None:
                try:
                    item["span"] = list(find_span(text, quote, lo=lo, hi=hi))
                except SpanError as e:
                    raise SpanError(f"{name}[{k}]: {e}") from None
            items.append(item)
        gold[name] = items
    return gold


def dumps_gold(gold: dict[str, Any]) -> str:
    """Gold JSON with one item per line, so diffs show which item changed."""
    lines = ["{"]
    lines.append(f'  "document": {json.dumps(gold["document"], ensure_ascii=False)},')
    lines.append(f'  "doc_index": {gold["doc_index"]},')
    for n, name in enumerate(SECTIONS):
        comma = "," if n < len(SECTIONS) - 1 else ""
        items = gold.get(name, [])
        if not items:
            lines.append(f'  "{name}": []{comma}')
            continue
        lines.append(f'  "{name}": [')
        for k, item in enumerate(items):
            sep = "," if k < len(items) - 1 else ""
            lines.append("    " + json.dumps(item, ensure_ascii=False) + sep)
        lines.append(f"  ]{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_span = sub.add_parser("span", help="print [start, end] of a quote")
    p_span.add_argument("document", type=Path)
    p_span.add_argument("quote")
    p_span.add_argument("--after", help="unique anchor: search only after it")
    p_span.add_argument("--before", help="unique anchor: search only before it")
    p_build = sub.add_parser("build", help="draft with quotes -> gold file with spans")
    p_build.add_argument("draft", type=Path)
    p_build.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "span":
            text = read_document(args.document)
            lo, hi = bounds_of(text, [args.after, args.before])
            print(json.dumps(list(find_span(text, args.quote, lo=lo, hi=hi))))
        else:
            draft = json.loads(args.draft.read_text(encoding="utf-8"))
            args.out.write_text(dumps_gold(build(draft, args.out)), encoding="utf-8")
            load_gold(args.out)
            print(args.out)
    except (SpanError, GoldError, OSError, KeyError, json.JSONDecodeError) as e:
        print(f"goldspan: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
