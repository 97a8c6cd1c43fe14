"""Reader for the official HW-NAS-Bench pickle (`HW-NAS-Bench-v1_0.pickle`, user-supplied, not mirrored).

Documented structure (GATECH-EIC/HW-NAS-Bench `hw_nas_bench_api.py`): a dict keyed by search space; its
`'nasbench201'` value is keyed by dataset (`cifar10`, `cifar100`, `ImageNet16-120`), each a dict of metric name ->
sequence indexed by NB201 architecture index (0..15624), plus `config` (a dict per arch with `arch_str`).
Latencies are in ms, energies in mJ.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import DataIntegrityError
from harness.spaces.nb201 import N_ARCHS

HWNB_METRICS: tuple[str, ...] = (
    "edgegpu_latency",
    "edgegpu_energy",
    "raspi4_latency",
    "edgetpu_latency",
    "pixel3_latency",
    "eyeriss_latency",
    "eyeriss_energy",
    "eyeriss_arithmetic_intensity",
    "fpga_latency",
    "fpga_energy",
)
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def read_hw_nas_bench(path: Path, dataset: str = "cifar10") -> pd.DataFrame:
    """One row per NB201 index: `arch_str` and the ten HW-NAS-Bench metrics (float64) for `dataset`."""
    if dataset not in DATASETS:
        raise DataIntegrityError(f"HW-NAS-Bench has no dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    try:
        with path.open("rb") as handle:
            root = pickle.load(handle)  # noqa: S301 - pinned by git blob id before use
        per_dataset = root["nasbench201"][dataset]
        frame = pd.DataFrame({"index": np.arange(N_ARCHS, dtype=np.int32)})
        frame["arch_str"] = [per_dataset["config"][i]["arch_str"] for i in range(N_ARCHS)]
        for metric in HWNB_METRICS:
            values = np.array([float(per_dataset[metric][i]) for i in range(N_ARCHS)], dtype=np.float64)
            frame[metric] = values
    except (pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise DataIntegrityError(f"{path}: not a HW-NAS-Bench pickle in the documented structure ({exc!r})") from None
    return frame
