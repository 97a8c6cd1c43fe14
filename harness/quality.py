"""The statistical quality gate: the search quality of a method across seeds against a committed baseline.

The goldens (`harness.goldens`) fail on any change of behaviour, a harmless change of random stream included. The
gate fails only on a significant loss of search quality. For one method it runs `SEEDS` seeds of a short run (12 h,
8 GPUs, the method's default benchmark, trace `hotcarbon-1`) and measures per seed:

- HV regret (HV_max - HV) at three carbon checkpoints, 25 %, 50 % and 100 % of the baseline's matched carbon (the
  smallest final carbon over its seeds, two significant digits, rounded down). A run that emitted less carbon than a
  checkpoint keeps its final HV there (it was not given more to spend);
- HV regret at the end of the time budget (a method that evaluates fewer architectures per hour loses here);
- carbon to target: the cumulative carbon at which a run first reached the target HV (the baseline's median HV at
  its matched carbon); infinite for a run that never did.

A metric fails when the new per-seed values are significantly larger than the baseline's (one-sided Mann-Whitney U,
p < `ALPHA`) **and** the median moved by more than `FLOOR` of the baseline's median (an effect-size floor, so shifts at
noise level never fail). The gate fails when any metric fails. Baselines are JSON files
(`harness/expected/quality/METHOD.json` for the registered methods): the per-seed values, the checkpoints and target,
and the run they came from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness import __version__
from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.io import atomic_write_text
from harness.metrics import carbon_to_target
from harness.units import round_down

SCHEMA = "cenas-bench/quality-baseline/1"
BUDGET = "12h"
TRACE = "hotcarbon-1"
GPUS = 8
SEEDS = 20
MIN_SEEDS = 10
ALPHA = 0.01
FLOOR = 0.10
FRACTIONS = (0.25, 0.5, 1.0)
BASELINE_DIR = Path(__file__).resolve().parent / "expected" / "quality"
"""The committed quality baselines, package data (`harness/expected/quality/`)."""
TARGET = "carbon_to_target_g"
END = "regret@end"


@dataclass(frozen=True)
class Curve:
    """One run's anytime curve: cumulative carbon (g) and HV at the end of each interval, shape (t,), and HV_max."""

    seed: int
    carbon_g: np.ndarray
    hv: np.ndarray
    hv_max: float

    @classmethod
    def from_record(cls, text: str) -> Curve:
        document = json.loads(text)
        columns = document["intervals"]["columns"]
        rows = np.asarray(document["intervals"]["rows"], dtype=object)
        carbon = rows[:, columns.index("cum_carbon_g")].astype(np.float64)
        hv = rows[:, columns.index("hv")].astype(np.float64)
        return cls(int(document["spec"]["seed"]), carbon, hv, float(document["summary"]["hv_max"]))

    def hv_at(self, carbon_g: float) -> float:
        """HV once `carbon_g` was emitted: the last interval end at or below it (0 before the first); the final HV
        if the run emitted less."""
        position = int(np.searchsorted(self.carbon_g, carbon_g, side="right")) - 1
        return float(self.hv[position]) if position >= 0 else 0.0

    def carbon_to(self, target_hv: float) -> float:
        """Cumulative carbon (g) when the HV first reached `target_hv`; inf if it never did."""
        reached = carbon_to_target(self.carbon_g, self.hv, target_hv)
        return math.inf if reached is None else reached


@dataclass(frozen=True)
class Row:
    """One metric of the gate: per-seed medians before and after, relative change, p-value and verdict."""

    metric: str
    baseline_median: float
    new_median: float
    change: float
    p_value: float
    failed: bool


def gate_specs(
    method: str, seeds: Sequence[int], gpus: int = GPUS, options: dict[str, Any] | None = None
) -> list[RunSpec]:
    from harness.methods import default_benchmark

    budget = parse_budget(BUDGET)
    bench = default_benchmark(method)
    return [RunSpec(method, bench, TRACE, budget, s, gpus, method_options=dict(options or {})) for s in seeds]


def run_curves(specs: list[RunSpec], workers: int | None = None) -> list[Curve]:
    """Run `specs` on the sweep executor (`workers` processes, default one per core); curves in spec order."""
    from harness.studies.executors import run_texts

    return [Curve.from_record(text) for text in run_texts(specs, workers)]


def metrics(curves: list[Curve], checkpoints_g: list[float], target_hv: float) -> dict[str, list[float]]:
    """Per-seed values of every gate metric (lower is better), in curve order."""
    values = {f"regret@{c:g}g": [x.hv_max - x.hv_at(c) for x in curves] for c in checkpoints_g}
    values[END] = [x.hv_max - float(x.hv[-1]) for x in curves]
    values[TARGET] = [x.carbon_to(target_hv) for x in curves]
    return values


def make_baseline(method: str, specs: list[RunSpec], curves: list[Curve]) -> dict[str, Any]:
    """A baseline document from the curves of `specs`: checkpoints, target and per-seed metric values."""
    matched = round_down(min(float(c.carbon_g[-1]) for c in curves))
    checkpoints = [round_down(f * matched) for f in FRACTIONS]
    target = float(np.median([c.hv_at(matched) for c in curves]))
    spec = specs[0]
    return {
        "schema": SCHEMA,
        "method": method,
        "version": __version__,
        "run": {
            "benchmark": spec.benchmark,
            "trace": spec.trace,
            "budget": BUDGET,
            "gpus": spec.gpus,
            "seeds": [s.seed for s in specs],
            "method_options": spec.method_options,
        },
        "checkpoints_g": checkpoints,
        "target_hv": target,
        "metrics": {k: [_json_float(v) for v in vs] for k, vs in metrics(curves, checkpoints, target).items()},
        "regenerate": f"harness regress --method {method} --update",
    }


def _json_float(value: float) -> float | str:
    return "inf" if value == math.inf else value


def _values(raw: list[Any]) -> np.ndarray:
    return np.asarray([math.inf if v == "inf" else v for v in raw], dtype=np.float64)


def load_baseline(path: Path, method: str) -> dict[str, Any]:
    """A baseline file for `method`, checked: schema, method, enough seeds (one error line otherwise)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(
            f"no quality baseline at {path}; create one with `harness regress --method {method} --update`"
        ) from None
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read quality baseline {path} ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else None
        raise HarnessError(f"{path} is not a quality baseline of schema {SCHEMA!r} (found {found!r})")
    if document.get("method") != method:
        raise HarnessError(f"{path} is the baseline of method {document.get('method')!r}, not {method!r}")
    try:
        seeds = document["run"]["seeds"]
        lengths = {len(v) for v in document["metrics"].values()}
        float(document["target_hv"]), list(document["checkpoints_g"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise HarnessError(f"{path}: malformed quality baseline (missing {exc})") from None
    if len(seeds) < MIN_SEEDS or lengths != {len(seeds)}:
        raise HarnessError(f"{path} has {len(seeds)} seeds; the gate needs at least {MIN_SEEDS} per metric")
    return document


def write_baseline(document: dict[str, Any], path: Path) -> None:
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


def compare(
    baseline: dict[str, Any], new: dict[str, list[float]], alpha: float = ALPHA, floor: float = FLOOR
) -> list[Row]:
    """Each metric of `new` against the baseline: one-sided Mann-Whitney U (new larger) at level `alpha`, and the
    effect-size floor (the median must grow by more than `floor` of the baseline's)."""
    from scipy import stats

    rows = []
    order = [f"regret@{c:g}g" for c in baseline["checkpoints_g"]] + [END, TARGET]
    for name in sorted(baseline["metrics"], key=lambda k: order.index(k) if k in order else len(order)):
        before, after = _values(baseline["metrics"][name]), np.asarray(new[name], dtype=np.float64)
        b, a = float(np.median(before)), float(np.median(after))
        if a == b:
            change = 0.0
        elif math.isinf(a) or b == 0:
            change = math.inf
        else:
            change = (a - b) / abs(b)
        p = float(stats.mannwhitneyu(after, before, alternative="greater").pvalue)
        rows.append(Row(name, b, a, change, p, bool(p < alpha and change > floor)))
    return rows


def specs_for(
    method: str,
    baseline: dict[str, Any],
    seed_offset: int = 0,
    gpus: int | None = None,
    options: dict[str, Any] | None = None,
) -> list[RunSpec]:
    """The gate's runs of `method`: the baseline's seeds shifted by `seed_offset`, its GPU count and method options
    unless given."""
    run = baseline["run"]
    seeds = [s + seed_offset for s in run["seeds"]]
    return gate_specs(method, seeds, gpus or run["gpus"], run["method_options"] if options is None else options)


def measure(baseline: dict[str, Any], curves: list[Curve]) -> dict[str, list[float]]:
    """The gate's metrics of new curves at the baseline's checkpoints and target."""
    return metrics(curves, list(baseline["checkpoints_g"]), float(baseline["target_hv"]))


def measure_all(
    jobs: dict[str, tuple[dict[str, Any], list[RunSpec]]], workers: int | None = None
) -> dict[str, dict[str, list[float]]]:
    """Name -> (baseline, runs) measured from one pool of runs: name -> the metrics of its runs."""
    curves = iter(run_curves([s for _, specs in jobs.values() for s in specs], workers))
    return {name: measure(baseline, [next(curves) for _ in specs]) for name, (baseline, specs) in jobs.items()}


def table(method: str, rows: list[Row]) -> list[str]:
    """Markdown rows: method, metric, medians, change, p, verdict."""
    lines = []
    for r in rows:
        verdict = "FAIL" if r.failed else "pass"
        change = "+inf" if math.isinf(r.change) else f"{100 * r.change:+.1f} %"
        lines.append(
            f"| {method} | {r.metric} | {r.baseline_median:.4g} | {r.new_median:.4g} | {change} | "
            f"{r.p_value:.3g} | {verdict} |"
        )
    return lines


TABLE_HEADER = [
    "| method | metric | baseline median | new median | change | p (one-sided) | verdict |",
    "|---|---|---:|---:|---:|---:|---|",
]
