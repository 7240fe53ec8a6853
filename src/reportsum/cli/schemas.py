"""JSON Schemas of reportsum's contracts, generated from the pydantic models.

`python -m reportsum.cli.schemas [DIR]` writes them (default: ./schemas); a test fails when the
committed files drift from the models.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reportsum.models import DocumentSummary, Extraction, FileSummary


def _gold() -> dict[str, Any]:
    from reportsum.evaluation.gold import gold_json_schema

    return gold_json_schema()


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "extraction.schema.json": Extraction.model_json_schema,
    "document-summary.schema.json": DocumentSummary.model_json_schema,
    "file-summary.schema.json": FileSummary.model_json_schema,
    "gold.schema.json": _gold,
}


def render_schemas() -> dict[str, str]:
    """File name -> JSON text of every schema."""
    return {
        name: json.dumps(make(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        for name, make in SCHEMAS.items()
    }


def write_schemas(folder: Path) -> list[Path]:
    from reportsum.outputs.atomic import write_text_atomic

    written = []
    for name, text in render_schemas().items():
        write_text_atomic(folder / name, text)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for p in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(p)
