"""Accuracy-floor variants of benchmarks (suite v2): the same architectures, costs and proxies, scored against a
reference point whose accuracy is a floor taken from the benchmark's own accuracy distribution.

With the accuracy reference at 0 %, the many poor architectures (NB201: 225 at ~10 % accuracy and ~0 mJ) span a large
share of HV_max, so every method's final HV saturates within a few tenths of a point. The rule, stated once for every
benchmark of suite v2: **the reference accuracy is the 25th percentile of the true accuracy of uniformly drawn
architectures** (a table: every architecture; a surrogate: `SURROGATE_DRAWS` uniform draws with seed 0), rounded down
to 0.1 percentage points; the costs of the reference point are the base benchmark's. A variant's id is the base id
with `@floor25`.

The floor is derived from the benchmark's distribution, which a method does not know before it searches: methods keep
the base benchmark's reference point for their own hypervolumes (`search_ref_point`) and only the scoring (records,
HV_max, boards) uses the floor. Architectures below the floor add no volume.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from harness.benchmarks.base import Benchmark, IndexArray, Proxy, register

QUANTILE = 0.25
SURROGATE_DRAWS = 10_000
SUFFIX = "@floor25"
SUITE_V2_BASES = (
    "nb201/cifar10/pi5-energy",
    "nb201/cifar10/pi5-energy+eyeriss-latency",
    "nb301/cifar10/params",
    "nb301/cifar10/train-time",
)
"""The benchmarks of suite v2 (`leaderboards/suites/v2.toml`), each registered with `SUFFIX`."""


def accuracy_floor(base: Benchmark, quantile: float = QUANTILE) -> float:
    """The `quantile` of the true accuracy (%) of uniformly drawn architectures of `base`, rounded down to 0.1."""
    if base.enumerable:
        index = np.arange(base.n_archs, dtype=np.int64)
    else:
        index = np.random.default_rng(0).integers(base.n_archs, size=SURROGATE_DRAWS)
    accuracy = base.objectives(index)[:, 0]
    return math.floor(float(np.quantile(accuracy, quantile)) * 10 + 1e-9) / 10


class AccuracyFloor(Benchmark):
    """`base` scored against (floor accuracy, base costs); everything else is the base's (delegated)."""

    def __init__(self, base: Benchmark, quantile: float = QUANTILE) -> None:
        self.base = base
        self.quantile = quantile
        self.id = base.id + SUFFIX
        self.objectives_meta = base.objectives_meta
        self.space = base.space
        self.enumerable = base.enumerable
        self.description = f"{base.description}; scored above an accuracy floor ({floor_text(quantile)})"

    def __getattr__(self, name: str) -> Any:  # the base's own extras (tables, largest costs) stay reachable
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    @functools.cached_property
    def floor(self) -> float:
        """The reference accuracy (%)."""
        return accuracy_floor(self.base, self.quantile)

    @property
    def proxy(self) -> Proxy:
        return self.base.proxy

    @property
    def data_files(self) -> tuple[str, ...]:
        return self.base.data_files

    def data_hashes(self) -> dict[str, str]:
        return self.base.data_hashes()

    def _reference_point(self) -> np.ndarray:
        ref = np.array(self.base.ref_point, dtype=np.float64)
        ref[0] = self.floor
        return ref

    @property
    def search_ref_point(self) -> np.ndarray:
        return self.base.search_ref_point

    def _lookup_objectives(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        return self.base.oneshot_objectives(idx) if oneshot else self.base.objectives(idx)

    def _lookup_seconds(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        return self.base.oneshot_seconds(idx) if oneshot else self.base.train_seconds(idx)

    def _lookup_energy_kwh(self, idx: IndexArray) -> np.ndarray | None:
        return self.base.train_energy_kwh(idx)

    def _front(self) -> IndexArray:
        return self.base.pareto_indices


def floor_text(quantile: float = QUANTILE) -> str:
    return f"reference accuracy = the {quantile:.0%} quantile of uniformly drawn architectures' accuracy"


def _variant(base_id: str) -> Benchmark:
    from harness.benchmarks.base import get_benchmark

    return AccuracyFloor(get_benchmark(base_id))


for _base in SUITE_V2_BASES:
    register(
        _base + SUFFIX,
        f"{_base} scored above an accuracy floor ({floor_text()}; suite v2)",
        functools.partial(_variant, _base),
    )
