"""The Benchmark protocol: a search space with true objectives, training and one-shot costs, per arch.

Objectives are returned in maximisation orientation, shape (n, m): (accuracy in %, -cost, ...), m >= 2. Tables
(`TableBenchmark`) supply arrays once (`_arrays`); surrogates answer per index. The public methods validate indices
and then delegate (BoTorch-style template methods).
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from harness.data.fetch import cache_dir
from harness.errors import HarnessError
from harness.metrics import hypervolume, pareto_mask
from harness.registry import Registry

IndexArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Objective:
    """One objective as stored in a table column."""

    label: str
    unit: str
    maximize: bool


ProxyKind = Literal["supernet", "early-stopping", "none"]


@dataclass(frozen=True)
class Proxy:
    """What a benchmark's cheap estimate (`oneshot_objectives`) is, and so what it costs a one-shot search.

    - `supernet`: the accuracy of a (few-shot) supernet; each estimate costs an evaluation (`oneshot_seconds`), and a
      search must first train a supernet, `supernet_seconds` GPU-seconds for each (sourced in `source`);
    - `early-stopping`: the accuracy at an early checkpoint (`stops_at`); each estimate pays the epochs up to it
      (`oneshot_seconds`, from the table or surrogate) and there is no supernet to train;
    - `none`: the benchmark has no cheap estimate.
    """

    kind: ProxyKind
    source: str
    supernet_seconds: float = 0.0
    stops_at: str | None = None

    def __post_init__(self) -> None:
        if (self.kind == "supernet") != (self.supernet_seconds > 0):
            raise ValueError("a supernet proxy, and only one, has a positive supernet training cost")
        if (self.kind == "early-stopping") != (self.stops_at is not None):
            raise ValueError("an early-stopping proxy, and only one, names the checkpoint it stops at")

    def describe(self) -> str:
        """One line for `harness benchmarks show` and the methodology page."""
        if self.kind == "supernet":
            return f"supernet ({self.supernet_seconds:,.0f} GPU-s to train one; {self.source})"
        if self.kind == "early-stopping":
            return f"early stopping at {self.stops_at} (each estimate pays its own epochs; no supernet; {self.source})"
        return f"none ({self.source})"


@dataclass(frozen=True)
class BenchmarkArrays:
    """Per-architecture arrays, all of length n_archs. `objectives` is (n, m) in maximisation orientation."""

    objectives: np.ndarray
    oneshot_objectives: np.ndarray
    train_seconds: np.ndarray
    oneshot_seconds: np.ndarray
    train_energy_kwh: np.ndarray | None = None


class SearchSpace(ABC):
    """Architectures numbered 0..n_archs-1 (int64) with a continuous box encoding, shape (dim,), in [0, 1)."""

    n_archs: int
    dim: int

    @abstractmethod
    def decode(self, x: npt.ArrayLike) -> IndexArray:
        """Architecture indices of encoded points, x shape (n, dim) -> (n,)."""

    @abstractmethod
    def encode(self, index: npt.ArrayLike) -> np.ndarray:
        """Canonical encoded point of each index, (n,) -> (n, dim)."""

    @abstractmethod
    def arch_id(self, index: int) -> str:
        """Human-readable canonical id of an architecture (e.g. the NB201 string)."""

    @abstractmethod
    def index_of(self, arch_id: str) -> int:
        """Inverse of `arch_id`; raises HarnessError for unknown ids."""


class Benchmark(ABC):
    """A tabular or surrogate NAS benchmark: accuracy up, one or more costs down.

    Public methods validate indices, then delegate to the `_lookup_*` template methods. `hv_max` is the hypervolume
    of `pareto_indices`: the whole table's Pareto front for a table, a committed reference front for a surrogate
    whose space cannot be enumerated (`enumerable` False; its HV_max is then a bound, not the optimum).
    """

    id: str
    description: str
    objectives_meta: tuple[Objective, ...]
    """Accuracy (maximised) first, then one or more costs (minimised, stored negated)."""
    space: SearchSpace
    enumerable: bool = True
    """True when every architecture can be listed and scored (tables); HV_max is then exact."""

    @property
    @abstractmethod
    def proxy(self) -> Proxy:
        """What the cheap estimate is (supernet, early stopping, none) and what training a supernet costs."""

    @abstractmethod
    def _reference_point(self) -> np.ndarray:
        """Reference point in maximisation orientation, shape (m,)."""

    @property
    @abstractmethod
    def data_files(self) -> tuple[str, ...]:
        """Manifest names of every upstream file this benchmark's numbers come from (for run provenance)."""

    @abstractmethod
    def _lookup_objectives(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        """True (or one-shot estimated) objectives of valid indices (n,) -> (n, m), maximisation form."""

    @abstractmethod
    def _lookup_seconds(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        """Full-training (or one-shot evaluation) GPU-seconds of valid indices (n,) -> (n,)."""

    def _lookup_energy_kwh(self, idx: IndexArray) -> np.ndarray | None:
        """Measured training energy (kWh) of valid indices, or None where the benchmark has none (power model)."""
        return None

    def data_hashes(self) -> dict[str, str]:
        """Hash of each file in `data_files` as it was verified when read (sha256; a git blob id where pinned so)."""
        from harness.data.tables import recorded_hashes

        return recorded_hashes(list(self.data_files))

    @abstractmethod
    def _front(self) -> IndexArray:
        """Indices of the Pareto front HV_max is computed from."""

    def _check_reference(self, ref: np.ndarray) -> None:
        """Raise HarnessError if the reference point does not suit the benchmark (tables: every arch dominates it)."""
        if ref.shape != (self.n_objectives,) or not np.all(np.isfinite(ref)):
            raise HarnessError(f"{self.id}: the reference point must be {self.n_objectives} finite numbers, got {ref}")

    @property
    def n_archs(self) -> int:
        return self.space.n_archs

    @property
    def n_objectives(self) -> int:
        """m: accuracy plus the number of costs."""
        return len(self.objectives_meta)

    def _check(self, index: npt.ArrayLike) -> IndexArray:
        idx = np.asarray(index, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_archs):
            raise HarnessError(f"{self.id}: architecture index out of range 0..{self.n_archs - 1}")
        return idx

    def _per_arch(self, index: npt.ArrayLike, lookup: Callable[[IndexArray], np.ndarray]) -> np.ndarray:
        idx = self._check(index)
        values = lookup(idx.reshape(-1))
        return values.reshape(idx.shape + values.shape[1:])

    def objectives(self, index: npt.ArrayLike) -> np.ndarray:
        """True objectives (maximisation), shape index.shape + (m,)."""
        return self._per_arch(index, lambda i: self._lookup_objectives(i, oneshot=False))

    def oneshot_objectives(self, index: npt.ArrayLike) -> np.ndarray:
        """Supernet (one-shot) estimate of the objectives, same shape and orientation as `objectives`."""
        return self._per_arch(index, lambda i: self._lookup_objectives(i, oneshot=True))

    def train_seconds(self, index: npt.ArrayLike) -> np.ndarray:
        """Full-training time in GPU-seconds."""
        return self._per_arch(index, lambda i: self._lookup_seconds(i, oneshot=False))

    def oneshot_seconds(self, index: npt.ArrayLike) -> np.ndarray:
        """One-shot (supernet) evaluation time in GPU-seconds."""
        return self._per_arch(index, lambda i: self._lookup_seconds(i, oneshot=True))

    def train_energy_kwh(self, index: npt.ArrayLike) -> np.ndarray | None:
        """Measured training energy in kWh where the benchmark has it (EC-NAS), else None (use the power model)."""
        idx = self._check(index)
        energy = self._lookup_energy_kwh(idx.reshape(-1))
        return None if energy is None else energy.reshape(idx.shape)

    @functools.cached_property
    def ref_point(self) -> np.ndarray:
        ref = np.asarray(self._reference_point(), dtype=np.float64)
        self._check_reference(ref)
        return ref

    @property
    def search_ref_point(self) -> np.ndarray:
        """The reference point a method may use for its own hypervolumes (tree, acquisition), shape (m,): the scoring
        `ref_point` unless that is derived from the benchmark's distribution (`harness.benchmarks.floor`), which a
        method does not know before it searches."""
        return self.ref_point

    @functools.cached_property
    def pareto_indices(self) -> IndexArray:
        """The Pareto front HV_max comes from (sorted indices)."""
        return np.asarray(self._front(), dtype=np.int64)

    @functools.cached_property
    def hv_box(self) -> float:
        """Volume of the box between the reference point and the ideal point (accuracy 100 %, every cost 0): an upper
        bound of any HV, known before a search starts (unlike HV_max, which needs the table's optimum); taken at
        `search_ref_point`."""
        ideal = np.zeros(self.n_objectives)
        ideal[0] = 100.0
        return float(np.prod(ideal - self.search_ref_point))

    @functools.cached_property
    def hv_max(self) -> float:
        """Hypervolume of `pareto_indices` (the whole table's front; a surrogate's reference front)."""
        return hypervolume(self.objectives(self.pareto_indices), self.ref_point)


class TableBenchmark(Benchmark):
    """A benchmark whose per-architecture numbers are arrays loaded once (`_arrays`); HV_max is exact."""

    @abstractmethod
    def _arrays(self) -> BenchmarkArrays:
        """Load or compute the per-architecture arrays (called once)."""

    @functools.cached_property
    def arrays(self) -> BenchmarkArrays:
        arrays = self._arrays()
        n = self.space.n_archs
        m = self.n_objectives
        if arrays.objectives.shape != (n, m) or arrays.oneshot_objectives.shape != (n, m):
            raise HarnessError(f"{self.id}: objective arrays must have shape ({n}, {m})")
        for name in ("train_seconds", "oneshot_seconds"):
            values = getattr(arrays, name)
            if values.shape != (n,) or not np.all(np.isfinite(values)) or np.any(values <= 0):
                raise HarnessError(f"{self.id}: {name} must be {n} positive finite seconds")
        return arrays

    def _lookup_objectives(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        return (self.arrays.oneshot_objectives if oneshot else self.arrays.objectives)[idx]

    def _lookup_seconds(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        return (self.arrays.oneshot_seconds if oneshot else self.arrays.train_seconds)[idx]

    def _lookup_energy_kwh(self, idx: IndexArray) -> np.ndarray | None:
        energy = self.arrays.train_energy_kwh
        return None if energy is None else energy[idx]

    def _check_reference(self, ref: np.ndarray) -> None:
        super()._check_reference(ref)
        if not np.all(self.arrays.objectives >= ref):  # a point on the box's edge adds no volume
            raise HarnessError(f"{self.id}: every architecture must weakly dominate the reference point {ref}")

    def _front(self) -> IndexArray:
        return np.flatnonzero(pareto_mask(self.arrays.objectives)).astype(np.int64)


def nice_ceil(value: float) -> float:
    """Round a positive value up to two significant digits (53.66 -> 54, 0.1234 -> 0.13)."""
    step = 10.0 ** (math.floor(math.log10(value)) - 1)
    return round(math.ceil(round(value / step, 9)) * step, 12)


BENCHMARKS: Registry[Benchmark] = Registry("benchmark", "benchmarks list", group="cenas_bench.benchmarks")
"""Benchmark id -> factory (plugins: entry-point group `cenas_bench.benchmarks`, target a zero-argument factory)."""


def register(benchmark_id: str, description: str, factory: Callable[[], Benchmark]) -> None:
    """Register a benchmark factory under a string id (e.g. `nb201/cifar10/pi5-energy`)."""
    BENCHMARKS.add(benchmark_id, description, factory=factory)


def benchmark_ids() -> dict[str, str]:
    """Registered ids -> one-line descriptions."""
    return dict(BENCHMARKS.rows())


def get_benchmark(benchmark_id: str) -> Benchmark:
    """The benchmark registered as `benchmark_id`, loaded once per process and cache folder."""
    BENCHMARKS.entry(benchmark_id)  # unknown ids: one error line
    return _load(benchmark_id, str(cache_dir()))


@functools.cache
def _load(benchmark_id: str, cache: str) -> Benchmark:
    made = BENCHMARKS.get(benchmark_id)
    return made() if callable(made) and not isinstance(made, Benchmark) else made
