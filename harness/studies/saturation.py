"""How discriminative a benchmark is: the HV that plain random search reaches at 10, 50 and 500 lbs of CO2eq.

`saturation(ID)` runs `random-search` with a 500-lbs budget for `seeds` seeds on the default trace window and 8 GPUs
(the defaults of `harness run`) and reads each run's HV when its cumulative carbon first covers each checkpoint (the
HV of the last interval ending at or below it; a run that ended earlier keeps its final HV). It reports the mean HV
fraction (HV / HV_max) and HV regret (HV_max - HV) over seeds. A benchmark where random search is already at 99.x %
by 50 lbs cannot tell methods apart by final HV. Results are cached under CACHE/saturation/ with a checksum and a key
that covers the benchmark's data files, the trace, the seeds and the project version; a cached file that fails its
checksum is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

CHECKPOINTS_LBS = (10.0, 50.0, 500.0)
SEEDS = 10
TRACE = "US-CAL-CISO@2021-07-02T00:00"  # `harness run`'s default window
GPUS = 8


def _key(benchmark_id: str, seeds: int) -> str:
    from harness import __version__
    from harness.benchmarks import get_benchmark
    from harness.carbon.traces import load_trace
    from harness.runner import data_hashes

    bench = get_benchmark(benchmark_id)
    document = {
        "benchmark": benchmark_id,
        "trace": TRACE,
        "gpus": GPUS,
        "seeds": seeds,
        "version": __version__,
        "checkpoints_lbs": CHECKPOINTS_LBS,
        "hv_max": bench.hv_max,  # a surrogate's reference front
        "data": data_hashes(bench, load_trace(TRACE)),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def compute(benchmark_id: str, seeds: int = SEEDS, workers: int | None = None) -> dict[str, Any]:
    """Run the random searches and summarise them (no cache)."""
    import numpy as np
    import pandas as pd

    from harness.benchmarks import get_benchmark
    from harness.config import RunSpec, parse_budget
    from harness.results import parse_record
    from harness.studies.aggregate import hv_at
    from harness.studies.executors import run_texts
    from harness.units import GRAMS_PER

    hv_max = get_benchmark(benchmark_id).hv_max
    specs = [RunSpec("random-search", benchmark_id, TRACE, parse_budget("500lbs"), seed, GPUS) for seed in range(seeds)]
    grams = np.array(CHECKPOINTS_LBS) * GRAMS_PER["lbs"]
    values, ended = [], 0
    for text in run_texts(specs, workers):
        record = parse_record(json.loads(text))
        frame = pd.DataFrame(record.intervals)
        curve = pd.DataFrame({"cum_carbon_g": frame["cum_carbon_g"], "hv": frame["hv"]})
        hv = hv_at(curve, grams)
        ended += int(np.isnan(hv).any())
        values.append(np.where(np.isnan(hv), record.summary["hv"], hv))
    hv = np.array(values)
    rows = [
        {"lbs": c, "hv_fraction": float((hv[:, i] / hv_max).mean()), "hv_regret": float((hv_max - hv[:, i]).mean())}
        for i, c in enumerate(CHECKPOINTS_LBS)
    ]
    return {
        "benchmark": benchmark_id,
        "trace": TRACE,
        "gpus": GPUS,
        "seeds": seeds,
        "hv_max": hv_max,
        "ended_before_500lbs": ended,
        "rows": rows,
    }


def saturation(
    benchmark_id: str, seeds: int = SEEDS, workers: int | None = None, before_compute: Callable[[], None] | None = None
) -> dict[str, Any]:
    """The saturation summary of a benchmark, from the verified cache or computed (then cached atomically)."""
    from harness.data.fetch import cache_dir
    from harness.io import read_cached, write_cached

    key = _key(benchmark_id, seeds)
    path = cache_dir() / "saturation" / f"{key}.json"
    cached = read_cached(path, key)
    if isinstance(cached, dict):
        return cached
    if before_compute:
        before_compute()
    summary = compute(benchmark_id, seeds, workers)
    write_cached(path, key, summary)
    return summary
