"""String registry of search methods: name -> "module:Class" plus a one-line description, all plugins.

CE-NAS (`cenas/registry.py`) and the baselines (`baselines/registry.py`) register their methods through the
entry-point group `cenas_bench.methods`, like any third-party package; the harness imports them by string only when
asked, so it never depends on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.options import flatten, parse_options
from harness.registry import Entry, Registry, import_target

if TYPE_CHECKING:
    from harness.sim.method import Method


@dataclass(frozen=True)
class MethodEntry:
    name: str
    target: str  # "module:Class"
    description: str
    defaults: tuple[tuple[str, Any], ...] = ()  # (dotted option key, value): the entry's overrides
    benchmark: str | None = None  # the benchmark `harness run` uses when none is given (None: the global default)
    paper: str | None = None  # the work it implements, as cited on its method card


def first_paragraph(obj: Any) -> str:
    """The first paragraph of `obj`'s docstring on one line ("" without one): what describes a method class."""
    return " ".join((getattr(obj, "__doc__", None) or "").strip().split("\n\n")[0].split())


def _plugin_method(point: Any) -> Entry[MethodEntry]:
    """A method entry point: a `MethodEntry` (a registry variant: a class with defaults, description and paper, as
    CE-NAS and the baselines register theirs) or a Method class (its docstring's first line describes it)."""
    target = import_target(point.value)
    if isinstance(target, MethodEntry):
        if target.name != point.name:
            raise HarnessError(f"method entry point {point.name} ({point.value}) is the entry of {target.name!r}")
        return Entry(point.name, target.description, value=target)
    doc = first_paragraph(target)
    entry = MethodEntry(point.name, point.value, doc or f"plugin ({point.value})", paper=getattr(target, "paper", None))
    return Entry(point.name, entry.description, value=entry)


METHODS: Registry[MethodEntry] = Registry("method", "methods list", group="cenas_bench.methods", plugin=_plugin_method)
"""Method name -> MethodEntry. Every method is a plugin of the entry-point group `cenas_bench.methods` (target a
`MethodEntry` or "module:Class"), CE-NAS's and the baselines' included (pyproject.toml), so the harness imports
neither `cenas` nor `baselines`."""


def registry() -> dict[str, MethodEntry]:
    """Built-in methods plus those registered by installed plugins."""
    return {name: entry.load() for name, entry in METHODS.entries().items()}


def default_benchmark(name: str) -> str:
    """The benchmark a method runs on when the user names none: its own (SEMOA: EC-NAS) or the global default."""
    from harness.benchmarks import DEFAULT_BENCHMARK

    entry = registry().get(name)
    return entry.benchmark if entry and entry.benchmark else DEFAULT_BENCHMARK


def method_class(name: str) -> type[Method]:
    """The class behind registry entry `name` (imported on demand)."""
    from harness.sim.method import Method

    target = METHODS.get(name).target
    cls: Any = import_target(target)
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise HarnessError(f"method {name}: {target} is not a harness Method")
    return cls


def resolve_options(name: str, options: Mapping[str, Any] | None = None) -> Any:
    """Method `name`'s typed options: its class defaults, then the registry entry's, then `options` (validated)."""
    cls = method_class(name)
    merged = dict(registry()[name].defaults) | flatten(options or {})
    return parse_options(cls.Options, merged, name)


def create_method(name: str, options: Mapping[str, Any] | None = None) -> Method:
    """Instantiate method `name` with its defaults overridden by `options` (dotted keys or nested mappings)."""
    method = method_class(name)(resolve_options(name, options))
    method.name = name
    return method


COMMANDS: Registry[Any] = Registry("command plugin", "registries", group="cenas_bench.commands")
"""Command plugins: "module:function", each called with the `harness` Typer app (entry-point group
`cenas_bench.commands`; CE-NAS's `harness rl` commands are one)."""


def load_command_plugins(app: Any) -> None:
    """Let every command plugin add its commands to `app` (imported by string, like methods)."""
    for register in COMMANDS.values():
        register(app)
