"""Study sweeps (run: `pytest benchmarks --benchmark-enable`; each is one round: they take minutes)."""

from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path

import pytest

from harness.studies import executors as ex
from harness.studies import sweep as sw
from harness.studies.report import report
from harness.studies.spec import load_study_spec, parse_study, study_path


@pytest.mark.parametrize(("study", "target_s"), [("hotcarbon", 120.0), ("leaderboard-nb201", 600.0)])
def test_sweep_study(benchmark, tmp_path: Path, study: str, target_s: float) -> None:
    """Targets: hotcarbon no slower than `harness compare` was (~80 s); leaderboard-nb201 <= 10 min, on 2 cores."""
    spec = load_study_spec(study)
    executor = ex.make_executor(os.cpu_count(), None, None)
    try:
        result = benchmark.pedantic(sw.sweep, args=(spec, tmp_path, executor), rounds=1, iterations=1)
    finally:
        executor.close()
    assert result.ran == len(spec.cells())
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < target_s


def test_hotcarbon_with_the_exact_tree_solver(benchmark, tmp_path: Path) -> None:
    """Issue 16's HotCarbon target (<= 15 s on 2 cores, sweep and report) measured on the shipped study with
    `tree.solver=ipm` added to its shared options: the same reference tree (poly-4 SVMs on every sample) solved
    exactly, where the committed study uses libsvm's SMO, bit for bit the reference's (`test_sweep_study[hotcarbon]`).
    Measured 2026-12-01 with `harness sweep` (2 workers): 16.2 s (libsvm: 39.8 s), then 13.7 s once cells that differ
    only in their trace run as one bundle sharing their tree fits (libsvm: 24.9 s)."""
    raw = tomllib.loads(study_path("hotcarbon").read_text())
    raw["shared_options"]["tree.solver"] = "ipm"
    spec = parse_study(raw, "hotcarbon-ipm")

    def sweep_and_report() -> sw.SweepResult:
        executor = ex.make_executor(os.cpu_count(), None, None)
        try:
            result = sw.sweep(spec, tmp_path, executor)
        finally:
            executor.close()
        start = time.perf_counter()
        report(tmp_path)
        benchmark.extra_info["report_s"] = round(time.perf_counter() - start, 2)
        return result

    result = benchmark.pedantic(sweep_and_report, rounds=1, iterations=1)
    assert result.ran == len(spec.cells()) == 100
