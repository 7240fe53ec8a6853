"""Summaries as flat tables for analysts: documents, items, figures and rejected items.

One row shape per table, with typed columns (`COLUMNS`), so that CSV, Excel, Parquet and the
store's SQL views (`reportsum.runs.store`) all say the same thing. A figure row is one grounded
number with the phrase it is about (`subject`, filled in by the pipeline), so a pivot of
subject x document compares reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reportsum.models import SECTIONS, DocumentSummary, FileSummary

# (column, type): type is one of "str", "int", "float", the same in every format.
_DOC_KEYS = [("source", "str"), ("doc_index", "int"), ("title", "str"), ("issuer", "str"),
             ("period", "str")]
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "documents": [
        *_DOC_KEYS, ("sha256", "str"), ("chars", "int"), ("warnings", "str"), ("run_id", "str"),
        ("backend", "str"), ("model", "str"), ("prompt", "str"), ("items", "int"),
        ("rejected", "int"),
    ],
    "items": [
        *_DOC_KEYS, ("section", "str"), ("position", "int"), ("text", "str"), ("evidence", "str"),
        ("span_start", "int"), ("span_end", "int"), ("numbers", "str"), ("warnings", "str"),
    ],
    "figures": [
        *_DOC_KEYS, ("section", "str"), ("item_position", "int"), ("subject", "str"),
        ("raw", "str"), ("value", "float"), ("unit", "str"), ("kind", "str"), ("approx", "str"),
        ("claim", "str"), ("bound_low", "float"), ("bound_high", "float"),
        ("span_start", "int"), ("span_end", "int"), ("evidence", "str"),
    ],
    "rejected": [
        *_DOC_KEYS, ("section", "str"), ("text", "str"), ("evidence", "str"), ("reasons", "str"),
    ],
}
TABLES = tuple(COLUMNS)


class TableSourceError(ValueError):
    """A file given to export is not a reportsum JSON output."""


@dataclass
class Tables:
    """Rows of the four tables, each row a dict keyed by `COLUMNS[table]`."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def add(self, summary: DocumentSummary) -> None:
        d, run = summary.document, summary.run
        keys = {"source": d.source, "doc_index": d.index, "title": d.title, "issuer": d.issuer,
                "period": d.period}
        self.rows["documents"].append({
            **keys, "sha256": d.sha256, "chars": d.chars, "warnings": "; ".join(d.warnings),
            "run_id": run.run_id, "backend": run.backend, "model": run.model,
            "prompt": run.prompt, "items": sum(len(summary.section(s)) for s in SECTIONS),
            "rejected": len(summary.rejected),
        })
        for section in SECTIONS:
            for pos, item in enumerate(summary.section(section), 1):
                start, end = item.span if item.span else (None, None)
                self.rows["items"].append({
                    **keys, "section": section, "position": pos, "text": item.text,
                    "evidence": item.evidence, "span_start": start, "span_end": end,
                    "numbers": "、".join(n.raw for n in item.numbers),
                    "warnings": "; ".join(item.warnings),
                })
                for n in item.numbers:
                    low, high = n.bounds if n.bounds else (None, None)
                    self.rows["figures"].append({
                        **keys, "section": section, "item_position": pos, "subject": n.subject,
                        "raw": n.raw, "value": n.value, "unit": n.unit, "kind": n.kind,
                        "approx": n.approx, "claim": n.claim, "bound_low": low, "bound_high": high,
                        "span_start": n.span[0], "span_end": n.span[1],
                        "evidence": item.evidence,
                    })
        for r in summary.rejected:
            self.rows["rejected"].append({
                **keys, "section": r.section, "text": r.text, "evidence": r.evidence,
                "reasons": "; ".join(r.reasons),
            })

    def counts(self) -> dict[str, int]:
        return {t: len(rows) for t, rows in self.rows.items()}


def build_tables(summaries: Iterable[DocumentSummary]) -> Tables:
    tables = Tables()
    for s in summaries:
        tables.add(s)
    return tables


def load_summaries(path: Path) -> list[DocumentSummary]:
    """Document summaries from a reportsum output: a JSON file (one input file's summary, or
    a JSON array of them) or a JSON Lines file (one document per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TableSourceError(f"{path}: cannot read: {exc}") from None
    try:
        if path.suffix == ".jsonl":
            return [DocumentSummary.model_validate_json(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
        files = data if isinstance(data, list) else [data]
        return [d for f in files for d in FileSummary.model_validate(f).documents]
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise TableSourceError(f"{path}: not a reportsum JSON output ({first})") from None


def summaries_from_path(path: Path) -> list[DocumentSummary]:
    """Every document summary in a JSON/JSONL output file, or in the outputs of a folder
    (searched recursively, in name order; other files are ignored)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file()
                       and not p.name.startswith("."))
        if not files:
            raise TableSourceError(f"{path}: no .json or .jsonl outputs in this folder")
        return [d for f in files for d in load_summaries(f)]
    return load_summaries(path)
