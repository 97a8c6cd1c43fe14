"""Spot checks: the NB201 network against the table's parameter counts, the record, energy counters (NVML through a
stand-in with NVML's functions, RAPL through a powercap folder), the ranking check on real images that ship with
scikit-learn, the leaderboard's page and the command's errors. Timing runs on random tensors of CIFAR-10's shape,
which the records say."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from harness.benchmarks import get_benchmark
from harness.errors import HarnessError
from harness.spotcheck import train as spot_train
from harness.spotcheck.energy import NOT_MEASURED, NVMLMeter, RAPLMeter, find_meter
from harness.spotcheck.nb201_net import NB201Network, parameter_count, parse_arch
from harness.spotcheck.record import SCHEMA, read_record, read_records
from harness.spotcheck.run import SpotSpec, pick_archs, spotcheck
from harness.spotcheck.train import digits
from tests.helpers import cli, one_error_line

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table():  # type: ignore[no-untyped-def]
    return get_benchmark("nb201/cifar10/pi5-energy").full_table()


def test_parameter_counts_equal_the_table_for_50_random_architectures(table) -> None:  # type: ignore[no-untyped-def]
    rows = np.random.default_rng(7).choice(len(table), size=50, replace=False)
    for i in rows:
        arch = table["arch_str"].iloc[i]
        assert parameter_count(NB201Network(arch)) == round(table["cifar10_params_m"].iloc[i] * 1e6), arch
    for dataset, classes in (("cifar100", 100), ("imagenet16", 120)):  # the classifier follows the dataset
        arch = table["arch_str"].iloc[rows[0]]
        expected = round(table[f"{dataset}_params_m"].iloc[rows[0]] * 1e6)
        assert parameter_count(NB201Network(arch, classes=classes)) == expected


def test_malformed_architecture_strings_are_refused() -> None:
    assert parse_arch("|none~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")[2][2] == ("nor_conv_3x3", 2)
    for bad in (
        "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~1|",
        "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
    ):
        with pytest.raises(HarnessError, match="not a NAS-Bench-201 architecture string"):
            parse_arch(bad)


def test_architectures_are_drawn_across_the_whole_time_range(table) -> None:  # type: ignore[no-untyped-def]
    seconds = table["cifar10_train_s_per_epoch"].to_numpy()
    picked = pick_archs(seconds, 20, 0)
    assert picked == pick_archs(seconds, 20, 0) and len(set(picked)) == 20
    ranks = np.argsort(np.argsort(seconds))[picked] / len(seconds)
    assert ranks.min() < 0.05 and ranks.max() > 0.95 and np.all(np.diff(ranks) > 0)  # one per twentieth, in order


@pytest.fixture(scope="module")
def cpu_record() -> dict:
    """A 3-architecture CPU spot check, one timed step each, no energy counter."""
    return spotcheck(SpotSpec(archs=3, steps=1, warmup=0), meter=False)


def test_a_cpu_record_without_an_energy_counter_says_so(tmp_path: Path, cpu_record: dict) -> None:
    assert find_meter("cpu", powercap=tmp_path / "no-powercap") is None
    record = cpu_record
    assert record["schema"] == SCHEMA and record["measurement"]["energy"] == NOT_MEASURED
    assert "random tensors of cifar10's shape" in record["measurement"]["data"]
    assert record["summary"]["params_match"] and record["summary"]["archs"] == 3
    for row in record["rows"]:
        assert "j_per_epoch" not in row and row["timed_steps"] == 1
        assert row["s_per_epoch"] == pytest.approx(row["s_per_step"] * 50_000 / 256)
        assert row["time_ratio"] == pytest.approx(row["s_per_epoch"] / row["table_s_per_epoch"])
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record))
    assert read_record(path)["rows"] == record["rows"]
    path.write_text(json.dumps({**record, "schema": "other"}))
    with pytest.raises(HarnessError, match="is not a spot-check record"):
        read_record(path)


class FakeNVML:
    """A stand-in with NVML's functions: the counter advances at 300 W of wall time (tests the GPU code path only)."""

    def __init__(self) -> None:
        self.origin = time.perf_counter()

    def nvmlInit(self) -> None:
        return None

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return b"stand-in GPU"

    def nvmlSystemGetDriverVersion(self) -> str:
        return "0.0"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        return int(300_000 * (time.perf_counter() - self.origin))  # mJ


def test_the_gpu_path_reads_the_nvml_counter_over_long_enough_windows(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(spot_train, "MIN_WINDOW_S", 1.0)
    assert isinstance(find_meter("cuda:0", nvml=FakeNVML), NVMLMeter)
    assert find_meter("cuda", nvml=_missing) is None

    class NVMLError_NotSupported(Exception):
        pass

    def unsupported() -> object:
        raise NVMLError_NotSupported()

    assert find_meter("cuda", nvml=unsupported) is None
    record = spotcheck(SpotSpec(archs=3, steps=1, warmup=0), meter=NVMLMeter(FakeNVML()))
    assert "NVML total energy counter" in record["measurement"]["energy"]
    for row in record["rows"]:
        assert row["window_s"] >= 1.0 and row["timed_steps"] >= 1
        per_step = row["j_per_epoch"] / (50_000 / 256)
        assert per_step == pytest.approx(300.0 * row["window_s"] / row["timed_steps"], rel=0.05)
        assert row["energy_ratio"] == pytest.approx(row["j_per_epoch"] / (row["table_s_per_epoch"] * 350.0))
    assert record["summary"]["kendall_tau_energy"] is not None


def _missing() -> object:
    raise ImportError("No module named 'pynvml'")


def test_rapl_counters_are_summed_and_unwrapped(tmp_path: Path) -> None:
    for n, (value, top) in enumerate(((1_000_000, 10_000_000), (9_900_000, 10_000_000))):
        domain = tmp_path / f"intel-rapl:{n}"
        domain.mkdir()
        (domain / "energy_uj").write_text(str(value))
        (domain / "max_energy_range_uj").write_text(str(top))
        (domain / "name").write_text(f"package-{n}\n")
    (tmp_path / "intel-rapl:0:0").mkdir()  # a sub-domain (core): not added to its package
    meter = find_meter("cpu", powercap=tmp_path)
    assert isinstance(meter, RAPLMeter) and "package-0, package-1" in meter.method
    assert meter.read_j() == 0.0
    (tmp_path / "intel-rapl:0" / "energy_uj").write_text("3000000")  # +2 J
    (tmp_path / "intel-rapl:1" / "energy_uj").write_text("400000")  # wrapped: +0.5 J
    assert meter.read_j() == pytest.approx(2.5)


def test_the_ranking_check_runs_on_real_images_labelled_as_such() -> None:
    data = digits()
    assert data.x_train.shape[1:] == (1, 8, 8) and len(data.y_test) == 360
    record = spotcheck(SpotSpec(archs=3, steps=1, warmup=0, accuracy_epochs=2), meter=False, data=data)
    assert "scikit-learn digits" in record["measurement"]["data"] and "not CIFAR-10" in record["measurement"]["data"]
    for row in record["rows"]:
        assert 0.0 <= row["accuracy"] <= 100.0 and row["table_acc12"] > 0
    assert record["summary"]["kendall_tau_accuracy"] is not None
    strong = spot_train.train_and_test(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        data,
        5,
        "cpu",
    )
    assert strong > 80.0  # it learns: 10 classes, chance is 10 %


def test_the_leaderboard_shows_committed_spot_checks(tmp_path: Path, cpu_record: dict) -> None:
    from harness.leaderboard.site import build_site

    results = tmp_path / "results"
    shutil.copytree(REPO / "results" / "hotcarbon", results / "hotcarbon")
    _, files = build_site(results, tmp_path / "site")
    assert "No spot-check record is committed yet" in (tmp_path / "site" / "spotchecks.html").read_text()
    record = cpu_record
    (results / "spotchecks").mkdir()
    (results / "spotchecks" / "cpu-k3.json").write_text(json.dumps(record))
    build_site(results, tmp_path / "site")
    page = (tmp_path / "site" / "spotchecks.html").read_text()
    assert record["rows"][0]["arch"] in page and NOT_MEASURED in page and "cpu-k3.json" in page
    assert [r["file"] for r in read_records(results / "spotchecks")] == ["cpu-k3.json"]
    (results / "spotchecks" / "broken.json").write_text("{")
    with pytest.raises(HarnessError, match="cannot read spot-check record"):
        build_site(results, tmp_path / "site2")
    assert not (tmp_path / "site2").exists() and len(files) > 5


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--archs", "0"], ["--archs must be between 1 and 15625"]),
        (["--device", "tpu"], ["--device must be cpu or cuda"]),
        (["--device", "cuda"], ["no CUDA device is available"]),
        (["--accuracy-epochs", "2"], ["--accuracy-epochs needs real images"]),
        (["--benchmark", "ecnas/4v"], ["spot checks need an NB201 benchmark"]),
        (["--steps", "0"], ["--steps must be at least 1"]),
        (["--data-dir", "."], ["no CIFAR-10 binary version", "data_batch_1.bin"]),
        (["--out", str(Path(__file__) / "r.json")], ["is a file, not a folder"]),
    ],
)
def test_bad_spotcheck_input_is_one_error_line(args: list[str], fragments: list[str], tmp_path: Path) -> None:
    result = cli("spotcheck", "--archs", "2", "--steps", "1", *args, cwd=tmp_path)
    one_error_line(result, *fragments)
    assert not (tmp_path / "results").exists()
