"""Where a batch's outputs go: one file per input in an output folder (or stdout), resumable.

`OutputFolder` owns the naming of output files, the done log that lets a killed batch resume
(`reportsum.runs.resume`), atomic writes and, for HTML, the folder's index page. The CLI's
`summarise` and `regenerate` verbs are thin layers over it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path, PurePath

from reportsum.outputs.atomic import write_text_atomic
from reportsum.outputs.render import SUFFIX, render
from reportsum.pipeline import FileOutcome, Settings
from reportsum.runs.resume import DoneLog, Fingerprint, remove_stale_temps, settings_fingerprint

INDEX_SIDECAR = ".reportsum-index.json"


class OutputCollision(ValueError):
    """Two inputs would be written to the same output file; the message names them."""


def _absolute(p: Path) -> Path:
    # Lexically absolute, links not followed: an input reached through a linked folder stays
    # under the folder the user named.
    return Path(os.path.abspath(p))


def common_root(paths: Sequence[Path], roots: Sequence[Path] = ()) -> Path:
    """The folder outputs mirror: the deepest folder holding every folder in `roots` and the
    folder of every file in `roots` (or, with no roots, of every path)."""
    folders = [_absolute(r) if r.is_dir() else _absolute(r).parent for r in roots if str(r) != "-"]
    if not folders:
        folders = [_absolute(p).parent for p in paths if str(p) != "-"]
    if not folders:
        return Path.cwd()
    try:
        return Path(os.path.commonpath([str(f) for f in folders]))
    except ValueError:  # different drives: no common folder, mirror from the top
        return Path(_absolute(folders[0]).anchor)


def output_names(paths: Sequence[Path], roots: Sequence[Path], fmt: str) -> dict[Path, Path]:
    """Relative output path for each input: its path relative to the inputs' common root
    (`common_root`), so `a/x.txt` and `b/x.txt` go to `a/x.json` and `b/x.json`, with the
    format's suffix in place of the input's; the input's suffix is kept (`x.txt.json`) only
    where two inputs in one folder differ by it alone. Raises OutputCollision, naming them,
    when two inputs would still be written to one file (`x.txt`, `x.docx` and `x.txt.md`)."""
    root = common_root(paths, roots)
    rel: dict[Path, Path] = {}
    for p in paths:
        if str(p) == "-":  # a report read from stdin
            rel[p] = Path("stdin.txt")
            continue
        a = _absolute(p)
        try:
            rel[p] = a.relative_to(root)
        except ValueError:
            rel[p] = Path(a.name)
    stems: dict[str, int] = {}
    for r in rel.values():
        k = r.with_suffix("").as_posix()
        stems[k] = stems.get(k, 0) + 1
    out: dict[Path, Path] = {}
    for p, r in rel.items():
        keep = stems[r.with_suffix("").as_posix()] > 1
        out[p] = r.parent / ((r.name if keep else r.with_suffix("").name) + SUFFIX[fmt])
    taken: dict[str, Path] = {}
    clashes: list[str] = []
    for p, o in out.items():
        key = o.as_posix()
        if key in taken:
            clashes.append(f"{taken[key]} and {p} would both be written to {o}")
        else:
            taken[key] = p
    if clashes:
        raise OutputCollision("; ".join(clashes))
    return out


class OutputFolder:
    """Outputs of one batch: written into `out` (atomically, resumable) or, with no `out`,
    handed to `echo` (the CLI prints them). Write failures are collected in `failures`.

    `OutputCollision` is raised before anything is written when two inputs would share an
    output file. With no `out`, `array=True` (JSON of several inputs) makes the echoed text one
    JSON array: `[`, the files' objects as they finish, comma-separated, and `]` on `close()`.
    """

    def __init__(
        self,
        out: Path | None,
        fmt: str,
        *,
        inputs: list[Path] | None = None,
        roots: list[Path] | None = None,
        settings: Settings | None = None,
        resume: bool = True,
        echo: Callable[[str], None] | None = None,
        array: bool = False,
    ) -> None:
        self.out = out
        self.array = array and out is None and fmt == "json"
        self._echoed = 0
        self.echo = echo
        self.fmt = fmt
        self.failures: list[str] = []
        self.names: dict[Path, Path] = (
            output_names(inputs, roots or [], fmt) if out is not None and inputs else {}
        )
        self.resume = resume
        self._log: DoneLog | None = None
        self._fingerprint: Fingerprint | None = None
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            if settings is not None:
                # ConfigError (an unreadable prompt) and OSError propagate to the caller.
                self._fingerprint = settings_fingerprint(settings)
                remove_stale_temps(out, list(self.names.values()))
                self._log = DoneLog(out)

    def todo(self, inputs: list[Path]) -> list[Path]:
        """The inputs whose output is not already done under the same settings (all of them
        when resuming is off; their outputs are still logged for a later run)."""
        if not self.resume or self._log is None or self._fingerprint is None:
            return inputs
        log, fp = self._log, self._fingerprint
        return [p for p in inputs if not log.is_done(self.names[p], p, fp)]

    def write(self, outcome: FileOutcome) -> str | None:
        """Write a summarised file's output (or print it); the error line when that failed."""
        assert outcome.summary is not None
        text = outcome.rendered
        if text is None:
            text = render(outcome.summary, self.fmt, outcome.raw.text if outcome.raw else None)
        if self.out is None:
            if self.echo is not None:
                if self.array:
                    text = ("[\n" if not self._echoed else ",\n") + text.rstrip("\n")
                self.echo(text)
                self._echoed += 1
            return None
        rel = self.names.get(outcome.path, Path(outcome.path.name + SUFFIX[self.fmt]))
        target = self.out / rel
        try:
            write_text_atomic(target, text)
        except OSError as exc:
            error = f"{target}: {exc.strerror}"
            self.failures.append(error)
            return f"cannot write {error}"
        if self._log is not None and self._fingerprint is not None and outcome.raw is not None:
            self._log.record(rel, outcome.raw.sha256, text, self._fingerprint)
        return None

    def close(self) -> None:
        if self.array and self.echo is not None:
            self.echo("\n]\n" if self._echoed else "[]\n")
            self.array = False
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write_index(self, outcomes: list[FileOutcome]) -> str | None:
        """Write OUT/index.html linking every page in the folder, in input order.

        Pages skipped as already done (resume) are listed from the sidecar file earlier runs
        left, so the index always covers every page, not only this run's."""
        from reportsum.outputs.html import IndexEntry, index_entry, index_name, render_index

        assert self.out is not None
        out, names = self.out, self.names
        sidecar = out / INDEX_SIDECAR
        try:
            known: dict[str, dict[str, object]] = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        summaries = {o.path: o.summary for o in outcomes if o.error is None and o.summary}
        for p, rel in names.items():
            if p in summaries and not any(f.startswith(f"{out / rel}: ") for f in self.failures):
                known[rel.as_posix()] = {**asdict(index_entry(rel, summaries[p])), "href": rel.as_posix()}
        entries = []
        for rel in names.values():
            fields = known.get(rel.as_posix())
            if fields is not None and (out / rel).exists():
                entries.append(IndexEntry(**{**fields, "href": PurePath(str(fields["href"]))}))  # type: ignore[arg-type]
        target = out / index_name(names.values())
        try:
            write_text_atomic(sidecar, json.dumps(known, ensure_ascii=False, indent=1))
            write_text_atomic(target, render_index(entries))
        except OSError as exc:
            error = f"{target}: {exc.strerror}"
            self.failures.append(error)
            return f"cannot write {error}"
        return None
