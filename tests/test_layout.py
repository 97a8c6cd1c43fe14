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

    assert {"benchmark", "method", "accounting profile", "trace window", "forecaster", "study", "report",
            "command plugin"} <= set(ALL)  # fmt: skip
    lookups = [(get_benchmark, "benchmark"), (method_class, "method"), (get_profile, "accounting profile"),
               (make_forecaster, "forecaster"), (study_path, "study"), (WINDOWS.get, "trace window")]  # fmt: skip
    for lookup, kind in lookups:
        with pytest.raises(HarnessError, match=rf"^unknown {kind} 'nope'; known: .* \(see `harness "):
            lookup("nope")
