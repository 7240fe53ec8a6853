"""Resuming a batch written to an output folder: which inputs are already done.

`summarise --out OUT` keeps a log of finished outputs in `OUT/.reportsum-done.jsonl`, one JSON
line appended right after each output file is written (atomically):

    {"output": "sub/a.json", "input_sha256": "...", "output_sha256": "...",
     "settings": {"backend": ..., "model": ..., "prompt_hash": ..., "chunk_chars": ..., "mode": ...}}

An input is skipped as done when the log has a line for its output path and all of these
hold: the output file exists and its bytes hash to `output_sha256` (nobody edited or truncated
it), the input's bytes hash to `input_sha256` (the report did not change), and the settings
that shape a summary are the same. One log serves every format (json, jsonl, md, html) and
keeps the output files exactly what the renderers produce.

The log is written after the output, so a process killed in between leaves an output with
no line: that input is simply redone (its model answers come from the response cache). A
line cut short by the kill is ignored, and the log is rewritten compactly when it is opened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from reportsum.outputs.atomic import write_text_atomic
from reportsum.pipeline import ConfigError, Settings

LOG_NAME = ".reportsum-done.jsonl"


@dataclass(frozen=True)
class Fingerprint:
    """The settings that decide what a summary says; outputs made under others are redone."""

    backend: str
    model: str | None
    prompt_hash: str | None
    chunk_chars: int
    mode: str | None
    all_items: bool = False
    max_tokens: int | None = None  # an answer cut at its budget says less


def settings_fingerprint(settings: Settings) -> Fingerprint:
    """The fingerprint of resolved settings (the prompt file is read for its hash)."""
    if settings.backend == "rules" or settings.backend is None:
        return Fingerprint("rules", None, None, settings.chunk_chars, None, settings.all_items)
    from reportsum.backends.prompts import PromptError, load_prompt

    try:
        prompt_hash = load_prompt(settings.prompt).sha256
    except PromptError as exc:
        raise ConfigError(str(exc)) from exc
    mode = settings.mode if settings.evidence == "quote" else f"{settings.mode}/{settings.evidence}"
    return Fingerprint(
        settings.backend, settings.model, prompt_hash, settings.chunk_chars, mode, settings.all_items,
        settings.max_tokens,
    )


def file_sha256(path: Path) -> str | None:
    """sha256 of a file's bytes (what `ingest.read_file` records), None when unreadable."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


@dataclass(frozen=True)
class DoneEntry:
    """One finished output, as logged."""

    output: str
    input_sha256: str
    output_sha256: str
    settings: Fingerprint

    @classmethod
    def from_json(cls, line: str) -> DoneEntry | None:
        """The entry a log line holds; None for a line that is cut short or malformed."""
        try:
            data: Any = json.loads(line)
            return cls(
                output=str(data["output"]),
                input_sha256=str(data["input_sha256"]),
                output_sha256=str(data["output_sha256"]),
                settings=Fingerprint(**data["settings"]),
            )
        except (ValueError, TypeError, KeyError):
            return None

    def to_json(self) -> str:
        """The entry as one log line (without the newline)."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


class DoneLog:
    """The output folder's log of finished outputs. Use as a context manager."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out / LOG_NAME
        self.entries: dict[str, DoneEntry] = {}
        self._fh: IO[str] | None = None
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError):
            text = ""  # an unreadable log only costs a redo; it is rewritten below
        lines = text.splitlines()
        for line in lines:
            entry = DoneEntry.from_json(line)
            if entry is not None:
                self.entries[entry.output] = entry
        # Duplicates (redone outputs), a line cut short by a kill or a missing final newline
        # would make the next append land on a broken line: rewrite the log first.
        if len(lines) != len(self.entries) or (text and not text.endswith("\n")):
            write_text_atomic(self.path, "".join(e.to_json() + "\n" for e in self.entries.values()))

    def __enter__(self) -> DoneLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the log file (entries already appended stay)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def is_done(self, output: Path, source: Path, settings: Fingerprint) -> bool:
        """Whether `output` (relative to the folder) is a finished summary of `source` as it is
        now, made with `settings`."""
        entry = self.entries.get(output.as_posix())
        if entry is None or entry.settings != settings:
            return False
        return (
            file_sha256(self.out / output) == entry.output_sha256
            and file_sha256(source) == entry.input_sha256
        )

    def record(self, output: Path, input_sha256: str, text: str, settings: Fingerprint) -> None:
        """Log `output` (relative to the folder) as done; call after the file is written."""
        entry = DoneEntry(
            output=output.as_posix(),
            input_sha256=input_sha256,
            output_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            settings=settings,
        )
        self.entries[entry.output] = entry
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8", newline="\n")
        # One write per line and a flush: a kill can cut at most the line being written.
        self._fh.write(entry.to_json() + "\n")
        self._fh.flush()


def remove_stale_temps(out: Path, outputs: list[Path]) -> int:
    """Delete temporary files a killed run left beside `outputs` (relative to `out`).

    `atomic.write_text_atomic` names them `.NAME.RANDOM.tmp`; only those whose NAME is one of
    `outputs` (or the done log) are touched. Returns how many were removed.
    """
    wanted: dict[Path, set[str]] = {out: {LOG_NAME}}
    for rel in outputs:
        wanted.setdefault((out / rel).parent, set()).add(rel.name)
    removed = 0
    for folder, names in wanted.items():
        try:
            found = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
        except OSError:
            continue
        for tmp in found:
            name = tmp.name[1:].rsplit(".", 2)[0]
            if name in names:
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


__all__ = ["LOG_NAME", "DoneEntry", "DoneLog", "Fingerprint", "file_sha256", "remove_stale_temps",
           "settings_fingerprint"]
