"""Saved government pages: the current main-text heuristic against trafilatura.

For each layout in tests/fixtures_build.gov_pages (built around a report written for the
tests): how many of the report's paragraphs come through whole, how many furniture strings
(nav trail, sidebar headlines, attachment, copyright) leak in, and which title and period
`split` then finds. Run: .venv/bin/python bench/html_extractors.py
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures_build import GOV_NOISE, LONG_PARAGRAPHS, LONG_TITLE, gov_pages  # noqa: E402

from reportsum.stages.clean import clean  # noqa: E402
from reportsum.stages.ingest.html import read_html  # noqa: E402
from reportsum.stages.split import split  # noqa: E402


def heuristic(html: str) -> str:
    return read_html(html.encode("utf-8"), "page.html")[0]


def trafilatura_text(html: str) -> str:
    import trafilatura

    doc = trafilatura.bare_extraction(html, include_tables=True, include_comments=False,
                                      with_metadata=True)
    if doc is None:
        return ""
    title = getattr(doc, "title", None) or ""
    body = getattr(doc, "text", None) or ""
    return (title + "\n" + body) if title and title not in body else body


def score(text: str) -> tuple[int, int, int, str | None, str | None]:
    flat = re.sub(r"\s", "", text)
    whole = sum(1 for p in LONG_PARAGRAPHS if re.sub(r"\s", "", p) in flat)
    # a paragraph on a line of its own: headings not glued into the text around them
    lines = {line.strip() for line in text.split("\n")}
    own_line = sum(1 for p in LONG_PARAGRAPHS if p in lines)
    cleaned = clean(text).text
    noise = sum(1 for n in GOV_NOISE if n in cleaned.text)
    parts = split(cleaned)
    return whole, own_line, noise, parts[0].title if parts else None, parts[0].period if parts else None


def main() -> None:
    print(f"{'layout':20} {'extractor':12} {'paragraphs':>10} {'lines':>5} {'noise':>5} {'ms':>6}  title / period")
    totals: dict[str, list[int]] = {}
    for layout, html in gov_pages().items():
        for name, fn in (("heuristic", heuristic), ("trafilatura", trafilatura_text)):
            fn(html)
            t0 = time.perf_counter()
            text = fn(html)
            ms = (time.perf_counter() - t0) * 1000
            whole, own_line, noise, title, period = score(text)
            ok = "ok" if title == LONG_TITLE and period == "2023年" else "WRONG"
            t = totals.setdefault(name, [0, 0, 0, 0])
            t[0] += whole
            t[1] += own_line
            t[2] += noise
            t[3] += ok == "ok"
            print(f"{layout:20} {name:12} {whole:>4}/{len(LONG_PARAGRAPHS):<5} {own_line:>5} {noise:>5} {ms:6.1f}  {ok} {title} / {period}")
    n = len(gov_pages())
    for name, (whole, own_line, noise, titles) in totals.items():
        print(f"TOTAL {name:12} paragraphs whole {whole}/{n * len(LONG_PARAGRAPHS)}, on their own line "
              f"{own_line}/{n * len(LONG_PARAGRAPHS)}, noise strings {noise}, title+period right {titles}/{n}")


if __name__ == "__main__":
    main()
