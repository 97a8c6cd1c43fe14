"""NAS-Bench-301 through YAHPO's ONNX surrogate: scoring throughput and 500-lbs runs (`pytest benchmarks
--benchmark-enable`). Targets (issue 16/17): every method at 500 lbs <= 60 s."""

from __future__ import annotations

import numpy as np

from harness.benchmarks.nb301 import EPOCHS, Surrogate
from harness.config import RunSpec, parse_budget
from harness.runner import execute
from harness.spaces import darts

TRACE = "US-CAL-CISO@2021-07-02T00:00"


def test_surrogate_throughput(benchmark) -> None:
    """Architectures scored per second from a cold memo (the v1 model takes a batch of one)."""
    surrogate = Surrogate()
    draws = iter(np.random.default_rng(seed) for seed in range(10_000))

    def score() -> np.ndarray:
        surrogate._cache.clear()
        return surrogate.predict(next(draws).integers(darts.N_ARCHS, size=1000), EPOCHS)

    result = benchmark.pedantic(score, rounds=3, iterations=1)
    assert result.shape == (1000, 2)
    if benchmark.stats is not None:
        benchmark.extra_info["architectures_per_s"] = round(1000 / benchmark.stats["mean"])


def test_nb301_random_search_500lbs(benchmark) -> None:
    spec = RunSpec("random-search", "nb301/cifar10/params", TRACE, parse_budget("500lbs"))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["stop_reason"] == "carbon budget"


def test_nb301_cenas_500lbs(benchmark) -> None:
    spec = RunSpec("cenas", "nb301/cifar10/params", TRACE, parse_budget("500lbs"))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["stop_reason"] == "carbon budget"
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < 60
