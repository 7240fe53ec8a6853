"""`reportsum export`: runs or JSON outputs as analyst tables (over `outputs.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reportsum.cli.common import StoreOpt, TableFormat, app, err, fail_usage, value
from reportsum.models import DocumentSummary
from reportsum.outputs.export import ExportError, export
from reportsum.outputs.tables import TableSourceError, build_tables, summaries_from_path
from reportsum.runs.store import Store, StoreError, default_store_path


@app.command("export")
def export_cmd(
    sources: Annotated[
        list[str],
        typer.Argument(metavar="SOURCE...", help="A run id ('last' or a unique prefix), an --out "
                       "folder of JSON outputs, or JSON/JSONL output files."),
    ],
    fmt: Annotated[
        TableFormat, typer.Option("--format", "-f", help="csv (a folder of UTF-8-with-BOM files), xlsx "
                                  "(one workbook, a sheet per table) or parquet (a folder, typed columns).")
    ] = TableFormat.xlsx,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="PATH", help="The workbook (xlsx) or the folder (csv, parquet).")
    ] = Path("reportsum.xlsx"),
    store: StoreOpt = None,
) -> None:
    """Write documents, items, figures (every grounded number with its subject) and rejected
    items as tables for Excel, pandas or SQL.

    **Example:** reportsum export last -f xlsx -o seeds.xlsx
    """
    fmt_s = value(fmt) or "xlsx"
    summaries: list[DocumentSummary] = []
    run_ids = []
    for source in sources:
        path = Path(source)
        if path.exists():
            try:
                summaries += summaries_from_path(path)
            except TableSourceError as exc:
                raise fail_usage(str(exc)) from None
        else:
            run_ids.append(source)
    if run_ids:
        try:  # reading runs never makes a store
            st = Store(store or default_store_path(), create=False)
        except StoreError as exc:
            raise fail_usage(f"{', '.join(run_ids)}: not a file or folder, and {exc}") from None
        with st:
            for rid in run_ids:
                try:
                    summaries += st.results(st.run(rid).id)
                except StoreError as exc:
                    raise fail_usage(f"{rid}: not a file or folder, and {exc}") from None
    tables = build_tables(summaries)
    try:
        written = export(tables, fmt_s, out)
    except ExportError as exc:
        raise fail_usage(str(exc)) from None
    counts = ", ".join(f"{n} {t}" for t, n in tables.counts().items())
    err(f"reportsum: exported {counts} to {', '.join(str(p) for p in written)}")
