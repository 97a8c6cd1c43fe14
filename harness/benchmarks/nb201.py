"""NAS-Bench-201 benchmarks: CIFAR-10 200-epoch accuracy vs a hardware cost, as plain data.

- True objectives: (NATS-Bench tss 200-epoch CIFAR-10 test accuracy %, -cost).
- Training cost: NATS-Bench 200-epoch total training time (s), as CE-NAS's `training_time`.
- One-shot estimate: (few-shot supernet accuracy %, -cost); the hardware cost is a lookup, not an estimate (CE-NAS).
- One-shot cost: evaluating the 10,000 CIFAR-10 test images in batches of 256 (40 batches) at HELP's measured
  batch-256 latency on an RTX 2080 Ti, i.e. 40 x latency_ms / 1000 seconds.
- Where no supernet table exists (CIFAR-100, ImageNet16-120), the cheap proxy is early stopping, as in EC-NAS:
  NATS-Bench's 12-epoch-schedule validation accuracy, at 12 x the measured seconds per epoch.
- Reference point: accuracy 0 %, cost = -(1.1 x the table's largest cost rounded up to two significant digits), unless
  the spec fixes it (CE-NAS's (0, -50) for HW-NAS-Bench edge-GPU energy).
"""

from __future__ import annotations

import functools
import math
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
    nice_ceil,
    register,
)
from harness.data.manifest import HWNB, load_manifest
from harness.errors import HarnessError, MissingDataError
from harness.spaces import nb201 as space

if TYPE_CHECKING:  # the table (and pandas) is loaded when a benchmark is built, not when ids are listed
    import pandas as pd

TEST_IMAGES = 10_000
EVAL_BATCH = 256
EARLY_STOP = "acc12"
EARLY_STOP_EPOCHS = 12
SUPERNET_SECONDS = 8007.0
"""GPU-seconds to train one supernet: RSPS's search cost on CIFAR-10 in NAS-Bench-201 (Dong & Yang, ICLR 2020)."""


class NB201Space(SearchSpace):
    """The 5^6 NB201 cells; CE-NAS continuous encoding (6 coordinates binned at 0.2)."""

    dim = space.N_EDGES
    n_archs = space.N_ARCHS

    def __init__(self, table: pd.DataFrame) -> None:
        ops = table[[f"op{e}" for e in range(space.N_EDGES)]].to_numpy()
        self._ops = ops
        self._arch = table["arch_str"].to_numpy()
        self._code_to_index = np.empty(space.N_ARCHS, dtype=np.int64)
        self._code_to_index[space.ops_code(ops)] = np.arange(space.N_ARCHS)
        self._index_of = {s: i for i, s in enumerate(self._arch)}

    def ops(self, index: npt.ArrayLike) -> np.ndarray:
        """Op indices (NB201 canonical order), shape (n, 6)."""
        return self._ops[np.asarray(index, dtype=np.int64)]

    def decode(self, x: npt.ArrayLike) -> IndexArray:
        return self._code_to_index[space.ops_code(space.decode_continuous(np.atleast_2d(x)))]

    def encode(self, index: npt.ArrayLike) -> np.ndarray:
        return space.encode_continuous(self.ops(index))

    def arch_id(self, index: int) -> str:
        return str(self._arch[index])

    def index_of(self, arch_id: str) -> int:
        try:
            return self._index_of[arch_id]
        except KeyError:
            raise HarnessError(f"not an NB201 architecture string: {arch_id!r}") from None


@dataclass(frozen=True)
class NB201Spec:
    """A benchmark as data: which accuracy, which hardware cost, which supernet, which reference cost."""

    id: str
    description: str
    cost_column: str
    cost_label: str
    cost_unit: str
    dataset: str = "cifar10"
    oneshot: str = "fewshot"  # `{dataset}_{oneshot}_acc`, or "acc12": early stopping (12-epoch schedule)
    oneshot_latency_column: str = "lat_2080ti_256_ms"
    ref_cost: float | None = None
    requires: tuple[str, ...] = ()
    more_costs: tuple[tuple[str, str, str], ...] = ()
    """Further cost objectives, (column, label, unit) each: a benchmark with 2 + len(more_costs) objectives."""

    @property
    def cost_columns(self) -> tuple[str, ...]:
        return (self.cost_column, *(c for c, _, _ in self.more_costs))

    @property
    def columns(self) -> tuple[str, ...]:
        """The NB201 table's columns this benchmark reads (a run loads only these)."""
        d = self.dataset
        oneshot = (
            (f"{d}_val_acc12", f"{d}_train_s_per_epoch")
            if self.oneshot == EARLY_STOP
            else (f"{d}_{self.oneshot}_acc", self.oneshot_latency_column)
        )
        ops = tuple(f"op{e}" for e in range(space.N_EDGES))
        return tuple(dict.fromkeys(("arch_str", *ops, f"{d}_acc", f"{d}_train_s", *self.cost_columns, *oneshot)))


class NB201Benchmark(TableBenchmark):
    def __init__(self, spec: NB201Spec) -> None:
        self.spec = spec
        self.id = spec.id
        self.description = spec.description
        self.table = _table_with(spec)
        self.space = NB201Space(self.table)
        self.objectives_meta = (
            Objective(f"{spec.dataset} test accuracy (200 epochs)", "%", True),
            Objective(spec.cost_label, spec.cost_unit, False),
            *(Objective(label, unit, False) for _, label, unit in spec.more_costs),
        )

    @property
    def proxy(self) -> Proxy:
        if self.spec.oneshot == EARLY_STOP:
            return Proxy(
                "early-stopping",
                f"NATS-Bench tss validation accuracy of the 12-epoch schedule at {EARLY_STOP_EPOCHS} x the measured "
                "seconds per epoch",
                stops_at=f"{EARLY_STOP_EPOCHS} epochs",
            )
        return Proxy(
            "supernet",
            f"{self.spec.oneshot} supernet accuracy; supernet training: RSPS's search cost on CIFAR-10 in "
            "NAS-Bench-201 (Dong & Yang, ICLR 2020)",
            supernet_seconds=SUPERNET_SECONDS,
        )

    def full_table(self) -> pd.DataFrame:
        """Every column of the NB201 table (`table` holds only the columns runs read, `spec.columns`)."""
        return nb201_table()

    def _arrays(self) -> BenchmarkArrays:
        t, s = self.table, self.spec
        cost = t[list(s.cost_columns)].to_numpy(np.float64)  # (n, m - 1)
        if s.oneshot == EARLY_STOP:
            estimate = t[f"{s.dataset}_val_acc12"].to_numpy(np.float64)
            oneshot_seconds = EARLY_STOP_EPOCHS * t[f"{s.dataset}_train_s_per_epoch"].to_numpy(np.float64)
        else:
            estimate = t[f"{s.dataset}_{s.oneshot}_acc"].to_numpy(np.float64)
            batches = math.ceil(TEST_IMAGES / EVAL_BATCH)
            oneshot_seconds = batches * t[s.oneshot_latency_column].to_numpy(np.float64) / 1000.0
        return BenchmarkArrays(
            objectives=np.column_stack([t[f"{s.dataset}_acc"].to_numpy(np.float64), -cost]),  # (n, m)
            oneshot_objectives=np.column_stack([estimate, -cost]),
            train_seconds=t[f"{s.dataset}_train_s"].to_numpy(np.float64),
            oneshot_seconds=oneshot_seconds,
        )

    @property
    def data_files(self) -> tuple[str, ...]:
        from harness.data.build_nb201 import input_names

        return (*input_names(load_manifest()), *self.spec.requires)

    def _reference_point(self) -> np.ndarray:
        costs = [nice_ceil(1.1 * float(self.table[c].max())) for c in self.spec.cost_columns]
        if self.spec.ref_cost is not None:
            costs[0] = self.spec.ref_cost
        return np.array([0.0, *(-c for c in costs)])


def _table_with(spec: NB201Spec) -> pd.DataFrame:
    from harness.data.tables import MissingColumnsError

    try:
        return nb201_table(spec.columns)
    except MissingColumnsError as exc:
        entry = load_manifest()[HWNB]
        raise MissingDataError(
            f"benchmark {spec.id} needs {', '.join(exc.columns)} from the HW-NAS-Bench pickle: run "
            f"`harness data fetch {entry.name}` "
            f"(downloads {entry.url})"
        ) from None


@functools.cache
def nb201_table(columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The verified NB201 table, only `columns` (default all), read once per process and column set."""
    from harness.data.build_nb201 import load_nb201

    return load_nb201(columns=list(columns) if columns is not None else None)


SPECS: tuple[NB201Spec, ...] = (
    NB201Spec(
        "nb201/cifar10/pi5-energy",
        "NB201 CIFAR-10 accuracy vs Raspberry Pi 5 inference energy measured on HW-NAS-Bench-360's CIFAR-100-task "
        "network (LiteRT; the CIFAR-10 network differs only in its 10- vs 100-way classifier)",
        "pi5_litert_cifar100_energy_mj",
        "Raspberry Pi 5 energy per inference, CIFAR-100-task network (LiteRT)",
        "mJ",
    ),
    NB201Spec(
        "nb201/cifar10/pi5-latency",
        "NB201 CIFAR-10 accuracy vs Raspberry Pi 5 latency measured on HW-NAS-Bench-360's CIFAR-100-task network "
        "(LiteRT)",
        "pi5_litert_cifar100_lat_ms",
        "Raspberry Pi 5 latency, CIFAR-100-task network (LiteRT)",
        "ms",
    ),
    NB201Spec(
        "nb201/cifar10/pixel3-latency",
        "NB201 CIFAR-10 accuracy vs Pixel 3 latency (HW-NAS-Bench, via HELP)",
        "lat_pixel3_ms",
        "Pixel 3 latency",
        "ms",
    ),
    NB201Spec(
        "nb201/cifar10/raspi4-latency",
        "NB201 CIFAR-10 accuracy vs Raspberry Pi 4 latency (HW-NAS-Bench, via HELP)",
        "lat_raspi4_ms",
        "Raspberry Pi 4 latency",
        "ms",
    ),
    NB201Spec(
        "nb201/cifar10/eyeriss-latency",
        "NB201 CIFAR-10 accuracy vs Eyeriss ASIC latency (HW-NAS-Bench, via HELP)",
        "lat_eyeriss_ms",
        "Eyeriss latency",
        "ms",
    ),
    NB201Spec(
        "nb201/cifar10/fpga-latency",
        "NB201 CIFAR-10 accuracy vs FPGA latency (HW-NAS-Bench, via HELP)",
        "lat_fpga_ms",
        "FPGA latency",
        "ms",
    ),
    NB201Spec(
        "nb201/cifar10/params",
        "NB201 CIFAR-10 accuracy vs parameter count (closed-form TinyNetwork count)",
        "cifar10_params_m",
        "parameters",
        "M",
    ),
    NB201Spec(
        "nb201/imagenet16/pi5-energy",
        "NB201 ImageNet16-120 accuracy vs Raspberry Pi 5 inference energy measured on HW-NAS-Bench-360's "
        "CIFAR-100-task network (32x32 input: a proxy for the 16x16 ImageNet16-120 network); one-shot = 12-epoch "
        "early stopping",
        "pi5_litert_cifar100_energy_mj",
        "Raspberry Pi 5 energy per inference, CIFAR-100-task network (LiteRT)",
        "mJ",
        dataset="imagenet16",
        oneshot=EARLY_STOP,
    ),
    NB201Spec(
        "nb201/cifar100/pi5-energy",
        "NB201 CIFAR-100 accuracy vs Raspberry Pi 5 inference energy measured on HW-NAS-Bench-360's CIFAR-100-task "
        "network (LiteRT); one-shot = 12-epoch early stopping",
        "pi5_litert_cifar100_energy_mj",
        "Raspberry Pi 5 energy per inference, CIFAR-100-task network (LiteRT)",
        "mJ",
        dataset="cifar100",
        oneshot=EARLY_STOP,
    ),
    NB201Spec(
        "nb201/cifar10/pi5-energy+eyeriss-latency",
        "NB201 CIFAR-10 accuracy vs Raspberry Pi 5 inference energy vs Eyeriss ASIC latency: three objectives, 3-D "
        "hypervolume (Eyeriss is the measured cost least correlated with Pi 5 energy: Spearman 0.59)",
        "pi5_litert_cifar100_energy_mj",
        "Raspberry Pi 5 energy per inference, CIFAR-100-task network (LiteRT)",
        "mJ",
        more_costs=(("lat_eyeriss_ms", "Eyeriss latency (HW-NAS-Bench, via HELP)", "ms"),),
    ),
    NB201Spec(
        "hwnasbench/cifar10/edgegpu-energy",
        "CE-NAS's task: NB201 CIFAR-10 accuracy vs Jetson TX2 edge-GPU energy (needs the HW-NAS-Bench pickle)",
        "hwnb_edgegpu_energy",
        "Jetson TX2 edge-GPU energy per inference",
        "mJ",
        ref_cost=50.0,
        requires=(HWNB,),
    ),
)
DEFAULT_BENCHMARK = SPECS[0].id

for _spec in SPECS:
    register(_spec.id, _spec.description, functools.partial(NB201Benchmark, _spec))
