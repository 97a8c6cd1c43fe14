"""CE-NAS end to end on the real default benchmark and traces: queue rule, halfwork order, variants, commands."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cenas.method import CENAS
from cenas.queue import Candidate, ReadyQueue
from cenas.supernet import Supernet
from harness.benchmarks import DEFAULT_BENCHMARK, get_benchmark
from harness.carbon import transformer as tf
from harness.cli import app
from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.methods import create_method
from harness.runner import execute
from harness.sim.jobs import TRAIN, Job
from harness.testing import MethodContract


class TestCenasHeuristicContract(MethodContract):
    method = "cenas-heuristic"


class TestCenasRLReferenceContract(MethodContract):
    method = "cenas-rl-reference"
    accounting = "reference"


class TestCenasContract(MethodContract):
    method = "cenas"


def test_queue_capacity_rule() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    queue = ReadyQueue(capacity=2)
    for seq, arch in enumerate([5, 17, 901]):
        assert queue.accepting()
        queue.push(Candidate(bench.space.encode([arch])[0], arch, bench.oneshot_objectives([arch])[0], seq))
    assert not queue.accepting() and len(queue) == 3
    f = bench.oneshot_objectives([5, 17, 901])
    best = queue.pop_best()
    assert best.arch == [5, 17, 901][int(np.argmin([sum(all(g >= p) for g in f) - 1 for p in f]))]


def test_ready_queue_never_exceeds_capacity_plus_oneshot_gpus() -> None:
    spec = RunSpec(
        "cenas-heuristic",
        DEFAULT_BENCHMARK,
        "neurips",
        parse_budget("12h"),
        gpus=8,
        method_options={"queue_capacity": 5},
    )
    record = execute(spec)
    for row in record.intervals:
        assert row["queue_ready"] <= 5 + row["oneshot_gpus"]
    assert record.summary["n_oneshot"] > 0 and record.summary["n_trained"] > 10


def test_training_takes_least_dominated_and_initial_samples_are_uniform() -> None:
    spec = RunSpec("cenas-heuristic", DEFAULT_BENCHMARK, "neurips", parse_budget("4h"), accounting="reference")
    record = execute(spec)
    initial = [e for e in record.evaluations if e["status"] == "init-free"]
    assert len(initial) == 10 and all(e["carbon_g"] == 0.0 and e["end_h"] == 0.0 for e in initial)
    assert record.intervals[0]["n_observed"] >= 10


def test_halfwork_resumes_least_dominated_first() -> None:
    method = CENAS()
    bench = get_benchmark(DEFAULT_BENCHMARK)
    archs = [100, 2000, 7000]
    jobs = [Job(TRAIN, a, payload=(None, bench.oneshot_objectives([a])[0])) for a in archs]
    f = bench.oneshot_objectives(archs)
    counts = [sum(all(g >= p) for g in f) - 1 for p in f]
    assert method.choose_resume(TRAIN, jobs) == int(np.argmin(counts))


def test_options_are_validated() -> None:
    with pytest.raises(HarnessError, match=r"unknown option 'tree\.leaf_sise' for cenas; did you mean tree\.leaf_size"):
        create_method("cenas", {"tree.leaf_sise": 5})
    with pytest.raises(HarnessError, match=r"unknown option 'kernel' for cenas; did you mean tree\.kernel"):
        create_method("cenas", {"kernel": "rbf"})
    with pytest.raises(HarnessError, match=r"tree\.node_select='best'.*expected one of 'leaf', 'mcts'"):
        create_method("cenas", {"tree.node_select": "best"})


@pytest.mark.parametrize(
    "options",
    [
        {"tree.node_select": "mcts", "dominance_scope": "queue+observed", "tree.cp_mode": "hv_max"},
        {"tree.kernel": "rbf", "dedup": True, "tree.cp_mode": "current_hv", "policy": "random"},
        {"policy": "fixed", "fixed_train": 3, "forecaster": "persistence"},
    ],
)
def test_variants_run(options) -> None:
    spec = RunSpec("cenas-heuristic", DEFAULT_BENCHMARK, "neurips", parse_budget("6h"), gpus=4, method_options=options)
    record = execute(spec)
    assert record.summary["n_trained"] > 0 and record.summary["hv"] > 0
    if options.get("policy") == "fixed":
        assert {row["train_gpus"] for row in record.intervals} == {3}
    if options.get("dedup"):
        trained = [e["arch"] for e in record.evaluations if e["kind"] == "train"]
        assert len(trained) == len(set(trained))


def test_qnehvi_sampler_completes() -> None:
    options = {
        "sampler": "qnehvi",
        "qnehvi": {"raw_samples": 32, "restarts": 2, "maxiter": 5, "q": 2},
        "supernet": {"seconds": 0},
    }  # no supernet to train first: a 1-h run samples at once
    spec = RunSpec(
        "cenas-heuristic",
        DEFAULT_BENCHMARK,
        "neurips",
        parse_budget("1h"),
        gpus=2,
        accounting="reference",
        method_options=options | {"queue_capacity": 2},
    )
    record = execute(spec)
    assert record.summary["n_oneshot"] > 0
    charged = execute(
        RunSpec(
            "cenas-heuristic",
            DEFAULT_BENCHMARK,
            "neurips",
            parse_budget("1h"),
            gpus=4,
            method_options=options | {"queue_capacity": 2},
        )
    )
    assert charged.summary["n_oneshot"] > 0  # initial samples still training at t=0: region sampling until then


def test_shipped_transformer_forecaster_and_reproducible_training() -> None:
    forecaster = tf.TransformerForecaster.for_region("sc:US-CAL-CISO")
    from harness.carbon.traces import load_trace
    from harness.carbon.view import CarbonView

    prediction = forecaster.forecast(CarbonView(load_trace("neurips"), load_trace("sc:US-CAL-CISO")), 0.0, 72)
    assert prediction.shape == (72,) and np.isfinite(prediction).all() and (prediction > 0).all()
    spec = tf.TrainSpec("sc:US-CAL-CISO", epochs=1)
    first, _ = tf.train(spec)
    second, _ = tf.train(spec)
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert (a == b).all(), name
    with pytest.raises(HarnessError, match="harness forecast train"):
        tf.TransformerForecaster.for_region("sc:ZA")


def test_default_cenas_run_from_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--budget", "20lbs", "--out", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    assert "cenas on nb201/cifar10/pi5-energy" in result.output and "20.00 lbs" in result.output


# ------------------------------------------------------------------------------------------------ supernet cost
def test_supernet_chunks_generations_and_scopes() -> None:
    net = Supernet(seconds=2000.0, scope="region", chunk_seconds=900.0)
    net.select(())
    chunks = [net.next_chunk() for _ in range(4)]
    assert [c.seconds for c in chunks[:3] if c] == [900.0, 900.0, 200.0] and chunks[3] is None
    assert all(c.is_supernet and c.kind == "oneshot" for c in chunks[:3] if c)
    for chunk in chunks[:2]:
        net.finished(chunk)  # type: ignore[arg-type]
    assert not net.ready  # one chunk still running
    net.finished(chunks[2])  # type: ignore[arg-type]
    assert net.ready
    net.select(())
    assert net.ready  # the same region needs no new supernet
    net.select((0, 1))
    assert not net.ready and net.trainings == 2
    running = net.next_chunk()
    net.finished(chunks[0])  # type: ignore[arg-type]  # a superseded supernet's chunk counts for nothing
    assert net.in_flight == 1 and running is not None
    once = Supernet(100.0, "once", 900.0)
    once.select((1, 0))
    once.finished(once.next_chunk())  # type: ignore[arg-type]
    once.select((0, 0))
    assert once.ready and once.trainings == 1
    refit = Supernet(100.0, "rebuild", 900.0)
    refit.select((1, 0), 10)
    refit.finished(refit.next_chunk())  # type: ignore[arg-type]
    refit.select((1, 0), 10)
    assert refit.ready
    refit.select((1, 0), 11)  # the same leaf of a refitted tree: new boundaries, new supernet
    assert not refit.ready and refit.trainings == 2
    free = Supernet(0.0, "region", 900.0)
    free.select((1,))
    assert free.ready and free.next_chunk() is None and free.trainings == 0


def test_sampling_waits_for_the_supernet_which_draws_training_power() -> None:
    spec = RunSpec("cenas-heuristic", DEFAULT_BENCHMARK, "hotcarbon-1", parse_budget("8h"), accounting="reference")
    record = execute(spec)
    supernet = [e for e in record.evaluations if e["kind"] == "supernet" and e["status"] == "done"]
    first_sample = min(e["start_h"] for e in record.evaluations if e["kind"] == "oneshot")
    assert sum(e["seconds"] for e in supernet if e["end_h"] <= first_sample + 1e-9) >= 8007.0 - 1e-6
    for e in supernet:  # reference accounting: training draws 1 kW, one-shot evaluation is free
        assert e["energy_kwh"] == pytest.approx(e["seconds"] * 1000.0 / 3.6e6) and e["f_acc"] is None
    assert record.summary["supernet_gpu_hours"] == pytest.approx(sum(e["seconds"] for e in supernet) / 3600.0)
    assert sum(r["finished_supernet"] for r in record.intervals) == len(supernet)
    free = execute(replace(spec, method_options={"supernet": {"seconds": 0}}))
    assert not [e for e in free.evaluations if e["kind"] == "supernet"]
    assert min(e["start_h"] for e in free.evaluations if e["kind"] == "oneshot") < first_sample
