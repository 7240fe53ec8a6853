"""`reportsum verify`: check any summary's numbers against its source report.

A summary is a reportsum JSON output (`{"documents": [...]}`, one document summary, or any
object with the four section lists of items with `text` and optional `evidence`), or a plain
text / Markdown file whose every non-empty line is an item without evidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportsum.grounding.ground import GroundingSource, locate_problems

Item = tuple[str, str, str | None]
"""(section, text, evidence or None)."""

SECTIONS: tuple[str, ...] = ("achievements", "measures", "problems", "plans")
"""The four lists a summary holds (the same names as `reportsum.models.SECTIONS`; a test keeps
them equal: the grounding core imports nothing else of reportsum)."""

_MARKER = re.compile(r"^\s*(?:#{1,6}\s*|[-*+•]\s+|\d{1,3}[.、)）]\s*)")


class VerifyInputError(ValueError):
    """The summary file cannot be read as a summary (message says why)."""


@dataclass(frozen=True)
class Ungrounded:
    """One failure: the item (section, index, text), the number as written ('' for the quote), why."""

    section: str
    index: int
    item: str
    number: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify`: `ok` iff nothing is ungrounded."""

    checked: int
    ungrounded: tuple[Ungrounded, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.ungrounded

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "ungrounded": [
                {
                    "section": u.section,
                    "index": u.index,
                    "item": u.item,
                    "number": u.number,
                    "reason": u.reason,
                }
                for u in self.ungrounded
            ],
            "warnings": list(self.warnings),
        }

    def format_text(self) -> str:
        """A human-readable report, one line per failure."""
        failed = len({(u.section, u.index) for u in self.ungrounded})
        lines = [
            f"checked {self.checked} items: {self.checked - failed} grounded, {failed} ungrounded"
        ]
        for u in self.ungrounded:
            what = f"“{u.number}”" if u.number else "evidence"
            lines.append(f"  {u.section}[{u.index}] {what}: {u.reason}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def _items_from_sections(obj: dict[str, Any], where: str) -> list[Item]:
    out: list[Item] = []
    for section in SECTIONS:
        items = obj.get(section, [])
        if not isinstance(items, list):
            raise VerifyInputError(f"{where}: “{section}” must be a list of items")
        for i, it in enumerate(items):
            if isinstance(it, str):
                text, evidence = it, None
            elif isinstance(it, dict) and isinstance(it.get("text"), str):
                text, evidence = it["text"], it.get("evidence")
                if evidence is not None and not isinstance(evidence, str):
                    raise VerifyInputError(f"{where}: {section}[{i}].evidence must be a string")
            else:
                raise VerifyInputError(
                    f"{where}: {section}[{i}] must be an object with a “text” string"
                )
            out.append((section, text, evidence or None))
    return out


def _items_from_json(data: Any, where: str) -> list[Item]:
    if isinstance(data, dict) and isinstance(data.get("documents"), list):
        out: list[Item] = []
        for k, doc in enumerate(data["documents"]):
            if not isinstance(doc, dict):
                raise VerifyInputError(f"{where}: documents[{k}] must be an object")
            out.extend(_items_from_sections(doc, f"{where} documents[{k}]"))
        return out
    if isinstance(data, dict) and any(s in data for s in SECTIONS):
        return _items_from_sections(data, where)
    raise VerifyInputError(
        f'{where}: not a summary (expected {{"documents": [...]}} or an object with '
        "achievements/measures/problems/plans lists)"
    )


def load_summary(path: str | Path) -> list[Item]:
    """Items (section, text, evidence) of a summary file: JSON, or text/Markdown lines."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise VerifyInputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise VerifyInputError(f"{p}: is a directory, expected a summary file") from None
    except UnicodeDecodeError:
        raise VerifyInputError(f"{p}: not UTF-8 text") from None
    stripped = raw.lstrip()
    if p.suffix.lower() == ".json" or stripped.startswith(("{", "[")):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise VerifyInputError(f"{p}: invalid JSON ({e.msg}, line {e.lineno})") from None
        return _items_from_json(data, str(p))
    items: list[Item] = []
    for line in raw.splitlines():
        text = _MARKER.sub("", line).strip()
        if text:
            items.append(("text", text, None))
    if not items:
        raise VerifyInputError(f"{p}: empty summary")
    return items


def verify(source_text: str, items: list[Item], *, allow_rounding: bool = False) -> VerifyReport:
    """Check every item's numbers (and evidence quote, if any) against `source_text`.

    A quote found more than once in the source is taken at the occurrence nearest the end of
    the previous item's evidence, as summaries follow the report's order (and a search that
    starts there is short).
    """
    source = GroundingSource(source_text)
    bad: list[Ungrounded] = []
    warnings: list[str] = []
    counters: dict[str, int] = {}
    near: int | None = None
    for section, text, evidence in items:
        index = counters.get(section, 0)
        counters[section] = index + 1
        span, problems, item_warnings = locate_problems(
            source, text, evidence, near=near, allow_rounding=allow_rounding
        )
        if span is not None:
            near = span[1]
        if problems:
            bad.extend(Ungrounded(section, index, text, p.number, p.reason) for p in problems)
        if item_warnings:
            warnings.extend(f"{section}[{index}]: {w}" for w in item_warnings)
    return VerifyReport(len(items), tuple(bad), tuple(warnings))
