"""Contract-test mixins every benchmark and every method must pass. Needs pytest (the `dev` extra).

Usage: `class TestMine(BenchmarkContract): benchmark_id = "nb201/cifar10/pi5-energy"`.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.benchmarks import Benchmark, get_benchmark
from harness.metrics import hypervolume, pareto_mask
from harness.sim.jobs import SUPERNET, SUPERNET_KIND

SAMPLE = 3000  # architectures checked on a benchmark whose space cannot be enumerated


def contract_indices(bench: Benchmark) -> np.ndarray:
    """Every index of a table; a seeded uniform sample plus both ends for a surrogate space."""
    if bench.enumerable:
        return np.arange(bench.n_archs)
    drawn = np.random.default_rng(0).integers(bench.n_archs, size=SAMPLE)
    return np.concatenate([[0, bench.n_archs - 1], drawn])


class BenchmarkContract:
    benchmark_id: str

    @pytest.fixture(scope="class")
    @classmethod
    def bench(cls) -> Benchmark:
        return get_benchmark(cls.benchmark_id)

    @pytest.fixture(scope="class")
    @classmethod
    def idx(cls, bench: Benchmark) -> np.ndarray:
        return contract_indices(bench)

    def test_shapes_and_orientation(self, bench: Benchmark, idx: np.ndarray) -> None:
        n = len(idx)
        m = bench.n_objectives
        assert m >= 2 and bench.ref_point.shape == (m,)
        assert bench.objectives(idx).shape == (n, m)
        assert bench.oneshot_objectives(idx).shape == (n, m)
        assert bench.objectives(idx.reshape(-1, 1)).shape == (n, 1, m)
        assert np.isfinite(bench.objectives(idx)).all()
        assert bench.objectives_meta[0].maximize and not any(o.maximize for o in bench.objectives_meta[1:])
        assert (bench.objectives(idx)[:, 1:] <= 0).all(), "cost objectives are stored negated (maximisation form)"
        np.testing.assert_array_equal(bench.oneshot_objectives(idx)[:, 1:], bench.objectives(idx)[:, 1:])

    def test_costs_positive(self, bench: Benchmark, idx: np.ndarray) -> None:
        assert (bench.train_seconds(idx) > 0).all()
        assert (bench.oneshot_seconds(idx) > 0).all()
        assert (bench.oneshot_seconds(idx) < bench.train_seconds(idx)).all(), "one-shot must be cheaper"

    def test_declares_its_proxy(self, bench: Benchmark) -> None:
        """What the cheap estimate is decides what a one-shot search pays: a supernet to train, or nothing more."""
        proxy = bench.proxy
        assert proxy.kind in ("supernet", "early-stopping", "none") and proxy.source
        assert (proxy.supernet_seconds > 0) == (proxy.kind == "supernet")
        assert bench.hv_box >= bench.hv_max > 0  # the box known before a search bounds every HV

    def test_reference_point_dominated_by_every_arch(self, bench: Benchmark, idx: np.ndarray) -> None:
        """Every arch weakly dominates the reference a method searches with, and every cost is within the scoring
        reference's (whose accuracy may be a floor: `harness.benchmarks.floor`)."""
        assert (bench.objectives(idx) >= bench.search_ref_point).all()
        assert (bench.objectives(idx)[:, 1:] >= bench.ref_point[1:]).all()

    def test_hv_max_is_hv_of_the_front(self, bench: Benchmark, idx: np.ndarray) -> None:
        front = bench.objectives(bench.pareto_indices)
        assert pareto_mask(front).all(), "the front HV_max comes from is mutually non-dominated"
        if bench.enumerable:  # a table: its whole Pareto front, so HV of everything
            everything = bench.objectives(idx)
            assert bench.hv_max == pytest.approx(hypervolume(everything, bench.ref_point), rel=1e-12)
        else:  # a surrogate: nothing in a uniform sample beats the reference front
            assert hypervolume(np.vstack([front, bench.objectives(idx)]), bench.ref_point) == pytest.approx(
                bench.hv_max, rel=1e-12
            )
        from pymoo.indicators.hv import HV

        assert bench.hv_max == pytest.approx(HV(ref_point=-bench.ref_point)(-front), rel=1e-9)

    def test_encoding_round_trip(self, bench: Benchmark, idx: np.ndarray) -> None:
        x = bench.space.encode(idx)
        assert x.shape == (len(idx), bench.space.dim)
        assert ((x >= 0) & (x < 1)).all()
        np.testing.assert_array_equal(bench.space.decode(x), idx)
        rng = np.random.default_rng(0)
        decoded = bench.space.decode(rng.random((1000, bench.space.dim)))
        assert ((decoded >= 0) & (decoded < bench.n_archs)).all()

    def test_arch_id_round_trip(self, bench: Benchmark) -> None:
        for i in (0, 1, bench.n_archs // 2, bench.n_archs - 1):
            assert bench.space.index_of(bench.space.arch_id(i)) == i

    def test_out_of_range_index_is_rejected(self, bench: Benchmark) -> None:
        from harness.errors import HarnessError

        with pytest.raises(HarnessError):
            bench.objectives([bench.n_archs])
        with pytest.raises(HarnessError):
            bench.train_seconds([-1])


class MethodContract:
    """Contract for search methods: a short real run must be valid, deterministic and seed-sensitive.

    Subclasses set `method` (registry name) and may set `options`, `budget` and `accounting`.
    """

    method: str
    options: dict = {}  # noqa: RUF012 - class-level default, never mutated
    budget: str = "6h"
    accounting: str = "default"
    benchmark_id: str = "nb201/cifar10/pi5-energy"
    trace: str = "hotcarbon-1"

    def _run(self, seed: int):
        from harness.config import RunSpec, parse_budget
        from harness.runner import execute

        spec = RunSpec(
            method=self.method,
            benchmark=self.benchmark_id,
            trace=self.trace,
            budget=parse_budget(self.budget),
            seed=seed,
            gpus=4,
            accounting=self.accounting,
            method_options=dict(self.options),
        )
        return execute(spec)

    @pytest.fixture(scope="class")
    @classmethod
    def records(cls):
        instance = cls()
        return instance._run(0), instance._run(0), instance._run(1)

    def test_same_seed_gives_identical_record(self, records) -> None:
        first, again, _ = records
        assert first.to_json() == again.to_json()

    def test_other_seed_gives_other_evaluations(self, records) -> None:
        first, _, other = records
        assert first.evaluations != other.evaluations

    def test_allocations_and_jobs_are_valid(self, records) -> None:
        record = records[0]
        bench = get_benchmark(self.benchmark_id)
        for row in record.intervals:
            assert 0 <= row["train_gpus"] + row["oneshot_gpus"] <= 4
        for evaluation in record.evaluations:
            if evaluation["kind"] == SUPERNET_KIND:  # supernet training: no architecture, no objectives
                assert evaluation["arch"] == SUPERNET and evaluation["f_acc"] is None and evaluation["seconds"] > 0
                continue
            assert 0 <= evaluation["arch"] < bench.n_archs
            assert evaluation["kind"] in ("train", "oneshot")
            if evaluation["status"] == "done" and evaluation["kind"] == "train":
                f = bench.objectives([evaluation["arch"]])[0]
                assert (evaluation["f_acc"], -evaluation["f_cost"]) == (f[0], f[1])
                assert evaluation.get("f_more_costs", []) == [-v for v in f[2:]]

    def test_record_passes_the_conservation_audit(self, records) -> None:
        from harness.audit import audit_record

        report = audit_record(records[0])
        assert report.clean, report.violations[:5]

    def test_hv_is_the_hv_of_its_paid_trainings_at_every_step(self, records) -> None:
        """The scoring rule: at every recorded step, HV = HV (true objectives) of the trainings finished by then."""
        record = records[0]
        bench = get_benchmark(self.benchmark_id)
        paid = sorted(
            (e["end_h"], e["arch"])
            for e in record.evaluations
            if e["kind"] == "train" and e["status"] in ("done", "init-free")
        )
        for row in record.intervals:
            archs = [a for end, a in paid if end <= row["end_h"]]
            f = bench.objectives(np.asarray(archs, dtype=np.int64)).reshape(-1, bench.n_objectives)
            assert row["hv"] == pytest.approx(hypervolume(f, bench.ref_point), rel=1e-9, abs=1e-12)

    def test_progress_is_monotone(self, records) -> None:
        rows = records[0].intervals
        carbon = [r["cum_carbon_g"] for r in rows]
        hv = [r["hv"] for r in rows]
        assert carbon == sorted(carbon) and hv == sorted(hv)
        assert records[0].summary["hv"] <= get_benchmark(self.benchmark_id).hv_max
