"""Layout rules: data flows one way; the harness reaches `cenas/` and `baselines/` only through the registries."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_harness_never_imports_methods_directly() -> None:
    offenders = {
        str(path.relative_to(HARNESS.parent)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in ("cenas", "baselines")
        )
        for path in HARNESS.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_cenas_and_the_baselines_register_as_plugins() -> None:
    """Issue 33: no import target naming `cenas` or `baselines` in the harness's code either (registrations by
    string were how it named them); both register through the entry-point groups an outside package uses."""
    import re
    import tomllib
    from importlib.metadata import entry_points

    targets = re.compile(r"[\"'](cenas|baselines)\.[a-z_.]+:[A-Za-z_]+[\"']")
    named = {str(p.relative_to(HARNESS.parent)): targets.findall(p.read_text()) for p in HARNESS.rglob("*.py")}
    assert {k: v for k, v in named.items() if v} == {}
    declared = tomllib.loads((HARNESS.parent / "pyproject.toml").read_text())["project"]["entry-points"]
    installed = {(p.group, p.name): p.value for g in declared for p in entry_points(group=g)}
    for group, points in declared.items():
        for name, value in points.items():
            assert installed.get((group, name)) == value, f"{group} {name}: reinstall (pip install --no-deps -e .)"
    from harness.methods import METHODS

    assert {e.target.split(":")[0].split(".")[0] for e in METHODS.values()} == {"cenas", "baselines"}


# ------------------------------------------------------------------------------------------------------ layers
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base",
        (
            "harness",
            "harness.errors",
            "harness.units",
            "harness.io",
            "harness.registry",
            "harness.options",
            "harness.config",
            "harness.process",
            "harness.inference",
            "harness.plotting",
            "harness.metrics",
            "harness.spaces",
        ),
    ),
    ("data", ("harness.data",)),
    ("benchmarks", ("harness.benchmarks",)),
    ("carbon", ("harness.carbon",)),
    ("sim", ("harness.sim",)),
    ("methods", ("harness.methods",)),
    (
        "runner",
        (
            "harness.runner",
            "harness.results",
            "harness.audit",
            "harness.record_plots",
            "harness.envs",
            "harness.testing",
            "harness.spotcheck",
        ),
    ),
    ("studies", ("harness.studies", "harness.goldens", "harness.quality", "harness.submissions")),
    ("leaderboard", ("harness.leaderboard",)),
    ("cli", ("harness.cli",)),
)
"""Data flows one way: a module may import its own layer and the layers above it in this list, never one below."""


def module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_layer(module: str) -> int:
    """Index of the layer `module` belongs to (the longest matching prefix)."""
    best, found = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    if found < 0:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return found


def all_imports(source: str, package: str, targets: bool = False) -> set[str]:
    """Every harness module `source` imports, at module level or inside functions (lazy imports too); with
    `targets`, also the `module:attribute` targets it names for the registries (imported by name on first use)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = (
                node.module
                if node.level == 0
                else ".".join([*package.split(".")[: -node.level + 1 or None], node.module])
            )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif targets and isinstance(node, ast.Constant) and isinstance(node.value, str) and ":" in node.value:
            found.add(node.value.partition(":")[0])
    return {m for m in found if m == "harness" or m.startswith("harness.")}


def import_graph(targets: bool = False) -> dict[str, set[str]]:
    """harness module -> the harness modules it imports (names that are attributes, not modules, dropped), with
    `targets` also those its registry entries name."""
    modules = {module_name(p): p for p in HARNESS.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = all_imports(path.read_text(encoding="utf-8"), package, targets)
        graph[name] = {m for m in found if m in modules} - {name}
    return graph


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{a} ({LAYERS[module_layer(a)][0]}) imports {b} ({LAYERS[module_layer(b)][0]})"
        for a, targets in graph.items()
        for b in targets
        if module_layer(b) > module_layer(a)
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """A cycle of imports if there is one (its modules, sorted), else []; a package importing its own submodules
    (re-exports) is no cycle."""
    from graphlib import CycleError, TopologicalSorter

    edges = {a: {b for b in targets if not b.startswith(a + ".")} for a, targets in graph.items()}
    try:
        tuple(TopologicalSorter(edges).static_order())
    except CycleError as exc:
        return [sorted(set(exc.args[1]))]
    return []


def test_data_flows_one_way_through_the_layers() -> None:
    """No module imports a layer below its own, not even lazily or through a registry entry's name; and no imports
    form a cycle (a registry naming a module that builds on it is the plugin pattern, not a cycle)."""
    assert layer_violations(import_graph(targets=True)) == []
    assert cycles(import_graph()) == []


def test_the_layer_check_sees_an_inverted_lazy_import() -> None:
    """A benchmark that imports the runner inside a function (the kind of lazy import that hid the old cycles) is
    caught, and so is a cycle of two modules."""
    graph = import_graph()
    source = "def f():\n    from harness.runner import execute\n    return execute\n"
    graph["harness.benchmarks.nb201"] = graph["harness.benchmarks.nb201"] | (
        all_imports(source, "harness.benchmarks") & set(graph)
    )
    assert layer_violations(graph) == ["harness.benchmarks.nb201 (benchmarks) imports harness.runner (runner)"]
    graph = import_graph()
    graph["harness.errors"] = graph["harness.errors"] | {"harness.io"}  # io imports errors: now a cycle
    assert ["harness.errors", "harness.io"] in cycles(graph)


def test_the_package_reads_no_paths_inside_tests() -> None:
    """Goldens and quality baselines are package data (`harness/expected/`), not files under `tests/`."""
    offenders = [
        str(p.relative_to(HARNESS.parent))
        for p in HARNESS.rglob("*.py")
        if '/ "tests"' in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
    from harness import goldens, quality

    assert goldens.GOLDEN_FILE.is_file() and goldens.GOLDEN_FILE.is_relative_to(HARNESS)
    assert quality.BASELINE_DIR.is_dir() and quality.BASELINE_DIR.is_relative_to(HARNESS)


def test_plugin_commands_are_registered() -> None:
    from typer.main import get_command

    from harness.cli import app

    names = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert {"run", "show", "sweep", "study", "data", "methods", "registries", "rl"} <= names


def test_every_lookup_by_name_goes_through_one_registry_with_one_error() -> None:
    import pytest

    from harness.benchmarks import get_benchmark
    from harness.carbon.forecast import make_forecaster
    from harness.carbon.traces import WINDOWS
    from harness.errors import HarnessError
    from harness.methods import method_class
    from harness.registry import ALL
    from harness.sim.accounting import get_profile
    from harness.studies.spec import study_path

    assert {
        "benchmark",
        "method",
        "accounting profile",
        "trace window",
        "forecaster",
        "study",
        "report",
        "command plugin",
    } <= set(ALL)
    lookups = [
        (get_benchmark, "benchmark"),
        (method_class, "method"),
        (get_profile, "accounting profile"),
        (make_forecaster, "forecaster"),
        (study_path, "study"),
        (WINDOWS.get, "trace window"),
    ]
    for lookup, kind in lookups:
        with pytest.raises(HarnessError, match=rf"^unknown {kind} 'nope'; known: .* \(see `harness "):
            lookup("nope")
