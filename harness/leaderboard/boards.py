"""Leaderboard boards: one per study x (benchmark, budget, GPU count), over the study's traces and seeds, computed from
a study's committed results only (`harness.studies.published`).

A board ranks its methods by the interquartile mean of their runs' scores at its headline level, with stratified
bootstrap intervals, rank intervals, Holm-corrected tests and effect sizes at every level (`harness.studies.levels`,
`harness.studies.stats`): a suite-v2 study's declared levels and HV area, or suite v1's matched carbon and standard
checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.io import file_stem
from harness.studies.aggregate import (
    BOARD,
    StudyFrames,
    anytime,
    budget_label,
    summary_table,
    tidy_frame,
)
from harness.studies.levels import BoardLevels, board_levels, level_name
from harness.units import GRAMS_PER


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
    levels: BoardLevels
    provenance: dict[str, Any]

    @property
    def checkpoints(self) -> tuple[float, ...]:
        """The board's carbon levels (lbs), increasing."""
        return self.levels.levels_lbs

    @property
    def suite(self) -> str:
        """The benchmark suite the study belongs to (`leaderboards/suites`)."""
        return str(self.study.get("suite", "v1"))

    @property
    def headline(self) -> str:
        return self.levels.headline

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
        """The statistics row of the method ranked first at the headline (empty when no method has a value)."""
        return self.levels.leader_row()

    def front_run(self) -> tuple[str, int]:
        """(trace, seed) of the runs whose final fronts the board shows: the study's first trace and lowest seed."""
        return self.traces[0], self.seeds[0]

    def per_run(self) -> pd.DataFrame:
        """Every number behind the page, one row per run (seed x trace x method): HV regret and fraction at each shown
        checkpoint (empty where the run ended before it), final HV, carbon to 95/99 % of HV_max, GPU-hours, carbon."""
        rows = []
        hv_of = self.levels.scores.set_index(["key", "level"])["hv"]  # the HV the statistics read, per run and level
        for run in self.runs.to_dict("records"):
            row = {"suite": self.suite} | {k: run[k] for k in ("method", "trace", "seed", "key")}
            for lbs in self.checkpoints:
                value = hv_of[(run["key"], level_name(lbs))]
                row[f"regret_at_{lbs:g}lbs"] = run["hv_max"] - value
                row[f"fraction_at_{lbs:g}lbs"] = value / run["hv_max"]
            if self.levels.declared:
                row["hv_area"] = hv_of[(run["key"], self.headline)] / run["hv_max"]
            row |= {
                "hv": run["hv"],
                "hv_max": run["hv_max"],
                "hv_fraction": run["hv_fraction"],
                "carbon_to_95pct_lbs": run["carbon_to_95pct_g"] / GRAMS_PER["lbs"],
                "carbon_to_99pct_lbs": run["carbon_to_99pct_g"] / GRAMS_PER["lbs"],
                "gpu_hours": run["gpu_hours"],
                "carbon_lbs": run["carbon_g"] / GRAMS_PER["lbs"],
                "energy_kwh": run["energy_kwh"],
                "stop_reason": run["stop_reason"],
            }
            rows.append(row)
        return pd.DataFrame(rows)


def boards_of(study: dict[str, Any], frames: StudyFrames) -> list[Board]:
    """The boards of one study, in the study's order."""
    boards = []
    tidy_all = tidy_frame(frames.runs, frames.curves)
    privileged = frozenset(frames.provenance.get("privileged", {}))
    for board, runs in frames.runs.groupby(list(BOARD), sort=False):
        benchmark, budget, gpus = board
        tidy = tidy_all[tidy_all["key"].isin(runs["key"])]
        levels = board_levels(study, runs, tidy, privileged)
        table = summary_table(runs, tidy, (), privileged)  # the costs per method; the levels' numbers are `levels`
        keys = set(runs["key"]) | {""}
        fronts = frames.fronts[frames.fronts["key"].isin(keys) & (frames.fronts["benchmark"] == benchmark)]
        fronts = fronts.merge(runs[["key", "method", "trace", "seed"]], on="key", how="left").fillna({"method": ""})
        boards.append(
            Board(
                study,
                str(benchmark),
                str(budget),
                int(gpus),
                runs,
                tidy,
                fronts,
                table,
                anytime(tidy),
                levels,
                frames.provenance,
            )
        )
    return boards
