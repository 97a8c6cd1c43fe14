"""Study sweeps (run: `pytest benchmarks --benchmark-enable`; each is one round: they take minutes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.studies import sweep as sw
from harness.studies.spec import load_study_spec


@pytest.mark.parametrize(("study", "target_s"), [("hotcarbon", 120.0), ("leaderboard-nb201", 600.0)])
def test_sweep_study(benchmark, tmp_path: Path, study: str, target_s: float) -> None:
    """Targets: hotcarbon no slower than `harness compare` was (~80 s); leaderboard-nb201 <= 10 min, on 2 cores."""
    spec = load_study_spec(study)
    executor = sw.make_executor(os.cpu_count(), None, None)
    try:
        result = benchmark.pedantic(sw.sweep, args=(spec, tmp_path, executor), rounds=1, iterations=1)
    finally:
        executor.close()
    assert result.ran == len(spec.cells())
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < target_s
