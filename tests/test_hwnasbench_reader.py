"""The HW-NAS-Bench pickle reader, on pickles written in the documented structure from real published values."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harness.data.build_nb201 import load_nb201
from harness.data.fetch import VerifiedFile, digest_bytes, raw_path
from harness.data.hwnasbench import read_hw_nas_bench
from harness.data.manifest import DataFile, load_manifest
from harness.errors import DataIntegrityError

ARCH0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
# HW-NAS-Bench README / example.ipynb, NB201 architecture 0 on cifar10 (SOURCES.md section 7)
README_ARCH0_CIFAR10 = {
    "edgegpu_latency": 5.807418537139893,
    "edgegpu_energy": 24.226614330768584,
    "raspi4_latency": 10.481976820010459,
    "edgetpu_latency": 0.9571811309997429,
    "pixel3_latency": 3.6058499999999998,
    "eyeriss_latency": 3.645620000000001,
    "eyeriss_energy": 0.6872827644999999,
    "eyeriss_arithmetic_intensity": 6.289297634665844,
    "fpga_latency": 2.57296,
    "fpga_energy": 18.01072,
}
CONFIG0 = {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": ARCH0, "num_classes": 10}


def write_pickle(path: Path, per_dataset: dict) -> Path:
    with path.open("wb") as handle:
        pickle.dump({"nasbench201": per_dataset, "fbnet": {}}, handle)
    return path


def pinned_entry(path: Path) -> DataFile:
    """The manifest's HW-NAS-Bench entry re-pinned to this test file's git blob id (a test-local pin)."""
    return dataclasses.replace(load_manifest()["hw-nas-bench"], git_blob=digest_bytes(path.read_bytes()).git_blob)


def verified(path: Path) -> VerifiedFile:
    data = path.read_bytes()
    return VerifiedFile(pinned_entry(path), data, digest_bytes(data))


def test_reads_the_documented_structure_with_numpy_scalars(tmp_path: Path) -> None:
    cifar10 = {m: [np.float64(v)] for m, v in README_ARCH0_CIFAR10.items()} | {"config": [CONFIG0]}
    path = write_pickle(tmp_path / "hw.pickle", {"cifar10": cifar10})
    frame = read_hw_nas_bench(verified(path), "cifar10")
    assert frame["arch_str"].tolist() == [ARCH0]
    for metric, value in README_ARCH0_CIFAR10.items():
        assert frame[metric].iat[0] == value


def test_help_copies_equal_hw_nas_bench_values(upstream) -> None:
    raspi4 = torch.load(upstream("help-latency-raspi4"), weights_only=True)
    fpga = torch.load(upstream("help-latency-fpga"), weights_only=True)
    assert raspi4[0] == README_ARCH0_CIFAR10["raspi4_latency"]
    assert fpga[0] == README_ARCH0_CIFAR10["fpga_latency"]


def test_corrupt_or_foreign_pickles_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b"not a pickle")
    with pytest.raises(DataIntegrityError, match="not a readable pickle"):
        read_hw_nas_bench(verified(tmp_path / "junk"))
    path = write_pickle(tmp_path / "other.pickle", {"cifar100": {"config": [CONFIG0]}})
    with pytest.raises(DataIntegrityError, match="not a HW-NAS-Bench pickle"):
        read_hw_nas_bench(verified(path), "cifar10")
    with pytest.raises(DataIntegrityError, match="no dataset"):
        read_hw_nas_bench(verified(path), "mnist")


def test_pickle_in_cache_adds_columns_to_nb201_table(tmp_path: Path, nb201_table: pd.DataFrame, monkeypatch) -> None:
    """A full-size pickle holding the four HW-NAS-Bench latencies HELP republished (real values for every arch)."""
    cifar10 = {
        "config": [dict(CONFIG0, arch_str=s) for s in nb201_table["arch_str"]],
        "raspi4_latency": nb201_table["lat_raspi4_ms"].to_numpy(),
        "pixel3_latency": nb201_table["lat_pixel3_ms"].to_numpy(),
        "eyeriss_latency": nb201_table["lat_eyeriss_ms"].to_numpy(),
        "fpga_latency": nb201_table["lat_fpga_ms"].to_numpy(),
    }
    cache = tmp_path / "cache"
    seed_cache_from_session(cache)
    target = raw_path(load_manifest()["hw-nas-bench"], cache)
    target.parent.mkdir(parents=True)
    write_pickle(target, {"cifar10": cifar10})
    table = load_nb201(load_manifest().replace(pinned_entry(target)), cache=cache)
    np.testing.assert_array_equal(table["hwnb_raspi4_latency"], nb201_table["lat_raspi4_ms"])
    assert "hwnb_edgegpu_energy" not in table.columns


def seed_cache_from_session(cache: Path) -> None:
    """Seed a fresh cache with the session's raw files so the rebuild needs no download."""
    import shutil

    from harness.data.fetch import cache_dir

    shutil.copytree(cache_dir() / "raw", cache / "raw")
