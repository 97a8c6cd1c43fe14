"""Benchmarks as data, behind one protocol and a string registry (`get_benchmark("nb201/cifar10/pi5-energy")`)."""

from harness.benchmarks import ecnas as _ecnas  # noqa: F401 - registers the EC-NAS benchmarks
from harness.benchmarks import floor as _floor  # noqa: F401 - registers suite v2's accuracy-floor variants
from harness.benchmarks import nb201 as _nb201
from harness.benchmarks import nb301 as _nb301  # noqa: F401 - registers the NAS-Bench-301 benchmarks
from harness.benchmarks.base import Benchmark, benchmark_ids, get_benchmark, register

DEFAULT_BENCHMARK = _nb201.DEFAULT_BENCHMARK

__all__ = ["DEFAULT_BENCHMARK", "Benchmark", "benchmark_ids", "get_benchmark", "register"]
