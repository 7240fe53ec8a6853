"""What every verb shares: the typer app, option types declared once, messages and exit codes.

Exit codes: 0 all done, 1 some input failed (or, for verify, some number ungrounded),
2 usage or configuration error.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from reportsum import __version__
from reportsum.backends.base import BackendFatal
from reportsum.models import Usage
from reportsum.pipeline import ConfigError, Settings, resolve_backend
from reportsum.runs.runner import BatchResult, RunInterrupted
from reportsum.runs.store import Store, StoreError, default_store_path

app = typer.Typer(
    name="reportsum",
    help="Structured, number-grounded summaries of Chinese work reports (工作总结).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RULES_HINT = (
    "reportsum: no model configured, using the offline rules backend. To use a model, give "
    "--base-url/--api-key (or set OPENAI_BASE_URL/OPENAI_API_KEY) and --model (or REPORTSUM_MODEL)."
)


def err(msg: str) -> None:
    """One line to stderr."""
    typer.echo(msg, err=True)


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
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Structured, number-grounded summaries of Chinese work reports (工作总结)."""


# ------------------------------------------------------------------ options, declared once

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="SQLite run store (default: $REPORTSUM_HOME/reportsum.db or the "
                 "user data directory)."),
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", help="openai or rules. Default: openai when a base URL or API "
                 "key is configured, otherwise rules (offline)."),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name (env REPORTSUM_MODEL).")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).")
]
ApiKeyOpt = Annotated[
    str | None, typer.Option("--api-key", help="API key (env OPENAI_API_KEY). Never logged or stored.")
]
ModeOpt = Annotated[
    str, typer.Option("--mode", help="How the model returns structure: tools, json, md_json or "
                      "json_schema (see README's table of servers and modes).")
]
MaxTokensOpt = Annotated[
    int | None,
    typer.Option("--max-tokens", help="Output budget of each model call, sent with every call. "
                 "Default: the chunk size in characters, at least 1024."),
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", "-j", help="Model calls in flight at once, across documents.")
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Call the model even when the cache has the answer.")
]


def open_store(path: Path | None) -> Store:
    try:
        return Store(path or default_store_path())
    except StoreError as exc:
        raise fail_usage(str(exc)) from None


def settings_or_exit(settings: Settings) -> Settings:
    """Resolve the backend of `settings`; a configuration error is a usage error (exit 2)."""
    try:
        return resolve_backend(settings)
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


def run_guarded(call: Callable[[], BatchResult], *, resume: str) -> BatchResult:
    """Run a batch as the CLI does: SIGTERM stops it like Ctrl-C (recorded as `interrupted`,
    exit 130, with how to resume); an endpoint that refuses every call stops it with exit 2;
    a configuration error is a usage error."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
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


def finish(result: BatchResult, extra_failures: list[str], skipped: int = 0,
           model: str | None = None, store_folder: Path | None = None) -> None:
    """The closing line of a batch; exit 1 when any input failed."""
    done = f", {skipped} skipped (done)" if skipped else ""
    err(
        f"reportsum: run {result.run_id}: {len(result.outcomes) - len(result.failures)} of "
        f"{len(result.outcomes) + skipped} files summarised ({result.documents} documents), "
        f"{len(result.failures)} failed{done}; {usage_text(result.usage, model, store_folder)}, "
        f"{result.seconds:.1f}s"
    )
    if result.failures or extra_failures:
        raise typer.Exit(1)
