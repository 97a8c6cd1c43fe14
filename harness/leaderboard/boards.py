"""Leaderboard boards: one per study x (benchmark, budget, GPU count), over the study's traces and seeds, computed from
a study's committed results only (`harness.studies.published`).

A board ranks its methods at the **matched carbon** c*: the largest amount of carbon that every run of every method
emitted (the smallest final cumulative carbon over the board's runs, rounded down to two significant digits), so that
every method has a value from every run there. It also reports the standard checkpoints (`CHECKPOINTS_LBS`) that at
least one method reached in all its runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.io import file_stem
from harness.studies.aggregate import (
    BOARD,
    CHECKPOINTS_LBS,
    StudyFrames,
    anytime,
    budget_label,
    hv_at,
    summary_table,
    tidy_frame,
)
from harness.units import GRAMS_PER, round_down


@dataclass(frozen=True)
class Board:
    """One board: a study's runs on one benchmark, budget and GPU count, and every number its page shows."""

    study: dict[str, Any]
    benchmark: str
    budget: str
    gpus: int
    runs: pd.DataFrame
    tidy: pd.DataFrame
    fronts: pd.DataFrame
    summary: pd.DataFrame
    curves: pd.DataFrame
    matched_lbs: float
    checkpoints: tuple[float, ...]
    provenance: dict[str, Any]

    @property
    def slug(self) -> str:
        text = f"{self.study['name']}--{self.benchmark}-{self.budget_label}-{self.gpus}gpu"
        return file_stem(text)

    @property
    def budget_label(self) -> str:
        """The budget as the study file gives it, spaced (`500 lbs`, not `226796 g CO2eq`)."""
        return budget_label(self.budget, self.study)

    @property
    def title(self) -> str:
        return f"{self.benchmark} · {self.budget_label} · {self.gpus} GPUs"

    @property
    def front_name(self) -> str:
        """What the fronts charts draw the runs against: the benchmark's true front, or a surrogate's reference
        front (a bound from a long search)."""
        bench = self.provenance["benchmarks"][self.benchmark]
        return "true front" if bench.get("enumerable", True) else "reference front"

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(self.runs["method"]))

    @property
    def traces(self) -> list[str]:
        return list(dict.fromkeys(self.runs["trace"]))

    @property
    def seeds(self) -> list[int]:
        return sorted({int(s) for s in self.runs["seed"]})

    @property
    def min_runs(self) -> int:
        """Fewest runs any method has on this board (below 2: no confidence intervals or tests)."""
        return int(self.runs.groupby("method").size().min())

    @property
    def leader(self) -> dict[str, Any]:
        """The summary row ranked first at the matched carbon."""
        rows = self.summary[self.summary[f"rank_at_{self.matched_lbs:g}lbs"] == 1]
        return rows.iloc[0].to_dict()

    def front_run(self) -> tuple[str, int]:
        """(trace, seed) of the runs whose final fronts the board shows: the study's first trace and lowest seed."""
        return self.traces[0], self.seeds[0]

    def per_run(self) -> pd.DataFrame:
        """Every number behind the page, one row per run (seed x trace x method): HV regret and fraction at each shown
        checkpoint (empty where the run ended before it), final HV, carbon to 95/99 % of HV_max, GPU-hours, carbon."""
        rows = []
        carbon = np.asarray(self.checkpoints) * GRAMS_PER["lbs"]
        for run in self.runs.to_dict("records"):
            curve = self.tidy[self.tidy["key"] == run["key"]].sort_values("hour")
            hv = hv_at(curve, carbon)
            row = {k: run[k] for k in ("method", "trace", "seed", "key")}
            for lbs, value in zip(self.checkpoints, hv, strict=True):
                row[f"regret_at_{lbs:g}lbs"] = run["hv_max"] - value
                row[f"fraction_at_{lbs:g}lbs"] = value / run["hv_max"]
            row |= {"hv": run["hv"], "hv_max": run["hv_max"], "hv_fraction": run["hv_fraction"],
                    "carbon_to_95pct_lbs": run["carbon_to_95pct_g"] / GRAMS_PER["lbs"],
                    "carbon_to_99pct_lbs": run["carbon_to_99pct_g"] / GRAMS_PER["lbs"],
                    "gpu_hours": run["gpu_hours"], "carbon_lbs": run["carbon_g"] / GRAMS_PER["lbs"],
                    "energy_kwh": run["energy_kwh"], "stop_reason": run["stop_reason"]}  # fmt: skip
            rows.append(row)
        return pd.DataFrame(rows)


def boards_of(study: dict[str, Any], frames: StudyFrames) -> list[Board]:
    """The boards of one study, in the study's order."""
    boards = []
    tidy_all = tidy_frame(frames.runs, frames.curves)
    for board, runs in frames.runs.groupby(list(BOARD), sort=False):
        benchmark, budget, gpus = board
        tidy = tidy_all[tidy_all["key"].isin(runs["key"])]
        final = tidy.sort_values("hour").groupby("key")["cum_carbon_g"].last()
        matched = round_down(float(final.min()) / GRAMS_PER["lbs"])
        privileged = frozenset(frames.provenance.get("privileged", {}))
        table = summary_table(runs, tidy, (matched, *CHECKPOINTS_LBS), privileged)
        shown = [c for c in CHECKPOINTS_LBS if c != matched and (table[f"reached_at_{c:g}lbs"] == table["runs"]).any()]
        checkpoints = tuple(sorted({matched, *shown}))
        keys = set(runs["key"]) | {""}
        fronts = frames.fronts[frames.fronts["key"].isin(keys) & (frames.fronts["benchmark"] == benchmark)]
        fronts = fronts.merge(runs[["key", "method", "trace", "seed"]], on="key", how="left").fillna({"method": ""})
        boards.append(Board(study, str(benchmark), str(budget), int(gpus), runs, tidy, fronts, table, anytime(tidy),
                            matched, checkpoints, frames.provenance))  # fmt: skip
    return boards
