"""Multi-run loading and aggregation: tidy frames from a study folder, anytime curves with confidence bands, summary
tables with ranks and tests against the best method.

Conventions (documented in docs/studies.md):
- HV regret is `HV_max - HV`; curves use `log10((HV_max - HV) / HV_max)` (relative regret), floored at 1e-9 so a run
  that found the whole front stays finite.
- A run's HV at cumulative carbon c is the HV at the end of the last interval whose cumulative carbon is <= c (0
  before the first): HV is counted once the carbon that bought it has been emitted. A run that ended before c has no
  value there (it is not extrapolated), and summaries say how many runs reached each checkpoint.
- Mean and 95 % confidence band over runs (seeds x traces of a board) with the t-interval (scipy.stats.t).
- Each method is compared with the best (lowest mean regret) by a two-sided Mann-Whitney U test over runs.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.studies.published import StudyFrames
from harness.units import GRAMS_PER

CHECKPOINTS_LBS = (10.0, 25.0, 50.0, 100.0, 250.0, 500.0)
REGRET_FLOOR = 1e-9
END_TOLERANCE = 1e-9
"""Relative slack at a run's end: a level equal to its final carbon (a carbon budget spent exactly, summed in floats)
counts as reached."""
BOARD = ("benchmark", "budget", "gpus")
RUN_COLUMNS = ("key", "method", "benchmark", "trace", "budget", "gpus", "seed")
SUMMARY_COLUMNS = (
    "hv",
    "hv_max",
    "hv_fraction",
    "carbon_g",
    "energy_kwh",
    "gpu_hours",
    "train_gpu_hours",
    "oneshot_gpu_hours",
    "simulated_hours",
    "n_trained",
    "carbon_to_90pct_g",
    "carbon_to_95pct_g",
    "carbon_to_99pct_g",
    "dynamic_g",
    "idle_g",
    "overhead_g",
    "embodied_g",
    "stop_reason",
)
"""Per-run summary columns; records written before a column existed (the accounting terms) give NaN there."""
CURVE_COLUMNS = ("hour", "cum_carbon_g", "hv", "ci", "train_gpus", "oneshot_gpus")
STATE_COLUMNS = ("cum_carbon_g", "hv", "train_gpus", "oneshot_gpus")
"""The curve columns that say what a run did; an hour in which none of them changed did nothing."""
FRONT_COLUMNS = ("key", "benchmark", "arch", "accuracy", "cost")


def _index(folder: Path) -> dict[str, Any]:
    path = folder / "study.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(f"{folder} is not a study folder (no study.json; run `harness sweep` first)") from None
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read {path} ({exc})") from None


def _budget_text(spec: dict[str, Any]) -> str:
    from harness.config import Budget

    return Budget(**spec["budget"]).describe()


def verified_record(path: Path, cell: dict[str, Any]) -> Any:
    """The run record stored for `cell` (its index entry: key, label), read only if its checksum sidecar agrees and
    its own spec hashes to the cell's key (so an edited record, or one moved to another cell, is refused)."""
    from harness.config import Budget, RunSpec
    from harness.io import read_checked
    from harness.results import parse_record
    from harness.studies.store import cell_key

    data = read_checked(path)
    if data is None:
        raise HarnessError(
            f"{path} does not match its checksum ({path.with_suffix('.sha256').name}): it was changed "
            f"or cut short after the sweep wrote it; delete it and sweep again"
        )
    try:
        record = parse_record(json.loads(data))
        spec = dict(record.spec)
        run = RunSpec(**(spec | {"budget": Budget(**spec["budget"])}))
    except (ValueError, KeyError, TypeError) as exc:
        raise HarnessError(f"{path} is not a cenas-bench run record ({exc})") from None
    if cell_key(run) != cell["key"]:
        raise HarnessError(f"{path} is not the record of its cell {cell['label']!r}: its spec belongs to another cell")
    return record


def without_idle_tail(curve: pd.DataFrame) -> pd.DataFrame:
    """A run's hourly curve (rows in time order) without the hours of its idle tail: after the last hour in which
    something changed (carbon, HV or the GPUs' split), only the run's last hour is kept, so the curve still ends where
    the run did. Such a tail is a run that could neither spend nor learn until the trace ended (e.g. a schedule that
    trains on no GPU under an accounting that charges idle GPUs nothing: 10,000 identical hours); no value of the curve
    at any carbon changes, and the dropped hours' intensities are the trace's."""
    state = curve[list(STATE_COLUMNS)].to_numpy(dtype=np.float64)
    changed = np.flatnonzero((state[1:] != state[:-1]).any(axis=1)) + 1
    last = int(changed[-1]) if len(changed) else 0
    if last >= len(curve) - 2:
        return curve
    return curve.iloc[np.r_[: last + 1, len(curve) - 1]].reset_index(drop=True)


def frames_from_records(folder: Path) -> StudyFrames:
    """The frames of a swept study folder, from its run records (each read once and passed by the conservation audit,
    or HarnessError names the first that is not). A run's front is rebuilt from its paid trainings with the
    benchmark's true objectives, and its hypervolume must equal the record's."""
    from harness.audit import require_clean
    from harness.studies.published import front_rows, provenance_from, true_front_rows

    index = _index(folder)
    runs, curves, fronts, records, labels = [], [], [], [], []
    missing = []
    for cell in index["cells"]:
        path = folder / "records" / f"{cell['key']}.json"
        if not path.exists():
            missing.append(cell["label"])
            continue
        record = verified_record(path, cell)
        require_clean(record, f"the record of {cell['label']} ({path})")
        spec = record.spec
        ident = {
            "key": cell["key"],
            "method": cell.get("method", spec["method"]),
            "benchmark": spec["benchmark"],
            "trace": spec["trace"],
            "budget": _budget_text(spec),
            "gpus": spec["gpus"],
            "seed": spec["seed"],
        }
        runs.append(ident | {k: record.summary.get(k) for k in SUMMARY_COLUMNS})
        frame = pd.DataFrame(record.intervals)
        frame = without_idle_tail(frame.assign(hour=frame["end_h"])[list(CURVE_COLUMNS)])
        curves.append(frame.assign(**{k: ident[k] for k in ("key", "method")}))
        fronts += front_rows(cell["key"], record)
        records.append(record)
        labels.append(ident["method"])
    if missing:
        raise HarnessError(f"{len(missing)} cell(s) of {folder} have no record (e.g. {missing[0]}); rerun the sweep")
    runs_frame = pd.DataFrame(runs, columns=[*RUN_COLUMNS, *SUMMARY_COLUMNS])
    for column in SUMMARY_COLUMNS:
        if column != "stop_reason":
            runs_frame[column] = pd.to_numeric(runs_frame[column]).astype(np.float64)  # None (never reached) -> NaN
    curve_frame = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["key", *CURVE_COLUMNS])
    for benchmark in dict.fromkeys(runs_frame["benchmark"]):
        fronts += true_front_rows(benchmark)
    front_frame = pd.DataFrame(fronts, columns=list(FRONT_COLUMNS))
    return StudyFrames(runs_frame, curve_frame, front_frame, provenance_from(index, records, labels))


def study_frames(folder: str | Path) -> StudyFrames:
    """The frames of a study folder: from its run records when it has them, else from its committed form
    (`runs.csv.gz`, `curves.parquet`, `fronts.parquet`, `provenance.json`; `harness.studies.published`)."""
    from harness.studies.published import read_published

    folder = Path(folder)
    if (folder / "records").is_dir():
        return frames_from_records(folder)
    return read_published(folder)


def tidy_frame(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Curves joined with each run's identity and HV_max, plus carbon in lbs, HV fraction, regret and log10 relative
    regret."""
    tidy = curves.drop(columns=[c for c in ("method",) if c in curves]).merge(
        runs[[*RUN_COLUMNS, "hv_max"]], on="key", how="left"
    )
    tidy["cum_carbon_lbs"] = tidy["cum_carbon_g"] / GRAMS_PER["lbs"]
    tidy["hv_fraction"] = tidy["hv"] / tidy["hv_max"]
    tidy["regret"] = tidy["hv_max"] - tidy["hv"]
    tidy["log10_rel_regret"] = np.log10(np.maximum(tidy["regret"] / tidy["hv_max"], REGRET_FLOOR))
    return tidy


def budget_label(budget: str, study: dict[str, Any]) -> str:
    """A run's budget (as records describe it, e.g. `226796 g CO2eq`) as the study file gives it, spaced
    (`500 lbs`); unchanged when the study does not list it."""
    import re

    from harness.config import parse_budget

    labels = {parse_budget(b).describe(): re.sub(r"(\d)([A-Za-z])", r"\1 \2", b) for b in study.get("budgets", [])}
    return labels.get(budget, budget)


def load_runs(folder: str | Path) -> pd.DataFrame:
    """One row per run: identity (method, benchmark, trace, budget, GPUs, seed, key) and summary numbers."""
    return study_frames(folder).runs


def load_study(folder: str | Path) -> pd.DataFrame:
    """Tidy anytime data: one row per run x allocation interval (hour, cumulative carbon, HV, HV regret, intensity,
    GPUs training and sampling), joined with the run's identity and HV_max. Reads the run records when the folder has
    them, else the committed aggregate (`curves.parquet` + `runs.csv.gz`)."""
    frames = study_frames(folder)
    return tidy_frame(frames.runs, frames.curves)


@dataclass(frozen=True)
class AllStudies:
    """Every committed search-run study of a results folder, in the vocabulary of the site's CSV downloads.

    runs: one row per run (`study`, `RUN_COLUMNS`, `SUMMARY_COLUMNS`); tidy: one row per run x allocation interval
    (`tidy_frame`'s columns and `study`); fronts: every run's final front and each benchmark's true front (key "",
    method ""), with `study`; provenance: per study. `curves` and `summary` are computed on first use."""

    runs: pd.DataFrame
    tidy: pd.DataFrame
    fronts: pd.DataFrame
    provenance: dict[str, dict[str, Any]]

    @cached_property
    def curves(self) -> pd.DataFrame:
        """`anytime` per study, board and method: columns study, benchmark, budget, gpus, method, carbon_lbs, mean,
        lower, upper, runs."""
        return _per_study(self.tidy, lambda tidy: anytime(tidy))

    @cached_property
    def summary(self) -> pd.DataFrame:
        """`summary_table` per study and board, as the boards rank (privileged methods apart)."""
        parts = []
        for study, runs in self.runs.groupby("study", sort=False):
            privileged = frozenset(self.provenance[str(study)].get("privileged", {}))
            table = summary_table(runs, self.tidy[self.tidy["study"] == study], privileged=privileged)
            parts.append(table.assign(study=study))
        return pd.concat(parts, ignore_index=True)


def _per_study(tidy: pd.DataFrame, make: Any) -> pd.DataFrame:
    parts = [make(group).assign(study=study) for study, group in tidy.groupby("study", sort=False)]
    return pd.concat(parts, ignore_index=True)


def load_all(results: str | Path = "results") -> AllStudies:
    """Every search-run study under `results` (analysis studies have no runs), each read from its checked committed
    form (what the leaderboard reads); a `study` column tells them apart."""
    from harness.studies.published import read_published, study_folders

    runs, tidy, fronts, provenance = [], [], [], {}
    for folder in study_folders(Path(results)):
        frames = read_published(folder)
        runs.append(frames.runs.assign(study=folder.name))
        tidy.append(tidy_frame(frames.runs, frames.curves).assign(study=folder.name))
        fronts.append(
            frames.fronts.merge(frames.runs[["key", "method", "trace", "seed"]], on="key", how="left")
            .fillna({"method": ""})
            .assign(study=folder.name)
        )
        provenance[folder.name] = frames.provenance
    return AllStudies(
        pd.concat(runs, ignore_index=True),
        pd.concat(tidy, ignore_index=True),
        pd.concat(fronts, ignore_index=True),
        provenance,
    )


# ------------------------------------------------------------------------------------------------------ curves
def hv_at(tidy_run: pd.DataFrame, carbon_g: np.ndarray) -> np.ndarray:
    """A run's HV at each cumulative carbon (g), shape of `carbon_g`: the HV at the end of the last interval whose
    cumulative carbon is <= c (HV counts once the carbon that bought it is spent); 0 before the first interval; NaN
    after the run's end (never extrapolated; within END_TOLERANCE of it counts as the end). `tidy_run`: one run's rows
    (columns cum_carbon_g, hv) sorted by hour."""
    c = tidy_run["cum_carbon_g"].to_numpy(np.float64)
    hv = tidy_run["hv"].to_numpy(np.float64)
    carbon_g = np.asarray(carbon_g, dtype=np.float64)
    end = c[-1] * (1 + END_TOLERANCE)
    pos = np.searchsorted(c, np.minimum(carbon_g, c[-1]), side="right") - 1
    values = np.where(pos >= 0, hv[np.clip(pos, 0, None)], 0.0)
    return np.where(carbon_g <= end, values, np.nan)


def mean_ci(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, lower, upper) of the 95 % Student-t interval over `axis` of `values`, ignoring NaN; each has the shape
    of `values` without `axis`. Bounds are NaN where fewer than 2 values (mean NaN where none)."""
    from scipy import stats

    n = np.sum(~np.isnan(values), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN or single-value columns: NaN, handled below
        mean = np.nanmean(np.where(n > 0, values, np.nan), axis=axis) if values.size else np.array([])
        sd = np.nanstd(values, axis=axis, ddof=1)
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    half = np.where(n >= 2, half, np.nan)
    return mean, mean - half, mean + half


def anytime(tidy: pd.DataFrame, grid_lbs: np.ndarray | None = None) -> pd.DataFrame:
    """Per board and method: mean log10 relative regret and its 95 % band on one carbon grid per board (lbs; default
    120 log-spaced points up to the board's largest final carbon), so every method of a board is read at the same
    carbon.

    Columns: board keys, method, carbon_lbs, mean, lower, upper, runs (with a value at that carbon).
    """
    rows = []
    for board, board_tidy in tidy.groupby(list(BOARD), sort=False):
        top = float(board_tidy.groupby("key")["cum_carbon_g"].max().max()) / GRAMS_PER["lbs"]
        grid = grid_lbs if grid_lbs is not None else np.geomspace(max(top / 1000, 1e-3), top, 120)
        for method, group in board_tidy.groupby("method", sort=False):
            runs = [g.sort_values("hour") for _, g in group.groupby("key", sort=False)]
            hv_max = float(group["hv_max"].iloc[0])
            matrix = np.vstack([hv_at(g, grid * GRAMS_PER["lbs"]) for g in runs])
            log_regret = np.log10(np.maximum((hv_max - matrix) / hv_max, REGRET_FLOOR))
            mean, lower, upper = mean_ci(log_regret)
            count = np.sum(~np.isnan(matrix), axis=0)
            for i, c in enumerate(grid):
                rows.append(
                    dict(zip(BOARD, board, strict=True))
                    | {
                        "method": method,
                        "carbon_lbs": float(c),
                        "mean": mean[i],
                        "lower": lower[i],
                        "upper": upper[i],
                        "runs": int(count[i]),
                    }
                )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------------- summary
def summary_table(
    runs: pd.DataFrame,
    tidy: pd.DataFrame,
    checkpoints_lbs: tuple[float, ...] = CHECKPOINTS_LBS,
    privileged: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """Per board and method: HV regret and fraction at carbon checkpoints (mean, 95 % CI; NaN unless every run reached
    the checkpoint: never a mean over survivors; runs reaching it), carbon
    to 95 %/99 % of HV_max (median over runs that reached it; how many did), GPU-hours, rank per checkpoint, and the
    Mann-Whitney U p-value against the best method at each checkpoint (NaN for the best itself, and where either has
    fewer than two runs). HV fraction = 1 - regret / HV_max, so its band is the regret's, mapped. Methods in
    `privileged` (they know more than the past, the present and forecasts) are ranked apart: no rank, never the best,
    their p-value against the best of the others (a labelled bound)."""
    from scipy import stats

    out: list[dict[str, Any]] = []
    for board, board_runs in runs.groupby(list(BOARD), sort=False):
        board_tidy = tidy[tidy["key"].isin(board_runs["key"])]
        per_method: dict[str, dict[str, Any]] = {}
        samples: dict[tuple[str, float], np.ndarray] = {}
        for method, group in board_runs.groupby("method", sort=False):
            hv_max = float(group["hv_max"].iloc[0])
            row: dict[str, Any] = dict(zip(BOARD, board, strict=True)) | {
                "method": method,
                "runs": len(group),
                "privileged": method in privileged,
            }
            for lbs in checkpoints_lbs:
                carbon = np.array([lbs * GRAMS_PER["lbs"]])
                method_runs = board_tidy[board_tidy["key"].isin(group["key"])].groupby("key")
                values = np.array([hv_at(g.sort_values("hour"), carbon)[0] for _, g in method_runs])
                regret = hv_max - values
                samples[(method, lbs)] = regret[~np.isnan(regret)]
                reached = int(np.sum(~np.isnan(values)))
                mean, lower, upper = mean_ci(regret[:, None] if reached == len(values) else np.full((1, 1), np.nan))
                at = f"_at_{lbs:g}lbs"
                row |= {
                    f"regret{at}": mean[0],
                    f"regret_lo{at}": lower[0],
                    f"regret_hi{at}": upper[0],
                    f"fraction{at}": 1 - mean[0] / hv_max,
                    f"fraction_lo{at}": 1 - upper[0] / hv_max,
                    f"fraction_hi{at}": 1 - lower[0] / hv_max,
                    f"reached{at}": reached,
                }
            for pct in (95, 99):
                reached = group[f"carbon_to_{pct}pct_g"].dropna()
                row[f"carbon_to_{pct}pct_lbs"] = float(reached.median() / GRAMS_PER["lbs"]) if len(reached) else np.nan
                row[f"carbon_to_{pct}pct_reached"] = len(reached)
            row["gpu_hours"] = float(group["gpu_hours"].mean())
            row["carbon_lbs"] = float(group["carbon_g"].mean() / GRAMS_PER["lbs"])
            per_method[method] = row
        for lbs in checkpoints_lbs:
            at = f"_at_{lbs:g}lbs"
            complete = {m: r[f"regret{at}"] for m, r in per_method.items() if r[f"reached{at}"] == r["runs"]}
            means = {m: v for m, v in complete.items() if m not in privileged}
            ranked = sorted(means, key=lambda m: means[m])
            for m, r in per_method.items():
                r[f"rank_at_{lbs:g}lbs"] = ranked.index(m) + 1 if m in ranked else np.nan
                if (
                    ranked
                    and m != ranked[0]
                    and m in complete
                    and min(len(samples[(k, lbs)]) for k in (m, ranked[0])) > 1
                ):
                    r[f"p_at_{lbs:g}lbs"] = float(
                        stats.mannwhitneyu(samples[(m, lbs)], samples[(ranked[0], lbs)], alternative="two-sided").pvalue
                    )
                else:
                    r[f"p_at_{lbs:g}lbs"] = np.nan
        out.extend(per_method.values())
    return pd.DataFrame(out)


def fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
