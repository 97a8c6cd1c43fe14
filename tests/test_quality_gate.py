"""The statistical quality gate: every registered method against its committed baseline, a harmless change of random
stream that passes, a degraded method that fails, and `harness regress`'s bad input."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import quality as q
from harness.methods import METHODS
from tests.helpers import cli, one_error_line

CONTROL = "random-allocation"
PERTURBED_OFFSET = 1000  # seeds 1000.. instead of 0..: another random stream, the same method


@pytest.fixture(scope="module")
def gate() -> SimpleNamespace:
    """Every method's gate rows, plus the two controls, from one pool of runs."""
    baselines = {m: q.load_baseline(q.BASELINE_DIR / f"{m}.json", m) for m in sorted(METHODS)}
    control = baselines[CONTROL]
    jobs = {m: (b, q.specs_for(m, b)) for m, b in baselines.items()}
    jobs["perturbed"] = (control, q.specs_for(CONTROL, control, seed_offset=PERTURBED_OFFSET))
    jobs["degraded"] = (control, q.specs_for(CONTROL, control, gpus=control["run"]["gpus"] // 2))
    measured = q.measure_all(jobs)
    rows = {name: q.compare(jobs[name][0], values) for name, values in measured.items()}
    return SimpleNamespace(rows=rows, measured=measured)


def test_every_registered_method_has_a_baseline() -> None:
    missing = [m for m in sorted(METHODS) if not (q.BASELINE_DIR / f"{m}.json").is_file()]
    assert not missing, f"no quality baseline for {missing}: run `harness regress --method M --update`"


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_passes_the_gate_against_its_baseline(gate, method: str) -> None:
    rows = gate.rows[method]
    assert {r.metric for r in rows} >= {q.END, q.TARGET} and len(rows) == 5
    assert not [r for r in rows if r.failed], "\n".join(q.table(method, rows))


def test_a_harmless_change_of_random_stream_passes_though_every_value_moved(gate) -> None:
    baseline = q.load_baseline(q.BASELINE_DIR / f"{CONTROL}.json", CONTROL)
    perturbed = gate.measured["perturbed"]
    assert all(perturbed[k] != baseline["metrics"][k] for k in perturbed)  # the goldens would fail: new runs
    assert not [r for r in gate.rows["perturbed"] if r.failed], "\n".join(q.table("perturbed", gate.rows["perturbed"]))


def test_a_degraded_method_fails_the_gate(gate) -> None:
    """Random allocation with half the GPUs: at equal time it evaluates half as many architectures."""
    failed = [r for r in gate.rows["degraded"] if r.failed]
    assert [r.metric for r in failed] == [q.END], "\n".join(q.table("degraded", gate.rows["degraded"]))
    assert failed[0].p_value < q.ALPHA and failed[0].change > q.FLOOR


def test_the_effect_size_floor_and_the_level_decide_together(gate) -> None:
    baseline = q.load_baseline(q.BASELINE_DIR / f"{CONTROL}.json", CONTROL)
    degraded = gate.measured["degraded"]
    end = next(r for r in gate.rows["degraded"] if r.metric == q.END)
    assert not any(r.failed for r in q.compare(baseline, degraded, floor=end.change + 0.01))  # shift below floor
    assert not any(r.failed for r in q.compare(baseline, degraded, alpha=end.p_value / 2))  # not significant enough
    same = q.compare(baseline, {k: q._values(v).tolist() for k, v in baseline["metrics"].items()})
    assert all(r.change == 0 and not r.failed for r in same)


def test_a_baseline_records_what_it_came_from() -> None:
    document = json.loads((q.BASELINE_DIR / f"{CONTROL}.json").read_text())
    assert document["schema"] == q.SCHEMA and document["method"] == CONTROL
    assert document["run"] | {"seeds": None} == {
        "benchmark": "nb201/cifar10/pi5-energy",
        "trace": q.TRACE,
        "budget": q.BUDGET,
        "gpus": q.GPUS,
        "seeds": None,
        "method_options": {},
    }
    assert len(document["run"]["seeds"]) == q.SEEDS
    checkpoints = document["checkpoints_g"]
    assert checkpoints == sorted(checkpoints) and checkpoints[-1] > 0


# ----------------------------------------------------------------------------------------------------- the CLI
def test_regress_passes_and_prints_the_table() -> None:
    result = cli("regress", "--method", "random-search", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "| random-search | regret@end |" in result.stdout and "quality gate passed for 1 method(s)" in result.stdout


def _copy(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    document = json.loads((q.BASELINE_DIR / f"{CONTROL}.json").read_text())
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(change(document)))
    return path


def _fewer_seeds(document: dict) -> dict:
    document["run"]["seeds"] = document["run"]["seeds"][:5]
    document["metrics"] = {k: v[:5] for k, v in document["metrics"].items()}
    return document


@pytest.mark.parametrize(
    ("method", "change", "message"),
    [
        ("nsga2", lambda d: d, "is the baseline of method 'random-allocation', not 'nsga2'"),
        (CONTROL, lambda d: d | {"schema": "cenas-bench/quality-baseline/0"}, "is not a quality baseline of schema"),
        (CONTROL, _fewer_seeds, "has 5 seeds; the gate needs at least 10"),
        (CONTROL, lambda d: {k: v for k, v in d.items() if k != "target_hv"}, "malformed quality baseline"),
    ],
)
def test_regress_bad_baselines_are_one_error_line(tmp_path: Path, method: str, change, message: str) -> None:
    one_error_line(cli("regress", "--method", method, "--baseline", str(_copy(tmp_path, change))), message)


def test_regress_bad_input_is_one_error_line(tmp_path: Path) -> None:
    one_error_line(cli("regress", "--method", "no-such-method"), "unknown method 'no-such-method'")
    one_error_line(
        cli("regress", "--method", CONTROL, "--baseline", str(tmp_path / "none.json")),
        "no quality baseline at",
        "--update",
    )
    one_error_line(
        cli("regress", "--method", CONTROL, "--method", "nsga2", "--baseline", str(tmp_path / "x.json")), "one method"
    )
    one_error_line(cli("regress", "--method", CONTROL, "--method", "nsga2", "--set", "tree.cp=3"), "give one --method")
    one_error_line(cli("regress", "--method", "vanilla-lamoo", "--set", "tree.solver=cplex"), "expected one of")
    one_error_line(cli("regress", "--method", "cenas", "--set", "tree.solver=ipm"), "needs tree.kernel=poly or linear")
    (tmp_path / "file").write_text("x")
    one_error_line(
        cli("regress", "--method", CONTROL, "--update", "--baseline", str(tmp_path / "file" / "b.json")),
        "is a file, not a folder",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
