"""Study charts on a matplotlib `Axes`, for reports, the leaderboard site and notebooks.

Every function draws onto `ax` (a new figure when None) and returns it; each method keeps its one style
(`harness.plotting.method_style`) everywhere. Every artist of a method carries the SVG id `m<i>-<part>` (`i`: the
method's place in `methods_of(frame)`), so the site can add hover values and a method selector to the SVG.

```python
from harness.studies import load_all
from harness.studies.plots import plot_anytime
plot_anytime(load_all().curves.query("study == 'hotcarbon'"))
```
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from harness.plotting import method_style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

HOVER_POINTS = 16
"""Marked points per anytime curve (each shows its value on hover on the site)."""
ATTAINMENT_LEVELS = (0.25, 0.5, 0.75)
"""Quantiles of the attainment view: the median front and its inter-quartile spread."""


def methods_of(frame: pd.DataFrame) -> list[str]:
    """The frame's methods in order of first appearance (blank names, a benchmark's true front, left out)."""
    return [str(m) for m in dict.fromkeys(frame["method"]) if m]


def _axes(ax: Axes | None, width: float = 6.4, height: float = 4.0) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained").add_subplot()


def hover_points(curve: pd.DataFrame, n: int = HOVER_POINTS) -> pd.DataFrame:
    """About `n` evenly spaced rows of one method's drawn anytime curve (the points marked on its line)."""
    if len(curve) <= n:
        return curve
    return curve.iloc[np.unique(np.linspace(0, len(curve) - 1, n).round().astype(int))]


def drawn(curve: pd.DataFrame) -> pd.DataFrame:
    """The part of an anytime curve a chart draws: while at least half of the method's runs are still going."""
    return curve[curve["runs"] >= max(1, 0.5 * curve["runs"].max())]


def plot_anytime(curves: pd.DataFrame, ax: Axes | None = None, title: str = "", legend: bool = True) -> Axes:
    """Mean log10 relative HV regret against cumulative carbon (lbs, log axis) with the 95 % band, one line per
    method, drawn while at least half of its runs go on; `curves`: `harness.studies.aggregate.anytime` rows of one
    board (columns method, carbon_lbs, mean, lower, upper, runs)."""
    ax = _axes(ax)
    for i, method in enumerate(methods_of(curves)):
        g = drawn(curves[curves["method"] == method])
        style = method_style(method)
        ax.plot(g["carbon_lbs"], g["mean"], color=style.color, linestyle=style.dash, label=method, gid=f"m{i}-line")
        ax.fill_between(
            g["carbon_lbs"], g["lower"], g["upper"], color=style.color, alpha=0.15, linewidth=0, gid=f"m{i}-band"
        )
        points = hover_points(g)
        ax.plot(
            points["carbon_lbs"],
            points["mean"],
            linestyle="none",
            marker=style.marker,
            markersize=3.5,
            color=style.color,
            gid=f"m{i}-points",
        )
    ax.set_xscale("log")
    ax.set_xlabel("cumulative carbon (lbs CO2eq)")
    ax.set_ylabel("log10 relative HV regret (lower is better)")
    _finish(ax, title, legend)
    return ax


def plot_fronts(
    fronts: pd.DataFrame,
    objectives: list[str] | None = None,
    ax: Axes | None = None,
    title: str = "",
    front_name: str = "true front",
    legend: bool = True,
) -> Axes:
    """Final Pareto fronts (columns method, accuracy, cost; rows with method "" are the benchmark's true or reference
    front, named `front_name`): error (100 - accuracy, log axis) against cost, both lower is better. One run per
    method is meant (select it first); methods differ by marker as well as colour."""
    ax = _with_true_front(_axes(ax, height=4.4), fronts, front_name)
    for i, method in enumerate(methods_of(fronts)):
        g = fronts[fronts["method"] == method].sort_values("cost")
        style = method_style(method)
        error = 100 - g["accuracy"]
        ax.step(g["cost"], error, where="post", color=style.color, alpha=0.5, linewidth=0.8, gid=f"m{i}-line")
        ax.plot(
            g["cost"],
            error,
            linestyle="none",
            color=style.color,
            marker=style.marker,
            markersize=4,
            label=method,
            gid=f"m{i}-points",
        )
    _front_axes(ax, objectives)
    _finish(ax, title, legend, loc="upper right")
    return ax


def attainment(fronts: pd.DataFrame, levels: tuple[float, ...] = ATTAINMENT_LEVELS) -> pd.DataFrame:
    """Empirical attainment surfaces (López-Ibáñez et al., 2010) of one method's runs, in 2-D (error and cost, both
    minimised): at each cost where some run's front steps, the error that a share `q` of the runs attain at that cost
    or less, i.e. the ceil(q n)-th smallest over the n runs of each run's best error up to that cost (inf: not yet
    attained). `fronts`: columns key (one per run), accuracy, cost. Columns: cost, then one per level (`q0.5`...)."""
    runs = [g for _, g in fronts.groupby("key", sort=True)]
    costs = np.unique(fronts["cost"].to_numpy(np.float64))
    best = np.full((len(runs), len(costs)), np.inf)
    for r, g in enumerate(runs):
        g = g.sort_values("cost")
        error = np.minimum.accumulate(100.0 - g["accuracy"].to_numpy(np.float64))
        pos = np.searchsorted(g["cost"].to_numpy(np.float64), costs, side="right") - 1
        best[r] = np.where(pos >= 0, error[np.clip(pos, 0, None)], np.inf)
    best.sort(axis=0)
    out = {"cost": costs}
    for q in levels:
        out[f"q{q:g}"] = best[max(0, math.ceil(q * len(runs)) - 1)]
    return pd.DataFrame(out)


def plot_attainment(
    fronts: pd.DataFrame,
    objectives: list[str] | None = None,
    ax: Axes | None = None,
    title: str = "",
    front_name: str = "true front",
    legend: bool = True,
) -> Axes:
    """Every run's final front aggregated per method: the median attainment front (line) and the band between the
    25 % and 75 % attainment fronts, as EC-NAS reports; `fronts` as in `plot_fronts` with every run (column key)."""
    ax = _with_true_front(_axes(ax, height=4.4), fronts, front_name)
    for i, method in enumerate(methods_of(fronts)):
        surface = attainment(fronts[fronts["method"] == method])
        style = method_style(method)
        upper = np.where(np.isinf(surface["q0.75"]), np.nan, surface["q0.75"])
        ax.fill_between(
            surface["cost"],
            surface["q0.25"],
            upper,
            step="post",
            color=style.color,
            alpha=0.15,
            linewidth=0,
            gid=f"m{i}-band",
        )
        median = np.where(np.isinf(surface["q0.5"]), np.nan, surface["q0.5"])
        ax.step(
            surface["cost"],
            median,
            where="post",
            color=style.color,
            linestyle=style.dash,
            linewidth=1.3,
            label=method,
            gid=f"m{i}-line",
        )
    _front_axes(ax, objectives)
    _finish(ax, title, legend, loc="upper right")
    return ax


def allocating_methods(tidy: pd.DataFrame) -> list[str]:
    """Methods whose number of training GPUs changes during their runs (the ones an allocation plot shows)."""
    changes = tidy.groupby("method", sort=False)["train_gpus"].nunique()
    return [str(m) for m, n in changes.items() if n > 1]


def plot_allocation(tidy: pd.DataFrame, ax: Axes | None = None, title: str = "", legend: bool = True) -> Axes:
    """Mean training GPUs against the hour's intensity percentile within its own trace window (0 = cleanest hour),
    in deciles, one line per method that changes its allocation; percentiles make regions with different intensity
    levels comparable. `tidy`: `harness.studies.aggregate.tidy_frame` rows of one board."""
    ax = _axes(ax)
    tidy = tidy.assign(pct=100 * tidy.groupby("key")["ci"].rank(pct=True))
    edges = np.linspace(0, 100, 11)
    shown = set(allocating_methods(tidy))
    for i, method in enumerate(methods_of(tidy)):
        if method not in shown:
            continue
        g = tidy[tidy["method"] == method]
        means = g.groupby(pd.cut(g["pct"], edges, include_lowest=True), observed=True)["train_gpus"].mean()
        style = method_style(method)
        ax.plot(
            [iv.mid for iv in means.index],
            means.to_numpy(),
            marker=style.marker,
            markersize=3.5,
            color=style.color,
            linestyle=style.dash,
            label=method,
            gid=f"m{i}-line",
        )
    ax.set_xlabel("hour's carbon intensity, percentile within its trace window (0 = cleanest)")
    ax.set_ylabel("GPUs training (mean)")
    _finish(ax, title + ("" if shown else " (no carbon-aware method)"), legend and bool(shown))
    return ax


def plot_profile(
    profile: pd.DataFrame, ax: Axes | None = None, title: str = "", legend: bool = True, score: str = "score (%)"
) -> Axes:
    """Performance profile: the fraction of each method's runs scoring at least tau, against tau (a step line per
    method; higher and further right is better). `profile`: `harness.studies.stats.performance_profile` rows."""
    ax = _axes(ax)
    for i, method in enumerate(methods_of(profile)):
        g = profile[profile["method"] == method]
        style = method_style(method)
        ax.step(
            g["tau"],
            g["fraction"],
            where="post",
            color=style.color,
            linestyle=style.dash,
            label=method,
            gid=f"m{i}-line",
        )
        points = hover_points(g)
        ax.plot(
            points["tau"],
            points["fraction"],
            linestyle="none",
            marker=style.marker,
            markersize=3.5,
            color=style.color,
            gid=f"m{i}-points",
        )
    ax.set_xlabel(f"tau: {score}")
    ax.set_ylabel("fraction of runs scoring at least tau")
    ax.set_ylim(-0.02, 1.02)
    _finish(ax, title, legend)
    return ax


def _with_true_front(ax: Axes, fronts: pd.DataFrame, front_name: str) -> Axes:
    """The benchmark's true (or reference) front, the rows with method "", as a grey step line."""
    true = fronts[fronts["method"] == ""].sort_values("cost")
    ax.step(true["cost"], 100 - true["accuracy"], where="post", color="0.4", linewidth=1.2, label=front_name)
    return ax


def _front_axes(ax: Axes, objectives: list[str] | None) -> None:
    ax.set_yscale("log")  # error = 100 - accuracy on a log axis spreads the good architectures apart
    ax.set_xlabel(objectives[1] if objectives and len(objectives) > 1 else "cost")
    label = "100 − " + (objectives[0] if objectives else "accuracy (%)") + ", log scale"
    ax.set_ylabel(textwrap.fill(label, 48))  # long labels (NB301's) wrap instead of running off the figure


def _finish(ax: Axes, title: str, legend: bool, loc: Literal["best", "upper right"] = "best") -> None:
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    if legend:
        ax.legend(fontsize=7, frameon=False, loc=loc)


def plot_rank_shift(ranks: pd.DataFrame, ax: Axes | None = None, title: str = "", legend: bool = True) -> Axes:
    """Each ranked method's headline rank under every accounting profile (a line per method across the profiles;
    rank 1 at the top). `ranks`: `harness.studies.sensitivity.SensitivityResult.ranks`, profiles in board order."""
    ax = _axes(ax)
    profiles = list(dict.fromkeys(ranks["profile"]))
    ranked = ranks.dropna(subset=["rank"])
    for i, method in enumerate(methods_of(ranked)):
        g = ranked[ranked["method"] == method].set_index("profile").reindex(profiles)
        style = method_style(method)
        x = np.arange(len(profiles))
        ax.plot(x, g["rank"], color=style.color, linestyle=style.dash, label=method, gid=f"m{i}-line")
        ax.plot(x, g["rank"], linestyle="none", marker=style.marker, color=style.color, gid=f"m{i}-points")
    ax.set_xticks(range(len(profiles)), profiles)
    ax.set_xlabel("accounting profile")
    ax.set_ylabel("rank at the headline (1 = best)")
    ax.invert_yaxis()
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
