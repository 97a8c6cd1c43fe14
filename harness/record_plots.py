"""Plots of one run record: hypervolume against cumulative carbon, and GPU allocation against intensity."""

from __future__ import annotations

import math
from pathlib import Path

from harness.errors import HarnessError
from harness.plotting import new_figure, save_png
from harness.results import RunRecord

PLOTTED = ("start_h", "end_h", "cum_carbon_g", "hv", "ci", "train_gpus", "oneshot_gpus")
"""The interval columns the plots read; each must be a finite number in every row."""


def plot_hv_vs_carbon(record: RunRecord, path: str | Path) -> Path:
    rows = record.intervals
    figure = new_figure(6.5, 4.0)
    axes = figure.add_subplot()
    carbon_kg = [0.0] + [r["cum_carbon_g"] / 1000.0 for r in rows]
    hv = [0.0] + [r["hv"] for r in rows]  # an interval's HV counts from the carbon at its end (as in study curves)
    axes.step(carbon_kg, hv, where="post", color="tab:blue", label=record.spec["method"])
    hv_max = record.provenance["benchmark"]["hv_max"]
    axes.axhline(hv_max, color="grey", ls="--", lw=0.8, label=f"HV_max {hv_max:.1f}")
    axes.set_xlabel("cumulative carbon (kg CO$_2$eq)")
    axes.set_ylabel("hypervolume")
    axes.set_title(f"{record.spec['benchmark']} on {record.provenance['trace']['region']}, seed {record.spec['seed']}")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return save_png(figure, path)


def plot_allocation_vs_intensity(record: RunRecord, path: str | Path) -> Path:
    rows = record.intervals
    figure = new_figure(8.0, 4.0)
    axes = figure.add_subplot()
    starts = [r["start_h"] for r in rows]
    widths = [r["end_h"] - r["start_h"] for r in rows]
    train = [r["train_gpus"] for r in rows]
    oneshot = [r["oneshot_gpus"] for r in rows]
    axes.bar(starts, train, widths, align="edge", color="tab:red", alpha=0.7, label="training GPUs")
    axes.bar(starts, oneshot, widths, bottom=train, align="edge", color="tab:cyan", alpha=0.7, label="one-shot GPUs")
    axes.set_xlabel("simulated hour")
    axes.set_ylabel("GPUs")
    axes.set_ylim(0, record.spec["gpus"] + 0.5)
    ci_axes = axes.twinx()
    ci_axes.step([*starts, rows[-1]["end_h"]], [r["ci"] for r in rows] + [rows[-1]["ci"]], where="post", color="k")
    ci_axes.set_ylabel("carbon intensity (g/kWh)")
    axes.legend(loc="upper left", fontsize="small")
    axes.set_title(f"{record.spec['method']}: allocation vs carbon intensity ({record.provenance['trace']['region']})")
    return save_png(figure, path)


def check_plottable(record: RunRecord) -> None:
    """One HarnessError line unless the record has intervals whose plotted columns are finite numbers and an HV_max."""
    if not record.intervals:
        raise HarnessError("the record has no allocation intervals to plot")
    for i, row in enumerate(record.intervals):
        for column in PLOTTED:
            value = row.get(column)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise HarnessError(f"the record's intervals row {i} has no finite number in column {column!r}")
    hv_max = record.provenance.get("benchmark", {}).get("hv_max") if isinstance(record.provenance, dict) else None
    if isinstance(hv_max, bool) or not isinstance(hv_max, int | float):
        raise HarnessError("the record's provenance has no benchmark HV_max to plot against")


def write_plots(record: RunRecord, folder: str | Path, stem: str) -> list[Path]:
    """Both plots of `record` into `folder` (its intervals checked first: one error line, no file written)."""
    check_plottable(record)
    folder = Path(folder)
    return [
        plot_hv_vs_carbon(record, folder / f"{stem}_hv_vs_carbon.png"),
        plot_allocation_vs_intensity(record, folder / f"{stem}_allocation.png"),
    ]
