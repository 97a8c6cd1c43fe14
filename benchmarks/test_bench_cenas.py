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
    """CE-NAS with qNEHVI in-region sampling (the faithful qNEHVI option defaults), 12 simulated hours, 8 GPUs."""
    spec = RunSpec(
        "cenas-heuristic", "nb201/cifar10/pi5-energy", TRACE, parse_budget("12h"), method_options={"sampler": "qnehvi"}
    )
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["n_oneshot"] > 0


def test_cenas_default_500lbs(benchmark) -> None:
    """`harness run --method cenas --budget 500lbs`: the `cenas` entry (RBF SVMs on <= 300 samples), ~606 sim hours."""
    spec = RunSpec("cenas", "nb201/cifar10/pi5-energy", TRACE, parse_budget("500lbs"))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["stop_reason"] == "carbon budget"


def test_semoa_ecnas_100_steps(benchmark) -> None:
    """SEMOA on ecnas/4v: 100 steps, population 10, 8 GPUs (one EC-NAS Table 1 seed)."""
    spec = RunSpec("semoa", "ecnas/4v", "hotcarbon-1", parse_budget("500lbs"))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["stop_reason"] == "method finished"
