"""Conservation: no job finishes before its work is done, and `harness audit` recomputes every record's work, energy,
carbon, budgets and HV from its segments, the table and the trace (a failing audit stops sweeps and reports)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from harness.audit import audit_record
from harness.benchmarks import DEFAULT_BENCHMARK, get_benchmark
from harness.carbon.traces import load_trace
from harness.cli import app
from harness.config import Budget, RunSpec, parse_budget
from harness.errors import HarnessError
from harness.methods import METHODS
from harness.results import RunRecord, load_record, parse_record
from harness.runner import execute
from harness.sim.accounting import PROFILES, get_profile
from harness.sim.jobs import ONESHOT, TRAIN, Job
from harness.sim.method import IntervalInfo, Method
from harness.sim.simulator import Simulator

FAST_ARCH = 8604  # the NB201 architecture with the shortest training (1,084 s)


class CutThenFresh(Method):
    """Interval 0: one sampling GPU runs 90 s of supernet training, cut at the 60-s boundary; from interval 1 that
    GPU trains, and its first job is a fresh one: the stale completion event of the cut job (due at 90 s) must not
    complete it."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: set[str] = set()

    def on_interval(self, info: IntervalInfo):
        return {ONESHOT: 1} if info.index == 0 else {TRAIN: 1}

    def next_job(self, gpu: int, kind: str, now_s: float):
        if kind in self.handed:
            return None
        self.handed.add(kind)
        return Job.supernet_training(90.0) if kind == ONESHOT else Job(TRAIN, FAST_ARCH)


def test_a_cut_jobs_stale_event_never_completes_the_next_job_on_its_gpu() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    needed = float(bench.train_seconds([FAST_ARCH])[0])
    budget = Budget(hours=(60.0 + needed + 600.0) / 3600.0)
    sim = Simulator(
        bench, load_trace("hotcarbon-1"), CutThenFresh(), 1, budget, get_profile("default"), 0, interval_s=60.0
    )
    result = sim.run()
    (trained,) = [e for e in result.evaluations if e["kind"] == "train" and e["status"] == "done"]
    ran = sum(end - start for _, start, end in trained["segments"])
    assert ran == pytest.approx(needed, rel=1e-9)  # before the fix: 30 s, completed by the cut chunk's event at 90 s
    assert trained["end_h"] * 3600.0 >= 60.0 + needed - 1e-6
    record = RunRecord(
        {"benchmark": bench.id, "trace": "hotcarbon-1", "gpus": 1, "budget": {"hours": budget.hours}},
        {"accounting": _profile_dict("default")},
        _summary(result),
        result.intervals,
        result.evaluations,
    )
    assert audit_record(record).clean


def _profile_dict(name: str) -> dict:
    from dataclasses import asdict

    return asdict(get_profile(name))


def _summary(result) -> dict:
    return {
        "simulated_hours": result.end_s / 3600.0,
        "energy_kwh": result.totals.energy_kwh,
        "carbon_g": result.totals.carbon_g,
        "gpu_hours": result.totals.busy_gpu_hours,
        "hv": result.hv,
    }


# --------------------------------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def cenas_record(tmp_path_factory) -> Path:
    """A real 24-h `cenas` record (cuts at every boundary, supernet chunks, one-shot and training jobs)."""
    path = tmp_path_factory.mktemp("audit") / "cenas.json"
    execute(RunSpec("cenas", DEFAULT_BENCHMARK, "US-CAL-CISO@2021-07-02T00:00", parse_budget("24h"), 0, 8)).write(path)
    return path


def _edited(source: Path, target: Path, edit) -> Path:
    document = json.loads(source.read_text())
    edit(document)
    target.write_text(json.dumps(document))
    return target


def _row(document: dict, index: int) -> dict:
    return dict(zip(document["evaluations"]["columns"], document["evaluations"]["rows"][index], strict=True))


def _set(document: dict, index: int, column: str, value) -> None:
    document["evaluations"]["rows"][index][document["evaluations"]["columns"].index(column)] = value


def _first(document: dict, predicate) -> int:
    return next(i for i in range(len(document["evaluations"]["rows"])) if predicate(_row(document, i)))


def test_audit_cli_clean_record_exits_0(cenas_record: Path) -> None:
    result = CliRunner().invoke(app, ["audit", str(cenas_record)])
    assert result.exit_code == 0, result.output
    assert "clean" in result.output


def test_audit_cli_names_the_job_whose_energy_was_edited(cenas_record: Path, tmp_path: Path) -> None:
    document = json.loads(cenas_record.read_text())
    i = _first(document, lambda e: e["kind"] == "train" and e["status"] == "done")
    job = _row(document, i)["job"]
    edited = _edited(
        cenas_record, tmp_path / "energy.json", lambda d: _set(d, i, "energy_kwh", _row(d, i)["energy_kwh"] * 0.9)
    )
    result = CliRunner().invoke(app, ["audit", str(edited)])
    assert result.exit_code == 1
    assert f"job {job} (train" in result.output and "charged" in result.output


def test_audit_lists_a_job_completed_before_its_work_was_done(cenas_record: Path, tmp_path: Path) -> None:
    """The signature of the stale-event bug, made by shortening a finished training's last segment (and its
    charges) in a copy of a real record: the audit names it."""
    document = json.loads(cenas_record.read_text())
    i = _first(document, lambda e: e["kind"] == "train" and e["status"] == "done" and e["preemptions"] == 0)
    row = _row(document, i)

    def early(d: dict) -> None:
        ((gpu, start, end),) = row["segments"]
        cut = start + (end - start) / 3
        _set(d, i, "segments", [[gpu, start, cut]])
        _set(d, i, "end_h", cut / 3600.0)
        _set(d, i, "energy_kwh", row["energy_kwh"] / 3)

    result = CliRunner().invoke(app, ["audit", str(_edited(cenas_record, tmp_path / "early.json", early))])
    assert result.exit_code == 1
    assert f"job {row['job']} (train, arch {row['arch']}): finished after" in result.output


def test_records_without_segments_are_audited_from_energy(cenas_record: Path, tmp_path: Path) -> None:
    """A record written before segments were recorded: the time each job ran follows from its energy."""

    def strip(d: dict) -> None:
        keep = [c not in ("segments", "power_w") for c in d["evaluations"]["columns"]]
        d["evaluations"]["columns"] = [c for c, k in zip(d["evaluations"]["columns"], keep, strict=True) if k]
        d["evaluations"]["rows"] = [[v for v, k in zip(r, keep, strict=True) if k] for r in d["evaluations"]["rows"]]

    legacy = _edited(cenas_record, tmp_path / "legacy.json", strip)
    report = audit_record(load_record(legacy))
    assert report.clean and "without run segments" in report.notes[0]
    document = json.loads(legacy.read_text())
    i = _first(document, lambda e: e["kind"] == "train" and e["status"] == "done")
    _set(document, i, "energy_kwh", _row(document, i)["energy_kwh"] / 2)
    report = audit_record(parse_record(document))
    assert [v for v in report.violations if v.startswith(f"job {_row(document, i)['job']} ")]


def test_audit_checks_carbon_against_the_trace_and_the_budget(cenas_record: Path) -> None:
    record = load_record(cenas_record)
    tampered = copy.deepcopy(record)
    tampered.intervals[5]["carbon_g"] *= 1.01
    assert any(v.startswith("interval 5 ") for v in audit_record(tampered).violations)
    over = RunRecord(
        record.spec | {"budget": {"carbon_g": record.summary["carbon_g"] * 0.5}},
        record.provenance,
        record.summary,
        record.intervals,
        record.evaluations,
    )
    assert any("over a budget" in v for v in audit_record(over).violations)


@pytest.fixture(scope="module")
def embodied_record() -> RunRecord:
    """A real run under the profile with every term: idle draw, PUE 1.58 and embodied carbon."""
    spec = RunSpec(
        "cenas-heuristic", DEFAULT_BENCHMARK, "hotcarbon-1", parse_budget("30lbs"), accounting="embodied-a100"
    )
    return execute(spec)


def test_every_accounting_term_is_recorded_and_adds_up(embodied_record: RunRecord) -> None:
    """Dynamic, idle, overhead and embodied carbon, each in the summary and in every interval, and the formula
    term by term: overhead is (PUE - 1) of the GPUs' energy, embodied is G x the amortised grams per reserved second."""
    s, profile = embodied_record.summary, get_profile("embodied-a100")
    assert all(s[f"{t}_g"] > 0 for t in ("dynamic", "idle", "overhead", "embodied"))
    assert s["carbon_g"] == pytest.approx(sum(s[f"{t}_g"] for t in ("dynamic", "idle", "overhead", "embodied")))
    assert s["energy_kwh"] == pytest.approx(s["dynamic_kwh"] + s["idle_kwh"] + s["overhead_kwh"])
    assert s["overhead_kwh"] == pytest.approx((profile.pue - 1) * (s["dynamic_kwh"] + s["idle_kwh"]))
    hours = s["simulated_hours"]
    assert s["embodied_g"] == pytest.approx(8 * hours * 318_000 / (4 * 8760))
    assert s["carbon_g"] <= 30 * 453.59237 * (1 + 1e-9)  # the budget counts the embodied term too
    assert audit_record(embodied_record).clean


@pytest.mark.parametrize(("move", "to"), [("dynamic_g", "idle_g"), ("overhead_g", "embodied_g")])
def test_the_audit_checks_each_term_not_only_their_sum(embodied_record: RunRecord, move: str, to: str) -> None:
    """Grams moved from one term to another keep every total: the audit still names both terms."""
    tampered = copy.deepcopy(embodied_record)
    shift = 0.1 * tampered.summary[move]
    tampered.summary[move] -= shift
    tampered.summary[to] += shift
    violations = audit_record(tampered).violations
    assert any(v.startswith(f"run: {move}") for v in violations) and any(v.startswith(f"run: {to}") for v in violations)
    row = tampered.intervals[3]
    row[move], row[to] = row[move] * 0.5, row[to] + row[move] * 0.5
    assert any(v.startswith(f"interval 3: {move}") for v in audit_record(tampered).violations)


def test_an_edited_profile_in_a_record_is_not_the_registered_one(embodied_record: RunRecord) -> None:
    tampered = copy.deepcopy(embodied_record)
    tampered.provenance["accounting"]["embodied_kg_per_gpu"] = 150.0
    assert any("not the registered one" in v for v in audit_record(tampered).violations)


def test_a_run_that_started_no_job_is_audited_in_full() -> None:
    """A search on 0 training GPUs starts no job: its carbon is all idle draw, recomputed from the trace like any
    other run's (not waved through as a record too old to have segments); a wrong idle term is caught."""
    spec = RunSpec(
        "random-search",
        DEFAULT_BENCHMARK,
        "hotcarbon-1",
        parse_budget("6h"),
        method_options={"schedule.policy": "fixed", "schedule.train_gpus": 0},
    )
    record = execute(spec)
    assert not record.evaluations and record.summary["idle_g"] > 0
    report = audit_record(record)
    assert report.clean and not report.notes
    tampered = copy.deepcopy(record)
    tampered.summary["idle_g"] *= 1.01
    tampered.summary["carbon_g"] *= 1.01
    tampered.intervals[2]["idle_kwh"] *= 1.01
    violations = audit_record(tampered).violations
    assert any(v.startswith("run: idle_g") for v in violations)
    assert any(v.startswith("interval 2: idle_kwh") for v in violations)


def test_records_written_before_the_terms_audit_on_their_totals(embodied_record: RunRecord) -> None:
    """A default-profile record without the term columns (as committed before they existed) is audited on its
    totals, with a note; the same record with a wrong total still fails."""
    record = execute(RunSpec("random-search", DEFAULT_BENCHMARK, "hotcarbon-1", parse_budget("6h")))
    terms = [f"{t}_{u}" for t in ("dynamic", "idle", "overhead", "embodied") for u in ("g", "kwh")]
    old = copy.deepcopy(record)
    for table in (old.summary, *old.intervals):
        for key in terms:
            table.pop(key, None)
    report = audit_record(old)
    assert report.clean and any("without accounting terms" in n for n in report.notes)
    old.summary["carbon_g"] *= 1.001
    assert not audit_record(old).clean


def test_audit_refuses_a_record_too_old_to_audit(cenas_record: Path, tmp_path: Path) -> None:
    def strip(d: dict) -> None:
        d["evaluations"] = {"columns": ["job", "arch"], "rows": [[0, 1]]}

    result = CliRunner().invoke(app, ["audit", str(_edited(cenas_record, tmp_path / "old.json", strip))])
    assert result.exit_code != 0
    assert "too old to audit" in str(result.exception) + result.output


def test_a_record_that_fails_the_audit_is_never_returned(monkeypatch) -> None:
    """execute() audits before returning (sweeps and goldens store only what it returns)."""
    import harness.sim.simulator as simulator

    original = simulator.Simulator._charge

    def leaky(self, dt, powers, ci):  # a simulator that charges one GPU too little
        original(self, dt, [p * 0.5 if g == 0 else p for g, p in enumerate(powers)], ci)

    monkeypatch.setattr(simulator.Simulator, "_charge", leaky)
    with pytest.raises(HarnessError, match="fails the conservation audit"):
        execute(RunSpec("random-search", DEFAULT_BENCHMARK, "hotcarbon-1", parse_budget("3h"), 0, 4))


# ------------------------------------------------------------------------------------------ property-based
PROPERTY_METHODS = sorted(m for m in METHODS if m not in ("qnehvi", "cenas-rl-reference"))
"""qNEHVI and the reference agent are covered by the slow profile (each run imports torch)."""
settings.register_profile(
    "ci", max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("slow", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(settings.get_profile(os.environ.get("CENAS_AUDIT_PROFILE", "ci")))
@given(
    method=st.sampled_from(PROPERTY_METHODS if os.environ.get("CENAS_AUDIT_PROFILE") != "slow" else sorted(METHODS)),
    seed=st.integers(0, 2**16),
    gpus=st.integers(1, 16),
    budget=st.sampled_from(["4h", "9h", "30lbs", "60kg", "12gpuh", "6h,40lbs"]),
    trace=st.sampled_from(["hotcarbon-1", "DE@2021-11-15T00:00", "US-MIDA-PJM@2022-02-07T00:00"]),
    interval=st.sampled_from([1800.0, 3600.0, 5400.0]),
    accounting=st.sampled_from(sorted(PROFILES.entries())),
)
def test_every_method_conserves_work_energy_and_carbon(method, seed, gpus, budget, trace, interval, accounting) -> None:
    from harness.methods import default_benchmark, method_class
    from harness.options import option_specs

    tree = {"tree.kernel", "tree.svm_max_samples"} <= {o.key for o in option_specs(method_class(method).Options)}
    options = {"tree.kernel": "rbf", "tree.svm_max_samples": 300} if tree else {}
    spec = RunSpec(
        method,
        default_benchmark(method),
        trace,
        parse_budget(budget),
        seed,
        gpus,
        interval_s=interval,
        accounting=accounting,
        method_options=options,
    )
    record = execute(spec, audit=False)
    report = audit_record(record)
    assert report.clean, report.violations[:5]
    done = [e for e in record.evaluations if e["status"] == "done"]
    assert all(e["segments"] for e in done)  # every finished job ran somewhere, and the audit summed it


def test_hv_counts_only_finished_trainings_never_estimates() -> None:
    """One-shot LaMOO's HV is the HV of what it trained: its estimates never enter it."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    record = execute(
        RunSpec(
            "oneshot-lamoo",
            DEFAULT_BENCHMARK,
            "hotcarbon-1",
            parse_budget("12h"),
            0,
            8,
            method_options={"tree.kernel": "rbf", "tree.svm_max_samples": 300},
        )
    )
    trained = sorted({e["arch"] for e in record.evaluations if e["kind"] == "train" and e["status"] == "done"})
    estimated = {e["arch"] for e in record.evaluations if e["kind"] == "oneshot" and e["status"] == "done"}
    assert len(estimated - set(trained)) > 10  # it estimated far more than it trained
    from harness.metrics import hypervolume

    assert record.summary["hv"] == pytest.approx(hypervolume(bench.objectives(np.asarray(trained)), bench.ref_point))
    claims = [e for e in record.evaluations if e["kind"] == "train" and e["job"] >= 10 and e["status"] == "done"]
    assert claims and all(e["arch"] in estimated for e in claims)  # after its 10 initial samples (jobs 0-9)


# ------------------------------------------------------------------------------------------- proxy and costs
PROXY_CASES = sorted(
    set(__import__("harness.benchmarks", fromlist=["x"]).benchmark_ids()) - {"hwnasbench/cifar10/edgegpu-energy"}
)
"""Every registered benchmark but the one whose table needs the user's own HW-NAS-Bench pickle (not mirrored)."""
ONESHOT_METHODS = ["cenas", "cenas-heuristic", "cenas-rl-reference", "random-allocation", "oneshot-lamoo"]


@pytest.mark.parametrize("benchmark_id", PROXY_CASES)
@pytest.mark.parametrize("method", ONESHOT_METHODS)
def test_supernet_training_is_charged_exactly_where_the_proxy_is_a_supernet(benchmark_id: str, method: str) -> None:
    bench = get_benchmark(benchmark_id)
    spec = RunSpec(
        method,
        benchmark_id,
        "hotcarbon-1",
        parse_budget("4h"),
        0,
        8,
        method_options={"tree.kernel": "rbf", "tree.svm_max_samples": 300},
    )
    record = execute(spec)
    supernet = [e for e in record.evaluations if e["kind"] == "supernet"]
    assert bool(supernet) == (bench.proxy.kind == "supernet"), bench.proxy
    assert record.provenance["benchmark"]["proxy"]["kind"] == bench.proxy.kind
    estimates = [e for e in record.evaluations if e["kind"] == "oneshot" and e["status"] == "done"]
    assert estimates and all(e["seconds"] == bench.oneshot_seconds([e["arch"]])[0] for e in estimates)


def test_a_declared_supernet_cost_overrides_the_proxy_and_the_audit_knows_it() -> None:
    spec = RunSpec(
        "cenas-heuristic",
        "nb301/cifar10/params",
        "hotcarbon-1",
        parse_budget("4h"),
        0,
        8,
        method_options={"supernet.seconds": 3600, "tree.kernel": "rbf"},
    )
    record = execute(spec)  # audited: the override is declared in the record's spec
    assert [e for e in record.evaluations if e["kind"] == "supernet"]
    undeclared = RunRecord(
        record.spec | {"method_options": {}}, record.provenance, record.summary, record.intervals, record.evaluations
    )
    assert any("no supernet exists" in v for v in audit_record(undeclared).violations)


def test_benchmarks_show_names_the_proxy() -> None:
    result = CliRunner().invoke(app, ["benchmarks", "show", "nb301/cifar10/params", "--no-saturation"])
    assert result.exit_code == 0, result.output
    assert "cheap estimate (proxy): early stopping at 3 epochs" in " ".join(result.output.split())


# ------------------------------------------------------------------------------------- sweeps and the site
TINY = """
schema = "cenas-bench/study/1"
name = "tiny"
description = "random search and NSGA-II, one trace, two seeds, 6 h"
benchmarks = ["nb201/cifar10/pi5-energy"]
traces = ["hotcarbon-1"]
budgets = ["6h"]
gpus = [4]
seeds = 2

[[methods]]
name = "random-search"

[[methods]]
name = "nsga2"
"""


@pytest.fixture()
def tiny_sweep(tmp_path: Path) -> Path:
    import tomllib

    from harness.studies import executors as ex
    from harness.studies import sweep as sw
    from harness.studies.spec import parse_study

    out = tmp_path / "tiny"
    sw.sweep(parse_study(tomllib.loads(TINY), "tiny"), out, ex.SerialExecutor())
    return out


def _reseal(path: Path, document: dict) -> None:
    """Rewrite a stored record and its checksum sidecar, as someone editing the store would."""
    from harness.io import write_checked

    write_checked(path, json.dumps(document, sort_keys=True, indent=1) + "\n")


def test_a_study_report_refuses_a_record_that_fails_the_audit(tiny_sweep: Path) -> None:
    from harness.studies.report import report

    path = sorted((tiny_sweep / "records").glob("*.json"))[0]
    document = json.loads(path.read_text())
    i = _first(document, lambda e: e["kind"] == "train" and e["status"] == "done")
    _set(document, i, "carbon_g", _row(document, i)["carbon_g"] * 0.5)
    _reseal(path, document)
    with pytest.raises(HarnessError, match=rf"fails the conservation audit: job {_row(document, i)['job']} "):
        report(tiny_sweep, plots=False)


def test_the_leaderboard_refuses_a_study_published_without_a_clean_audit(tiny_sweep: Path, tmp_path: Path) -> None:
    from harness.leaderboard.site import build_site
    from harness.studies.report import report

    report(tiny_sweep, plots=False)
    results = tmp_path / "results"
    results.mkdir()
    published = results / "tiny"
    published.mkdir()
    for name in ("study.json", "provenance.json", "runs.csv.gz", "curves.parquet", "fronts.parquet"):
        (published / name).write_bytes((tiny_sweep / name).read_bytes())
    build_site(results, tmp_path / "site")  # clean: builds
    provenance = json.loads((published / "provenance.json").read_text())
    provenance["audit"]["clean"] -= 1  # one record failed
    (published / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(HarnessError, match="not all passed by the conservation audit"):
        build_site(results, tmp_path / "site")
    del provenance["audit"]  # published before audits existed
    (published / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(HarnessError, match="not all passed by the conservation audit"):
        build_site(results, tmp_path / "site")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # no half-built site left


def test_methods_show_and_run_print_the_privileged_information(tmp_path: Path) -> None:
    shown = CliRunner().invoke(app, ["methods", "show", "cenas-heuristic", "--set", "forecaster=oracle"])
    assert shown.exit_code == 0, shown.output
    assert "PRIVILEGED: oracle forecast: the true future intensity" in " ".join(shown.output.split())
    plain = CliRunner().invoke(app, ["methods", "show", "cenas-heuristic"])
    assert "privileged information: none" in plain.output
    out = tmp_path / "r.json"
    ran = CliRunner().invoke(app, ["run", "--method", "cenas-rl-reference", "--budget", "2h", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert "PRIVILEGED" in ran.output and "HV_max" in ran.output
    assert load_record(out).provenance["method"]["privileged"]


def test_a_study_report_refuses_an_edited_or_swapped_record(tiny_sweep: Path) -> None:
    """The store's checksum sidecar and the cell's key are checked wherever records are aggregated."""
    import shutil

    from harness.studies.report import report

    first, second = sorted((tiny_sweep / "records").glob("*.json"))[:2]
    backup = first.read_bytes()
    first.write_bytes(backup.replace(b'"seed": ', b'"seed":  ', 1))  # one byte more, sidecar untouched
    with pytest.raises(HarnessError, match="does not match its checksum"):
        report(tiny_sweep, plots=False)
    first.write_bytes(backup)
    shutil.copyfile(second, first)  # another cell's record, with its own (valid) checksum
    shutil.copyfile(second.with_suffix(".sha256"), first.with_suffix(".sha256"))
    with pytest.raises(HarnessError, match="is not the record of its cell"):
        report(tiny_sweep, plots=False)
