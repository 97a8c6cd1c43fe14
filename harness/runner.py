"""Resolve a RunSpec into benchmark, trace, method and accounting; simulate; build the run record."""

from __future__ import annotations

import functools
import platform
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from harness import __version__
from harness.audit import require_clean
from harness.benchmarks import Benchmark, get_benchmark
from harness.carbon.traces import Trace, load_trace, trace_data_files
from harness.config import RunSpec
from harness.data.manifest import load_manifest
from harness.data.tables import recorded_hashes
from harness.methods import create_method
from harness.metrics import carbon_to_target, log_hv_difference, pareto_mask
from harness.optional import require
from harness.options import flatten, options_dict
from harness.process import one_malloc_arena
from harness.results import RunRecord
from harness.sim.accounting import get_profile
from harness.sim.jobs import SUPERNET_KIND
from harness.sim.simulator import SimResult, Simulator
from harness.units import from_grams

LIBRARIES = ("numpy", "pandas", "pyarrow", "moocore", "scikit-learn", "scipy", "daqp", "torch", "botorch")
TARGET_FRACTIONS = (0.9, 0.95, 0.99)


OUTPUTS = (":(exclude)results", ":(exclude)leaderboards/site")
"""Committed outputs (study results, the built site): changing them does not make the code dirty."""


@functools.cache
def git_commit() -> str | None:
    """HEAD of the checkout the package runs from (with `+dirty` for uncommitted changes to anything but the committed
    outputs), or None."""
    root = Path(__file__).resolve().parents[1]
    git = shutil.which("git")
    if git is None:
        return None
    try:
        head = subprocess.run(  # noqa: S603
            [git, "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            [git, "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", ".", *OUTPUTS],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def _library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def data_hashes(benchmark: Benchmark, trace: Trace) -> dict[str, str]:
    """Hash of every data file a run on `benchmark` and `trace` reads, as the verified tables recorded the bytes they
    were built from (sha256; the git blob id for the HW-NAS-Bench pickle)."""
    found = benchmark.data_hashes() | recorded_hashes([f.name for f in trace_data_files(trace, load_manifest())])
    return dict(sorted(found.items()))


def execute(
    spec: RunSpec,
    on_boundary: Callable[[float], None] | None = None,
    memo: dict[str, Any] | None = None,
    audit: bool = True,
) -> RunRecord:
    """Run `spec` and return its record. Every input is validated before simulation starts. `memo`: shared with the
    other runs of a batch (`MethodContext.memo`); the record is the same with or without it. The record passes the
    conservation audit (`harness.audit`) before it is returned, or HarnessError names its first violation; `audit`
    False skips that only for the audit's own tests."""
    one_malloc_arena()
    method = create_method(spec.method, spec.method_options)  # options first: the cheapest check
    require(method.needs(), f"method {spec.method}")  # an optional dependency (torch) missing: before any data
    profile = get_profile(spec.accounting)
    benchmark = get_benchmark(spec.benchmark)
    trace = load_trace(spec.trace)
    simulator = Simulator(
        benchmark, trace, method, spec.gpus, spec.budget, profile, spec.seed, spec.interval_s, on_boundary, memo=memo
    )
    result = simulator.run()
    provenance: dict[str, Any] = {
        "package": {"name": "cenas-bench", "version": __version__, "git_commit": git_commit()},
        "python": platform.python_version(),
        "libraries": _library_versions(),
        "data_files": data_hashes(benchmark, trace),
        "accounting": asdict(profile),
        "trace": {
            "region": trace.region,
            "start": trace.start.isoformat(),
            "hours": trace.hours,
            "signal": asdict(trace.signal),
        },
        "benchmark": {
            "id": benchmark.id,
            "hv_max": benchmark.hv_max,
            "ref_point": [float(v) for v in benchmark.ref_point],
            "objectives": [o.label + f" ({o.unit})" for o in benchmark.objectives_meta],
            "proxy": asdict(benchmark.proxy),
        },
        "method": {
            "name": method.name,
            "options": options_dict(method.options),
            "privileged": list(method.privileged()),
        },
    }
    models = method.model_files(trace.region)
    if models:
        provenance["models"] = models
    record = RunRecord(
        spec=spec_dict(spec, method.options),
        provenance=provenance,
        summary=summarize(result, benchmark.hv_max, benchmark.objectives(result.observed), result.observed),
        intervals=result.intervals,
        evaluations=result.evaluations,
    )
    if audit:
        require_clean(record, f"the run of {spec.method} on {spec.benchmark} (seed {spec.seed})")
    return record


def spec_dict(spec: RunSpec, options: Any) -> dict[str, Any]:
    """The spec as recorded: budget without unset terms, method options as the typed values the user set."""
    data = spec.to_dict()
    data["budget"] = {k: v for k, v in data["budget"].items() if v is not None}
    typed = flatten(options_dict(options))
    data["method_options"] = {key: typed[key] for key in sorted(flatten(spec.method_options))}
    return data


def _front_archs(observed: np.ndarray, observed_f: np.ndarray) -> list[int]:
    """Sorted distinct archs of the non-dominated set of the paid trainings (the run's final front)."""
    if not len(observed):
        return []
    archs, first = np.unique(observed, return_index=True)
    return [int(a) for a in archs[pareto_mask(observed_f[first])]]


def summarize(result: SimResult, hv_max: float, observed_f: np.ndarray, observed: np.ndarray) -> dict[str, Any]:
    """Headline numbers of a finished simulation; `observed` (n,) are the paid trainings' archs, `observed_f` (n, m)
    their true objectives."""
    totals = result.totals
    carbon = [row["cum_carbon_g"] for row in result.intervals]
    hv = [row["hv"] for row in result.intervals]
    unfinished = sum(e["status"] == "unfinished" for e in result.evaluations)
    supernet_s = sum(e["seconds"] for e in result.evaluations if e["kind"] == SUPERNET_KIND and e["status"] == "done")
    trained = [e["arch"] for e in result.evaluations if e["kind"] == "train" and e["status"] in ("done", "init-free")]
    summary: dict[str, Any] = {
        "stop_reason": result.stop_reason,
        "simulated_hours": result.end_s / 3600.0,
        "hv": result.hv,
        "hv_max": hv_max,
        "hv_fraction": result.hv / hv_max,
        "log_hv_diff": log_hv_difference(result.hv, hv_max),
        "carbon_g": totals.carbon_g,
        "carbon_kg": totals.carbon_g / 1000.0,
        "carbon_lbs": from_grams(totals.carbon_g, "lbs"),
        "energy_kwh": totals.energy_kwh,
        **totals.terms(),
        "gpu_hours": totals.busy_gpu_hours,
        "train_gpu_hours": totals.busy_s["train"] / 3600.0,
        "oneshot_gpu_hours": totals.busy_s["oneshot"] / 3600.0,
        "idle_gpu_hours": totals.idle_s / 3600.0,
        "n_trained": len(trained),
        "n_unique_trained": len(set(trained)),
        "n_observed": len(result.observed),
        "n_oneshot": sum(e["kind"] == "oneshot" and e["status"] == "done" for e in result.evaluations),
        "supernet_gpu_hours": supernet_s / 3600.0,
        "n_unfinished": unfinished,
        "best_accuracy": float(observed_f[:, 0].max()) if len(observed_f) else None,  # over the HV set
        "front_archs": _front_archs(observed, observed_f),
    }
    for fraction in TARGET_FRACTIONS:
        summary[f"carbon_to_{round(fraction * 100)}pct_g"] = carbon_to_target(carbon, hv, fraction * hv_max)
    return summary
