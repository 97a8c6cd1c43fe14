"""Extreme and knee points of a search's final front on an EC-NAS benchmark, as in EC-NAS Table 1.

Per seed, the front is the non-dominated set of every (cell, epochs) pair the run trained, on (energy kWh down,
validation accuracy up) — the same set as SEMOA's archive. On it:
- r0: the lowest-energy point (ties: highest accuracy); r1: the highest-accuracy point (ties: lowest energy);
- rk: the knee, the front point farthest from the straight line r0-r1 after scaling both objectives to [0, 1] by
  r0 and r1 (Das 1999; EC-NAS does not define its knee);
- rk_table: the same with the line ending at the table's most accurate architecture instead of the run's r1 (the
  knee moves with that choice: SEMOA's best and the table's best differ).
Each point is reported as EC-NAS does: training time T (s), validation accuracy P_v, energy E (kWh) and log10 of the
parameter count; mean ± standard deviation over seeds. The study `ecnas-points` (report = "ecnas-points") runs the
search; this report reads its records.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError
from harness.io import atomic_write_text
from harness.metrics import pareto_mask

POINTS = ("r0", "r1", "rk", "rk_table")
"""r0, r1 and the knee of the run's front; rk_table: the knee against the line to the table's best instead of r1."""
COLUMNS = ("T_s", "P_v", "E_kwh", "log10_params")
PAPER_SEMOA = {  # EC-NAS (ICASSP 2024) Table 1, SEMOA row, 7V space: mean, std
    "r0": ((14.23, 0.00), (0.52, 0.00), (0.01, 0.00), (5.95, 0.00)),
    "r1": ((2555.95, 202.42), (0.94, 0.00), (0.62, 0.08), (7.26, 0.15)),
    "rk": ((306.9, 41.86), (0.92, 0.01), (0.07, 0.01), (6.43, 0.06)),
}


def front_points(energy: np.ndarray, accuracy: np.ndarray, anchor: tuple[float, float] | None = None) -> dict[str, int]:
    """Indices of r0, r1 and the knee among points with energy (n,) and accuracy (n,).

    The knee is measured against the line from r0 to r1; with `anchor` = (energy, accuracy) that line ends at the
    anchor instead of the front's own r1 (e.g. the table's most accurate architecture), the knee still being a point
    of this front.
    """
    on_front = np.flatnonzero(pareto_mask(np.column_stack([accuracy, -energy])))
    e, a = energy[on_front], accuracy[on_front]
    r0 = on_front[np.lexsort((-a, e))[0]]
    r1 = on_front[np.lexsort((e, -a))[0]]
    end_e, end_a = anchor if anchor is not None else (energy[r1], accuracy[r1])
    span_e, span_a = end_e - energy[r0], end_a - accuracy[r0]
    if span_e <= 0 or span_a <= 0:
        return {"r0": int(r0), "r1": int(r1), "rk": int(r0)}
    u, v = (e - energy[r0]) / span_e, (a - accuracy[r0]) / span_a
    distance = (v - u) / np.sqrt(2.0)  # signed distance above the line v = u
    return {"r0": int(r0), "r1": int(r1), "rk": int(on_front[int(np.argmax(distance))])}


def seed_points(record: Any) -> dict[str, dict[str, Any]]:
    """The three points of one run record's final front (every (cell, epochs) row it trained)."""
    from harness.benchmarks import get_benchmark

    bench: Any = get_benchmark(record.spec["benchmark"])
    if not hasattr(bench, "table") or "energy_kwh" not in bench.table:
        raise HarnessError(f"ecnas-points needs an EC-NAS benchmark, not {record.spec['benchmark']}")
    rows = np.unique([e["arch"] for e in record.evaluations if e["status"] == "done"])
    table = bench.table.iloc[rows]
    energy, accuracy = table["energy_kwh"].to_numpy(), table["val_acc"].to_numpy()
    chosen = front_points(energy, accuracy)
    best = bench.table.iloc[int(np.lexsort((bench.table["energy_kwh"], -bench.table["val_acc"]))[0])]
    chosen["rk_table"] = front_points(energy, accuracy, (float(best["energy_kwh"]), float(best["val_acc"])))["rk"]
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


def summarise(per_seed: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, tuple[float, float]]]:
    """Mean and population standard deviation over seeds of every column of every point, computed exactly and rounded
    once (`statistics`: the same floats in any seed order and on any CPU, unlike numpy's SIMD-width-dependent sums)."""
    columns = {(point, col): [float(s[point][col]) for s in per_seed] for point in POINTS for col in COLUMNS}
    return {
        point: {col: (statistics.fmean(columns[point, col]), statistics.pstdev(columns[point, col])) for col in COLUMNS}
        for point in POINTS
    }


def markdown(study: dict[str, Any], summary: dict[str, dict[str, tuple[float, float]]]) -> str:
    def cell(values: Any) -> str:
        return ", ".join(f"{m:.2f}±{s:.2f}" for m, s in values)

    method, benchmark = study["methods"][0]["name"], study["benchmarks"][0]
    seeds = study["seeds"]
    lines = [
        f"# {method} on {benchmark}: extreme and knee points",
        "",
        f"{len(seeds)} seeds ({seeds[0]}..{seeds[-1]}), {study['gpus'][0]} GPUs, trace {study['traces'][0]}, stop at "
        f"{study['budgets'][0]} or when the method finishes. Regenerate: `harness sweep {study['name']}`.",
        "Each cell: T (s), P_v, E (kWh), log10(params), mean±std over seeds. The paper row is EC-NAS Table 1 (SEMOA, "
        "7-vertex surrogate space).",
        "",
        "| run | r0 (lowest energy) | r1 (highest accuracy) | rk (knee, line r0-r1) "
        "| rk (knee, line r0-table's best) |",
        "|---|---|---|---|---|",
        f"| this harness ({benchmark}) | " + " | ".join(cell(summary[p][c] for c in COLUMNS) for p in POINTS) + " |",
        "| EC-NAS paper (7V) | " + " | ".join(cell(PAPER_SEMOA[p]) if p in PAPER_SEMOA else "—" for p in POINTS) + " |",
        "",
        "The paper gives one knee without saying how it was chosen; both definitions are shown beside it.",
    ]
    return "\n".join(lines) + "\n"


def write(study: dict[str, Any], folder: Path, frames: Any, out: Path) -> list[Path]:
    """METHOD_points.md and METHOD_points.json from the study's records, in seed order."""
    from harness.results import load_record

    index = json.loads((folder / "study.json").read_text())
    if not (folder / "records").is_dir():
        raise HarnessError(f"{folder}: the ecnas-points report reads run records; run `harness sweep` first")
    records = [load_record(folder / "records" / f"{c['key']}.json") for c in index["cells"]]
    per_seed = [seed_points(r) for r in sorted(records, key=lambda r: r.spec["seed"])]
    method = study["methods"][0]["name"]
    paths = [out / f"{method}_points.md", out / f"{method}_points.json"]
    summary = summarise(per_seed)
    atomic_write_text(paths[0], markdown(study, summary))
    document = {"study": study["name"], "summary": summary, "per_seed": per_seed}
    atomic_write_text(paths[1], json.dumps(document, indent=1, sort_keys=True) + "\n")
    return paths
