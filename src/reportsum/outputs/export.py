"""Write the analyst tables (`outputs.tables`) as CSV, Excel or Parquet, atomically.

* csv: one file per table in a folder (`documents.csv`, `items.csv`, `figures.csv`,
  `rejected.csv`), UTF-8 with a byte-order mark so that Excel opens the Chinese text correctly;
* xlsx: one workbook, a sheet per table, frozen header row, filters, column widths fitted to
  the (double-width) Chinese text (openpyxl);
* parquet: one file per table in a folder, typed columns (pyarrow; `pip install
  'reportsum[parquet]'`).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path
from typing import Any

from reportsum.outputs.atomic import atomic_path, write_text_atomic
from reportsum.outputs.tables import COLUMNS, TABLES, Tables

EXPORT_FORMATS = ("csv", "xlsx", "parquet")


class ExportError(Exception):
    """An export cannot be written (a missing optional library, an unwritable target)."""


def write_csv(tables: Tables, folder: Path) -> list[Path]:
    written = []
    for name in TABLES:
        buf = io.StringIO()
        cols = [c for c, _ in COLUMNS[name]]
        writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(tables.rows[name])
        target = folder / f"{name}.csv"
        # The BOM is what makes Excel read the file as UTF-8 rather than the local code page.
        write_text_atomic(target, "\ufeff" + buf.getvalue())
        written.append(target)
    return written


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(tables: Tables, path: Path) -> list[Path]:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for name in TABLES:
        ws = wb.create_sheet(name)
        cols = [c for c, _ in COLUMNS[name]]
        ws.append(cols)
        for row in tables.rows[name]:
            ws.append([row.get(c) for c in cols])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        if tables.rows[name]:
            ws.auto_filter.ref = ws.dimensions
        for i, col in enumerate(cols, 1):
            widest = max([_display_width(col), *(_display_width(r.get(col)) for r in tables.rows[name][:500])])
            # Long text columns wrap at a readable width instead of running off the screen.
            ws.column_dimensions[get_column_letter(i)].width = min(max(widest + 2, 6), 60)
            if widest > 60:
                for cell in ws[get_column_letter(i)][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return [path]


_ARROW_TYPES = {"str": "string", "int": "int64", "float": "float64"}


def write_parquet(tables: Tables, folder: Path) -> list[Path]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError(
            "Parquet export needs pyarrow: pip install 'reportsum[parquet]'"
        ) from None
    written = []
    for name in TABLES:
        schema = pa.schema([(c, getattr(pa, _ARROW_TYPES[t])()) for c, t in COLUMNS[name]])
        table = pa.Table.from_pylist(tables.rows[name], schema=schema)
        target = folder / f"{name}.parquet"
        with atomic_path(target) as tmp:
            pq.write_table(table, tmp)
        written.append(target)
    return written


def export(tables: Tables, fmt: str, target: Path) -> list[Path]:
    """Write `tables` in `fmt` to `target` (a folder for csv and parquet, a file for xlsx)."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}")
    try:
        if fmt == "xlsx":
            if target.is_dir():
                target = target / "reportsum.xlsx"
            return write_xlsx(tables, target)
        if target.exists() and not target.is_dir():
            raise ExportError(f"{target} is a file: {fmt} export writes one file per table into a folder")
        target.mkdir(parents=True, exist_ok=True)
        return write_csv(tables, target) if fmt == "csv" else write_parquet(tables, target)
    except OSError as exc:
        raise ExportError(f"cannot write {exc.filename or target}: {exc.strerror}") from None
