"""Analysis studies (`analysis = NAME`): HotCarbon §4.2's LaMOO region check and the forecasters' accuracy, swept
into the content-addressed store like run studies, reported, committed and kept off the leaderboard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.studies import executors as ex
from harness.studies import sweep as sw
from harness.studies.analysis import AnalysisCell, create, load_analysis
from harness.studies.report import report
from harness.studies.spec import load_study_spec, parse_study
from tests.helpers import cli, one_error_line

REPO = Path(__file__).resolve().parents[1]
SMALL = """
schema = "cenas-bench/study/1"
description = "LaMOO region check, small"
analysis = "lamoo-region"
benchmarks = ["nb201/cifar10/pi5-energy"]
seeds = 3
report = "lamoo-region"

[analysis_options]
n_samples = 60
n_compare = 20
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "region.toml"
    path.write_text(SMALL)
    return path


def test_an_analysis_study_sweeps_resumes_and_matches_a_direct_computation(small: Path, tmp_path: Path) -> None:
    study = load_study_spec(str(small))
    cells = study.cells()
    assert [c.seed for c in cells] == [0, 1, 2] and all(isinstance(c, AnalysisCell) for c in cells)
    assert cells[0].options == {"cp": 30.0, "n_compare": 20, "n_samples": 60}  # typed, defaults filled
    first = sw.sweep(study, tmp_path / "a", ex.SerialExecutor())
    assert (first.total, first.ran) == (3, 3)
    again = sw.sweep(study, tmp_path / "a", ex.SerialExecutor())
    assert (again.ran, again.skipped) == (0, 3)
    frame = load_analysis(tmp_path / "a")
    assert list(frame["seed"]) == [0, 1, 2] and "trace" not in frame
    direct = create(cells[1]).compute(cells[1])  # type: ignore[arg-type]
    assert frame.iloc[1][list(direct)].to_dict() == direct
    assert (frame["region_cost"] > 0).all() and (frame["leaf_samples"] <= 60).all()
    pooled = sw.sweep(study, tmp_path / "b", ex.LocalPool(2))  # any executor, same bytes
    assert pooled.keys == first.keys
    for key in first.keys:
        name = f"records/{key}.json"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_changed_option_is_a_new_cell(small: Path) -> None:
    study = load_study_spec(str(small))
    other = parse_study({**_raw(), "analysis_options": {"n_samples": 61, "n_compare": 20}}, "region")
    assert {k for _, k in sw.plan(study)}.isdisjoint(k for _, k in sw.plan(other))


def _raw() -> dict:
    import tomllib

    return tomllib.loads(SMALL)


def test_report_writes_results_and_rereads_the_committed_form(small: Path, tmp_path: Path) -> None:
    sw.sweep(load_study_spec(str(small)), tmp_path / "s", ex.SerialExecutor())
    text, paths = report(tmp_path / "s")
    assert {p.name for p in paths} == {"results.csv", "lamoo_region.md"}
    assert "| mean |" in text and "The region is" in text
    committed = tmp_path / "committed"
    committed.mkdir()
    for name in ("study.json", "results.csv"):
        shutil.copy(tmp_path / "s" / name, committed / name)
    pd.testing.assert_frame_equal(load_analysis(committed), load_analysis(tmp_path / "s"))
    again, _ = report(committed, tmp_path / "out")
    assert again == text


def test_the_shipped_analysis_results_are_reproduced(tmp_path: Path) -> None:
    """`results/lamoo-check` is what `harness sweep lamoo-check` computes now (the study is fast)."""
    sw.sweep(load_study_spec("lamoo-check"), tmp_path, ex.SerialExecutor())
    report(tmp_path)
    committed = REPO / "results" / "lamoo-check"
    for name in ("results.csv", "lamoo_region.md", "study.json"):
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name


def test_forecast_accuracy_beats_persistence_on_ciso(tmp_path: Path) -> None:
    raw = {"analysis": "forecast-accuracy", "traces": ["US-CAL-CISO"], "report": "forecast-accuracy"}
    study = parse_study(raw, "ciso")
    sw.sweep(study, tmp_path, ex.SerialExecutor())
    text, _ = report(tmp_path)
    row = load_analysis(tmp_path).iloc[0]
    assert row["region"] == "sc:US-CAL-CISO" and row["test_origins"] > 10_000
    for h in (24, 48, 72):
        assert 0 < row[f"transformer_{h}h"] < row[f"persistence_{h}h"]
    committed = json.loads((REPO / "results" / "forecast-accuracy" / "forecast.json").read_text())
    shipped = next(r for r in committed["regions"] if r["region"] == "sc:US-CAL-CISO")
    assert shipped["transformer_24h"] == row["transformer_24h"]  # the committed table is this computation
    assert "| sc:US-CAL-CISO | " in text


def test_analysis_studies_have_no_leaderboard_board(tmp_path: Path) -> None:
    from harness.studies.published import study_folders

    for name in ("lamoo-check", "hotcarbon"):
        shutil.copytree(REPO / "results" / name, tmp_path / name)
    assert [p.name for p in study_folders(tmp_path)] == ["hotcarbon"]


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ("seeds = 3", 'seeds = 3\nbudgets = ["80h"]', ["an analysis study has no budgets"]),
        ('"lamoo-region"\nbenchmarks', '"no-such"\nbenchmarks', ["unknown analysis 'no-such'"]),
        ("n_samples = 60", "n_samplez = 60", ["unknown option 'n_samplez'", "did you mean n_samples"]),
        ("n_compare = 20", "n_compare = 0", ["bad option n_compare=0"]),
        ("seeds = 3", 'seeds = 3\ntraces = ["DE"]', ["does not vary over traces"]),
        ("pi5-energy", "none", ["unknown benchmark 'nb201/cifar10/none'"]),
    ],
)
def test_bad_analysis_study_is_one_error_line(tmp_path: Path, old: str, new: str, fragments: list[str]) -> None:
    assert old in SMALL
    path = tmp_path / "bad.toml"
    path.write_text(SMALL.replace(old, new, 1))
    one_error_line(cli("sweep", str(path), "--out", str(tmp_path / "out")), *fragments)
    assert not (tmp_path / "out").exists()


def test_an_analysis_missing_its_axis_is_refused() -> None:
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="needs traces"):
        parse_study({"analysis": "forecast-accuracy"}, "x")
