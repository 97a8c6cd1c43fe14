"""The simulator on the real default benchmark and real traces: accounting, halfwork, budgets, records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.benchmarks import DEFAULT_BENCHMARK, get_benchmark
from harness.carbon.traces import load_trace
from harness.cli import app
from harness.config import Budget, RunSpec, parse_budget
from harness.errors import HarnessError
from harness.metrics import hypervolume
from harness.results import load_record
from harness.runner import execute
from harness.sim.accounting import get_profile
from harness.sim.jobs import TRAIN, Job
from harness.sim.method import IntervalInfo, Method
from harness.sim.simulator import Simulator
from harness.testing import MethodContract


class Scripted(Method):
    """A test policy: a fixed number of training GPUs that train the listed architectures in order, then idle."""

    def __init__(self, train_gpus: int, archs: Sequence[int]) -> None:
        super().__init__()
        self.train_gpus, self.queue = train_gpus, list(archs)

    def on_interval(self, info: IntervalInfo):
        return {TRAIN: self.train_gpus}

    def next_job(self, gpu: int, kind: str, now_s: float):
        return Job(TRAIN, self.queue.pop(0)) if self.queue else None


def simulate(method: Method, gpus: int, budget: Budget, accounting: str = "reference", trace: str = "neurips"):
    return Simulator(
        get_benchmark(DEFAULT_BENCHMARK), load_trace(trace), method, gpus, budget, get_profile(accounting), 0
    ).run()


@pytest.fixture(scope="module")
def bench():
    return get_benchmark(DEFAULT_BENCHMARK)


def test_reference_profile_charges_v_times_ci_per_full_hour(bench) -> None:
    trace = load_trace("neurips")
    slowest_first = list(np.argsort(-bench.train_seconds(np.arange(bench.n_archs)))[:60])
    result = simulate(Scripted(3, slowest_first), gpus=8, budget=Budget(hours=4))
    assert result.stop_reason == "time budget"
    for hour, row in enumerate(result.intervals):
        assert row["busy_train_gpu_h"] == pytest.approx(3.0, abs=1e-9)
        assert row["carbon_g"] == pytest.approx(3 * trace.values[hour], rel=1e-12)
        assert row["idle_gpu_h"] == pytest.approx(5.0, abs=1e-9)


def test_half_finished_job_resumes_next_hour_with_priority(bench) -> None:
    """Spec §11: a ~5000 s job runs 3600 s in hour 1 and its remaining ~1400 s in hour 2; the GPU then has ~2200 s."""
    seconds = bench.train_seconds(np.arange(bench.n_archs))
    arch = int(np.argmin(np.abs(seconds - 5000.0)))
    t = float(seconds[arch])
    assert abs(t - 5000.0) < 1.0  # the real architecture closest to 5000 s
    follower = int(np.argmax(seconds))
    trace = load_trace("neurips")
    result = simulate(Scripted(1, [arch, follower]), gpus=1, budget=Budget(hours=2))
    first, second = result.evaluations[0], result.evaluations[1]
    assert (first["arch"], first["status"], first["preemptions"]) == (arch, "done", 1)
    assert first["start_h"] == 0.0 and first["end_h"] * 3600 == pytest.approx(t)
    assert first["carbon_g"] == pytest.approx(trace.values[0] + (t - 3600) / 3600 * trace.values[1], rel=1e-12)
    assert second["arch"] == follower and second["start_h"] * 3600 == pytest.approx(t)
    assert second["status"] == "unfinished"
    assert second["energy_kwh"] == pytest.approx((7200 - t) / 3600, rel=1e-9)  # 1 kW for the ~2200 s left
    assert result.intervals[0]["preempted"] == 1 and result.intervals[1]["finished_train"] == 1


def test_carbon_budget_stops_exactly_and_the_crossing_job_does_not_complete(bench) -> None:
    spec = RunSpec("random-search", DEFAULT_BENCHMARK, "neurips", parse_budget("50kg"), seed=3, gpus=8)
    record = execute(spec)
    assert record.summary["stop_reason"] == "carbon budget"
    assert record.summary["carbon_g"] == 50_000.0
    stop_h = record.summary["simulated_hours"]
    done = [e for e in record.evaluations if e["status"] == "done"]
    unfinished = [e for e in record.evaluations if e["status"] == "unfinished"]
    assert len(unfinished) == 8 and all(e["end_h"] == stop_h for e in unfinished)
    assert max(e["end_h"] for e in done) <= stop_h
    charged = sum(e["carbon_g"] for e in record.evaluations)
    assert charged == pytest.approx(50_000.0, rel=1e-9)  # all GPUs busy: every gram is attributed to a job
    assert sum(r["carbon_g"] for r in record.intervals) == pytest.approx(50_000.0, rel=1e-9)


def test_default_profile_watts_and_pue() -> None:
    record = execute(RunSpec("random-search", DEFAULT_BENCHMARK, "neurips", Budget(hours=2), gpus=8))
    row = record.intervals[0]
    assert row["energy_kwh"] == pytest.approx(8 * 0.350 * 1.58, rel=1e-12)
    assert row["carbon_g"] == pytest.approx(row["energy_kwh"] * load_trace("neurips").values[0], rel=1e-12)


def test_gpu_hour_budget_and_trace_end() -> None:
    record = execute(RunSpec("random-search", DEFAULT_BENCHMARK, "neurips", parse_budget("20gpuh"), gpus=8))
    assert record.summary["stop_reason"] == "GPU-hour budget"
    assert record.summary["gpu_hours"] == pytest.approx(20.0, abs=1e-9)
    assert record.summary["simulated_hours"] == pytest.approx(2.5, abs=1e-9)
    ended = execute(RunSpec("random-search", DEFAULT_BENCHMARK, "hotcarbon-1", parse_budget("80h"), gpus=2))
    assert ended.summary["stop_reason"] == "trace ended" and ended.summary["simulated_hours"] == 41.0


def test_idle_gpus_are_explicit_and_charged_in_default_profile(bench) -> None:
    result = simulate(Scripted(2, []), gpus=4, budget=Budget(hours=1), accounting="default")
    row = result.intervals[0]
    assert row["idle_gpu_h"] == pytest.approx(4.0) and row["busy_train_gpu_h"] == 0.0
    assert row["energy_kwh"] == pytest.approx(4 * 0.018 * 1.58, rel=1e-12)


def test_trace_gap_is_an_error_not_a_fill() -> None:
    trace = load_trace("ca:SE")
    gap_start, _ = trace.gaps()[0]
    start = (gap_start - np.timedelta64(2, "h")).strftime("%Y-%m-%dT%H:%M")
    spec = RunSpec("random-search", DEFAULT_BENCHMARK, f"ca:SE@{start}", Budget(hours=6), gpus=2)
    with pytest.raises(HarnessError, match=f"no value for the hour {gap_start:%Y-%m-%d %H:%M}"):
        execute(spec)


def test_interval_hv_is_hv_of_what_was_trained_so_far(bench) -> None:
    record = execute(RunSpec("random-search", DEFAULT_BENCHMARK, "neurips", Budget(hours=6), seed=5, gpus=8))
    done = [e for e in record.evaluations if e["status"] == "done"]
    for row in record.intervals:
        trained = [e["arch"] for e in done if e["end_h"] <= row["end_h"]]
        assert row["n_observed"] == len(trained)
        assert row["hv"] == pytest.approx(hypervolume(bench.objectives(trained), bench.ref_point), rel=1e-12)


def test_record_round_trip_and_show(tmp_path: Path) -> None:
    record = execute(RunSpec("random-search", DEFAULT_BENCHMARK, "neurips", parse_budget("3h"), seed=2, gpus=4))
    path = record.write(tmp_path / "r.json")
    loaded = load_record(path)
    assert loaded.to_json() == record.to_json() == path.read_text()
    document = json.loads(path.read_text())
    from harness.data.manifest import load_manifest

    files = document["provenance"]["data_files"]
    assert files["ci-sc-US-CAL-CISO-2021"] == load_manifest()["ci-sc-US-CAL-CISO-2021"].sha256
    assert len(files) > 30
    assert loaded.intervals_frame().shape[0] == 3
    result = CliRunner().invoke(app, ["show", str(path), "--plot", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "final hypervolume" in result.output
    assert (tmp_path / "r_hv_vs_carbon.png").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(HarnessError, match="not a cenas-bench run record"):
        load_record(tmp_path / "bad.json")


def test_cli_run_prints_summary_and_is_byte_identical(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["run", "--method", "random-search", "--budget", "500lbs", "--seed", "1"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a.json")])
    assert first.exit_code == 0, first.output
    for label in ("final hypervolume", "500.00 lbs = 226.796 kg", "kWh", "GPU-hours", "simulated time"):
        assert label in first.output
    runner.invoke(app, [*args, "--out", str(tmp_path / "b.json")])
    runner.invoke(app, [*args[:-1], "2", "--out", str(tmp_path / "c.json")])
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.json").read_bytes() != (tmp_path / "c.json").read_bytes()


class TestRandomSearchContract(MethodContract):
    method = "random-search"


def test_the_running_hv_is_the_hv_of_everything_observed() -> None:
    """The simulator keeps only the non-dominated front; its HV equals the HV of all observations, every interval."""
    spec = RunSpec("random-search", DEFAULT_BENCHMARK, "US-CAL-CISO@2021-07-02T00:00", parse_budget("150h"))
    record = execute(spec)
    bench = get_benchmark(DEFAULT_BENCHMARK)
    done = [e for e in record.evaluations if e["kind"] == "train" and e["status"] in ("done", "init-free")]
    for row in record.intervals[::10]:
        seen = [e["arch"] for e in done if e["end_h"] <= row["end_h"]]
        assert row["hv"] == hypervolume(bench.objectives(np.asarray(seen, dtype=np.int64)), bench.ref_point)
