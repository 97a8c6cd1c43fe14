"""Studies: grids of runs as data (`spec`), analyses that are not search runs (`analysis`), sweeps into a
content-addressed record store (`sweep`), multi-run aggregation (`aggregate`) and reports (`report`, plus
study-specific ones: `hotcarbon`, `ecnas_points`, `allocation`, `lamoo_region`, `forecast`), registered here by
name and imported only when a study uses them (so listing studies stays fast)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.registry import Registry

REPORTS: Registry[Callable[[dict, Path, Any, Path], list[Path]]] = Registry("report", "registries")
"""Extra reports by name: `report(study as dict, study folder, data, output folder) -> written paths`, where data
is the study's `StudyFrames` (search runs) or its results frame (`harness.studies.analysis.load_analysis`)."""
for _name, _description, _module in (
    ("hotcarbon", "HotCarbon'23 §4 table: mean ± SE per trace and method, carbon vs the reference", "hotcarbon"),
    ("lamoo-region", "HotCarbon §4.2: LaMOO-selected region vs the whole space, per seed and mean", "lamoo_region"),
    ("ecnas-points", "EC-NAS Table 1: extreme and knee points of the final fronts", "ecnas_points"),
    (
        "allocation",
        "held-out allocation table: regret at matched carbon, carbon to 99 %, ρ(intensity, training GPUs)",
        "allocation",
    ),
    ("forecast-accuracy", "forecast MAPE per region and horizon, transformer vs persistence", "forecast"),
):
    REPORTS.add(_name, _description, target=f"harness.studies.{_module}:write")


def load_study(folder: str | Path) -> Any:
    """Tidy anytime data of a study folder, a pandas DataFrame: one row per run x allocation interval (see
    `harness.studies.aggregate`)."""
    from harness.studies.aggregate import load_study as load

    return load(folder)


def load_runs(folder: str | Path) -> Any:
    """One row per run of a study folder, a pandas DataFrame: identity and summary numbers (see
    `harness.studies.aggregate`)."""
    from harness.studies.aggregate import load_runs as load

    return load(folder)


def load_all(results: str | Path = "results") -> Any:
    """Every search-run study under `results`: `harness.studies.aggregate.AllStudies` (runs, tidy, fronts,
    provenance; curves and summary on first use), one `study` column telling them apart."""
    from harness.studies.aggregate import load_all as load

    return load(results)


_PUBLIC = {
    "hv_at": "aggregate",
    "mean_ci": "aggregate",
    "anytime": "aggregate",
    "summary_table": "aggregate",
    "plot_anytime": "plots",
    "plot_fronts": "plots",
    "plot_attainment": "plots",
    "plot_allocation": "plots",
    "attainment": "plots",
}


def __getattr__(name: str) -> Any:
    """The notebook API, imported on first use (listing studies stays fast): aggregation and plotting helpers."""
    if name in _PUBLIC:
        from importlib import import_module

        return getattr(import_module(f"harness.studies.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module 'harness.studies' has no attribute {name!r}")


__all__ = ["REPORTS", "load_all", "load_runs", "load_study", *_PUBLIC]
