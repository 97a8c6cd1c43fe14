"""Studies and sweeps: study files, content-addressed resumable sweeps on every executor, aggregation and reports."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.errors import HarnessError
from harness.studies import executors as ex
from harness.studies import store as rs
from harness.studies import sweep as sw
from harness.studies.aggregate import anytime, hv_at, load_runs, load_study, mean_ci, summary_table
from harness.studies.spec import load_study_spec, parse_study, shipped_studies
from tests.conftest import REPO
from tests.helpers import cli, one_error_line

RESULTS = REPO / "results"

SMALL = """
schema = "cenas-bench/study/1"
name = "small"
description = "two methods, two traces, three seeds, 6 h on 4 GPUs"
traces = ["hotcarbon-1", "hotcarbon-2"]
budgets = ["6h"]
gpus = [4]
seeds = 3

[[methods]]
name = "random-search"

[[methods]]
name = "nsga2"
options = { pop_size = 6 }
"""


LONG_SMALL = SMALL.replace('budgets = ["6h"]', 'budgets = ["48h"]').replace("seeds = 3", "seeds = 12")
"""The small study's grid at 48 h and 12 seeds (48 cells of ~30 ms): its 12 cells of 6 h (~9 ms each) can all finish
between two polls on a fast host, leaving nothing to interrupt or kill."""


@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("study") / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def reference_sweep(small_study: Path, tmp_path_factory) -> Path:
    """The small study swept in this process (no pool): the record set every executor must reproduce."""
    out = tmp_path_factory.mktemp("reference")
    result = sw.sweep(load_study_spec(str(small_study)), out, ex.SerialExecutor())
    assert (result.total, result.ran, result.skipped) == (12, 12, 0)
    return out


def record_set(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "records").iterdir())}


# ----------------------------------------------------------------------------------------------- study files
def test_shipped_studies_load_and_expand() -> None:
    assert {"hotcarbon", "leaderboard-nb201"} <= set(shipped_studies())
    hotcarbon = load_study_spec("hotcarbon")
    assert len(hotcarbon.cells()) == 7 * 2 * 10  # five methods, the oracle heuristic, the busy one-shot LaMOO
    assert hotcarbon.methods[0].options == {
        "queue_capacity": 300,
        "n_init": 10,
        "tree.kernel": "poly",
        "tree.svm_max_samples": None,
    }
    board = load_study_spec("leaderboard-nb201")
    assert len(board.methods) >= 8 and len(board.traces) == 3 and len(board.seeds) == 10
    assert {c.spec.budget.hours for c in board.cells()} == {80.0}
    nsga2 = next(m for m in board.methods if m.name == "nsga2")
    assert nsga2.options == {}  # shared tree options go only to methods that declare them


def test_committed_results_are_sweeps_of_the_shipped_study_files() -> None:
    """Each committed `results/NAME/` indexes the cells of `leaderboards/studies/NAME.toml` as the file stands, at
    this version: a study file edited without a new sweep (`harness sweep NAME`) fails here."""
    from harness import __version__

    checked = []
    for name in shipped_studies():
        path = RESULTS / name / "study.json"
        if not path.is_file():
            continue
        index, study = json.loads(path.read_text()), load_study_spec(name)
        assert index["study"] == json.loads(json.dumps(study.to_dict())), f"{name}: the study file changed"
        assert index["version"] == __version__, name
        assert [c["label"] for c in index["cells"]] == [c.label() for c in study.cells()], name
        checked.append(name)
    assert {"hotcarbon", "leaderboard-nb201", "leaderboard-nb301", "lamoo-check"} <= set(checked)


def test_hotcarbon_means_and_errors_do_not_depend_on_the_order_of_the_runs() -> None:
    """comparison.json's mean and standard error of every summary number are the same floats for any order of the
    same runs (numpy's sums, whose order follows the CPU's SIMD width, changed them in about half of these orders).
    The committed HotCarbon runs; 20 orders of each (trace, method, number)."""
    from harness.studies.hotcarbon import SUMMARY_KEYS, mean_se, rows_from
    from harness.studies.published import read_published

    rows = rows_from(read_published(RESULTS / "hotcarbon").runs)
    rng = np.random.default_rng(0)
    groups = {(r["trace"], r["method"]) for r in rows}
    for key in SUMMARY_KEYS:
        for trace, method in sorted(groups):
            values = [r[key] for r in rows if (r["trace"], r["method"]) == (trace, method) and r[key] is not None]
            first = mean_se(values)
            assert first[0] == pytest.approx(np.mean(values), rel=1e-12, abs=1e-12)
            assert first[1] == pytest.approx(np.std(values, ddof=1) / np.sqrt(len(values)), rel=1e-9, abs=1e-12)
            for _ in range(20):
                assert mean_se(list(rng.permutation(values))) == first, (trace, method, key)


def test_cell_keys_are_content_addresses(small_study: Path) -> None:
    cells = load_study_spec(str(small_study)).cells()
    keys = [rs.cell_key(c.spec) for c in cells]
    assert len(set(keys)) == len(keys)
    from dataclasses import replace

    same = replace(cells[3].spec, method_options={"pop_size": "6"})  # text and typed values: the same run
    assert rs.cell_key(same) == keys[3]
    other = replace(cells[3].spec, method_options={"pop_size": 8})
    assert rs.cell_key(other) != keys[3]


def test_trace_draws_are_seeded_windows_inside_the_year() -> None:
    raw = {
        "methods": [{"name": "random-search"}],
        "seeds": 1,
        "trace_draws": [{"zone": "DE", "year": 2021, "count": 4, "hours": 80, "seed": 3}],
    }
    first, again = parse_study(raw, "draws"), parse_study(raw, "draws")
    assert first.traces == again.traces and len(first.traces) == 4
    starts = [pd.Timestamp(t.split("@")[1], tz="UTC") for t in first.traces]
    assert all(s.year == 2021 and (s + pd.Timedelta(hours=80)).year in (2021, 2022) for s in starts)
    other = parse_study({**raw, "trace_draws": [{**raw["trace_draws"][0], "seed": 4}]}, "draws")
    assert other.traces != first.traces


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "missing key 'methods'"),
        ({"methods": "nsga2"}, "methods: expected a list"),
        ({"methods": [{"name": "annealing"}]}, "unknown method 'annealing'"),
        ({"methods": [{"name": "nsga2", "options": {"population": 4}}]}, "unknown option 'population' for nsga2"),
        ({"methods": [{"name": "nsga2", "options": {"pop_size": "x"}}]}, "expected an integer"),
        ({"methods": [{"name": "nsga2"}], "seeds": "ten"}, "seeds: expected a list"),
        ({"methods": [{"name": "nsga2"}], "seeds": 0}, "seeds must be in \\[1, 10,000\\]"),
        ({"methods": [{"name": "nsga2"}], "budgets": ["5 parsecs"]}, "bad budget"),
        ({"methods": [{"name": "nsga2"}], "traces": ["ATLANTIS"]}, "unknown trace region 'ATLANTIS'"),
        ({"methods": [{"name": "nsga2"}], "benchmarks": ["nb201/mnist"]}, "unknown benchmark 'nb201/mnist'"),
        ({"methods": [{"name": "nsga2"}], "colour": "red"}, "unknown key(s) colour"),
        ({"methods": [{"name": "nsga2"}], "shared_options": {"tree.kernel": "rbf"}}, "apply to none of the study's"),
        ({"methods": [{"name": "nsga2"}], "reference_method": "cenas"}, "reference_method 'cenas' is not one"),
        (
            {"methods": [{"name": "cenas"}, {"name": "vanilla-lamoo"}]},
            "LaMOO-family methods must share tree settings",
        ),
        (  # a study about the solver may vary it, and only it
            {
                "methods": [
                    {"name": "cenas-heuristic"},
                    {"name": "vanilla-lamoo", "options": {"tree.solver": "ipm", "tree.cp": 10}},
                ],
                "tree_varies": ["tree.solver"],
            },
            "LaMOO-family methods must share tree settings",
        ),
        (
            {"methods": [{"name": "vanilla-lamoo"}], "tree_varies": ["tree.colour"]},
            "tree_varies names 'tree.colour', not a tree option of 'vanilla-lamoo'",
        ),
    ],
)
def test_malformed_studies_are_one_clear_error(raw: dict, message: str) -> None:
    with pytest.raises(HarnessError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_study({"traces": ["hotcarbon-1"], **raw}, "bad")


def test_a_study_of_a_tree_setting_varies_it_and_nothing_else() -> None:
    """`tree_varies` lets a study compare values of one tree setting (the shipped tree-solver study does)."""
    raw = {
        "traces": ["hotcarbon-1"],
        "tree_varies": ["tree.solver"],
        "methods": [
            {"name": "vanilla-lamoo", "label": "a"},
            {"name": "vanilla-lamoo", "label": "b", "options": {"tree.solver": "ipm"}},
        ],
    }
    study = parse_study(raw, "solvers")
    assert study.tree_varies == ("tree.solver",) and study.to_dict()["tree_varies"] == ["tree.solver"]
    assert [m.options.get("tree.solver") for m in study.methods] == [None, "ipm"]
    with pytest.raises(HarnessError, match="must share tree settings"):
        parse_study({k: v for k, v in raw.items() if k != "tree_varies"}, "solvers")
    assert "tree_varies" not in load_study_spec("hotcarbon").to_dict()  # other studies' stored indexes unchanged


# --------------------------------------------------------------------------------------------------- sweeps
def test_rerun_skips_every_verified_cell_and_repairs_a_damaged_one(small_study: Path, reference_sweep: Path) -> None:
    study = load_study_spec(str(small_study))
    again = sw.sweep(study, reference_sweep, ex.SerialExecutor())
    assert (again.ran, again.skipped) == (0, 12)
    victim = sorted((reference_sweep / "records").glob("*.json"))[0]
    good = victim.read_bytes()
    victim.write_bytes(good.replace(b'"hv"', b'"hV"', 1))
    repaired = sw.sweep(study, reference_sweep, ex.SerialExecutor())
    assert (repaired.ran, repaired.skipped) == (1, 11) and victim.read_bytes() == good


@pytest.mark.parametrize("executor", ["pool-1", "pool-2", "dask-local-2"])
def test_records_do_not_depend_on_the_executor(small_study, reference_sweep, tmp_path, executor: str) -> None:
    kind, _, count = executor.rpartition("-")
    made = ex.make_executor(int(count), None, None) if kind == "pool" else ex.make_executor(None, None, int(count))
    try:
        if kind == "dask-local":
            assert made.description.startswith("Dask LocalCluster on 127.0.0.1")
            assert made.client.scheduler_info()["address"].startswith("tcp://127.0.0.1:")
        sw.sweep(load_study_spec(str(small_study)), tmp_path, made)
    finally:
        made.close()
    assert record_set(tmp_path) == record_set(reference_sweep)


BLIND = """
schema = "cenas-bench/study/1"
name = "blind"
description = "a carbon-blind and a carbon-aware LaMOO method, two traces, two seeds, 12 h, the reference tree"
traces = ["hotcarbon-1", "hotcarbon-2"]
budgets = ["12h"]
gpus = [8]
seeds = 2

[shared_options]
"tree.kernel" = "poly"
"tree.svm_max_samples" = "null"

[[methods]]
name = "vanilla-lamoo"

[[methods]]
name = "cenas-heuristic"
"""


def test_cells_that_differ_in_their_trace_run_together_and_are_independent_searches(tmp_path) -> None:
    """A sweep runs the cells that differ only in their trace as one bundle, whose runs share a memo; each trace's
    run is its own search (its stream is keyed by the trace), so even vanilla LaMOO, which never sees the carbon,
    samples other architectures on the second trace; every record equals the cell run alone."""
    from harness.runner import execute

    study = parse_study(tomllib.loads(BLIND), "blind")
    tasks = [cell.spec for cell in study.cells()]
    groups = ex.bundles(tasks)
    assert sorted(len(group) for group in groups) == [2, 2, 2, 2]
    for group in groups:
        specs = [tasks[i].to_dict() for i in group]
        assert {s["trace"] for s in specs} == {"hotcarbon-1", "hotcarbon-2"}
        assert all(s | {"trace": None} == specs[0] | {"trace": None} for s in specs)
    blind = next(g for g in groups if tasks[g[0]].method == "vanilla-lamoo")
    memo: dict = {}
    texts = [ex.run_cell(tasks[i], memo) for i in blind]
    first, second = (json.loads(text)["evaluations"]["rows"] for text in texts)
    assert [row[1] for row in first[:10]] != [row[1] for row in second[:10]]  # other initial architectures
    assert texts == [execute(tasks[i]).to_json() for i in blind]
    sw.sweep(study, tmp_path, ex.SerialExecutor())
    for cell, key in sw.plan(study):
        assert (tmp_path / "records" / f"{key}.json").read_text() == execute(cell.spec).to_json(), cell.label()


def test_a_sweep_killed_with_sigkill_resumes_to_the_same_bytes(tmp_path) -> None:
    """Killed mid-way, resumed, the same bytes (on `LONG_SMALL`, so that something is left to kill)."""
    study = tmp_path / "kill.toml"
    study.write_text(LONG_SMALL)
    reference = sw.sweep(load_study_spec(str(study)), tmp_path / "reference", ex.SerialExecutor())
    assert reference.total == 48
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-c",
        "from harness.cli import main; main()",
        "sweep",
        str(study),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-report",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "records").glob("*.sha256"))) < 4:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-way
    proc.wait(timeout=60)
    partial = len(list((out / "records").glob("*.sha256")))
    assert 4 <= partial < 48, partial
    resumed = cli("sweep", str(study), "--out", str(out), "--workers", "2", "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    assert f"({partial} already done, {48 - partial} run)" in resumed.stdout
    assert record_set(out) == record_set(tmp_path / "reference")
    assert not [p for p in (out / "records").iterdir() if p.suffix not in (".json", ".sha256") and p.name != ".lock"]


def test_aborting_a_pool_with_part_of_a_result_in_its_pipe_returns() -> None:
    """A worker stopped while sending its result leaves part of a message in the pool's result pipe, and the pool's
    manager thread waits for the rest: `LocalPool.abort` must still return (under load a SIGTERM'd sweep hung here)."""
    pool = ex.LocalPool(2)
    assert list(pool.run([[]])) == [(0, [])]  # a worker is up
    writer = pool.pool._result_queue._writer  # type: ignore[attr-defined]
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"part of a result")  # a 1-MiB header, then 16 bytes
    time.sleep(0.5)
    stopper = threading.Thread(target=pool.abort, daemon=True)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive()


def _default_sigint() -> None:
    """In the sweep's process before it starts: SIGINT as a terminal delivers it, whoever launched the suite (a shell
    running it in the background makes its children ignore SIGINT, and Python then keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_sweep_stops_cleanly_with_no_orphan_workers(tmp_path, signum) -> None:
    study = tmp_path / "interrupt.toml"
    study.write_text(LONG_SMALL)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-c",
        "from harness.cli import main; main()",
        "sweep",
        str(study),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-report",
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "records").glob("*.sha256")):
        time.sleep(0.01)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted: ") and "run the same command again" in stderr
    time.sleep(1.0)
    group = subprocess.run(["ps", "-o", "stat=", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert all(state.startswith("Z") for state in group), group  # nothing of the sweep left running (zombies wait
    # for this machine's init to reap them)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-study"], "unknown study 'no-such-study'"),
        (["hotcarbon", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
        (["hotcarbon", "--scheduler", "127.0.0.1:9"], "--scheduler must be an address like tcp://HOST:PORT"),
        (["hotcarbon", "--workers", "0"], "--workers must be at least 1"),
        (["hotcarbon", "--scheduler", "tcp://127.0.0.1:9", "--dask-local", "2"], "not both"),
        (["hotcarbon", "--only", "no-such-method"], "matches no cell"),
    ],
)
def test_sweep_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    one_error_line(cli("sweep", *args, "--out", str(tmp_path / "out"), timeout=120), message)
    assert not (tmp_path / "out").exists()


def test_a_second_sweep_into_the_same_folder_is_refused(small_study: Path, tmp_path: Path) -> None:
    store = rs.Store(tmp_path)
    with store.writing(), pytest.raises(HarnessError, match="another sweep is writing to"):
        sw.sweep(load_study_spec(str(small_study)), tmp_path, ex.SerialExecutor())


def test_sweep_rejects_a_malformed_file_and_an_unwritable_folder(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("methods = [ { name = 'nsga2' }\n")
    one_error_line(cli("sweep", str(broken), "--out", str(tmp_path / "out")), "is not valid TOML")
    (tmp_path / "file").write_text("x")
    good = tmp_path / "good.toml"
    good.write_text(SMALL)
    one_error_line(cli("sweep", str(good), "--out", str(tmp_path / "file" / "out")), "is a file, not a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.toml", "file", "good.toml"]


# ----------------------------------------------------------------------------------------------- aggregation
def test_tidy_frames_and_summary_from_a_swept_study(reference_sweep: Path) -> None:
    runs = load_runs(reference_sweep)
    assert len(runs) == 12 and set(runs["method"]) == {"random-search", "nsga2"}
    tidy = load_study(reference_sweep)
    assert len(tidy) == 12 * 6 and set(tidy["key"]) == set(runs["key"])  # one row per run x hour
    assert (tidy["regret"] >= 0).all() and np.allclose(tidy["hv_fraction"] * tidy["hv_max"], tidy["hv"])
    table = summary_table(runs, tidy, checkpoints_lbs=(1.0, 5.0))
    assert set(table["method"]) == {"random-search", "nsga2"} and (table["runs"] == 6).all()
    assert sorted(table["rank_at_1lbs"].tolist()) == [1, 2]
    assert table["p_at_1lbs"].isna().sum() == 1  # the best has no test against itself
    curves = anytime(tidy)
    assert set(curves["method"]) == {"random-search", "nsga2"}
    banded = curves.dropna(subset=["lower"])
    assert len(banded) > 0 and (banded["lower"] <= banded["mean"] + 1e-12).all()


def test_hv_at_uses_the_last_finished_interval_and_never_extrapolates() -> None:
    run = pd.DataFrame({"hour": [1.0, 2.0, 3.0], "cum_carbon_g": [10.0, 20.0, 30.0], "hv": [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(hv_at(run, np.array([5.0, 10.0, 19.0, 30.0, 31.0])), [0.0, 1.0, 1.0, 3.0, np.nan])


def test_mean_ci_is_the_t_interval() -> None:
    from scipy import stats

    values = np.array([[1.0], [2.0], [4.0]])
    mean, _, upper = mean_ci(values)
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / np.sqrt(3)
    assert mean[0] == pytest.approx(7 / 3) and upper[0] - mean[0] == pytest.approx(half)
    single = mean_ci(np.array([[1.0]]))
    assert np.isnan(single[1][0])


def test_report_writes_tables_and_plots(reference_sweep: Path, tmp_path: Path) -> None:
    result = cli("study", "report", str(reference_sweep), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = {p.name for p in tmp_path.iterdir()}
    assert {"report.md", "runs.csv.gz", "curves.parquet", "fronts.parquet", "provenance.json"} <= written
    provenance = json.loads((tmp_path / "provenance.json").read_text())
    assert provenance["schema"] == "cenas-bench/study-results/1" and set(provenance["methods"]) == {
        "random-search",
        "nsga2",
    }
    assert set(provenance["traces"]) == {"hotcarbon-1", "hotcarbon-2"} and provenance["data_files"]
    assert any(n.startswith("anytime_") and n.endswith(".svg") for n in written)
    assert any(n.startswith("allocation_") and n.endswith(".pdf") for n in written)
    assert "| random-search | 6 |" in (tmp_path / "report.md").read_text()
    committed = load_runs(tmp_path)  # the small committed form reads back without records
    pd.testing.assert_frame_equal(committed, load_runs(reference_sweep), check_dtype=False)
    assert json.loads((reference_sweep / "study.json").read_text())["study"]["name"] == "small"


def test_a_scheduler_without_workers_is_warned_about_and_the_heartbeat_says_so() -> None:
    """A sweep that waits is never silent: a Dask scheduler without workers gets a warning when the sweep starts, and
    the heartbeat prints a status line (done, running, to go, workers) although no cell finishes."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None, scheduler_port=0, silence_logs=50)
    try:
        with pytest.warns(ex.NoWorkersWarning, match="has no workers yet"):
            executor = ex.make_executor(None, cluster.scheduler_address, None)
        lines: list[str] = []
        with sw.Heartbeat("demo", executor, lines.append, every_s=0.2) as beat:
            beat.update(3, 10)
            time.sleep(1.0)
        executor.close()
    finally:
        cluster.close()
    assert len(lines) >= 2
    assert lines[-1].startswith("sweep demo: 3/10 cells done, 0 bundle(s) running, 7 cells to go, 0 worker(s)")


def test_version_and_study_show_json_are_machine_readable() -> None:
    from harness import __version__

    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"cenas-bench {__version__}"
    shown = cli("study", "show", "hotcarbon", "--json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["runs"] == 140 and document["study"]["name"] == "hotcarbon"
