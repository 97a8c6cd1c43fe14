"""`harness spotcheck`: train sampled NB201 architectures for real and compare time (and energy) with the table.

For K architectures drawn across the whole range of the table's time per epoch (sorted by it, cut into K equal
bins, one seeded draw per bin): build the network and check its parameter count against the table's; time training
steps after warm-up (and read an energy counter around them where one is readable); report measured / table time
per epoch per architecture and Kendall's tau between the two over the K architectures. Energy is compared with the board
energy the simulator assumes for the same epoch (the table's time x the accounting profile's training watts; the
simulator's facility energy multiplies that by the PUE).
Optionally (`accuracy_epochs`) a short training ranks the architectures by test accuracy against NB201's 12-epoch
accuracies. The record (schema `cenas-bench/spotcheck/1`) keeps hardware, versions, the measurement method and one row
per architecture; the leaderboard shows committed records on its "spot checks" page.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError
from harness.spotcheck.energy import NOT_MEASURED, EnergyMeter, find_meter
from harness.spotcheck.nb201_net import NB201Network, parameter_count
from harness.spotcheck.record import SCHEMA
from harness.spotcheck.train import SHAPES, ImageSet, cifar10, time_training, train_and_test


@dataclass(frozen=True)
class SpotSpec:
    """What a spot check runs (all of it goes into the record)."""

    benchmark: str = "nb201/cifar10/pi5-energy"
    archs: int = 20
    steps: int = 20  # timed steps per architecture (after warm-up); per-epoch time = step time x steps per epoch
    epochs: int | None = None  # instead of steps: this many whole epochs
    warmup: int = 3
    device: str = "cpu"
    data_dir: str | None = None  # CIFAR-10's binary version; None: random tensors of the dataset's shape (timing)
    accuracy_epochs: int = 0  # > 0: also rank the archs by test accuracy after this many epochs (needs real images)
    accounting: str = "default"
    seed: int = 0


def pick_archs(seconds: np.ndarray, k: int, seed: int) -> list[int]:
    """Row indices of `k` architectures spread over the whole range of `seconds` (n,): one seeded draw from each of
    k equal-count bins of the rows sorted by it."""
    if not 1 <= k <= len(seconds):
        raise HarnessError(f"--archs must be between 1 and {len(seconds)} (got {k})")
    order = np.argsort(seconds, kind="stable")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 201]))
    return [int(rng.choice(part)) for part in np.array_split(order, k)]


def _dataset(benchmark: Any) -> str:
    dataset = getattr(getattr(benchmark, "spec", None), "dataset", None)
    if dataset not in SHAPES or not hasattr(benchmark, "table"):
        raise HarnessError(f"spot checks need an NB201 benchmark (nb201/...), not {benchmark.id}")
    return str(dataset)


def check(spec: SpotSpec, images_given: bool = False) -> None:
    """Every input, before any work (one error line each); `images_given`: the caller supplies the images."""
    from harness.benchmarks import get_benchmark
    from harness.sim.accounting import get_profile

    for name, value, low in (
        ("--steps", spec.steps, 1),
        ("--warmup", spec.warmup, 0),
        ("--epochs", spec.epochs, 1),
        ("--accuracy-epochs", spec.accuracy_epochs, 0),
    ):
        if value is not None and value < low:
            raise HarnessError(f"{name} must be at least {low} (got {value})")
    if not (spec.device == "cpu" or spec.device.startswith("cuda")):
        raise HarnessError(f"--device must be cpu or cuda[:N] (got {spec.device!r})")
    if spec.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise HarnessError("--device cuda: no CUDA device is available to torch here")
    bench: Any = get_benchmark(spec.benchmark)
    dataset = _dataset(bench)
    pick_archs(np.zeros(len(bench.table)), spec.archs, spec.seed)  # --archs within the table's size
    get_profile(spec.accounting)
    if spec.data_dir is not None and dataset != "cifar10":
        raise HarnessError(f"--data-dir reads CIFAR-10 only; {spec.benchmark} trains on {dataset}")
    if spec.accuracy_epochs and spec.data_dir is None and not images_given:
        raise HarnessError("--accuracy-epochs needs real images: give --data-dir with CIFAR-10's binary version")


def hardware(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    import scipy
    import torch

    from harness import __version__

    return {
        "cenas-bench": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def _kendall(a: list[float], b: list[float]) -> tuple[float | None, float | None]:
    from scipy import stats

    if len(a) < 3:
        return None, None
    result = stats.kendalltau(a, b)
    return float(result.statistic), float(result.pvalue)


def spotcheck(
    spec: SpotSpec,
    progress: Callable[[int, int, str], None] | None = None,
    meter: EnergyMeter | bool | None = True,
    data: ImageSet | None = None,
) -> dict[str, Any]:
    """Run the spot check and return its record. `meter`: True finds the device's counter, None/False measures no
    energy, or a meter to use; `data` overrides the images (default: `spec.data_dir`'s CIFAR-10, else shape only)."""
    from harness.benchmarks import get_benchmark
    from harness.sim.accounting import get_profile

    check(spec, data is not None)
    bench: Any = get_benchmark(spec.benchmark)
    dataset = _dataset(bench)
    table = bench.full_table()
    shape = SHAPES[dataset]
    if data is None and spec.data_dir is not None:
        data = cifar10(Path(spec.data_dir))
    counter = find_meter(spec.device) if meter is True else (meter or None)
    profile = get_profile(spec.accounting)
    per_epoch_steps = shape[4] / 256  # images per epoch / batch (the last, partial batch counted by its share)
    rows_index = pick_archs(table[f"{dataset}_train_s_per_epoch"].to_numpy(), spec.archs, spec.seed)
    rows: list[dict[str, Any]] = []
    for n, i in enumerate(rows_index):
        arch = str(table["arch_str"].iloc[i])
        params = parameter_count(NB201Network(arch, classes=shape[3], in_channels=shape[0]))
        table_params = round(float(table[f"{dataset}_params_m"].iloc[i]) * 1e6)
        if params != table_params:
            raise HarnessError(
                f"{arch}: the network has {params} parameters, the table {table_params}; the network "
                "definition does not match NAS-Bench-201"
            )
        steps = spec.steps if spec.epochs is None else round(spec.epochs * per_epoch_steps)
        timing = time_training(arch, shape, spec.device, steps, spec.warmup, data, counter, spec.seed)
        table_s = float(table[f"{dataset}_train_s_per_epoch"].iloc[i])
        epoch_s = timing.step_s_median * per_epoch_steps
        row: dict[str, Any] = {
            "index": int(i),
            "arch": arch,
            "params": params,
            "table_params": table_params,
            "table_s_per_epoch": table_s,
            "s_per_step": timing.step_s_median,
            "s_per_step_mean": timing.step_s_mean,
            "timed_steps": timing.steps,
            "window_s": timing.window_s,
            "s_per_epoch": epoch_s,
            "time_ratio": epoch_s / table_s,
            "charged_j_per_epoch": table_s * profile.train_w,
        }
        if timing.energy_j is not None:
            row["j_per_epoch"] = timing.energy_j / timing.steps * per_epoch_steps
            row["energy_ratio"] = row["j_per_epoch"] / row["charged_j_per_epoch"]
        if spec.accuracy_epochs and data is not None:
            row["accuracy"] = train_and_test(arch, data, spec.accuracy_epochs, spec.device, spec.seed)
            row["table_acc12"] = float(table[f"{dataset}_acc12"].iloc[i])
        rows.append(row)
        if progress:
            progress(n + 1, len(rows_index), f"{arch}: {epoch_s:.1f} s/epoch vs {table_s:.1f} in the table")
    return record(spec, rows, counter, data, profile.name, dataset)


def record(
    spec: SpotSpec,
    rows: list[dict[str, Any]],
    meter: EnergyMeter | None,
    data: ImageSet | None,
    profile: str,
    dataset: str,
) -> dict[str, Any]:
    """The spot-check record: spec, hardware, versions, how it measured, rows and their summary."""
    tau, p = _kendall([r["s_per_epoch"] for r in rows], [r["table_s_per_epoch"] for r in rows])
    ratios = np.array([r["time_ratio"] for r in rows])
    summary: dict[str, Any] = {
        "archs": len(rows),
        "kendall_tau_time": tau,
        "kendall_p_time": p,
        "time_ratio_median": float(np.median(ratios)),
        "time_ratio_min": float(ratios.min()),
        "time_ratio_max": float(ratios.max()),
        "params_match": all(r["params"] == r["table_params"] for r in rows),
    }
    if all("j_per_epoch" in r for r in rows):
        tau_e, p_e = _kendall([r["j_per_epoch"] for r in rows], [r["charged_j_per_epoch"] for r in rows])
        summary |= {
            "kendall_tau_energy": tau_e,
            "kendall_p_energy": p_e,
            "energy_ratio_median": float(np.median([r["energy_ratio"] for r in rows])),
        }
    if all("accuracy" in r for r in rows):
        tau_a, p_a = _kendall([r["accuracy"] for r in rows], [r["table_acc12"] for r in rows])
        summary |= {"kendall_tau_accuracy": tau_a, "kendall_p_accuracy": p_a}
    per_epoch = SHAPES[dataset][4] / 256
    return {
        "schema": SCHEMA,
        "spec": asdict(spec),
        "hardware": hardware(spec.device),
        "versions": versions(),
        "measurement": {
            "time": (
                f"wall clock (time.perf_counter) of each training step after {spec.warmup} warm-up steps"
                + (", CUDA synchronised before and after" if spec.device.startswith("cuda") else "")
                + f"; seconds per epoch = median step time x {per_epoch:g} steps ({SHAPES[dataset][4]} images / "
                "batch 256)"
            ),
            "energy": meter.method if meter else NOT_MEASURED,
            "data": data.description
            if data is not None
            else f"random tensors of {dataset}'s shape {SHAPES[dataset][:3]} (timing only; no real images)",
            "charged": f"the board energy the simulator assumes for one epoch: the table's seconds per epoch x the "
            f"'{profile}' profile's training watts (it then multiplies by the PUE for the facility)",
        },
        "rows": rows,
        "summary": summary,
    }
