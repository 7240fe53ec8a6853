"""Evaluation: summarise the gold documents with one or more contenders and score them.

A *contender* is either settings to run (a backend, model and prompt) or an existing run in
the store. `evaluate` summarises every distinct gold document file once per contender through
`runner.run_batch` (so the response cache applies and the run is recorded, command "eval"),
picks for each gold file the report with its `doc_index`, scores it with
`scoring.score_summary` and adds the counts up with `scoring.combine`. A report the contender
did not produce (the file failed, or it split into fewer reports) scores as an empty summary:
recall 0 for that gold, the others unaffected.

`check_floor` compares a report with `eval/floor.json`, the lowest figures CI accepts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from reportsum.evaluation.gold import GoldDocument, GoldError, load_gold
from reportsum.evaluation.scoring import PRF, DocumentScore, combine, score_document, score_summary
from reportsum.models import SECTIONS, DocumentSummary, Usage
from reportsum.pipeline import Settings, resolve_backend
from reportsum.runs.runner import run_batch
from reportsum.runs.store import RunRow, Store


class EvalError(ValueError):
    """An evaluation that can't be run as asked (bad contender, no gold, bad floor file)."""


def collect_gold(paths: Sequence[Path]) -> list[GoldDocument]:
    """Load gold files given as files or folders (searched recursively for `*.json`).

    Files come back in the order given, each folder's files sorted by path; a file named twice
    is loaded once. A `GoldError` from `load_gold` propagates with its message.
    """
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not found:
                raise GoldError(f"{path}: no gold files (*.json) in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise GoldError(f"{path}: no such gold file or folder")
    seen: set[Path] = set()
    golds: list[GoldDocument] = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            golds.append(load_gold(f))
    return golds


@dataclass(frozen=True)
class Contender:
    """What to score: `settings` to run, or `run_id` of a run already in the store."""

    label: str
    settings: Settings | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class DocumentResult:
    """One gold file scored for one contender."""

    gold: str
    document: str
    doc_index: int
    score: DocumentScore
    found: bool
    rejected: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "document": self.document,
            "doc_index": self.doc_index,
            "found": self.found,
            "rejected": self.rejected,
            **self.score.to_dict(),
        }


@dataclass(frozen=True)
class ContenderResult:
    """A contender's scores over the gold set and what producing its summaries cost.

    `seconds` is None for a stored run (the store does not keep how long it took).
    """

    label: str
    run_id: str
    backend: str
    model: str | None
    prompt: str | None
    documents: tuple[DocumentResult, ...]
    combined: DocumentScore
    usage: Usage
    seconds: float | None
    failures: tuple[str, ...] = ()

    @property
    def rejected(self) -> int:
        return sum(d.rejected for d in self.documents)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "run_id": self.run_id,
            "backend": self.backend,
            "model": self.model,
            "prompt": self.prompt,
            "rejected": self.rejected,
            "calls": self.usage.calls,
            "tokens": self.usage.total_tokens,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "cache_hits": self.usage.cache_hits,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "failures": list(self.failures),
            **self.combined.to_dict(),
            "documents": [d.to_dict() for d in self.documents],
        }


def _fmt(x: float) -> str:
    return f"{x:.3f}"


@dataclass(frozen=True)
class EvalReport:
    """Every contender's results over the same gold set, in the order the contenders were given."""

    golds: tuple[str, ...]
    contenders: tuple[ContenderResult, ...] = field(default_factory=tuple)

    def contender(self, label: str) -> ContenderResult:
        """The result of the contender with this label (`KeyError` if there is none)."""
        for c in self.contenders:
            if c.label == label:
                return c
        raise KeyError(label)

    def min_f1(self) -> float:
        """The lowest overall F1 across contenders (1.0 when there are none)."""
        return min((c.combined.overall.f1 for c in self.contenders), default=1.0)

    def to_dict(self) -> dict[str, Any]:
        """Every figure per document and overall, per contender (JSON-ready)."""
        return {"gold": list(self.golds), "contenders": [c.to_dict() for c in self.contenders]}

    def table(self, *, per_document: bool = False) -> Table:
        """The contenders side by side; `per_document` adds each gold file's overall F1."""
        cs = self.contenders
        table = Table(title=f"reportsum eval: {len(self.golds)} gold documents")
        table.add_column("metric")
        for c in cs:
            table.add_column(c.label, justify="right")

        def row(name: str, values: Iterable[str], *, end_section: bool = False) -> None:
            table.add_row(name, *values, end_section=end_section)

        def prf(p: PRF) -> str:
            return f"{_fmt(p.precision)} / {_fmt(p.recall)} / {_fmt(p.f1)}  {p.ratio:.2f}x"

        for name in SECTIONS:
            row(f"{name} P/R/F1 pred/gold", (prf(c.combined.sections[name]) for c in cs))
        row("overall P/R/F1 pred/gold", (prf(c.combined.overall) for c in cs))
        row("items matched/gold/predicted", (
            f"{c.combined.overall.matched}/{c.combined.overall.gold}/{c.combined.overall.predicted}"
            for c in cs
        ))
        row("number recall", (_fmt(c.combined.numbers.recall) for c in cs))
        row("number precision", (_fmt(c.combined.numbers.precision) for c in cs), end_section=True)
        if per_document:
            for k, gold in enumerate(self.golds):
                row(f"F1 {gold}", (
                    _fmt(c.documents[k].score.overall.f1) + ("" if c.documents[k].found else " (missing)")
                    for c in cs
                ))
            table.rows[-1].end_section = True
        row("rejected", (str(c.rejected) for c in cs))
        row("calls", (str(c.usage.calls) for c in cs))
        row("tokens", (str(c.usage.total_tokens) for c in cs))
        row("cache hits", (str(c.usage.cache_hits) for c in cs))
        row("seconds", ("—" if c.seconds is None else f"{c.seconds:.2f}" for c in cs))
        return table


# ---------------------------------------------------------------- evaluation


def _gold_label(gold: GoldDocument) -> str:
    return f"{gold.gold_path.parent.name}/{gold.gold_path.stem}"


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Index:
    """Summaries looked up by (resolved path, report index), falling back to the file's sha256.

    The sha256 fallback finds a stored run's reports when it was made from another working
    directory (its sources are the path strings as given then).
    """

    def __init__(self, summaries: Iterable[DocumentSummary]) -> None:
        self.by_path: dict[tuple[Path, int], DocumentSummary] = {}
        self.by_sha: dict[tuple[str, int], DocumentSummary] = {}
        for s in summaries:
            self.by_path.setdefault((Path(s.document.source).resolve(), s.document.index), s)
            self.by_sha.setdefault((s.document.sha256, s.document.index), s)

    def find(self, gold: GoldDocument) -> DocumentSummary | None:
        hit = self.by_path.get((gold.document_path.resolve(), gold.doc_index))
        if hit is None and gold.document_path.is_file():
            hit = self.by_sha.get((_file_sha256(gold.document_path), gold.doc_index))
        return hit


def _score(golds: Sequence[GoldDocument], index: _Index) -> tuple[DocumentResult, ...]:
    out: list[DocumentResult] = []
    for gold in golds:
        summary = index.find(gold)
        if summary is None:
            score = score_document({name: gold.section(name) for name in SECTIONS}, {})
        else:
            score = score_summary(gold, summary)
        out.append(DocumentResult(
            gold=_gold_label(gold),
            document=str(gold.document_path),
            doc_index=gold.doc_index,
            score=score,
            found=summary is not None,
            rejected=len(summary.rejected) if summary is not None else 0,
        ))
    return tuple(out)


def _result(
    golds: Sequence[GoldDocument],
    contender: Contender,
    row: RunRow,
    summaries: list[DocumentSummary],
    *,
    usage: Usage,
    seconds: float | None,
    failures: Sequence[str],
) -> ContenderResult:
    documents = _score(golds, _Index(summaries))
    return ContenderResult(
        label=contender.label,
        run_id=row.id,
        backend=row.backend,
        model=row.model,
        prompt=row.prompt_name,
        documents=documents,
        combined=combine(d.score for d in documents),
        usage=usage,
        seconds=seconds,
        failures=tuple(failures),
    )


def _run_contender(
    golds: Sequence[GoldDocument], contender: Contender, store: Store, use_cache: bool
) -> ContenderResult:
    assert contender.settings is not None
    settings = resolve_backend(contender.settings)
    paths = list(dict.fromkeys(g.document_path.resolve() for g in golds))
    batch = run_batch(store, settings, paths=paths, command="eval", use_cache=use_cache)
    summaries = [d for o in batch.outcomes if o.summary is not None for d in o.summary.documents]
    return _result(golds, contender, store.run(batch.run_id), summaries, usage=batch.usage,
                   seconds=batch.seconds, failures=batch.failures)


def _stored_contender(
    golds: Sequence[GoldDocument], contender: Contender, store: Store
) -> ContenderResult:
    assert contender.run_id is not None
    row = store.run(contender.run_id)
    return _result(
        golds, contender, row, store.results(row.id),
        usage=Usage.model_validate(row.usage) if row.usage else Usage(),
        seconds=None,
        failures=[f"{source}: {error}" for source, error in store.failures(row.id)],
    )


def evaluate(
    golds: Sequence[GoldDocument],
    contenders: Sequence[Contender],
    store: Store,
    *,
    use_cache: bool = True,
) -> EvalReport:
    """Score every contender on `golds` (see the module docstring).

    Raises `EvalError` when there is no gold or no contender, a contender has both or neither
    of `settings` and `run_id`, or two contenders share a label; `StoreError` for an unknown
    run id; `ConfigError` for settings that can't work.
    """
    if not golds:
        raise EvalError("no gold documents to evaluate against")
    if not contenders:
        raise EvalError("no contenders to evaluate")
    labels = [c.label for c in contenders]
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    if duplicates:
        raise EvalError(f"contender labels must be distinct: {', '.join(duplicates)}")
    for c in contenders:
        if (c.settings is None) == (c.run_id is None):
            raise EvalError(f"contender {c.label!r}: give exactly one of settings or a run id")
    results = tuple(
        _run_contender(golds, c, store, use_cache) if c.settings is not None
        else _stored_contender(golds, c, store)
        for c in contenders
    )
    return EvalReport(golds=tuple(_gold_label(g) for g in golds), contenders=results)


# ---------------------------------------------------------------- floor


def _floor_entry(
    name: str, entry: Any, where: Path
) -> tuple[float | None, Mapping[str, float], float | None]:
    if not isinstance(entry, dict):
        raise EvalError(f"{where}: floor {name!r} must be an object")
    overall = entry.get("overall_f1")
    sections = entry.get("per_section", {})
    max_ratio = entry.get("max_ratio")
    if overall is not None and not isinstance(overall, int | float):
        raise EvalError(f"{where}: {name}.overall_f1 must be a number")
    if max_ratio is not None and not isinstance(max_ratio, int | float):
        raise EvalError(f"{where}: {name}.max_ratio must be a number")
    if not isinstance(sections, dict) or not all(
        s in SECTIONS and isinstance(v, int | float) for s, v in sections.items()
    ):
        raise EvalError(
            f"{where}: {name}.per_section must map sections ({', '.join(SECTIONS)}) to numbers"
        )
    return overall, sections, max_ratio


def check_floor(report: EvalReport, floor_path: Path, gold_set: str | None = None) -> list[str]:
    """Failures of `report` against a floor file (empty when every figure is at or above it).

    The file is `{"rules": {"overall_f1": X, "per_section": {"achievements": Y, ...},
    "max_ratio": R}}`; each key names contenders by label or by backend. A floor no contender
    matches is a failure, so a floor can't pass by being skipped. `max_ratio` bounds the
    predicted-to-gold item ratio. A file with floors per gold set,
    `{"gold_sets": {"seeds": {"rules": {...}}, "long": {...}}}`, is read for `gold_set` (the
    set's folder name under eval/gold), so one set cannot hide another.
    """
    try:
        data = json.loads(Path(floor_path).read_text(encoding="utf-8"))
    except OSError as e:
        raise EvalError(f"{floor_path}: cannot read floor file: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise EvalError(f"{floor_path}: not a JSON file: {e}") from None
    if not isinstance(data, dict) or not data:
        raise EvalError(f"{floor_path}: expected an object mapping contender names to floors")
    if "gold_sets" in data:
        sets = data["gold_sets"]
        if gold_set is None or not isinstance(sets, dict) or gold_set not in sets:
            known = ", ".join(sets) if isinstance(sets, dict) else ""
            raise EvalError(f"{floor_path}: no floor for gold set {gold_set!r} (floors: {known})")
        data = sets[gold_set]
        if not isinstance(data, dict) or not data:
            raise EvalError(f"{floor_path}: gold set {gold_set!r} must map contender names to floors")
    failures: list[str] = []
    for name, entry in data.items():
        overall, sections, max_ratio = _floor_entry(name, entry, Path(floor_path))
        matched = [c for c in report.contenders if name in (c.label, c.backend)]
        if not matched:
            failures.append(f"floor {name!r}: no contender with that label or backend")
        for c in matched:
            if overall is not None and c.combined.overall.f1 < overall:
                failures.append(
                    f"{c.label}: overall F1 {c.combined.overall.f1:.3f} is below the floor {overall:.3f}"
                )
            for section, low in sections.items():
                f1 = c.combined.sections[section].f1
                if f1 < low:
                    failures.append(f"{c.label}: {section} F1 {f1:.3f} is below the floor {low:.3f}")
            if max_ratio is not None and c.combined.overall.ratio > max_ratio:
                failures.append(
                    f"{c.label}: {c.combined.overall.ratio:.2f} predicted items per gold item is "
                    f"above the limit {max_ratio:.2f}"
                )
    return failures
