"""Held-out evaluation of allocation policies (`report = "allocation"`): per region and policy, HV regret at matched
carbon, final regret and carbon, carbon to 99 % of HV_max, and how the hourly training GPUs follow the intensity.

- **Matched carbon** of a (window, seed): the smallest final carbon among the runs of that window and seed that both
  trained and sampled (a split that never trains, or never samples, does not search and would set it to nearly 0).
  Every policy's HV is read there (its final HV if it ended with less carbon): regret = 1 − HV(c*)/HV_max, in %.
- **Best in hindsight**: per (window, seed), the lowest regret at matched carbon of any listed policy; an upper bound
  no policy choosing one split rule in advance can beat, not a policy.
- **Reaction to intensity**: Spearman's ρ between the hour's intensity and the training GPUs, pooled over every hour
  of every run of a policy in a region (NaN where the split never changes), and the median of the per-run ρ.
- **vs the heuristic**: share of (window, seed) where a policy's regret at matched carbon is below
  `heuristic-forecast`'s (ties count half).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.io import atomic_write_text
from harness.studies.aggregate import StudyFrames, hv_at, mean_ci, tidy_frame

BASELINE = "heuristic-forecast"
HINDSIGHT = "best in hindsight"


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy import stats

    if len(x) < 3 or np.all(y == y[0]) or np.all(x == x[0]):
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(x, y).statistic)


def run_table(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """One row per run: region, trace, seed, method, regret at matched carbon (%), final regret (%), carbon (kg),
    carbon to 99 % (kg, NaN if never), per-run Spearman ρ and the matched carbon (kg)."""
    tidy = tidy_frame(runs, curves)
    frame = runs.assign(region=runs["trace"].str.split("@").str[0])
    searched = (frame["train_gpu_hours"] > 0) & (frame["oneshot_gpu_hours"] > 0)
    matched = frame[searched].groupby(["trace", "seed"])["carbon_g"].min().rename("matched_g")
    frame = frame.join(matched, on=["trace", "seed"])
    rows = []
    by_run = dict(tuple(tidy.groupby("key", sort=False)))  # one pass over the tidy frame
    for run in frame.itertuples():
        group = by_run[run.key].sort_values("hour")
        hv = hv_at(group, np.array([run.matched_g]))[0]
        hv = run.hv if math.isnan(hv) else hv  # ended with less carbon than c*: its final HV
        rows.append(
            {
                "region": run.region,
                "trace": run.trace,
                "seed": run.seed,
                "method": run.method,
                "regret_matched": 100.0 * (1.0 - hv / run.hv_max),
                "regret_final": 100.0 * (1.0 - run.hv / run.hv_max),
                "carbon_kg": run.carbon_g / 1000.0,
                "carbon_to_99_kg": run.carbon_to_99pct_g / 1000.0,
                "rho": _spearman(group["ci"].to_numpy(), group["train_gpus"].to_numpy()),
                "matched_kg": run.matched_g / 1000.0,
            }
        )
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame, curves: pd.DataFrame, runs: pd.DataFrame) -> list[dict[str, Any]]:
    """Per region and policy (study order, then best in hindsight): the numbers of the report's table."""
    hours = curves.merge(runs[["key", "method", "trace"]], on="key", suffixes=("_curve", ""))
    hours = hours.assign(region=hours["trace"].str.split("@").str[0])
    out: list[dict[str, Any]] = []
    methods = list(dict.fromkeys(table["method"]))
    for region, group in table.groupby("region", sort=False):
        wide = group.pivot_table(index=["trace", "seed"], columns="method", values="regret_matched")
        for method in methods:
            mine = group[group["method"] == method]
            mean, lower, _ = mean_ci(mine["regret_matched"].to_numpy()[:, None])
            region_hours = hours[(hours["region"] == region) & (hours["method"] == method)]
            reached = mine["carbon_to_99_kg"].notna()
            row = {
                "region": region,
                "method": method,
                "runs": len(mine),
                "regret_matched": float(mean[0]),
                "regret_matched_ci": float(mean[0] - lower[0]),
                "regret_final": float(mine["regret_final"].mean()),
                "carbon_kg": float(mine["carbon_kg"].mean()),
                "matched_kg": float(mine["matched_kg"].mean()),
                "carbon_to_99_kg": float(mine.loc[reached, "carbon_to_99_kg"].median()) if reached.any() else None,
                "reached_99": int(reached.sum()),
                "rho_pooled": _spearman(region_hours["ci"].to_numpy(), region_hours["train_gpus"].to_numpy()),
                "rho_median": float(mine["rho"].median()) if mine["rho"].notna().any() else math.nan,
            }
            if BASELINE in wide and method != BASELINE:
                diff = wide[method] - wide[BASELINE]
                row["beats_baseline"] = float(((diff < 0).sum() + 0.5 * (diff == 0).sum()) / len(diff))
            out.append(row)
        best = wide.min(axis=1).to_numpy()
        mean, lower, _ = mean_ci(best[:, None])
        out.append(
            {
                "region": region,
                "method": HINDSIGHT,
                "runs": len(best),
                "regret_matched": float(mean[0]),
                "regret_matched_ci": float(mean[0] - lower[0]),
            }
        )
    return out


def _num(value: Any, digits: int) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def markdown(study: dict[str, Any], rows: list[dict[str, Any]], privileged: dict[str, list[str]] | None = None) -> str:
    """The held-out table; policies in `privileged` (name -> what they know) are marked and explained below it."""
    privileged = privileged or {}
    lines = [
        f"# Allocation policies on held-out windows (`{study['name']}`)",
        "",
        study["description"] + ".",
        "",
        f"Regenerate: `harness sweep {study['name']}`. Regret = 1 − HV/HV_max in % at the matched carbon of each "
        "(window, seed) (the smallest final carbon among runs that both trained and sampled; mean ± 95 % CI over "
        f"windows x seeds); ρ = Spearman between hourly intensity and training GPUs; 'vs {BASELINE}' = share of "
        "(window, seed) with lower regret at matched carbon. Definitions: `harness/studies/allocation.py`.",
        "",
        "| region | policy | regret @ matched carbon (%) | final regret (%) | carbon (kg) | carbon to 99 % (kg, "
        f"median; reached) | ρ pooled | ρ median per run | vs {BASELINE} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["method"] == HINDSIGHT:
            lines.append(
                f"| {r['region']} | *{HINDSIGHT}* | {r['regret_matched']:.3f} ± {r['regret_matched_ci']:.3f} "
                "| | | | | | |"
            )
            continue
        lines.append(
            f"| {r['region']} | {r['method']}{' (privileged)' if r['method'] in privileged else ''} "
            f"| {r['regret_matched']:.3f} ± {r['regret_matched_ci']:.3f} "
            f"| {r['regret_final']:.3f} | {r['carbon_kg']:.1f} | {_num(r['carbon_to_99_kg'], 1)}; "
            f"{r['reached_99']}/{r['runs']} | {_num(r['rho_pooled'], 2)} | {_num(r['rho_median'], 2)} "
            f"| {_num(r.get('beats_baseline'), 2)} |"
        )
    matched = {r["region"]: r["matched_kg"] for r in rows if "matched_kg" in r}
    lines += [
        "",
        "Mean matched carbon per region (kg): "
        + ", ".join(f"{region} {kg:.1f}" for region, kg in matched.items())
        + ".",
    ]
    if privileged:
        lines += [
            "",
            "Privileged (knows more than the past, the present and forecasts; a bound, not a deployable "
            "policy): " + "; ".join(f"`{m}`: {', '.join(what)}" for m, what in sorted(privileged.items())) + ".",
        ]
    return "\n".join(lines) + "\n"


def write(study: dict[str, Any], folder: Path, frames: StudyFrames, out: Path) -> list[Path]:
    """allocation.md (the table) and allocation.json (its rows)."""
    runs, curves = frames.runs, frames.curves
    rows = summary(run_table(runs, curves), curves, runs)
    md, js = out / "allocation.md", out / "allocation.json"
    atomic_write_text(md, markdown(study, rows, frames.provenance.get("privileged", {})))
    clean = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
    atomic_write_text(js, json.dumps({"study": study["name"], "rows": clean}, indent=1, sort_keys=True) + "\n")
    return [md, js]
