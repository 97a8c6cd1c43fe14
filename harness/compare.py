"""Reproducible method comparisons: a preset (plain data) -> a grid of runs -> mean ± SE tables under results/.

Runs are independent, so they fan out over a process pool; outputs depend only on the preset (no timestamps, no
commit ids), so regenerating gives byte-identical files.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.io import atomic_write_text


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    benchmark: str
    traces: tuple[str, ...]
    methods: tuple[str, ...]
    seeds: int
    gpus: int
    budget: str
    accounting: str
    reference_method: str
    method_options: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "hotcarbon": Preset(
        name="hotcarbon",
        description=(
            "HotCarbon'23 §4: US-CAL-CISO traces 1 and 2, 40 h, 8 GPUs, ready-queue capacity 300, 10 initial "
            "samples, 10 seeds, default (physical) accounting; every method uses the reference code's LaMOO tree "
            "(poly-4 SVMs on all samples)"
        ),
        benchmark="nb201/cifar10/pi5-energy",
        traces=("hotcarbon-1", "hotcarbon-2"),
        methods=("cenas-heuristic", "cenas", "vanilla-lamoo", "oneshot-lamoo", "random-allocation"),
        seeds=10,
        gpus=8,
        budget="40h",
        accounting="default",
        reference_method="cenas-heuristic",
        method_options={"queue_capacity": 300, "n_init": 10, "tree.kernel": "poly", "tree.svm_max_samples": None},
    )
}

SUMMARY_KEYS = ("hv", "log_hv_diff", "carbon_g", "gpu_hours", "train_gpu_hours", "energy_kwh", "n_trained")


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise HarnessError(f"unknown preset '{name}'; known: {', '.join(PRESETS)}")
    return PRESETS[name]


def specs(preset: Preset) -> list[RunSpec]:
    return [
        RunSpec(
            method,
            preset.benchmark,
            trace,
            parse_budget(preset.budget),
            seed,
            preset.gpus,
            accounting=preset.accounting,
            method_options=dict(preset.method_options),
        )
        for trace in preset.traces
        for method in preset.methods
        for seed in range(preset.seeds)
    ]


def _run(spec: RunSpec) -> dict[str, Any]:
    from harness.runner import execute

    summary = execute(spec).summary
    return {"trace": spec.trace, "method": spec.method, "seed": spec.seed} | {k: summary[k] for k in SUMMARY_KEYS}


def run_preset(
    preset: Preset, workers: int | None = None, progress: Callable[[int, int], None] | None = None
) -> list[dict[str, Any]]:
    """Every run of the preset; rows in (trace, method, seed) order whatever the completion order."""
    grid = specs(preset)
    workers = workers or min(len(grid), os.cpu_count() or 1)
    from harness.benchmarks import get_benchmark
    from harness.carbon.traces import load_trace

    get_benchmark(preset.benchmark)  # warm caches before forking
    for trace in preset.traces:
        load_trace(trace)
    rows: list[dict[str, Any]] = []
    if workers <= 1:
        for spec in grid:
            rows.append(_run(spec))
            if progress:
                progress(len(rows), len(grid))
        return rows
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for row in pool.map(_run, grid):
            rows.append(row)
            if progress:
                progress(len(rows), len(grid))
    return rows


def _mean_se(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    se = float(arr.std(ddof=1) / math.sqrt(len(arr))) if len(arr) > 1 else 0.0
    return float(arr.mean()), se


def aggregate(preset: Preset, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (trace, method): mean and standard error of each summary number, carbon relative to the reference."""
    table = []
    for trace in preset.traces:
        group = {m: [r for r in rows if r["trace"] == trace and r["method"] == m] for m in preset.methods}
        reference = _mean_se([r["carbon_g"] for r in group[preset.reference_method]])[0]
        for method in preset.methods:
            entry: dict[str, Any] = {"trace": trace, "method": method, "runs": len(group[method])}
            for key in SUMMARY_KEYS:
                values = [r[key] for r in group[method] if r[key] is not None]
                entry[key], entry[f"{key}_se"] = _mean_se(values) if values else (None, None)
            entry["carbon_vs_reference"] = entry["carbon_g"] / reference
            table.append(entry)
    return table


def markdown(preset: Preset, table: list[dict[str, Any]]) -> str:
    lines = [
        f"# Comparison `{preset.name}`",
        "",
        preset.description + ".",
        "",
        f"Benchmark `{preset.benchmark}`; budget {preset.budget}; {preset.gpus} GPUs; {preset.seeds} seeds per cell; "
        f"accounting `{preset.accounting}`; method options {json.dumps(preset.method_options, sort_keys=True)}.",
        f"Regenerate: `harness compare --preset {preset.name}`. Values are mean ± standard error over seeds.",
        "",
        f"| trace | method | final HV | log10(HV_max − HV) | carbon (g) | carbon / {preset.reference_method} "
        "| busy GPU-h | training GPU-h | trained |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in table:
        lines.append(
            f"| {e['trace']} | {e['method']} | {e['hv']:.2f} ± {e['hv_se']:.2f} "
            f"| {e['log_hv_diff']:.3f} ± {e['log_hv_diff_se']:.3f} | {e['carbon_g']:.0f} ± {e['carbon_g_se']:.0f} "
            f"| {e['carbon_vs_reference']:.2f} | {e['gpu_hours']:.1f} ± {e['gpu_hours_se']:.1f} "
            f"| {e['train_gpu_hours']:.1f} | {e['n_trained']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def write_outputs(preset: Preset, rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """comparison.md (table), comparison.json (table + preset) and runs.json (every run's summary)."""
    table = aggregate(preset, rows)
    document = {"preset": asdict(preset), "table": table}
    paths = [folder / "comparison.md", folder / "comparison.json", folder / "runs.json"]
    atomic_write_text(paths[0], markdown(preset, table))
    atomic_write_text(paths[1], json.dumps(document, indent=1, sort_keys=True) + "\n")
    atomic_write_text(paths[2], json.dumps(rows, indent=1, sort_keys=True) + "\n")
    return paths


def shrink(preset: Preset, seeds: int | None = None, budget: str | None = None, traces: int | None = None) -> Preset:
    """A smaller copy of a preset (for quick looks and tests)."""
    return replace(
        preset,
        seeds=seeds or preset.seeds,
        budget=budget or preset.budget,
        traces=preset.traces[: traces or len(preset.traces)],
    )
