"""Reader for the official HW-NAS-Bench pickle (`HW-NAS-Bench-v1_0.pickle`, user-supplied, not mirrored).

Documented structure (GATECH-EIC/HW-NAS-Bench `hw_nas_bench_api.py`): a dict keyed by search space; its
`'nasbench201'` value is keyed by dataset (`cifar10`, `cifar100`, `ImageNet16-120`), each a dict of metric name ->
sequence indexed by NB201 architecture index (0..15624), plus `config` (a dict per arch with `arch_str`).
Latencies are in ms, energies in mJ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.data.fetch import VerifiedFile
from harness.data.safe_pickle import PLAIN_DATA, restricted_loads
from harness.errors import DataIntegrityError

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


def read_hw_nas_bench(file: VerifiedFile, dataset: str = "cifar10") -> pd.DataFrame:
    """One row per NB201 index (in `config` order): `arch_str` and each documented metric present (float64).

    `file` has been verified against its git-blob pin; it is unpickled allowing only numpy scalars and arrays
    (`safe_pickle.PLAIN_DATA`). The official file has all ten metrics for 15625 architectures; the caller checks the
    size it needs.
    """
    what = f"{file.entry.name} (HW-NAS-Bench pickle)"
    if dataset not in DATASETS:
        raise DataIntegrityError(f"HW-NAS-Bench has no dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    try:
        root = restricted_loads(file.data, PLAIN_DATA, what)
        per_dataset = root["nasbench201"][dataset]
        configs = per_dataset["config"]
        n = len(configs)
        frame = pd.DataFrame({"index": np.arange(n, dtype=np.int32)})
        frame["arch_str"] = [configs[i]["arch_str"] for i in range(n)]
        metrics = [m for m in HWNB_METRICS if m in per_dataset]
        if not metrics:
            raise KeyError("no HW-NAS-Bench metric")
        for metric in metrics:
            frame[metric] = np.array([float(per_dataset[metric][i]) for i in range(n)], dtype=np.float64)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise DataIntegrityError(f"{what}: not a HW-NAS-Bench pickle in the documented structure ({exc!r})") from None
    return frame
