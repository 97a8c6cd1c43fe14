"""Suite v2's accuracy-floor benchmarks: the floor follows the stated rule, methods keep the base reference point,
and a run on a variant scores its front above the floor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.benchmarks import get_benchmark
from harness.benchmarks.floor import SUFFIX, SUITE_V2_BASES
from harness.metrics import hypervolume
from harness.testing import BenchmarkContract


class TestFloorPi5Energy(BenchmarkContract):
    benchmark_id = "nb201/cifar10/pi5-energy@floor25"


class TestFloorThreeObjectives(BenchmarkContract):
    benchmark_id = "nb201/cifar10/pi5-energy+eyeriss-latency@floor25"


class TestFloorNB301Params(BenchmarkContract):
    benchmark_id = "nb301/cifar10/params@floor25"


class TestFloorNB301TrainTime(BenchmarkContract):
    benchmark_id = "nb301/cifar10/train-time@floor25"


def test_the_nb201_floor_is_the_tables_lower_quartile_rounded_down() -> None:
    base = get_benchmark("nb201/cifar10/pi5-energy")
    accuracy = base.objectives(np.arange(base.n_archs))[:, 0]
    below = float(np.mean(accuracy < 87.6))
    variant = get_benchmark("nb201/cifar10/pi5-energy" + SUFFIX)
    assert variant.ref_point[0] == 87.6
    assert below <= 0.25 < float(np.mean(accuracy < 87.7))  # 87.6 is the quartile rounded down to 0.1
    assert list(variant.ref_point[1:]) == list(base.ref_point[1:])


@pytest.mark.parametrize("base_id", SUITE_V2_BASES)
def test_methods_keep_the_base_reference_and_only_scoring_moves(base_id: str) -> None:
    base, variant = get_benchmark(base_id), get_benchmark(base_id + SUFFIX)
    assert np.array_equal(variant.search_ref_point, base.ref_point)
    assert np.array_equal(base.search_ref_point, base.ref_point)  # suite v1: one reference point
    assert variant.ref_point[0] > 0 and variant.hv_max < base.hv_max
    assert variant.hv_box == base.hv_box  # known before the search: the base reference
    front = variant.objectives(variant.pareto_indices)
    assert variant.hv_max == hypervolume(front, variant.ref_point)


def test_a_run_on_a_floor_variant_is_scored_above_the_floor(tmp_path) -> None:
    from tests.helpers import cli

    out = tmp_path / "run.json"
    cli(
        "run",
        "--method",
        "random-search",
        "--benchmark",
        "nb201/cifar10/pi5-energy@floor25",
        "--budget",
        "20lbs",
        "--out",
        str(out),
    )
    record = json.loads(out.read_text())
    bench = get_benchmark("nb201/cifar10/pi5-energy@floor25")
    rows = [dict(zip(record["evaluations"]["columns"], r, strict=True)) for r in record["evaluations"]["rows"]]
    index = sorted({r["arch"] for r in rows if r["kind"] == "train" and r["status"] == "done"})
    points = bench.objectives(index)
    assert (points[:, 0] < 87.6).any()  # some trainings fell below the floor and add nothing
    assert record["summary"]["hv"] == pytest.approx(hypervolume(points, bench.ref_point), rel=1e-12)
    assert record["summary"]["hv"] < hypervolume(points, bench.search_ref_point)
    assert record["summary"]["hv_max"] == bench.hv_max
    assert record["provenance"]["benchmark"]["ref_point"] == [87.6, -22.0]
