"""The carbon levels a board ranks at, each run's score there, and the board's statistics (`harness.studies.stats`):
one definition of the levels and of the leader for `report.md`, the leaderboard and every download.

- **Declared levels** (a study with `levels`, suite v2): the levels the study file declared before it ran. The
  headline is the **HV area** between the first and the last level: the mean HV fraction over that carbon range,
  i.e. 1 - the normalised area under the run's regret curve (the HV step curve integrated exactly).
- **Suite v1** (no declared levels): the matched carbon (the smallest final carbon of any run of the board, rounded
  down to two significant digits) is the headline and the standard checkpoints that some method reached in all its
  runs follow, as the v1 boards were published; the page says these levels were chosen after the runs.

A run's score at carbon c is its HV fraction (%) at c (`aggregate.hv_at`: the HV bought once c was emitted); a run
that ended before a level has no score there, and a method with such a run is n/a at that level (never a mean over
the survivors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.studies.aggregate import CHECKPOINTS_LBS, END_TOLERANCE, hv_at
from harness.studies.stats import LevelScores, board_statistics, performance_profile, resolvable_difference
from harness.units import GRAMS_PER, round_down


@dataclass(frozen=True)
class BoardLevels:
    """A board's levels, per-run scores and statistics."""

    declared: bool
    levels_lbs: tuple[float, ...]
    headline: str
    """The name of the level the board ranks by (`HV area 10-100 lbs`, or v1's `9.1 lbs`)."""
    scores: pd.DataFrame
    """One row per run x level: key, method, trace, seed, level, hv (the HV there; at an HV area, the mean HV over its
    range; NaN where the run ended before) and score (hv as % of HV_max)."""
    stats: pd.DataFrame
    """`stats.board_statistics` aggregates: one row per level x method."""
    pairs: pd.DataFrame
    """Every pairwise test of the board (level, a, b, a12, p, p_holm)."""
    power: dict[str, float]
    """At the headline: n (fewest runs per ranked method), sd (pooled, pp), difference (smallest resolvable, pp)."""
    profile: pd.DataFrame
    """Performance profile at the headline: method, tau (%), fraction of runs scoring at least tau."""

    @property
    def names(self) -> list[str]:
        """Level names, the headline first."""
        return list(dict.fromkeys(self.stats["level"]))

    def leader(self, level: str | None = None) -> str | None:
        """The method ranked first (by IQM) at `level` (default the headline); None where no method has a value."""
        row = self.leader_row(level)
        return str(row["method"]) if row else None

    def leader_row(self, level: str | None = None) -> dict[str, Any]:
        """The `stats` row of the method ranked first at `level` (default the headline); empty where none has a
        value."""
        table = self.stats[(self.stats["level"] == (level or self.headline)) & self.stats["leader"]]
        return table.iloc[0].to_dict() if len(table) else {}


def level_name(lbs: float) -> str:
    return f"{lbs:g} lbs"


def area_name(low: float, high: float) -> str:
    return f"HV area {low:g}-{high:g} lbs"


def hv_area(curve: pd.DataFrame, low_g: float, high_g: float) -> float:
    """The mean HV over cumulative carbon [low_g, high_g] of one run's step curve (exact); NaN if it ended before."""
    c = curve["cum_carbon_g"].to_numpy(np.float64)
    if high_g > c[-1] * (1 + END_TOLERANCE):
        return float("nan")
    inside = c[(c > low_g) & (c < high_g)]
    edges = np.concatenate([[low_g], inside, [high_g]])
    values = hv_at(curve, edges[:-1])
    return float(np.sum(values * np.diff(edges)) / (high_g - low_g))


def board_levels(
    study: dict[str, Any], runs: pd.DataFrame, tidy: pd.DataFrame, privileged: frozenset[str]
) -> BoardLevels:
    """The levels and statistics of one board: `runs` (one row per run: key, method, trace, seed, budget, hv_max)
    and `tidy` (their curves: key, hour, cum_carbon_g, hv)."""
    from harness.config import parse_budget
    from harness.studies.spec import level_lbs

    curves = {k: g.sort_values("hour") for k, g in tidy.groupby("key", sort=False)}
    declared = bool(study.get("levels"))
    if declared:
        budgets = [parse_budget(b) for b in study.get("budgets", [])]
        budget = next((b for b in budgets if b.describe() == runs["budget"].iloc[0]), None)
        if budget is None:
            raise HarnessError(f"study {study.get('name')}: no budget of the study file is {runs['budget'].iloc[0]}")
        levels = tuple(level_lbs(level, budget) for level in study["levels"])
        headline = area_name(levels[0], levels[-1])
    else:
        final = min(float(g["cum_carbon_g"].iloc[-1]) for g in curves.values())
        matched = round_down(final / GRAMS_PER["lbs"])
        reached = [c for c in CHECKPOINTS_LBS if c != matched and _reached_by_some_method(runs, curves, c)]
        levels = tuple(sorted({matched, *reached}))
        headline = level_name(matched)
    rows = []
    for run in runs.to_dict("records"):
        curve = curves[run["key"]]
        ident = {k: run[k] for k in ("key", "method", "trace", "seed")}
        hv = hv_at(curve, np.asarray(levels) * GRAMS_PER["lbs"])
        for lbs, value in zip(levels, hv, strict=True):
            rows.append(ident | {"level": level_name(lbs), "hv": value, "score": 100.0 * value / run["hv_max"]})
        if declared:
            area = hv_area(curve, levels[0] * GRAMS_PER["lbs"], levels[-1] * GRAMS_PER["lbs"])
            rows.append(ident | {"level": headline, "hv": area, "score": 100.0 * area / run["hv_max"]})
    scores = pd.DataFrame(rows, columns=["key", "method", "trace", "seed", "level", "hv", "score"])
    order = [headline, *[level_name(c) for c in levels if level_name(c) != headline]]
    level_scores = [_level_scores(scores[scores["level"] == name], name) for name in order]
    stats, pairs = board_statistics(level_scores, privileged)
    head = level_scores[0]
    ranked = {m: s for m, s in head.runs.items() if m not in privileged}
    profile = performance_profile({m: np.concatenate(s) for m, s in head.runs.items()})
    return BoardLevels(declared, levels, headline, scores, stats, pairs, resolvable_difference(ranked), profile)


def _reached_by_some_method(runs: pd.DataFrame, curves: dict[str, pd.DataFrame], lbs: float) -> bool:
    grams = lbs * GRAMS_PER["lbs"]
    ended = {k: float(c["cum_carbon_g"].iloc[-1]) * (1 + END_TOLERANCE) >= grams for k, c in curves.items()}
    return any(all(ended[k] for k in group["key"]) for _, group in runs.groupby("method", sort=False))


def _level_scores(frame: pd.DataFrame, name: str) -> LevelScores:
    """A level's scores per method and trace; methods with a run that ended before the level are `missing`."""
    runs: dict[str, list[np.ndarray]] = {}
    missing: dict[str, str] = {}
    for method, group in frame.groupby("method", sort=False):
        reached = int(group["score"].notna().sum())
        if reached < len(group):
            missing[str(method)] = f"{reached}/{len(group)} runs reached it"
            continue
        runs[str(method)] = [g["score"].to_numpy(np.float64) for _, g in group.groupby("trace", sort=False)]
    return LevelScores(name, runs, missing)
