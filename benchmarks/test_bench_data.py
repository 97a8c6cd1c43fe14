"""Speed targets for the data layer (run: `pytest benchmarks --benchmark-enable`)."""

from __future__ import annotations

from harness.carbon.traces import load_trace_table
from harness.data.build_nb201 import load_nb201


def test_load_cached_nb201_table(benchmark) -> None:
    """Target: < 0.2 s to load the cached 15625-row NB201 table."""
    load_nb201()  # build once if needed
    table = benchmark(load_nb201)
    assert len(table) == 15625
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < 0.2


def test_load_cached_trace_table(benchmark) -> None:
    load_trace_table()
    table = benchmark(load_trace_table)
    assert table["zone"].nunique() >= 19
