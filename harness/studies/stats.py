"""Board statistics a reviewer accepts: robust aggregates with stratified bootstrap intervals, pairwise tests with a
Holm correction, effect sizes, bootstrap rank intervals, performance profiles and the smallest resolvable difference.

Every number comes from the field's libraries, nothing hand-rolled: interquartile mean = `scipy.stats.trim_mean(x,
0.25)`; intervals = `scipy.stats.bootstrap` (percentile, `RESAMPLES` resamples, a fixed seed so a board's numbers
are reproducible), given one sample per trace so that runs are resampled within their trace (a stratified
bootstrap: the traces are strata); pairwise tests = two-sided `scipy.stats.mannwhitneyu`, Holm-corrected over every
test of a board (`statsmodels.stats.multitest.multipletests`); effect size = Vargha-Delaney A12 = U / (n m), the
probability that a run of one method scores higher than a run of the other (ties count half), which rliable calls
the probability of improvement; the smallest resolvable difference = `statsmodels`' two-sample t-test power
(alpha 0.05 two-sided, power 0.8) times the pooled within-method SD.

(rliable itself is not a dependency: rliable 1.2.0 needs `arch < 8`, and arch 7.x fails to import beside pandas 3;
its interquartile mean, stratified bootstrap and probability of improvement are the scipy calls above.)

Scores are higher-is-better values per run (an HV fraction at a carbon level, or the area under the HV-fraction
curve over a carbon range, i.e. 1 - the normalised regret area), in percent.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

RESAMPLES = 2000
CONFIDENCE = 0.95
ALPHA = 0.05
POWER = 0.8
SEED = 0
PROFILE_POINTS = 101

Strata = Sequence[np.ndarray]
"""One method's runs at one level, one array per trace (a stratum), values in %."""


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50 % of values along `axis`."""
    from scipy import stats

    return np.asarray(stats.trim_mean(values, 0.25, axis=axis))


def mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.asarray(np.mean(values, axis=axis))


AGGREGATES: dict[str, Callable[..., np.ndarray]] = {"iqm": iqm, "mean": mean}


def _bootstrap(samples: Sequence[np.ndarray], statistic: Callable[..., np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of `statistic(*samples, axis=-1)`, every sample resampled on its own (stratified)."""
    from scipy import stats

    result = stats.bootstrap(
        tuple(samples),
        statistic,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(SEED),
    )
    interval = result.confidence_interval
    return np.asarray(interval.low), np.asarray(interval.high)


def _resamplable(strata: Strata) -> bool:
    return len(strata) > 0 and all(len(s) >= 2 for s in strata)


def aggregate_interval(strata: Strata, name: str) -> tuple[float, float, float]:
    """(value, low, high) of aggregate `name` (iqm, mean) over the pooled runs and its stratified 95 % interval;
    low/high NaN where a trace has fewer than two runs."""
    fn = AGGREGATES[name]
    value = float(fn(np.concatenate(strata)))
    if not _resamplable(strata) or np.ptp(np.concatenate(strata)) == 0:
        return (value, value, value) if _resamplable(strata) else (value, math.nan, math.nan)
    low, high = _bootstrap(strata, lambda *s, axis: fn(np.concatenate(s, axis=axis), axis=axis))
    return value, float(low), float(high)


def a12(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Vargha-Delaney A12 along `axis`: P(X > Y) + P(X = Y) / 2 over every pair of a run of x and a run of y."""
    x = np.moveaxis(np.asarray(x), axis, -1)[..., :, None]
    y = np.moveaxis(np.asarray(y), axis, -1)[..., None, :]
    return np.asarray(np.mean(x > y, axis=(-2, -1)) + 0.5 * np.mean(x == y, axis=(-2, -1)))


def improvement(x: Strata, y: Strata) -> tuple[float, float, float]:
    """(A12, low, high): the probability that a run of x beats a run of y, with its stratified 95 % interval."""
    value = float(a12(np.concatenate(x), np.concatenate(y)))
    if not (_resamplable(x) and _resamplable(y)):
        return value, math.nan, math.nan
    k = len(x)
    low, high = _bootstrap(
        [*x, *y], lambda *s, axis: a12(np.concatenate(s[:k], axis=axis), np.concatenate(s[k:], axis=axis))
    )
    return value, float(low), float(high)


def rank_intervals(runs: Mapping[str, Strata], name: str = "iqm") -> dict[str, tuple[int, int, int]]:
    """Per method: (rank, lowest, highest rank in the 95 % bootstrap interval) by aggregate `name`, 1 = best.
    Every method's runs are resampled within their traces, jointly, and the methods ranked in each resample."""
    from scipy import stats

    methods = list(runs)
    fn = AGGREGATES[name]
    point = np.array([float(fn(np.concatenate(runs[m]))) for m in methods])
    ranks = stats.rankdata(-point, method="min").astype(int)
    sizes = [len(runs[m]) for m in methods]
    flat = [s for m in methods for s in runs[m]]
    if len(methods) < 2 or not all(_resamplable(runs[m]) for m in methods):
        return {m: (int(r), int(r), int(r)) for m, r in zip(methods, ranks, strict=True)}

    def statistic(*samples: np.ndarray, axis: int) -> np.ndarray:
        values, start = [], 0
        for size in sizes:
            values.append(fn(np.concatenate(samples[start : start + size], axis=axis), axis=axis))
            start += size
        return np.asarray(stats.rankdata(-np.stack(values), method="min", axis=0), dtype=np.float64)

    low, high = _bootstrap(flat, statistic)
    return {m: (int(ranks[i]), math.floor(low[i]), math.ceil(high[i])) for i, m in enumerate(methods)}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (NaN stays NaN)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=np.float64)
    adjusted = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        adjusted[ok] = multipletests(p[ok], alpha=ALPHA, method="holm")[1]
    return adjusted


def mann_whitney(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p-value (NaN where either has fewer than two runs)."""
    from scipy import stats

    if len(x) < 2 or len(y) < 2:
        return math.nan
    return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def resolvable_difference(runs: Mapping[str, Strata]) -> dict[str, float]:
    """The smallest difference (in the scores' unit) a two-sided test at ALPHA detects with power POWER, given the
    fewest runs per method and the pooled within-method SD: {"n", "sd", "difference"} (NaN below 2 runs)."""
    from statsmodels.stats.power import TTestIndPower

    pooled = [np.concatenate(s) for s in runs.values()]
    n = min((len(v) for v in pooled), default=0)
    dof = sum(len(v) - 1 for v in pooled)
    if n < 2 or dof < 1:
        return {"n": n, "sd": math.nan, "difference": math.nan}
    sd = math.sqrt(sum(float(np.var(v, ddof=1)) * (len(v) - 1) for v in pooled) / dof)
    effect = float(TTestIndPower().solve_power(nobs1=n, ratio=1.0, alpha=ALPHA, power=POWER))
    return {"n": n, "sd": sd, "difference": effect * sd}


def performance_profile(values: Mapping[str, np.ndarray], points: int = PROFILE_POINTS) -> pd.DataFrame:
    """Fraction of each method's runs scoring at least tau, for tau on a grid over the observed range.
    Columns: method, tau, fraction."""
    pooled = np.concatenate([np.asarray(v) for v in values.values()])
    grid = np.linspace(float(pooled.min()), float(pooled.max()), points) if pooled.size else np.array([])
    rows = [
        {"method": m, "tau": float(t), "fraction": float(np.mean(np.asarray(v) >= t))}
        for m, v in values.items()
        for t in grid
    ]
    return pd.DataFrame(rows, columns=["method", "tau", "fraction"])


@dataclass(frozen=True)
class LevelScores:
    """One level of a board: its name (e.g. `25 lbs`, `HV area 10-100 lbs`) and each method's runs, per trace."""

    name: str
    runs: dict[str, list[np.ndarray]]
    """method -> one array of scores (%) per trace; a method missing here did not reach the level in every run."""
    missing: dict[str, str]
    """method -> why it has no value (e.g. `27/30 runs reached it`)."""


def level_table(level: LevelScores, privileged: frozenset[str]) -> pd.DataFrame:
    """Aggregates of one level, one row per method (ranked methods first): n, mean and IQM with stratified 95 %
    intervals, rank and rank interval by IQM (privileged methods apart: no rank), `tied` (its rank interval reaches
    1), and against the leader: A12 (the leader's probability of beating it) with interval and the raw p-value."""
    ranked = {m: s for m, s in level.runs.items() if m not in privileged}
    ranks = rank_intervals(ranked) if ranked else {}
    leader = next((m for m, r in ranks.items() if r[0] == 1), None)
    rows = []
    for method, strata in level.runs.items():
        values = np.concatenate(strata)
        m, m_lo, m_hi = aggregate_interval(strata, "mean")
        q, q_lo, q_hi = aggregate_interval(strata, "iqm")
        rank = ranks.get(method)
        row: dict[str, Any] = {
            "level": level.name,
            "method": method,
            "n": len(values),
            "mean": m,
            "mean_lo": m_lo,
            "mean_hi": m_hi,
            "iqm": q,
            "iqm_lo": q_lo,
            "iqm_hi": q_hi,
            "rank": rank[0] if rank else math.nan,
            "rank_lo": rank[1] if rank else math.nan,
            "rank_hi": rank[2] if rank else math.nan,
            "leader": method == leader,
            "tied": bool(rank and rank[1] == 1),
            "privileged": method in privileged,
        }
        if leader is not None and method != leader:
            a, a_lo, a_hi = improvement(level.runs[leader], strata)
            row |= {
                "a12_leader": a,
                "a12_leader_lo": a_lo,
                "a12_leader_hi": a_hi,
                "p_leader": mann_whitney(np.concatenate(level.runs[leader]), values),
            }
        rows.append(row)
    for method, why in level.missing.items():
        rows.append(
            {
                "level": level.name,
                "method": method,
                "n": 0,
                "missing": why,
                "privileged": method in privileged,
                "leader": False,
                "tied": False,
            }
        )
    table = pd.DataFrame(rows)
    for column in ("a12_leader", "a12_leader_lo", "a12_leader_hi", "p_leader", "missing"):
        if column not in table:
            table[column] = math.nan if column != "missing" else ""
    table["missing"] = table["missing"].fillna("")
    return table


def pairwise(levels: Sequence[LevelScores]) -> pd.DataFrame:
    """Every pair of methods at every level of a board: A12 of a over b (the probability of improvement) with its
    stratified 95 % interval, the two-sided Mann-Whitney p-value and the Holm-adjusted p-value over all of the
    board's tests. Columns: level, a, b, a12, a12_lo, a12_hi, p, p_holm."""
    rows = []
    for level in levels:
        for a, b in itertools.combinations(level.runs, 2):
            x, y = np.concatenate(level.runs[a]), np.concatenate(level.runs[b])
            value, low, high = improvement(level.runs[a], level.runs[b])
            rows.append(
                {
                    "level": level.name,
                    "a": a,
                    "b": b,
                    "a12": value,
                    "a12_lo": low,
                    "a12_hi": high,
                    "p": mann_whitney(x, y),
                }
            )
    frame = pd.DataFrame(rows, columns=["level", "a", "b", "a12", "a12_lo", "a12_hi", "p"])
    frame["p_holm"] = holm(frame["p"].tolist()) if len(frame) else []
    return frame


def board_statistics(levels: Sequence[LevelScores], privileged: frozenset[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(aggregates, pairs) of a board: `level_table` of each level with `p_holm_leader` (the Holm-adjusted p-value
    of its test against the leader, from the board's family of `pairwise` tests) and every pairwise test."""
    pairs = pairwise(levels)
    adjusted = {(r["level"], r["a"], r["b"]): r["p_holm"] for r in pairs.to_dict("records")}
    tables = []
    for level in levels:
        table = level_table(level, privileged)
        leader = table.loc[table["leader"], "method"]
        name = leader.iloc[0] if len(leader) else None
        table["p_holm_leader"] = [
            adjusted.get((level.name, name, m), adjusted.get((level.name, m, name), math.nan)) if name else math.nan
            for m in table["method"]
        ]
        tables.append(table)
    return pd.concat(tables, ignore_index=True), pairs
