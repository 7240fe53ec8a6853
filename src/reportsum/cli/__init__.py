"""The `reportsum` command: a thin typer layer over the Python API.

Each verb lives in a module of this package and is a few lines over a library function;
options are declared once in `common`. Only this package prints or exits.
Exit codes: 0 all done, 1 some input failed (or, for verify, some number ungrounded),
2 usage or configuration error.
"""

from __future__ import annotations

import sys

from reportsum.cli.common import app, err, use_help_style

# Each module registers its verbs; `reportsum --help` lists them in this order.
# isort: off
from reportsum.cli import summarise  # noqa: E402, F401
from reportsum.cli import history  # noqa: E402, F401
from reportsum.cli import check  # noqa: E402, F401
from reportsum.cli import export  # noqa: E402, F401
# isort: on
use_help_style()

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `reportsum` script."""
    try:
        app(prog_name="reportsum")  # also under `python -m reportsum`
    except KeyboardInterrupt:
        err("reportsum: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
