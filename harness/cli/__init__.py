"""`harness`: the command line. Commands live in one module per area; plugins (CE-NAS's own commands, third-party
packages) add theirs through the command registry (`harness.methods.command_plugins`)."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from harness.cli import (  # noqa: F401 - each registers its commands
    catalog,
    data,
    forecast,
    leaderboard,
    runs,
    spotcheck,
    studies,
    submissions,
)
from harness.cli.common import app, err
from harness.errors import HarnessError
from harness.methods import load_command_plugins

load_command_plugins(app)


def main() -> None:
    """Console entry point: user errors and OS errors become one `error:` line on stderr and exit status 2."""
    from harness.errors import os_error
    from harness.process import one_malloc_arena

    one_malloc_arena()  # before any library starts a thread
    try:
        code = app(standalone_mode=False)  # usage errors come back as exceptions: one line below, not a panel
    except TyperException as exc:  # bad usage: unknown option or command, a value of the wrong type, ...
        ctx = getattr(exc, "ctx", None)
        if not exc.format_message().strip():  # a group called without arguments: its help was printed
            sys.exit(exc.exit_code)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(" ".join(exc.format_message().split()) + hint)
    except typer.Abort:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except HarnessError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(str(os_error(exc, "operating-system error")))
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)


def _fail(message: str) -> None:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(2)


__all__ = ["app", "main"]
