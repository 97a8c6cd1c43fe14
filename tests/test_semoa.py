"""SEMOA (EC-NAS) on the EC-NAS tables: genome semantics, mutation flags, synchronous steps, the points report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from baselines.semoa import SEMOA, Genome, SEMOAOptions
from harness.benchmarks import get_benchmark
from harness.cli import app
from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.options import parse_options
from harness.runner import execute
from harness.spaces import nb101
from harness.studies.ecnas_points import front_points
from harness.testing import MethodContract

C3, C1, MP = nb101.OPS


class TestSEMOAContract(MethodContract):
    method = "semoa"
    benchmark_id = "ecnas/4v"


def make(**options) -> SEMOA:
    """SEMOA with typed options parsed from keyword values (dotted keys via a dict)."""
    return SEMOA(parse_options(SEMOAOptions, options, "semoa"))


def _semoa(**options) -> tuple[SEMOA, RunSpec]:
    return make(**options), RunSpec("semoa", "ecnas/4v", "hotcarbon-1", parse_budget("500lbs"))


def test_genome_decodes_like_ecnas_evaluate_network() -> None:
    bench = get_benchmark("ecnas/4v")
    chain_bits = (1, 0, 0, 1, 0, 1)  # (0,1) (0,2) (0,3) (1,2) (1,3) (2,3): input -> 1 -> 2 -> output
    matrix, ops = Genome(vertices=4, edges=3, ops=(C1, C3), bits=chain_bits).cell(4)
    assert matrix.sum() == 3 and ops == ("input", C1, C3, "output")
    assert bench.space.row(nb101.module_hash(matrix, ops), 108) is not None
    assert Genome(4, 2, (C1, C3), chain_bits).cell(4) is None  # `edges` = 2 cuts (2,3): no path left
    # a dead-end branch is pruned: (0,1) (0,3) (1,2) leave only input -> output
    assert Genome(4, 6, (C1, C3), (1, 0, 1, 1, 0, 0)).cell(4)[1] == ("input", "output")
    # vertices = 2 ignores every bit but (0,1); a missing input->output path is out of domain
    assert Genome(2, 6, (C1, C3), (0, 1, 1, 1, 1, 1)).cell(4) is None
    assert Genome(2, 6, (C1, C3), (1, 0, 0, 0, 0, 0)).cell(4)[1] == ("input", "output")


def test_more_than_nine_edges_is_out_of_domain() -> None:
    full = Genome(vertices=6, edges=15, ops=(C3,) * 5, bits=(1,) * 21)
    assert full.cell(7) is None
    assert Genome(6, 9, (C3,) * 5, (1,) * 21).cell(7) is not None  # the edge count truncates to 9


@pytest.mark.parametrize(("fix_op0", "op0_changes"), [(False, 0), (True, 1)])
def test_op_node_0_mutates_only_with_fix_op0(fix_op0: bool, op0_changes: int) -> None:
    from harness.sim.method import rng_for

    method = make(fix_op0=fix_op0, expected_op_changes=2.0)  # p = 1 per op for V = 4
    method.rng, method.n_nodes = rng_for(0, "test"), 4
    parent = Genome(4, 3, (C3, C3), (1, 1, 1, 1, 1, 1))
    child = method._mutate(parent)
    assert (child.ops[0] != parent.ops[0]) == bool(op0_changes)
    assert child.ops[1] != parent.ops[1]  # op_node_1 always may change; with p = 1 it must


def test_linear_ranking_and_budget_cycle() -> None:
    method = make()
    assert method.budgets == [4, 12, 36, 108] and method.n_steps == 100
    assert make(min_budget=12, max_budget=36).budgets == [12, 36]
    with pytest.raises(HarnessError, match="min_budget must not exceed max_budget"):
        make(min_budget=108, max_budget=4)
    with pytest.raises(HarnessError, match="min_budget"):
        make(min_budget=5)


@pytest.fixture(scope="module")
def runs():
    spec = RunSpec("semoa", "ecnas/4v", "hotcarbon-1", parse_budget("500lbs"))
    plain = execute(spec)
    truncated = execute(RunSpec(**{**spec.__dict__, "method_options": {"truncate": True}}))
    uncached = execute(RunSpec(**{**spec.__dict__, "method_options": {"cache": False}}))
    return plain, truncated, uncached


def test_hundred_synchronous_steps_then_stop(runs) -> None:
    plain, truncated, uncached = runs
    assert plain.summary["stop_reason"] == "method finished"
    assert plain.intervals[-1]["queue_step"] == 100
    populations = [row["queue_population"] for row in plain.intervals]
    assert max(populations) > 10  # no truncation: the population grows (faithful)
    assert max(row["queue_population"] for row in truncated.intervals) <= 10
    assert uncached.summary["n_trained"] > plain.summary["n_trained"]  # re-evaluations cost again
    assert plain.summary["n_trained"] == plain.summary["n_unique_trained"]  # the cache trains each row once


def test_semoa_refuses_a_non_ecnas_benchmark() -> None:
    with pytest.raises(HarnessError, match="use ecnas/4v"):
        execute(RunSpec("semoa", "nb201/cifar10/pi5-energy", "hotcarbon-1", parse_budget("2h")))


def test_semoa_runs_from_the_cli_on_its_own_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "semoa.json"
    result = CliRunner().invoke(app, ["run", "--method", "semoa", "--budget", "500lbs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["spec"]["benchmark"] == "ecnas/4v"


def test_front_points_on_a_real_front() -> None:
    table = get_benchmark("ecnas/4v").table
    energy, accuracy = table["energy_kwh"].to_numpy(), table["val_acc"].to_numpy()
    points = front_points(energy, accuracy)
    assert energy[points["r0"]] == energy.min()
    assert accuracy[points["r1"]] == accuracy.max()
    knee = points["rk"]
    assert energy[points["r0"]] < energy[knee] < energy[points["r1"]]
    assert accuracy[points["r0"]] < accuracy[knee] < accuracy[points["r1"]]
    assert not np.any((energy < energy[knee]) & (accuracy > accuracy[knee]))  # the knee is on the front


def test_the_knee_moves_with_the_end_of_its_line() -> None:
    """On a run's front that lacks the table's best, a line to the table's best picks a more accurate knee."""
    table = get_benchmark("ecnas/4v").table
    energy, accuracy = table["energy_kwh"].to_numpy(), table["val_acc"].to_numpy()
    cheap = energy <= np.quantile(energy, 0.5)  # a front that stops at the cheaper half of the table
    own = front_points(energy[cheap], accuracy[cheap])
    best = int(np.argmax(accuracy))
    anchored = front_points(energy[cheap], accuracy[cheap], (float(energy[best]), float(accuracy[best])))
    assert (anchored["r0"], anchored["r1"]) == (own["r0"], own["r1"])
    assert accuracy[cheap][anchored["rk"]] >= accuracy[cheap][own["rk"]]


def test_ecnas_points_study_writes_both_rows(tmp_path: Path) -> None:
    study = tmp_path / "points.toml"
    study.write_text(
        'name = "points"\nbenchmarks = ["ecnas/4v"]\ntraces = ["hotcarbon-1"]\nbudgets = ["500lbs"]\nseeds = 2\n'
        'report = "ecnas-points"\n[[methods]]\nname = "semoa"\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(study), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    text = (out / "semoa_points.md").read_text()
    assert "| this harness (ecnas/4v) |" in text and "| EC-NAS paper (7V) | 14.23±0.00" in text
    per_seed = json.loads((out / "semoa_points.json").read_text())["per_seed"]
    assert len(per_seed) == 2 and per_seed[0]["r1"]["P_v"] >= per_seed[0]["rk"]["P_v"]


def test_carbon_gating_follows_the_heuristic_and_pays_a_lower_mean_intensity() -> None:
    """Default trace (US-CAL-CISO from 2021-07-02): gated SEMOA uses the heuristic's share of 8 GPUs each hour."""
    from cenas.allocation.simple import heuristic_train_gpus
    from harness.carbon.traces import load_trace

    spec = RunSpec("semoa", "ecnas/4v", "US-CAL-CISO@2021-07-02T00:00", parse_budget("500lbs"), seed=2)
    plain = execute(spec)  # seed 2: a 15-h search (seed 0's population collapses and it ends within 3 h)
    gated = execute(RunSpec(**{**spec.__dict__, "method_options": {"gate.mode": "heuristic"}}))
    values = load_trace("US-CAL-CISO@2021-07-02T00:00").values
    for hour, row in enumerate(gated.intervals[:-1]):
        expected = heuristic_train_gpus(values[hour], values[hour : hour + 24], 8, clamp=False)
        assert row["train_gpus"] == max(1, expected), hour
    assert len({row["train_gpus"] for row in gated.intervals}) > 2
    assert gated.intervals[-1]["queue_step"] == plain.intervals[-1]["queue_step"] == 100
    plain_intensity, gated_intensity = (r.summary["carbon_g"] / r.summary["energy_kwh"] for r in (plain, gated))
    assert gated_intensity < plain_intensity
    with pytest.raises(HarnessError, match=r"gate\.mode"):
        make(gate={"mode": "always"})
