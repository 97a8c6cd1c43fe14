"""Shared pieces of the `harness` command line: the app, the consoles and small table helpers."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    help="`harness`: run carbon-aware NAS benchmarks and studies, manage their data, inspect benchmarks, methods and "
    "carbon traces.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def _version(value: bool) -> None:
    if value:
        from harness import __version__

        out.print(f"cenas-bench {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_version
    ),
) -> None:
    """`harness`: run carbon-aware NAS benchmarks and studies, manage their data, inspect benchmarks, methods and
    carbon traces."""


def sub_app(name: str, help: str) -> typer.Typer:
    """A command group `harness NAME ...`."""
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def print_named_list(title: str, key: str, rows: list[tuple[str, str]], second: str = "description") -> None:
    """A two-column table: a key column that never wraps and a text column (both printed literally)."""
    table = Table(title=title)
    table.add_column(key, no_wrap=True)
    table.add_column(second)
    for name, description in rows:
        table.add_row(escape(name), escape(description))
    out.print(table)


def print_registry(registry: Any, title: str, key: str = "name", mark: Callable[[str], str] | None = None) -> None:
    """Every `harness ... list` command: a registry's names and descriptions (`mark(name)` appends a note)."""
    rows = [(name + (mark(name) if mark else ""), description) for name, description in registry.rows()]
    print_named_list(title, key, rows)


@contextmanager
def progress_reporter(description: str, total: int, every_s: float = 10.0) -> Iterator[Callable[[int, str], None]]:
    """`report(done, note)` for long work: a transient rich bar on a terminal, else a plain stderr line at most
    every `every_s` seconds (and at the end)."""
    start = time.monotonic()
    last = [start]  # plain lines: the first after every_s, so short work prints only its end
    if err.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(description, total=total, note="")
            yield lambda done, note: bar.update(task, completed=done, note=note)
        return

    def plain(done: int, note: str) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            err.print(f"{description}: {done}/{total} after {now - start:.0f} s; {note}", markup=False)

    yield plain
