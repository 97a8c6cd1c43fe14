"""Baselines on the same harness contract; the reproducible comparison command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import compare
from harness.cli import app
from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.methods import create_method, registry
from harness.runner import execute
from harness.testing import MethodContract


class TestVanillaLaMOOContract(MethodContract):
    method = "vanilla-lamoo"


class TestOneShotLaMOOContract(MethodContract):
    method = "oneshot-lamoo"


class TestRandomAllocationContract(MethodContract):
    method = "random-allocation"


class TestNSGA2Contract(MethodContract):
    method = "nsga2"


class TestQNEHVIContract(MethodContract):
    method = "qnehvi"
    budget = "5h"
    options = {"qnehvi.raw_samples": 32, "qnehvi.restarts": 2, "qnehvi.maxiter": 5}  # noqa: RUF012 - light optimiser


def test_nsga2_runs_synchronous_generations() -> None:
    record = execute(RunSpec("nsga2", "nb201/cifar10/pi5-energy", "hotcarbon-1", parse_budget("30h")))
    generations = [row["queue_generation"] for row in record.intervals]
    assert generations == sorted(generations) and generations[-1] >= 3
    trained = [e for e in record.evaluations if e["status"] == "done"]
    assert len(trained) >= 20 * generations[-1]  # every member of each finished generation was trained


def test_every_registered_method_has_a_contract_test() -> None:
    from tests import test_cenas_method, test_semoa, test_simulator  # noqa: F401  (their contract classes register)

    tested = {cls.method for cls in MethodContract.__subclasses__()}
    assert set(registry()) == tested


def test_vanilla_trains_on_every_gpu_and_oneshot_never_trains() -> None:
    vanilla = execute(RunSpec("vanilla-lamoo", "nb201/cifar10/pi5-energy", "hotcarbon-1", parse_budget("6h")))
    assert {row["train_gpus"] for row in vanilla.intervals} == {8}
    assert vanilla.summary["oneshot_gpu_hours"] == 0.0
    oneshot = execute(RunSpec("oneshot-lamoo", "nb201/cifar10/pi5-energy", "hotcarbon-1", parse_budget("6h")))
    initial = [e for e in oneshot.evaluations if e["kind"] == "train"]
    assert len(initial) == 10 and all(e["status"] == "done" for e in initial)  # only the initial samples train
    assert oneshot.intervals[0]["train_gpus"] == 8 and oneshot.intervals[-1]["oneshot_gpus"] == 8
    assert all(row["train_gpus"] + row["oneshot_gpus"] == 8 for row in oneshot.intervals)
    trained_after_init = [e for e in oneshot.evaluations if e["kind"] == "train" and e["start_h"] > 0]
    assert len(trained_after_init) <= 10  # only the initial samples are trained
    assert oneshot.summary["n_observed"] > oneshot.summary["n_trained"]  # HV counts what it sampled (true values)
    for row in oneshot.intervals:
        assert row["finished_oneshot"] <= 10  # the per-interval quota


@pytest.fixture(scope="module")
def small_preset() -> compare.Preset:
    return compare.shrink(compare.get_preset("hotcarbon"), seeds=2, budget="4h", traces=1)


def test_comparison_tables_and_byte_identical_regeneration(small_preset, tmp_path: Path) -> None:
    rows = compare.run_preset(small_preset, workers=2)
    assert len(rows) == 5 * 2
    first = compare.write_outputs(small_preset, rows, tmp_path / "a")
    again = compare.write_outputs(small_preset, compare.run_preset(small_preset, workers=1), tmp_path / "b")
    for a, b in zip(first, again, strict=True):
        assert a.read_bytes() == b.read_bytes()
    table = compare.aggregate(small_preset, rows)
    reference = next(e for e in table if e["method"] == "cenas-heuristic")
    assert reference["carbon_vs_reference"] == 1.0
    vanilla = next(e for e in table if e["method"] == "vanilla-lamoo")
    assert vanilla["carbon_g"] > reference["carbon_g"]  # every GPU trains, whatever the intensity
    text = first[0].read_text()
    assert "| hotcarbon-1 | vanilla-lamoo |" in text and "harness compare --preset hotcarbon" in text


def test_compare_cli_rejects_unknown_preset() -> None:
    result = CliRunner().invoke(app, ["compare", "--preset", "nope"])
    assert result.exit_code != 0 and "unknown preset 'nope'" in str(result.exception)


def test_oneshot_lamoo_ends_after_max_samples() -> None:
    spec = RunSpec("oneshot-lamoo", "nb201/cifar10/pi5-energy", "hotcarbon-1", parse_budget("500lbs"),
                   method_options={"max_samples": 45})  # fmt: skip
    record = execute(spec)
    assert record.summary["stop_reason"] == "method finished"
    assert (record.summary["n_trained"], record.summary["n_oneshot"]) == (10, 35)  # the 10 initial ones trained


def test_oneshot_lamoo_rejects_a_non_positive_sample_cap() -> None:
    with pytest.raises(HarnessError, match="max_samples"):
        create_method("oneshot-lamoo", {"max_samples": 0})
