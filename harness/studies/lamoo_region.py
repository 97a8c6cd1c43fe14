"""HotCarbon §4.2 table (`report = "lamoo-region"`): per seed and as means, accuracy and cost of architectures from
the LaMOO-selected region against the whole space (the `lamoo-region` analysis, `cenas/lamoo_check.py`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from harness.io import atomic_write_text

COLUMNS = ("leaf_samples", "region_acc", "space_acc", "region_cost", "space_cost", "region_hv", "space_hv")
PAPER = "HotCarbon reported 72.12 vs 68.28 % accuracy and 16.59 vs 22.84 mJ (Jetson TX2) on its own table"


def verdict(mean: pd.Series) -> str:
    better_acc, better_cost = mean["region_acc"] > mean["space_acc"], mean["region_cost"] < mean["space_cost"]
    if better_acc and better_cost:
        return "better on both"
    return (
        "better cost, not better accuracy"
        if better_cost
        else ("better accuracy, not better cost" if better_acc else "better on neither")
    )


def markdown(study: dict[str, Any], frame: pd.DataFrame) -> str:
    options = study.get("analysis_options", {})
    lines = [
        f"# LaMOO region vs whole space (`{study['name']}`)",
        "",
        f"{study['description']}. Options {json.dumps(options, sort_keys=True)}; regenerate: "
        f"`harness sweep {study['name']}`.",
        "",
    ]
    for benchmark, group in frame.groupby("benchmark", sort=False):
        unit = group["cost_unit"].iloc[0]
        header = (
            "| seed | leaf samples | acc region (%) | acc space (%) "
            f"| cost region ({unit}) | cost space ({unit}) | HV region | HV space |"
        )
        lines += [f"## {benchmark}", "", header, "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        mean = group[list(COLUMNS)].mean()
        for row in [*group.to_dict("records"), {"seed": "mean", **mean.to_dict()}]:
            lines.append(
                f"| {row['seed']} | {row['leaf_samples']:.1f} | {row['region_acc']:.2f} | {row['space_acc']:.2f} "
                f"| {row['region_cost']:.3f} | {row['space_cost']:.3f} | {row['region_hv']:.1f} "
                f"| {row['space_hv']:.1f} |"
            )
        lines += ["", f"The region is {verdict(mean)}; {PAPER}.", ""]
    return "\n".join(lines)


def write(study: dict[str, Any], folder: Path, frame: pd.DataFrame, out: Path) -> list[Path]:
    """lamoo_region.md (the table per benchmark)."""
    path = out / "lamoo_region.md"
    atomic_write_text(path, markdown(study, frame))
    return [path]
