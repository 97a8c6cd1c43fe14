"""One registry mechanism for everything the harness looks up by name: benchmarks, methods, power profiles, trace
windows, forecasters, studies, reports, command plugins (and, in `cenas/`, allocation policies).

A `Registry` maps a name to an `Entry`: a one-line description and either a value, a factory called on first use, or
a `module:attribute` target imported on first use (how the harness reaches `cenas/` and `baselines/` without importing
them). Installed packages add entries through an entry-point group. Every registry answers an unknown name with the
same one-line error, and every `harness ... list` command prints one with the same code (`harness.cli.common`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")
_UNSET: Any = object()


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered name: its description and how to get its value."""

    name: str
    description: str
    value: Any = _UNSET
    factory: Callable[[], T] | None = field(default=None, repr=False)
    target: str | None = None  # "module:attribute", imported on first use

    def load(self) -> T:
        if self.value is not _UNSET:
            return self.value  # type: ignore[no-any-return]
        if self.factory is not None:
            return self.factory()
        if self.target is not None:
            return import_target(self.target)  # type: ignore[no-any-return]
        raise HarnessError(f"{self.name}: registered without a value")


@functools.cache
def import_target(target: str) -> Any:
    """The object named by "module:attribute" (imported on first use; a one-line error if it cannot be)."""
    module_name, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise HarnessError(f"cannot load {target} ({exc})") from None


class Registry(Generic[T]):
    """Named entries of one kind. `kind` names it in errors; `command` is the `harness` command that lists it."""

    def __init__(
        self, kind: str, command: str, group: str | None = None, plugin: Callable[[Any], Entry[T]] | None = None
    ) -> None:
        self.kind, self.command, self.group = kind, command, group
        self._plugin = plugin or (lambda point: Entry(point.name, f"plugin ({point.value})", target=point.value))
        self._entries: dict[str, Entry[T]] = {}
        self._plugin_entries: dict[str, Entry[T]] | None = None
        ALL[kind] = self

    def add(
        self,
        name: str,
        description: str,
        value: Any = _UNSET,
        factory: Callable[[], T] | None = None,
        target: str | None = None,
    ) -> Entry[T]:
        """Register `name` (a second registration of a name is an error)."""
        if name in self._entries:
            raise HarnessError(f"{self.kind} '{name}' is registered twice")
        entry: Entry[T] = Entry(name, description, value, factory, target)
        self._entries[name] = entry
        return entry

    def entries(self) -> dict[str, Entry[T]]:
        """Registered entries, then those of installed plugins (entry-point group), in registration order."""
        found = dict(self._entries)
        for name, entry in self._plugins().items():
            found.setdefault(name, entry)
        return found

    def _plugins(self) -> dict[str, Entry[T]]:
        """The installed plugins' entries, discovered once per process (scanning the installed packages' metadata
        costs ~8 ms, and lookups sit on every run's path)."""
        if self._plugin_entries is None:
            self._plugin_entries = {}
            for point in entry_points(group=self.group) if self.group else ():
                self._plugin_entries.setdefault(point.name, self._plugin(point))
        return self._plugin_entries

    def entry(self, name: str) -> Entry[T]:
        entries = self.entries()
        if name not in entries:
            raise HarnessError(
                f"unknown {self.kind} '{name}'; known: {', '.join(sorted(entries))} (see `harness {self.command}`)"
            )
        return entries[name]

    def get(self, name: str) -> T:
        return self.entry(name).load()

    def __contains__(self, name: object) -> bool:
        return name in self.entries()

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self.entries())

    def values(self) -> list[T]:
        return [e.load() for e in self.entries().values()]

    def rows(self) -> list[tuple[str, str]]:
        """(name, description) of every entry, for listings."""
        return [(e.name, e.description) for e in self.entries().values()]


ALL: dict[str, Registry[Any]] = {}
"""Every registry by kind (`harness registries` lists them)."""
