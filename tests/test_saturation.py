"""The saturation summary of `harness benchmarks show`: random search's HV at 10/50/500 lbs, computed from real runs,
cached with a checksum and recomputed when the cached file does not verify."""

from __future__ import annotations

import numpy as np
import pytest

from harness.config import RunSpec, parse_budget
from harness.runner import execute
from harness.studies import saturation as sat
from harness.units import GRAMS_PER
from tests.helpers import cli

BENCH = "nb201/cifar10/pi5-energy"


def test_saturation_is_random_search_read_at_the_checkpoints(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    summary = sat.compute(BENCH, seeds=2, workers=1)
    fractions = [r["hv_fraction"] for r in summary["rows"]]
    assert [r["lbs"] for r in summary["rows"]] == [10.0, 50.0, 500.0]
    assert 0 < fractions[0] <= fractions[1] <= fractions[2] <= 1
    for row in summary["rows"]:
        assert row["hv_regret"] == pytest.approx(summary["hv_max"] * (1 - row["hv_fraction"]))
    records = [execute(RunSpec("random-search", BENCH, sat.TRACE, parse_budget("500lbs"), s, 8)) for s in (0, 1)]
    by_hand = []
    for record in records:  # the last interval whose cumulative carbon is at most 10 lbs
        below = [r for r in record.intervals if r["cum_carbon_g"] <= 10 * GRAMS_PER["lbs"]]
        by_hand.append(below[-1]["hv"] / summary["hv_max"])
    assert fractions[0] == pytest.approx(np.mean(by_hand))


def test_the_cache_is_verified_before_it_is_used(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = sat.saturation(BENCH, seeds=2)
    monkeypatch.setattr(sat, "compute", lambda *a, **k: pytest.fail("a verified cache entry must be reused"))
    assert sat.saturation(BENCH, seeds=2) == first
    from harness.data.fetch import cache_dir

    path = cache_dir() / "saturation" / f"{sat._key(BENCH, 2)}.json"
    path.write_text(path.read_text().replace('"seeds": 2', '"seeds": 3'))  # tampered: fails its checksum
    calls = []
    monkeypatch.setattr(sat, "compute", lambda *a, **k: calls.append(1) or first)
    assert sat.saturation(BENCH, seeds=2) == first and calls == [1]


def test_benchmarks_show_prints_the_saturation_table() -> None:
    result = cli("benchmarks", "show", "ecnas/4v")
    assert result.returncode == 0, result.stderr
    assert "Saturation: random search" in result.stdout and "500 lbs" in result.stdout
    quick = cli("benchmarks", "show", "ecnas/4v", "--no-saturation")
    assert quick.returncode == 0 and "Saturation" not in quick.stdout
