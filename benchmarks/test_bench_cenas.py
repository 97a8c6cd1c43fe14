"""Speed of CE-NAS variants (run: `pytest benchmarks --benchmark-enable`)."""

from __future__ import annotations

from harness.config import RunSpec, parse_budget
from harness.runner import execute

TRACE = "US-CAL-CISO@2021-07-02T00:00"


def test_cenas_heuristic_80h_8gpu(benchmark) -> None:
    """CE-NAS (HotCarbon heuristic, random in-region sampling), 80 simulated hours, 8 GPUs."""
    spec = RunSpec("cenas-heuristic", "nb201/cifar10/pi5-energy", TRACE, parse_budget("80h"))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["simulated_hours"] == 80.0


def test_cenas_qnehvi_12h_8gpu(benchmark) -> None:
    """CE-NAS with qNEHVI in-region sampling (default qNEHVI settings), 12 simulated hours, 8 GPUs."""
    spec = RunSpec("cenas-heuristic", "nb201/cifar10/pi5-energy", TRACE, parse_budget("12h"),
                   method_options={"sampler": "qnehvi"})  # fmt: skip
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["n_oneshot"] > 0
