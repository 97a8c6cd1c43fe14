"""Every registered benchmark passes the contract; the `benchmarks` commands show what they compute."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.benchmarks import DEFAULT_BENCHMARK, benchmark_ids, get_benchmark
from harness.cli import app
from harness.errors import HarnessError, MissingDataError
from harness.testing import BenchmarkContract
from tests.helpers import cli, one_error_line


class TestPi5Energy(BenchmarkContract):
    benchmark_id = "nb201/cifar10/pi5-energy"


class TestPixel3Latency(BenchmarkContract):
    benchmark_id = "nb201/cifar10/pixel3-latency"


class TestRaspi4Latency(BenchmarkContract):
    benchmark_id = "nb201/cifar10/raspi4-latency"


class TestEyerissLatency(BenchmarkContract):
    benchmark_id = "nb201/cifar10/eyeriss-latency"


class TestFpgaLatency(BenchmarkContract):
    benchmark_id = "nb201/cifar10/fpga-latency"


class TestPi5Latency(BenchmarkContract):
    benchmark_id = "nb201/cifar10/pi5-latency"


class TestParams(BenchmarkContract):
    benchmark_id = "nb201/cifar10/params"


class TestImageNet16Pi5Energy(BenchmarkContract):
    benchmark_id = "nb201/imagenet16/pi5-energy"


class TestCifar100Pi5Energy(BenchmarkContract):
    benchmark_id = "nb201/cifar100/pi5-energy"


class TestThreeObjectives(BenchmarkContract):
    benchmark_id = "nb201/cifar10/pi5-energy+eyeriss-latency"


class TestNB301Params(BenchmarkContract):
    benchmark_id = "nb301/cifar10/params"


class TestNB301TrainTime(BenchmarkContract):
    benchmark_id = "nb301/cifar10/train-time"


def test_every_registered_benchmark_has_a_contract_test() -> None:
    import tests.test_ecnas_benchmark  # noqa: F401 - its contract classes count too

    tested = {cls.benchmark_id for cls in BenchmarkContract.__subclasses__()}
    assert set(benchmark_ids()) - tested == {"hwnasbench/cifar10/edgegpu-energy"}  # needs the user's pickle


def test_default_benchmark_objectives() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    assert DEFAULT_BENCHMARK == "nb201/cifar10/pi5-energy"
    assert tuple(bench.ref_point) == (0.0, -22.0)  # 1.1 x max energy 19.50 mJ -> 21.45 -> 22
    f = bench.objectives([0])[0]
    assert tuple(f) == (85.86333333333334, -2.575322)
    assert bench.oneshot_objectives([0])[0][0] == 21.96
    assert bench.train_seconds([0])[0] == 2888.4371995925903
    assert bench.oneshot_seconds([0])[0] == pytest.approx(40 * 11.038403511047363 / 1000)


def test_pickle_benchmark_says_how_to_fetch() -> None:
    with pytest.raises(MissingDataError, match="harness data fetch hw-nas-bench"):
        get_benchmark("hwnasbench/cifar10/edgegpu-energy")


def test_unknown_benchmark() -> None:
    with pytest.raises(HarnessError, match="unknown benchmark 'nb999'"):
        get_benchmark("nb999")


def test_cli_show_prints_size_ranges_ref_point_and_hv_max() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    result = CliRunner().invoke(app, ["benchmarks", "show", DEFAULT_BENCHMARK])
    assert result.exit_code == 0, result.output
    assert "architectures: 15,625" in result.output
    assert "reference point: (0 %, 22 mJ)" in result.output
    assert f"HV_max: {bench.hv_max:.4f}" in result.output
    assert "94.3733" in result.output  # best accuracy
    listed = CliRunner().invoke(app, ["benchmarks", "list"])
    assert "nb201/cifar10/pi5-energy (default)" in listed.output


def test_cli_show_on_a_surrogate_samples_and_names_the_reference_front() -> None:
    result = CliRunner().invoke(app, ["benchmarks", "show", "nb301/cifar10/params", "--no-saturation"])
    assert result.exit_code == 0, result.output
    assert "architectures: 1,076,746,950,455,072,400 (over 2,000 uniform architectures)" in result.output
    assert "committed reference front: a bound, not the optimum" in result.output
    one_error_line(cli("benchmarks", "reference", DEFAULT_BENCHMARK), "is a table: its HV_max is exact")
    one_error_line(cli("benchmarks", "reference", "nb301/cifar10/params", "--out", "/proc/x.json"), "/proc")


def test_three_objective_benchmark_has_a_3d_front_and_hypervolume() -> None:
    import numpy as np
    from pymoo.indicators.hv import HV

    from harness.metrics import pareto_mask

    bench = get_benchmark("nb201/cifar10/pi5-energy+eyeriss-latency")
    two = get_benchmark(DEFAULT_BENCHMARK)
    assert bench.n_objectives == 3 and tuple(bench.ref_point) == (0.0, -22.0, -12.0)
    everything = bench.objectives(np.arange(bench.n_archs))
    np.testing.assert_array_equal(everything[:, :2], two.objectives(np.arange(two.n_archs)))
    front = everything[bench.pareto_indices]
    assert pareto_mask(front).all() and len(front) == pareto_mask(everything).sum()
    assert bench.hv_max == pytest.approx(HV(ref_point=-bench.ref_point)(-everything), rel=1e-9)
    # a third objective only adds non-dominated points: every 2-D front point that is not a tie stays
    unique2 = np.unique(everything[two.pareto_indices][:, :2], axis=0)
    assert len(np.unique(front[:, :2], axis=0)) >= len(unique2)
    result = CliRunner().invoke(app, ["benchmarks", "show", bench.id, "--no-saturation"])
    assert result.exit_code == 0, result.output
    assert "reference point: (0 %, 22 mJ, 12 ms)" in result.output
