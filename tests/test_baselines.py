"""Baselines on the same harness contract; the reproducible comparison command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.methods import create_method, registry
from harness.runner import execute
from harness.testing import MethodContract
from tests.helpers import cli


class TestVanillaLaMOOContract(MethodContract):
    method = "vanilla-lamoo"


class TestVanillaLaMOOInteriorPointContract(MethodContract):
    """The reference tree solved by the interior-point method (`tree.solver=ipm`), long enough for real trees."""

    method = "vanilla-lamoo"
    budget = "30h"
    options = {"tree.solver": "ipm"}  # noqa: RUF012 - class-level default, never mutated


def test_interior_point_records_do_not_depend_on_blas_threads(tmp_path: Path) -> None:
    """The solver's linear algebra runs on one BLAS thread: the same record with 1 or 2 threads, in fresh processes."""
    outs = []
    for threads in ("1", "2"):
        out = tmp_path / f"threads-{threads}.json"
        args = ("run", "--method", "vanilla-lamoo", "--set", "tree.solver=ipm", "--budget", "60h", "--out", str(out))
        result = cli(*args, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        assert result.returncode == 0, result.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


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
    initial = [e for e in oneshot.evaluations if e["kind"] == "train" and e["job"] < 10]
    assert len(initial) == 10 and all(e["status"] == "done" for e in initial)
    assert oneshot.intervals[0]["train_gpus"] == 8
    assert oneshot.intervals[-1]["train_gpus"] == 1 and oneshot.intervals[-1]["oneshot_gpus"] == 7  # claim_gpus
    assert all(row["train_gpus"] + row["oneshot_gpus"] == 8 for row in oneshot.intervals)
    estimated = {e["arch"]: (e["f_acc"], e["f_cost"]) for e in oneshot.evaluations if e["kind"] == "oneshot"}
    claims = [e for e in oneshot.evaluations if e["kind"] == "train" and e["job"] >= 10]
    assert claims and all(e["arch"] in estimated for e in claims)  # it trains only what it estimated
    trained = {e["arch"] for e in oneshot.evaluations if e["kind"] == "train" and e["status"] == "done"}
    assert oneshot.summary["n_observed"] == len(
        [e for e in oneshot.evaluations if e["kind"] == "train" and e["status"] == "done"]
    )
    assert len(estimated) > len(trained)  # HV counts what it trained, not what it estimated
    for row in oneshot.intervals:
        assert row["finished_oneshot"] <= 10  # the per-interval quota


def test_oneshot_lamoo_trains_its_estimated_front_least_dominated_first() -> None:
    from harness.metrics import pareto_mask

    record = execute(
        RunSpec(
            "oneshot-lamoo",
            "nb201/cifar10/pi5-energy",
            "hotcarbon-1",
            parse_budget("48h"),
            0,
            8,
            method_options={"max_samples": 200, "tree.kernel": "rbf"},
        )
    )
    estimates = {}
    for e in record.evaluations:
        if e["kind"] == "oneshot" and e["status"] == "done":
            estimates.setdefault(e["arch"], (e["f_acc"], -e["f_cost"]))
    archs = list(estimates)
    front = {a for a, m in zip(archs, pareto_mask(np.asarray([estimates[a] for a in archs])), strict=True) if m}
    claimed = [e["arch"] for e in record.evaluations if e["kind"] == "train" and e["job"] >= 10]
    assert front <= set(claimed)  # after sampling ends, every GPU trains the rest of its estimated front
    assert record.summary["stop_reason"] == "method finished"
    assert len(set(claimed)) == len(claimed)  # never the same architecture twice


@pytest.fixture(scope="module")
def small_hotcarbon():
    """The shipped HotCarbon study, shrunk to one trace, two seeds and 4 h, without its busy one-shot row (it
    estimates every NB201 architecture: most of the time of a 4-h study; tested on its own)."""
    import tomllib

    from harness.studies.spec import parse_study, studies_dir

    raw = tomllib.loads((studies_dir() / "hotcarbon.toml").read_text())
    raw["methods"] = [m for m in raw["methods"] if m.get("label") != "oneshot-lamoo-busy"]
    return parse_study(raw | {"traces": ["hotcarbon-1"], "seeds": 2, "budgets": ["4h"]}, "hotcarbon")


def test_hotcarbon_table_and_byte_identical_regeneration(small_hotcarbon, tmp_path: Path) -> None:
    from harness.studies import executors as ex
    from harness.studies import sweep as sw
    from harness.studies.aggregate import load_runs
    from harness.studies.hotcarbon import aggregate, rows_from
    from harness.studies.report import report

    pool = ex.make_executor(2, None, None)
    try:
        sw.sweep(small_hotcarbon, tmp_path / "a", pool)
    finally:
        pool.close()
    sw.sweep(small_hotcarbon, tmp_path / "b", ex.SerialExecutor())
    for folder in ("a", "b"):
        report(tmp_path / folder, plots=False)
    for name in ("comparison.md", "comparison.json", "report.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    table = aggregate(small_hotcarbon.to_dict(), rows_from(load_runs(tmp_path / "a")))
    assert len(table) == 6  # five methods and the heuristic with an oracle forecast
    reference = next(e for e in table if e["method"] == "cenas-heuristic")
    assert reference["carbon_vs_reference"] == 1.0 and reference["runs"] == 2
    vanilla = next(e for e in table if e["method"] == "vanilla-lamoo")
    assert vanilla["carbon_g"] > reference["carbon_g"]  # every GPU trains, whatever the intensity
    text = (tmp_path / "a" / "comparison.md").read_text()
    assert "| hotcarbon-1 | vanilla-lamoo |" in text and "harness sweep hotcarbon" in text


def test_oneshot_lamoo_ends_after_max_samples() -> None:
    spec = RunSpec(
        "oneshot-lamoo",
        "nb201/cifar10/pi5-energy",
        "hotcarbon-1",
        parse_budget("500lbs"),
        method_options={"max_samples": 45},
    )
    record = execute(spec)
    assert record.summary["stop_reason"] == "method finished"
    assert record.summary["n_oneshot"] == 35  # 45 samples, the 10 initial ones trained
    assert record.summary["n_trained"] > 10  # then its estimated front


def test_oneshot_lamoo_rejects_a_non_positive_sample_cap() -> None:
    with pytest.raises(HarnessError, match="max_samples"):
        create_method("oneshot-lamoo", {"max_samples": 0})


def test_busy_oneshot_lamoo_estimates_each_architecture_once_and_idles_when_none_is_left() -> None:
    """The HotCarbon study's `oneshot-lamoo-busy`: uncapped sampling with `dedup` estimates every NB201 architecture
    at most once; once the space is used up its sampling GPUs idle (before: dedup raised an error)."""
    options = {"oneshot_quota": None, "max_samples": None, "supernet.scope": "rebuild", "dedup": True}
    spec = RunSpec(
        "oneshot-lamoo", "nb201/cifar10/pi5-energy", "hotcarbon-1", parse_budget("10h"), gpus=8, method_options=options
    )
    record = execute(spec)
    estimated = [e["arch"] for e in record.evaluations if e["kind"] == "oneshot"]
    assert len(estimated) == len(set(estimated)) > 15_000  # NB201 has 15,625 architectures
    last = record.intervals[-1]
    assert last["started_oneshot"] == 0 and last["idle_gpu_h"] > 5  # nothing left to estimate: idle, not an error
