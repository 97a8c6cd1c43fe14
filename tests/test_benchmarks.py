"""Every registered benchmark passes the contract; the `benchmarks` commands show what they compute."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.benchmarks import DEFAULT_BENCHMARK, benchmark_ids, get_benchmark
from harness.cli import app
from harness.errors import HarnessError, MissingDataError
from harness.testing import BenchmarkContract


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


def test_every_registered_benchmark_has_a_contract_test() -> None:
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
    assert "architectures: 15625" in result.output
    assert "reference point: (0 %, 22 mJ)" in result.output
    assert f"HV_max: {bench.hv_max:.4f}" in result.output
    assert "94.3733" in result.output  # best accuracy
    listed = CliRunner().invoke(app, ["benchmarks", "list"])
    assert "nb201/cifar10/pi5-energy (default)" in listed.output
