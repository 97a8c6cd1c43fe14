"""EC-NAS benchmarks (Bakhtiarifard et al., ICASSP 2024): NAS-Bench-101-style cells with measured training energy.

An "architecture" here is a (cell, epoch budget) pair, as in EC-NAS, where the training budget is part of the search:
every measured pair of the table is one row.

- True objectives: (validation accuracy % after training, -training energy kWh), mean over the table's repeats.
- Training cost: the measured training time (s) and the measured training energy (kWh) of that pair, so carbon comes
  from measured kWh (no power model, no PUE added).
- One-shot estimate: EC-NAS has no supernet; its cheap proxy is early stopping: the validation accuracy at the same
  record's middle checkpoint (epoch 1 in 4V, epoch 2 in 5V) at the time it took to get there; the energy objective is a
  lookup, as hardware cost is in CE-NAS.
- Reference point (spec §9.2): (accuracy 0 %, the table's largest energy) in maximisation form.
- Encoding: the 7-vertex padded cell (21 adjacency bits, 6 op codes for vertices 1..6) plus the budget, each binned in
  [0, 1); a point decodes to the nearest measured row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from harness.benchmarks.base import (
    BenchmarkArrays,
    IndexArray,
    Objective,
    Proxy,
    SearchSpace,
    TableBenchmark,
    register,
)
from harness.errors import HarnessError
from harness.spaces import nb101

if TYPE_CHECKING:  # the table (and pandas) is loaded when a benchmark is built, not when ids are listed
    import pandas as pd

BUDGETS: tuple[int, ...] = (4, 12, 36, 108)


def _bin_centres(codes: npt.ArrayLike, n_bins: int) -> np.ndarray:
    return (np.asarray(codes, dtype=np.float64) + 0.5) / n_bins


class ECNASSpace(SearchSpace):
    """The measured (cell, budget) rows; continuous encoding of the 7V padded cell and the budget."""

    dim = nb101.N_EDGE_BITS + (nb101.MAX_VERTICES - 1) + 1

    def __init__(self, table: pd.DataFrame) -> None:
        self.n_archs = len(table)
        self._hash = table["hash"].to_numpy()
        self._budget = table["budget"].to_numpy(np.int64)
        self._row = {(h, int(b)): i for i, (h, b) in enumerate(zip(self._hash, self._budget, strict=True))}
        x = np.empty((self.n_archs, self.dim))
        for i, (adjacency, ops, budget) in enumerate(table[["adjacency", "ops", "budget"]].itertuples(index=False)):
            bits, codes = nb101.padded_codes(*nb101.parse_cell(adjacency, ops))
            x[i, : nb101.N_EDGE_BITS] = _bin_centres(bits, 2)
            x[i, nb101.N_EDGE_BITS : -1] = _bin_centres(codes[1:], nb101.N_PAD_CODES)
            x[i, -1] = _bin_centres(BUDGETS.index(int(budget)), len(BUDGETS))
        self._x = x
        from scipy.spatial import cKDTree  # imported when a benchmark is built, not when ids are listed

        self._tree = cKDTree(x)

    def decode(self, x: npt.ArrayLike) -> IndexArray:
        """The nearest measured row (Euclidean in the encoding; deterministic)."""
        _, idx = self._tree.query(np.atleast_2d(np.asarray(x, dtype=np.float64)), k=1)
        return np.asarray(idx, dtype=np.int64)

    def encode(self, index: npt.ArrayLike) -> np.ndarray:
        return self._x[np.asarray(index, dtype=np.int64)]

    def arch_id(self, index: int) -> str:
        return f"{self._hash[index]}@{self._budget[index]}"

    def index_of(self, arch_id: str) -> int:
        module_hash, _, budget = arch_id.partition("@")
        row = self.row(module_hash, int(budget)) if budget.isdigit() else None
        if row is None:
            raise HarnessError(f"not a measured EC-NAS (cell hash @ epochs) pair: {arch_id!r}")
        return row

    def row(self, module_hash: str, budget: int) -> int | None:
        """Row of a (NAS-Bench-101 module hash, epoch budget) pair, or None where the table has no measurement."""
        return self._row.get((module_hash, int(budget)))


@dataclass(frozen=True)
class ECNASSpec:
    id: str
    description: str
    variant: str  # key of harness.data.build_ecnas.VARIANTS


class ECNASBenchmark(TableBenchmark):
    def __init__(self, spec: ECNASSpec) -> None:
        self.spec = spec
        self.id = spec.id
        self.description = spec.description
        self.table = _rows(spec.variant)
        self.space: ECNASSpace = ECNASSpace(self.table)
        self.objectives_meta = (
            Objective("CIFAR-10 validation accuracy", "%", True),
            Objective("measured training energy", "kWh", False),
        )

    @property
    def proxy(self) -> Proxy:
        return Proxy(
            "early-stopping",
            "the measured validation accuracy at the same record's middle checkpoint, at its measured time (EC-NAS)",
            stops_at="the record's middle checkpoint",
        )

    @property
    def max_vertices(self) -> int:
        return int(self.table["vertices"].max())

    @property
    def budgets(self) -> tuple[int, ...]:
        return tuple(b for b in BUDGETS if b in set(self.table["budget"]))

    def _arrays(self) -> BenchmarkArrays:
        t = self.table
        energy = t["energy_kwh"].to_numpy(np.float64)
        return BenchmarkArrays(
            objectives=np.column_stack([100.0 * t["val_acc"].to_numpy(np.float64), -energy]),
            oneshot_objectives=np.column_stack([100.0 * t["mid_val_acc"].to_numpy(np.float64), -energy]),
            train_seconds=t["train_time_s"].to_numpy(np.float64),
            oneshot_seconds=t["mid_train_time_s"].to_numpy(np.float64),
            train_energy_kwh=energy,
        )

    @property
    def data_files(self) -> tuple[str, ...]:
        from harness.data.build_ecnas import VARIANTS

        return (VARIANTS[self.spec.variant],)

    def _reference_point(self) -> np.ndarray:
        return np.array([0.0, -float(self.table["energy_kwh"].max())])


@functools.cache
def _rows(variant: str) -> pd.DataFrame:
    """One row per measured (cell, budget): metrics averaged over repeats, deterministic order."""
    from harness.data.build_ecnas import VARIANTS, load_ecnas

    records = load_ecnas()
    records = records[records["variant"] == variant]
    if records.empty:
        raise HarnessError(f"no EC-NAS table variant '{variant}'; known: {', '.join(VARIANTS)}")
    metrics = ["train_time_s", "energy_kwh", "val_acc", "test_acc", "mid_train_time_s", "mid_val_acc"]
    cells = ["adjacency", "ops", "vertices", "params"]
    grouped = records.groupby(["hash", "budget"], sort=True)
    table = grouped[metrics].mean().join(grouped[cells].first()).join(grouped.size().rename("repeats"))
    return table.reset_index().sort_values(["vertices", "hash", "budget"], kind="stable").reset_index(drop=True)


SPECS: tuple[ECNASSpec, ...] = (
    ECNASSpec(
        "ecnas/4v",
        "EC-NAS 4-vertex cells x epochs 4/12/36/108, all measured (3 repeats, Quadro RTX 6000): val accuracy vs kWh",
        "4v",
    ),
    ECNASSpec(
        "ecnas/5v",
        "EC-NAS 5-vertex cells at 4 epochs, measured (1 run each, Quadro RTX 6000): val accuracy vs kWh",
        "5v",
    ),
)

for _spec in SPECS:
    register(_spec.id, _spec.description, functools.partial(ECNASBenchmark, _spec))
