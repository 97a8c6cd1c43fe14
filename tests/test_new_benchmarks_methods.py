"""The search methods on the harder benchmarks: NAS-Bench-301's surrogate space and three objectives."""

from __future__ import annotations

import pytest

from harness.testing import MethodContract

THREE = "nb201/cifar10/pi5-energy+eyeriss-latency"
NB301 = "nb301/cifar10/params"


class TestNSGA2ThreeObjectives(MethodContract):
    method = "nsga2"
    benchmark_id = THREE


class TestCenasThreeObjectives(MethodContract):
    method = "cenas"
    benchmark_id = THREE
    budget = "12h"


class TestQNEHVIThreeObjectives(MethodContract):
    method = "qnehvi"
    benchmark_id = THREE
    budget = "5h"
    options = {"qnehvi.raw_samples": 32, "qnehvi.restarts": 2, "qnehvi.maxiter": 5}  # noqa: RUF012 - light optimiser


class TestCenasNB301(MethodContract):
    method = "cenas"
    benchmark_id = NB301
    budget = "12h"


class TestVanillaLaMOONB301(MethodContract):
    method = "vanilla-lamoo"
    benchmark_id = NB301


class TestQNEHVINB301(MethodContract):
    method = "qnehvi"
    benchmark_id = NB301
    budget = "5h"
    options = {"qnehvi.raw_samples": 32, "qnehvi.restarts": 2, "qnehvi.maxiter": 5}  # noqa: RUF012 - light optimiser


def test_three_objective_records_carry_every_cost() -> None:
    from harness.benchmarks import get_benchmark
    from harness.config import RunSpec, parse_budget
    from harness.metrics import hypervolume
    from harness.runner import execute

    record = execute(RunSpec("random-search", THREE, "hotcarbon-1", parse_budget("20h"), seed=4, gpus=8))
    bench = get_benchmark(THREE)
    done = [e for e in record.evaluations if e["status"] in ("done", "init-free") and e["kind"] == "train"]
    f = bench.objectives([e["arch"] for e in done])
    assert [[e["f_acc"], e["f_cost"], *e["f_more_costs"]] for e in done] == [[a, -b, -c] for a, b, c in f]
    assert record.summary["hv"] == pytest.approx(hypervolume(f, bench.ref_point), rel=1e-12)  # 3-D HV, all trained
    assert len(record.provenance["benchmark"]["ref_point"]) == 3
