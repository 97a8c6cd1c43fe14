"""The HotCarbon'23 §4 comparison table (`report = "hotcarbon"`): per trace and method, mean ± standard error over
seeds of final HV, log10(HV_max - HV), carbon, carbon relative to the reference method, GPU-hours and trainings."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pandas as pd

from harness.io import atomic_write_text
from harness.studies.published import StudyFrames

SUMMARY_KEYS = ("hv", "log_hv_diff", "carbon_g", "gpu_hours", "train_gpu_hours", "energy_kwh", "n_trained")


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (sample standard deviation / sqrt(n)) of `values`, in their units. Computed exactly
    and rounded once (`statistics`), so the same numbers in any order and on any CPU: numpy's reductions sum in an
    order that depends on the CPU's SIMD width (AVX-512 changed the last digit of a committed standard error)."""
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return statistics.fmean(values), se


def rows_from(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per run: trace, method, seed and the summary numbers the table averages."""
    gaps = (runs["hv_max"] - runs["hv"]).tolist()  # math.log10, not numpy's: its AVX-512 log10 differs in the last bit
    frame = runs.assign(log_hv_diff=[math.log10(gap) if gap > 0 else math.nan for gap in gaps])
    keys = ["trace", "method", "seed", *SUMMARY_KEYS]
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in frame[keys].to_dict("records")
    ]


def aggregate(study: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (trace, method): mean and standard error of each summary number, carbon relative to the reference."""
    methods = [m.get("label") or m["name"] for m in study["methods"]]
    table = []
    for trace in study["traces"]:
        group = {m: [r for r in rows if r["trace"] == trace and r["method"] == m] for m in methods}
        reference = mean_se([r["carbon_g"] for r in group[study["reference_method"]]])[0]
        for method in methods:
            entry: dict[str, Any] = {"trace": trace, "method": method, "runs": len(group[method])}
            for key in SUMMARY_KEYS:
                values = [r[key] for r in group[method] if r[key] is not None]
                entry[key], entry[f"{key}_se"] = mean_se(values) if values else (None, None)
            entry["carbon_vs_reference"] = entry["carbon_g"] / reference
            table.append(entry)
    return table


def markdown(study: dict[str, Any], table: list[dict[str, Any]], privileged: dict[str, list[str]] | None = None) -> str:
    """The comparison table; methods in `privileged` (name -> what they know) are marked and explained below it."""
    reference = study["reference_method"]
    privileged = privileged or {}
    lines = [
        f"# Comparison `{study['name']}`",
        "",
        study["description"] + ".",
        "",
        f"Benchmark `{', '.join(study['benchmarks'])}`; budget {', '.join(study['budgets'])}; "
        f"{', '.join(map(str, study['gpus']))} GPUs; {len(study['seeds'])} seeds per cell; accounting "
        f"`{study['accounting']}`; shared method options {json.dumps(study['shared_options'], sort_keys=True)}.",
        f"Regenerate: `harness sweep {study['name']}`. Values are mean ± standard error over seeds.",
        "",
        f"| trace | method | final HV | log10(HV_max − HV) | carbon (g) | carbon / {reference} "
        "| busy GPU-h | training GPU-h | trained |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in table:
        lines.append(
            f"| {e['trace']} | {e['method']}{' (privileged)' if e['method'] in privileged else ''} "
            f"| {e['hv']:.2f} ± {e['hv_se']:.2f} "
            f"| {e['log_hv_diff']:.3f} ± {e['log_hv_diff_se']:.3f} | {e['carbon_g']:.0f} ± {e['carbon_g_se']:.0f} "
            f"| {e['carbon_vs_reference']:.2f} | {e['gpu_hours']:.1f} ± {e['gpu_hours_se']:.1f} "
            f"| {e['train_gpu_hours']:.1f} | {e['n_trained']:.1f} |"
        )
    if privileged:
        lines += [
            "",
            "Privileged (knows more than the past, the present and forecasts; a bound, not a deployable "
            "method): " + "; ".join(f"`{m}`: {', '.join(what)}" for m, what in sorted(privileged.items())) + ".",
        ]
    return "\n".join(lines) + "\n"


def write(study: dict[str, Any], folder: Path, frames: StudyFrames, out: Path) -> list[Path]:
    """comparison.md (the table) and comparison.json (table + study)."""
    table = aggregate(study, rows_from(frames.runs))
    paths = [out / "comparison.md", out / "comparison.json"]
    atomic_write_text(paths[0], markdown(study, table, frames.provenance.get("privileged", {})))
    atomic_write_text(paths[1], json.dumps({"study": study, "table": table}, indent=1, sort_keys=True) + "\n")
    return paths
