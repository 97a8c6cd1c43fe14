"""Speed target for the HotCarbon comparison (100 runs; target < 2 min on 2 cores)."""

from __future__ import annotations

from harness import compare


def test_hotcarbon_comparison(benchmark) -> None:
    preset = compare.get_preset("hotcarbon")
    rows = benchmark.pedantic(compare.run_preset, args=(preset,), rounds=1, iterations=1)
    assert len(rows) == 100
