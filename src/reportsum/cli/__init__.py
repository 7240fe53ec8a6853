"""The `reportsum` command: a thin typer layer over the Python API.

Each verb lives in a module of this package and is a few lines over a library function;
options are declared once in `common`. Only this package prints or exits.
Exit codes: 0 all done, 1 some input failed (or, for verify, some number ungrounded),
2 usage or configuration error.
"""

from __future__ import annotations

import sys

import typer

from reportsum.cli.common import app, err, use_help_style

# Each module registers its verbs; `reportsum --help` lists them in this order.
# isort: off
from reportsum.cli import summarise  # noqa: E402, F401
from reportsum.cli import history  # noqa: E402, F401
from reportsum.cli import check  # noqa: E402, F401
from reportsum.cli import export  # noqa: E402, F401
from reportsum.cli import batch  # noqa: E402, F401
# isort: on
use_help_style()

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `reportsum` script. A usage error (unknown option, bad choice, missing
    argument) is one line on stderr and exit 2, like every other error of ours."""
    try:
        from typer import _click as click  # typer >= 0.22 carries its own click
    except ImportError:  # pragma: no cover - older typer on click
        import click  # type: ignore[no-redef]
    try:
        code = app(prog_name="reportsum", standalone_mode=False)  # also under `python -m reportsum`
    except click.exceptions.ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            if exc.format_message().strip():  # rich help is already printed; plain help is not
                exc.show()
        else:
            ctx = getattr(exc, "ctx", None)
            see = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            err(f"reportsum: error: {exc.format_message()}{see}")
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err("reportsum: interrupted")
        sys.exit(130)
    if code == 130:  # typer turns Ctrl-C into exit 130
        err("reportsum: interrupted")
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
