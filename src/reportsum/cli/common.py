"""What every verb shares: the typer app, option types declared once, messages and exit codes.

Exit codes: 0 all done, 1 some input failed (or, for verify, some number ungrounded),
2 usage or configuration error.
"""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Callable
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from reportsum import __version__
from reportsum.backends.base import BackendFatal
from reportsum.models import Usage
from reportsum.pipeline import ConfigError, Settings, resolve_backend
from reportsum.runs.runner import BatchResult, RunInterrupted
from reportsum.runs.store import Store, StoreError, default_store_path

app = typer.Typer(
    name="reportsum",
    no_args_is_help=True,
    # `--install-completion` / `--show-completion` for bash, zsh, fish and PowerShell.
    add_completion=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


# ------------------------------------------------------------------ help as click prints it

_TYPE_NAMES = {"path": "PATH", "str": "TEXT", "int": "INTEGER", "float": "FLOAT"}


def _plain_types(params: list[Any]) -> None:
    for param in params:
        if isinstance(param, TyperArgument):
            param.display_type_rich = _no_type  # type: ignore[method-assign]
        elif hasattr(param, "display_type_rich") and not getattr(param, "_plain", False):
            param.display_type_rich = _value_name(param)
            param._plain = True


class Command(TyperCommand):
    """A verb whose help reads like a well-kept CLI's: `Usage: reportsum summarise [OPTIONS]
    PATH...` (no `{paths}...`), value names such as PATH, TEXT, INTEGER or the choices
    (json|jsonl|md|html), and nothing after a flag (no `<bool>` or `<list[Path]>` tags)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)
        _plain_types(params)
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.params:
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "ARG").upper()
                if param.nargs != 1 and not name.endswith("..."):
                    name += "..."
                pieces.append(name if param.required else f"[{name}]")
        return pieces


def _no_type(ctx: Any) -> None:
    return None


def _value_name(param: TyperOption) -> Any:
    shown = param.display_type_rich

    def display(ctx: Any) -> str | None:
        if param.is_flag or param.count:
            return None
        text = shown(ctx)
        if text is None:
            return None
        inner = text.strip("<>")
        if inner.startswith("list[") and inner.endswith("]"):  # a repeatable option: one value
            inner = inner[5:-1]
        return _TYPE_NAMES.get(inner, inner if "|" in inner else inner.upper())

    return display


class Group(TyperGroup):
    """The `reportsum` group, its own options shown as `Command` shows a verb's."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)
        _plain_types(params)
        return params


def use_help_style() -> None:
    """Give every registered verb the `Command` class (call once all verbs are registered)."""
    app.info.cls = Group
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = Command


# ------------------------------------------------------------------ choices

class Format(StrEnum):
    json = "json"
    jsonl = "jsonl"
    md = "md"
    html = "html"
    xlsx = "xlsx"
    csv = "csv"
    parquet = "parquet"


class TableFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


class ShowFormat(StrEnum):
    json = "json"
    md = "md"


class Mode(StrEnum):
    tools = "tools"
    json = "json"
    md_json = "md_json"
    json_schema = "json_schema"


class Evidence(StrEnum):
    quote = "quote"
    ref = "ref"


class BackendName(StrEnum):
    openai = "openai"
    rules = "rules"


def value(choice: Enum | str | None) -> str | None:
    """The plain string of a choice (typer hands enums over)."""
    return None if choice is None else str(getattr(choice, "value", choice))

RULES_HINT = (
    "reportsum: no model configured, using the offline rules backend. To use a model, give "
    "--base-url/--api-key (or set OPENAI_BASE_URL/OPENAI_API_KEY) and --model (or REPORTSUM_MODEL)."
)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """`text` with control characters escaped (`\\n`, `\\x1b`...): a file name holding a
    newline or an escape sequence cannot break the one-line-per-file log or drive the terminal."""
    def esc(m: re.Match[str]) -> str:
        ch = m.group()
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{ord(ch):02x}")

    return _CONTROL.sub(esc, text)


def err(msg: str) -> None:
    """One line to stderr (control characters escaped)."""
    typer.echo(one_line(msg), err=True)


def echo_stdout(text: str) -> None:
    """Text to stdout, as is (outputs carry their own newlines)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def fail_usage(msg: str) -> typer.Exit:
    """Say what is wrong; the caller raises the returned exit (code 2)."""
    err(f"reportsum: error: {msg}")
    return typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reportsum {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                           help="Show the version and exit.")
    ] = False,
) -> None:
    """Structured, number-grounded summaries of Chinese work reports (工作总结).

    Every number in a summary is checked against the source text. Offline by default (the
    rules backend); give a model with --base-url/--api-key/--model.

    **Example:** reportsum summarise reports/ -o summaries/

    Exit codes: 0 all done; 1 some input failed or was skipped; 2 usage or configuration error.
    """


# ------------------------------------------------------------------ options, declared once

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="SQLite run store (default: $REPORTSUM_HOME/reportsum.db or the "
                 "user data directory)."),
]
BackendOpt = Annotated[
    BackendName | None,
    typer.Option("--backend", help="Default: openai when a base URL or API key is configured, "
                 "otherwise rules (offline).", show_default=False),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name (env REPORTSUM_MODEL).")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).")
]
ApiKeyOpt = Annotated[
    str | None, typer.Option("--api-key", help="API key (env OPENAI_API_KEY). Never logged or stored.")
]
ModeOpt = Annotated[
    Mode, typer.Option("--mode", help="How the model returns structure (see README's table of "
                       "servers and modes).")
]
MaxTokensOpt = Annotated[
    int | None,
    typer.Option("--max-tokens", help="Output budget of each model call, sent with every call. "
                 "Default: the chunk size in characters, at least 1024."),
]
EvidenceOpt = Annotated[
    Evidence, typer.Option("--evidence", help="How the model gives evidence: quote (copies it) or "
                           "ref (cites numbered clauses; reportsum fills in the quote).")
]
ChunkCharsOpt = Annotated[
    int, typer.Option("--chunk-chars", help="Character budget of one chunk sent to the model.")
]
PromptOpt = Annotated[
    str, typer.Option("--prompt", metavar="NAME|PATH",
                      help="Prompt name (see `reportsum prompts`) or a path to a prompt file.")
]
MaxReasksOpt = Annotated[
    int, typer.Option("--max-reasks", help="Times a model is asked to fix ungrounded items (in a "
                      "batch job, each time a follow-up batch).")
]
RetriesOpt = Annotated[
    int, typer.Option("--retries", help="Retries of a failed HTTP call (429, 5xx, timeouts), "
                      "with backoff; Retry-After is honoured.")
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", "-j", help="Model calls in flight at once, across documents.")
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Call the model even when the cache has the answer.")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only errors: no progress, hints or per-file lines.")
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="A line per file even on a terminal, with the "
                       "warnings libraries gave while reading it.")
]


def open_store(path: Path | None, *, create: bool = True) -> Store:
    """The store at `path` (default: the user's). Read-only verbs pass create=False: a store
    that does not exist is an error (exit 2), never an empty one made on the way."""
    try:
        return Store(path or default_store_path(), create=create)
    except StoreError as exc:
        raise fail_usage(str(exc)) from None


def rules_hint(settings: Settings, backend_given: BackendName | str | None, quiet: bool = False) -> None:
    """Say how to use a model, when the rules backend was picked for lack of one (not when
    --backend rules was asked for)."""
    if settings.backend == "rules" and backend_given is None and not quiet:
        err(RULES_HINT)


def settings_or_exit(settings: Settings, *, require_endpoint: bool = True) -> Settings:
    """Resolve the backend of `settings`; a configuration error is a usage error (exit 2)."""
    try:
        return resolve_backend(settings, require_endpoint=require_endpoint)
    except ConfigError as exc:
        raise fail_usage(str(exc)) from None


def usage_text(u: Usage, model: str | None = None, store_folder: Path | None = None) -> str:
    """`N model calls, H cache hits, T tokens (P prompt, C completion, K cached)[, cost X]`."""
    text = (f"{u.calls} model calls, {u.cache_hits} cache hits, {u.total_tokens} tokens "
            f"({u.prompt_tokens} prompt, {u.completion_tokens} completion, {u.cached_tokens} cached)")
    if model and store_folder is not None:
        from reportsum.runs.prices import estimate_cost, load_prices

        cost = estimate_cost(model, u.model_dump(), load_prices(store_folder))
        if cost is not None:
            text += f", cost {cost:.4f}"
    return text


def _stop_like_ctrl_c(*_: object) -> None:
    """SIGTERM: what Ctrl-C does. Through SIGINT's handler (asyncio's, which cancels the run's
    tasks), unless SIGINT is ignored, as a shell ignores it for a background job (`cmd &`,
    inherited by the process): then `kill PID` must still stop the run, so the interrupt is
    raised here."""
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
        raise KeyboardInterrupt
    signal.raise_signal(signal.SIGINT)


def run_guarded(call: Callable[[], BatchResult], *, resume: str) -> BatchResult:
    """Run a batch as the CLI does: SIGTERM stops it like Ctrl-C (recorded as `interrupted`,
    exit 130, with how to resume); an endpoint that refuses every call stops it with exit 2;
    a configuration error is a usage error."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        return call()
    except ConfigError as exc:
        raise fail_usage(str(exc)) from None
    except BackendFatal as exc:
        raise fail_usage(str(exc)) from None
    except RunInterrupted as exc:
        err(f"reportsum: interrupted: run {exc.run_id} recorded as interrupted after {exc.done} "
            f"files; {usage_text(exc.usage)}. To resume: {resume}")
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def finish(result: BatchResult, extra_failures: list[str], skipped: int = 0, unread: int = 0,
           quiet: bool = False, model: str | None = None, store_folder: Path | None = None) -> None:
    """The closing line of a batch: `skipped` inputs already done (resume), `unread` entries
    not read at all (unsupported, broken links... each named on stderr before). Exit 1 when
    any input failed or was not read."""
    done = f", {skipped} skipped (done)" if skipped else ""
    other = f", {unread} skipped" if unread else ""
    bad = bool(result.failures or extra_failures or unread)
    if quiet and not bad:
        return
    err(
        f"reportsum: run {result.run_id}: {len(result.outcomes) - len(result.failures)} of "
        f"{len(result.outcomes) + skipped + unread} files summarised ({result.documents} documents), "
        f"{len(result.failures)} failed{done}{other}; {usage_text(result.usage, model, store_folder)}, "
        f"{result.seconds:.1f}s"
    )
    if bad:
        raise typer.Exit(1)
