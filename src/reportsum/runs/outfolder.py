"""Where a batch's outputs go: one file per input in an output folder (or stdout), resumable.

`OutputFolder` owns the naming of output files, the done log that lets a killed batch resume
(`reportsum.runs.resume`), atomic writes and, for HTML, the folder's index page. The CLI's
`summarise` and `regenerate` verbs are thin layers over it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path, PurePath

from reportsum.outputs.atomic import write_text_atomic
from reportsum.outputs.render import SUFFIX, render
from reportsum.pipeline import FileOutcome, Settings
from reportsum.runs.resume import DoneLog, Fingerprint, remove_stale_temps, settings_fingerprint

INDEX_SIDECAR = ".reportsum-index.json"


def output_names(paths: list[Path], roots: list[Path], fmt: str) -> dict[Path, Path]:
    """Relative output path for each input: its path under the folder given, with the format's
    suffix; the input's own suffix is kept only where two inputs would otherwise collide."""
    rel: dict[Path, Path] = {}
    for p in paths:
        base = Path(p.name)
        for root in roots:
            if root.is_dir():
                try:
                    base = p.resolve().relative_to(root.resolve())
                    break
                except ValueError:
                    continue
        rel[p] = base
    out: dict[Path, Path] = {}
    stems: dict[Path, int] = {}
    for r in rel.values():
        k = r.with_suffix("")
        stems[k] = stems.get(k, 0) + 1
    for p, r in rel.items():
        k = r.with_suffix("")
        name = r.name + SUFFIX[fmt] if stems[k] > 1 else k.name + SUFFIX[fmt]
        out[p] = r.parent / name
    return out


class OutputFolder:
    """Outputs of one batch: written into `out` (atomically, resumable) or, with no `out`,
    handed to `echo` (the CLI prints them). Write failures are collected in `failures`."""

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
    ) -> None:
        self.out = out
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
                self.echo(text)
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
