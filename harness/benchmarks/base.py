"""The Benchmark protocol: a finite search space with true objectives, training and one-shot costs, per arch.

Objectives are returned in maximisation orientation, shape (n, 2): (accuracy in %, -hardware cost). Subclasses supply
arrays once (`_arrays`); the public methods validate indices and then delegate (BoTorch-style template methods).
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class BenchmarkArrays:
    """Per-architecture arrays, all of length n_archs. `objectives` is (n, 2) in maximisation orientation."""

    objectives: np.ndarray
    oneshot_objectives: np.ndarray
    train_seconds: np.ndarray
    oneshot_seconds: np.ndarray
    train_energy_kwh: np.ndarray | None = None


class SearchSpace(ABC):
    """A finite space of architectures with a continuous box encoding, shape (dim,), in [0, 1)."""

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
    """A tabular or surrogate NAS benchmark with two objectives (accuracy up, cost down)."""

    id: str
    description: str
    objectives_meta: tuple[Objective, Objective]
    space: SearchSpace

    @abstractmethod
    def _arrays(self) -> BenchmarkArrays:
        """Load or compute the per-architecture arrays (called once)."""

    @abstractmethod
    def _reference_point(self) -> np.ndarray:
        """Reference point in maximisation orientation, shape (2,)."""

    @property
    @abstractmethod
    def data_files(self) -> tuple[str, ...]:
        """Manifest names of every upstream file this benchmark's numbers come from (for run provenance)."""

    @functools.cached_property
    def arrays(self) -> BenchmarkArrays:
        arrays = self._arrays()
        n = self.space.n_archs
        if arrays.objectives.shape != (n, 2) or arrays.oneshot_objectives.shape != (n, 2):
            raise HarnessError(f"{self.id}: objective arrays must have shape ({n}, 2)")
        for name in ("train_seconds", "oneshot_seconds"):
            values = getattr(arrays, name)
            if values.shape != (n,) or not np.all(np.isfinite(values)) or np.any(values <= 0):
                raise HarnessError(f"{self.id}: {name} must be {n} positive finite seconds")
        return arrays

    @property
    def n_archs(self) -> int:
        return self.space.n_archs

    def _check(self, index: npt.ArrayLike) -> IndexArray:
        idx = np.asarray(index, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_archs):
            raise HarnessError(f"{self.id}: architecture index out of range 0..{self.n_archs - 1}")
        return idx

    def objectives(self, index: npt.ArrayLike) -> np.ndarray:
        """True objectives (maximisation), shape index.shape + (2,)."""
        return self.arrays.objectives[self._check(index)]

    def oneshot_objectives(self, index: npt.ArrayLike) -> np.ndarray:
        """Supernet (one-shot) estimate of the objectives, same shape and orientation as `objectives`."""
        return self.arrays.oneshot_objectives[self._check(index)]

    def train_seconds(self, index: npt.ArrayLike) -> np.ndarray:
        """Full-training time in GPU-seconds."""
        return self.arrays.train_seconds[self._check(index)]

    def oneshot_seconds(self, index: npt.ArrayLike) -> np.ndarray:
        """One-shot (supernet) evaluation time in GPU-seconds."""
        return self.arrays.oneshot_seconds[self._check(index)]

    def train_energy_kwh(self, index: npt.ArrayLike) -> np.ndarray | None:
        """Measured training energy in kWh where the table has it (EC-NAS), else None (use the power model)."""
        energy = self.arrays.train_energy_kwh
        return None if energy is None else energy[self._check(index)]

    @functools.cached_property
    def ref_point(self) -> np.ndarray:
        ref = np.asarray(self._reference_point(), dtype=np.float64)
        if not np.all(self.arrays.objectives >= ref):  # a point on the box's edge adds no volume
            raise HarnessError(f"{self.id}: every architecture must weakly dominate the reference point {ref}")
        return ref

    @functools.cached_property
    def hv_max(self) -> float:
        """Hypervolume of the whole table's Pareto front, computed from the table itself."""
        return hypervolume(self.arrays.objectives[self.pareto_indices], self.ref_point)

    @functools.cached_property
    def pareto_indices(self) -> IndexArray:
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
