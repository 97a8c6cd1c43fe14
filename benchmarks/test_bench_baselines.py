"""`harness run --method NAME --budget 500lbs` for every baseline on its default benchmark and the default trace.

Run: `pytest benchmarks/test_bench_baselines.py --benchmark-enable` (minutes each; not part of the test suite).
"""

from __future__ import annotations

import pytest

from harness.config import RunSpec, parse_budget
from harness.methods import default_benchmark
from harness.runner import execute

TRACE = "US-CAL-CISO@2021-07-02T00:00"
METHODS = (
    "qnehvi",
    "vanilla-lamoo",
    "oneshot-lamoo",
    "random-allocation",
    "cenas-heuristic",
    "nsga2",
    "random-search",
    "semoa",
)
STOPS = {"oneshot-lamoo": "method finished", "semoa": "method finished"}  # both end their own search first


@pytest.mark.parametrize("method", METHODS)
def test_baseline_500lbs(benchmark, method: str) -> None:
    spec = RunSpec(method, default_benchmark(method), TRACE, parse_budget("500lbs"))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["stop_reason"] == STOPS.get(method, "carbon budget")
