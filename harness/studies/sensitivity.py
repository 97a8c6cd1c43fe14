"""Accounting sensitivity: does a board's conclusion survive the accounting choices?

A sensitivity board (`leaderboards/sensitivity/NAME.toml`) names studies that differ only in their accounting
profile (the same methods, benchmark, traces, budget, seeds, levels and shared options; refused otherwise). For each
profile it reads the board's headline statistics (`harness.studies.levels`); it reports, per profile, every method's
IQM and rank at the headline, the rank correlation of each profile's ranking with the baseline profile's (Kendall's
tau-b and Spearman's rho, `scipy.stats`, over the ranked methods both profiles rank), the carbon each method needs to
reach a target hypervolume as a ratio to the reference method's (medians over the runs that reach it), and how each
method's carbon splits into the accounting terms (dynamic, idle, overhead, embodied).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harness.errors import HarnessError
from harness.registry import Registry
from harness.sim.accounting import TERMS

SCHEMA = "cenas-bench/sensitivity/1"
TARGET = 0.90
"""The HV fraction whose carbon the ratios compare (`carbon_to_90pct_g` of every run)."""
VARYING = frozenset({"name", "description", "accounting"})
"""The study fields a sensitivity board's studies may differ in."""


@dataclass(frozen=True)
class Sensitivity:
    """A sensitivity board: `studies` (accounting profile -> study name; the first is the baseline)."""

    name: str
    description: str
    studies: dict[str, str]
    reference_method: str

    @property
    def baseline(self) -> str:
        """The profile the others are compared with."""
        return next(iter(self.studies))


def sensitivity_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("leaderboards").joinpath("sensitivity")))


def load_sensitivity(path: Path) -> Sensitivity:
    """Read and check a sensitivity file: schema, name, description, reference_method and `[studies]` (profile ->
    study), at least two."""
    where = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"{where}: cannot read it ({exc})") from None
    if raw.get("schema") != SCHEMA:
        raise HarnessError(f"{where}: schema must be {SCHEMA!r}")
    studies = raw.get("studies")
    if not isinstance(studies, dict) or len(studies) < 2 or not all(isinstance(v, str) for v in studies.values()):
        raise HarnessError(f"{where}: [studies] must map at least two accounting profiles to study names")
    for key in ("name", "description", "reference_method"):
        if not isinstance(raw.get(key), str):
            raise HarnessError(f"{where}: {key} must be a string")
    return Sensitivity(raw["name"], raw["description"], dict(studies), raw["reference_method"])


SENSITIVITIES: Registry[Path] = Registry("sensitivity board", "leaderboard build")
"""Shipped sensitivity boards: name -> TOML path."""
for _path in sorted(sensitivity_dir().glob("*.toml")):
    SENSITIVITIES.add(_path.stem, f"accounting sensitivity ({_path.name})", value=_path)


def check_comparable(spec: Sensitivity, studies: dict[str, dict[str, Any]]) -> None:
    """The named studies differ in their accounting profile and nothing else, each under the profile it is named for."""
    base_profile = spec.baseline
    base = studies[spec.studies[base_profile]]
    for profile, name in spec.studies.items():
        study = studies[name]
        if study.get("accounting") != profile:
            raise HarnessError(
                f"sensitivity {spec.name}: study {name} runs under {study.get('accounting')!r}, not {profile!r}"
            )
        differing = sorted(k for k in set(base) | set(study) if k not in VARYING and base.get(k) != study.get(k))
        if differing:
            raise HarnessError(
                f"sensitivity {spec.name}: study {name} differs from {spec.studies[base_profile]} in {differing[0]!r}, "
                "not only in its accounting"
            )


@dataclass(frozen=True)
class SensitivityResult:
    """`ranks`: one row per profile x method (iqm, iqm_lo, iqm_hi, rank, privileged); `correlations`: one row per
    profile against the baseline (n, kendall_tau, kendall_p, spearman_rho, spearman_p, same_leader); `carbon`: one
    row per profile x method (runs, reached, median carbon to the target in lbs, ratio to the reference method, mean
    carbon per run and each term's share of it)."""

    spec: Sensitivity
    headline: str
    ranks: pd.DataFrame
    correlations: pd.DataFrame
    carbon: pd.DataFrame


def _carbon_rows(profile: str, runs: pd.DataFrame, reference: str) -> list[dict[str, Any]]:
    from harness.units import GRAMS_PER

    medians = {}
    rows = []
    for method, group in runs.groupby("method", sort=False):
        reached = group["carbon_to_90pct_g"].dropna()
        medians[method] = float(reached.median()) if len(reached) else math.nan
        total = group["carbon_g"].to_numpy(np.float64)
        row = {
            "profile": profile,
            "method": method,
            "runs": len(group),
            "reached": len(reached),
            "carbon_to_target_lbs": medians[method] / GRAMS_PER["lbs"],
            "carbon_lbs": float(total.mean()) / GRAMS_PER["lbs"],
        }
        for term in TERMS:  # a run that emitted nothing (no GPU ever busy, nothing counted idle) has no shares
            column = f"{term}_g"
            parts = group[column].to_numpy(np.float64) if column in group else np.full(len(group), np.nan)
            share = np.divide(parts, total, out=np.full(len(group), np.nan), where=total > 0)
            row[f"{term}_share"] = float(np.nanmean(share)) if np.isfinite(share).any() else math.nan
        rows.append(row)
    ref = medians.get(reference, math.nan)
    for row in rows:
        row["ratio_to_reference"] = medians[row["method"]] / ref if ref and math.isfinite(ref) else math.nan
    return rows


def sensitivity(spec: Sensitivity, boards: dict[str, Any]) -> SensitivityResult:
    """The sensitivity tables from each profile's board (`harness.leaderboard.boards.Board`, by study name)."""
    check_comparable(spec, {name: board.study for name, board in boards.items()})
    headlines = {board.headline for board in boards.values()}
    if len(headlines) != 1:
        raise HarnessError(f"sensitivity {spec.name}: the studies' boards rank at different levels {sorted(headlines)}")
    headline = headlines.pop()
    rank_rows, carbon_rows = [], []
    for profile, name in spec.studies.items():
        board = boards[name]
        table = board.levels.stats[board.levels.stats["level"] == headline]
        for row in table.to_dict("records"):
            rank_rows.append(
                {"profile": profile, "method": row["method"]}
                | {k: row.get(k, math.nan) for k in ("iqm", "iqm_lo", "iqm_hi", "rank")}
                | {"privileged": bool(row["privileged"])}
            )
        carbon_rows += _carbon_rows(profile, board.runs, spec.reference_method)
    ranks = pd.DataFrame(rank_rows)
    correlations = []
    base = ranks[ranks["profile"] == spec.baseline].set_index("method")["rank"].dropna()
    for profile in spec.studies:
        other = ranks[ranks["profile"] == profile].set_index("method")["rank"].dropna()
        common = [m for m in base.index if m in other.index]
        tau = stats.kendalltau(base[common], other[common])
        rho = stats.spearmanr(base[common], other[common])
        correlations.append(
            {
                "profile": profile,
                "n": len(common),
                "kendall_tau": float(tau.statistic),
                "kendall_p": float(tau.pvalue),
                "spearman_rho": float(rho.statistic),
                "spearman_p": float(rho.pvalue),
                "leader": str(other.idxmin()) if len(other) else "",
                "same_leader": bool(len(other)) and other.idxmin() == base.idxmin(),
            }
        )
    return SensitivityResult(spec, headline, ranks, pd.DataFrame(correlations), pd.DataFrame(carbon_rows))
