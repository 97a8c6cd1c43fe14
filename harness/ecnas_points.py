"""Extreme and knee points of a search's final front on an EC-NAS benchmark, as in EC-NAS Table 1.

Per seed, the front is the non-dominated set of every (cell, epochs) pair the run trained, on (energy kWh down,
validation accuracy up) — the same set as SEMOA's archive. On it:
- r0: the lowest-energy point (ties: highest accuracy); r1: the highest-accuracy point (ties: lowest energy);
- rk: the knee, the front point farthest from the straight line r0-r1 after scaling both objectives to [0, 1] by
  r0 and r1 (Das 1999; EC-NAS does not define its knee).
Each point is reported as EC-NAS does: training time T (s), validation accuracy P_v, energy E (kWh) and log10 of the
parameter count; mean ± standard deviation over seeds.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.config import RunSpec, parse_budget
from harness.io import atomic_write_text
from harness.metrics import pareto_mask

POINTS = ("r0", "r1", "rk")
COLUMNS = ("T_s", "P_v", "E_kwh", "log10_params")
PAPER_SEMOA = {  # EC-NAS (ICASSP 2024) Table 1, SEMOA row, 7V space: mean, std
    "r0": ((14.23, 0.00), (0.52, 0.00), (0.01, 0.00), (5.95, 0.00)),
    "r1": ((2555.95, 202.42), (0.94, 0.00), (0.62, 0.08), (7.26, 0.15)),
    "rk": ((306.9, 41.86), (0.92, 0.01), (0.07, 0.01), (6.43, 0.06)),
}


@dataclass(frozen=True)
class PointsSpec:
    method: str = "semoa"
    benchmark: str = "ecnas/4v"
    seeds: int = 10
    budget: str = "500lbs"
    trace: str = "hotcarbon-1"
    gpus: int = 8


def front_points(energy: np.ndarray, accuracy: np.ndarray) -> dict[str, int]:
    """Indices of r0, r1 and the knee among points with energy (n,) and accuracy (n,)."""
    on_front = np.flatnonzero(pareto_mask(np.column_stack([accuracy, -energy])))
    e, a = energy[on_front], accuracy[on_front]
    r0 = on_front[np.lexsort((-a, e))[0]]
    r1 = on_front[np.lexsort((e, -a))[0]]
    span_e, span_a = energy[r1] - energy[r0], accuracy[r1] - accuracy[r0]
    if span_e <= 0 or span_a <= 0:
        return {"r0": int(r0), "r1": int(r1), "rk": int(r0)}
    u, v = (e - energy[r0]) / span_e, (a - accuracy[r0]) / span_a
    distance = (v - u) / np.sqrt(2.0)  # signed distance above the line v = u
    return {"r0": int(r0), "r1": int(r1), "rk": int(on_front[int(np.argmax(distance))])}


def _seed_points(spec: PointsSpec, seed: int) -> dict[str, dict[str, float]]:
    from harness.benchmarks import get_benchmark
    from harness.runner import execute

    record = execute(RunSpec(spec.method, spec.benchmark, spec.trace, parse_budget(spec.budget), seed, spec.gpus))
    bench: Any = get_benchmark(spec.benchmark)
    rows = np.unique([e["arch"] for e in record.evaluations if e["status"] == "done"])
    table = bench.table.iloc[rows]
    energy, accuracy = table["energy_kwh"].to_numpy(), table["val_acc"].to_numpy()
    chosen = front_points(energy, accuracy)
    return {
        name: {
            "T_s": float(table["train_time_s"].iloc[i]),
            "P_v": float(accuracy[i]),
            "E_kwh": float(energy[i]),
            "log10_params": float(np.log10(table["params"].iloc[i])),
            "arch": bench.space.arch_id(int(rows[i])),
        }
        for name, i in chosen.items()
    }


def collect(spec: PointsSpec, workers: int = 2) -> list[dict[str, dict[str, float]]]:
    """The three points of every seed 0..seeds-1 (in seed order)."""
    from harness.benchmarks import get_benchmark

    get_benchmark(spec.benchmark)  # build the cached table before forking
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_seed_points, [spec] * spec.seeds, range(spec.seeds)))


def summarise(per_seed: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, tuple[float, float]]]:
    """Mean and population standard deviation over seeds of every column of every point."""
    return {
        point: {
            col: (float(np.mean([s[point][col] for s in per_seed])), float(np.std([s[point][col] for s in per_seed])))
            for col in COLUMNS
        }
        for point in POINTS
    }


def markdown(spec: PointsSpec, summary: dict[str, dict[str, tuple[float, float]]]) -> str:
    def cell(values: Any) -> str:
        return ", ".join(f"{m:.2f}±{s:.2f}" for m, s in values)

    lines = [
        f"# {spec.method} on {spec.benchmark}: extreme and knee points",
        "",
        f"{spec.seeds} seeds (0..{spec.seeds - 1}), {spec.gpus} GPUs, trace {spec.trace}, stop at {spec.budget} or "
        f"when the method finishes. Regenerate: `harness ecnas-points --method {spec.method} "
        f"--benchmark {spec.benchmark} --seeds {spec.seeds}`.",
        "Each cell: T (s), P_v, E (kWh), log10(params), mean±std over seeds. The paper row is EC-NAS Table 1 (SEMOA, "
        "7-vertex surrogate space).",
        "",
        "| run | r0 (lowest energy) | r1 (highest accuracy) | rk (knee) |",
        "|---|---|---|---|",
        f"| this harness ({spec.benchmark}) | "
        + " | ".join(cell(summary[p][c] for c in COLUMNS) for p in POINTS)
        + " |",
        "| EC-NAS paper (7V) | " + " | ".join(cell(PAPER_SEMOA[p]) for p in POINTS) + " |",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(spec: PointsSpec, per_seed: list[dict[str, dict[str, float]]], folder: Path) -> list[Path]:
    summary = summarise(per_seed)
    paths = [folder / f"{spec.method}_points.md", folder / f"{spec.method}_points.json"]
    atomic_write_text(paths[0], markdown(spec, summary))
    document = {"spec": spec.__dict__, "summary": summary, "per_seed": per_seed}
    atomic_write_text(paths[1], json.dumps(document, indent=1, sort_keys=True) + "\n")
    return paths
