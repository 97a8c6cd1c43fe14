"""Bounds chosen in hindsight and the accounting-sensitivity board, on small real sweeps under two profiles."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from harness.errors import HarnessError
from harness.registry import Registry
from harness.studies.spec import parse_study

STUDY = """
schema = "cenas-bench/study/1"
description = "random search always on, under the threshold and on 2 GPUs; the best of the three in hindsight"
suite = "v2"
benchmarks = ["nb201/cifar10/pi5-energy@floor25"]
traces = ["US-CAL-CISO@2021-07-02T00:00"]
budgets = ["60lbs"]
levels = ["20%", "50%", "100%"]
gpus = [8]
seeds = 3
accounting = "{accounting}"
reference_method = "random-search"

[[methods]]
name = "random-search"

[[methods]]
name = "random-search-threshold"

[[methods]]
name = "random-search"
label = "random-search-fixed-2"
options = {{ "schedule.policy" = "fixed", "schedule.train_gpus" = 2 }}

[[hindsight]]
label = "best-schedule"
of = ["random-search", "random-search-threshold", "random-search-fixed-2"]
"""
SENSITIVITY = """
schema = "cenas-bench/sensitivity/1"
name = "tiny-sensitivity"
description = "the tiny study under two profiles"
reference_method = "random-search"

[studies]
default = "tiny-default"
operational = "tiny-operational"
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sweeps of one study, under the default and the operational profile, reported as committed."""
    from harness.studies import executors as ex
    from harness.studies import sweep as sw
    from harness.studies.report import report

    root = tmp_path_factory.mktemp("results")
    for accounting in ("default", "operational"):
        name = f"tiny-{accounting}"
        study = parse_study(tomllib.loads(STUDY.format(accounting=accounting)), name)
        sw.sweep(study, root / name, ex.SerialExecutor())
        report(root / name, plots=False)
    return root


def _boards(results: Path) -> dict[str, object]:
    from harness.leaderboard.site import load_studies

    return {page.study["name"]: page.boards[0] for page in load_studies(results)}


def test_the_hindsight_row_takes_each_seeds_best_candidate_and_is_a_bound(results: Path) -> None:
    board = _boards(results)["tiny-default"]
    scores = board.levels.scores[board.levels.scores["level"] == board.headline]
    candidates = scores[scores["method"] != "best-schedule"]
    best = candidates.groupby(["trace", "seed"])["score"].max()
    chosen = scores[scores["method"] == "best-schedule"].set_index(["trace", "seed"])["score"]
    assert len(chosen) == 3
    np.testing.assert_allclose(chosen.sort_index().to_numpy(), best.sort_index().to_numpy())
    row = board.levels.stats[
        (board.levels.stats["level"] == board.headline) & (board.levels.stats["method"] == "best-schedule")
    ]
    assert bool(row["privileged"].iloc[0]) and np.isnan(row["rank"].iloc[0])  # a bound, never ranked
    assert "chosen in hindsight" in board.provenance["privileged"]["best-schedule"][0]
    published = json.loads((results / "tiny-default" / "provenance.json").read_text())
    assert "best-schedule" not in published["methods"]  # the committed files hold only the runs that ran
    assert "best-schedule" in (results / "tiny-default" / "report.md").read_text()


def test_a_hindsight_row_names_rows_of_the_study() -> None:
    raw = tomllib.loads(STUDY.format(accounting="default"))
    raw["hindsight"] = [{"label": "best", "of": ["random-search", "nsga2"]}]
    with pytest.raises(HarnessError, match="'nsga2' is none"):
        parse_study(raw, "bad")
    raw["hindsight"] = [{"label": "random-search", "of": ["random-search", "random-search-threshold"]}]
    with pytest.raises(HarnessError, match="must be a new name"):
        parse_study(raw, "bad")


def test_the_sensitivity_board_compares_rankings_ratios_and_terms(results: Path, tmp_path: Path) -> None:
    from harness.studies.sensitivity import load_sensitivity, sensitivity

    path = tmp_path / "tiny.toml"
    path.write_text(SENSITIVITY)
    spec = load_sensitivity(path)
    result = sensitivity(spec, _boards(results))
    base = result.correlations.set_index("profile").loc["default"]
    assert base["kendall_tau"] == pytest.approx(1.0) and base["n"] == 3
    assert set(result.ranks["profile"]) == {"default", "operational"}
    carbon = result.carbon.set_index(["profile", "method"])
    shares = carbon[[f"{t}_share" for t in ("dynamic", "idle", "overhead", "embodied")]]
    np.testing.assert_allclose(shares.sum(axis=1).to_numpy(), 1.0, rtol=1e-9)
    assert (carbon.loc["operational", ["idle_share", "overhead_share"]].to_numpy() == 0).all()
    assert carbon.loc[("default", "random-search-threshold"), "idle_share"] > 0  # suspended GPUs draw idle power
    assert carbon.loc[("default", "random-search"), "ratio_to_reference"] == pytest.approx(1.0)


def test_a_sensitivity_board_refuses_studies_that_differ_in_more_than_accounting(results: Path, tmp_path: Path) -> None:
    from harness.studies.sensitivity import load_sensitivity, sensitivity

    path = tmp_path / "tiny.toml"
    path.write_text(SENSITIVITY)
    boards = _boards(results)
    boards["tiny-operational"].study["seeds"] = [0, 1]  # as if it had run other seeds
    with pytest.raises(HarnessError, match="differs from tiny-default in 'seeds'"):
        sensitivity(load_sensitivity(path), boards)
    path.write_text(SENSITIVITY.replace('operational = "tiny-operational"', 'hyperscale = "tiny-operational"'))
    with pytest.raises(HarnessError, match="runs under 'operational', not 'hyperscale'"):
        sensitivity(load_sensitivity(path), _boards(results))


def test_the_site_renders_the_sensitivity_board(results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.studies.sensitivity as sens
    from harness.leaderboard.site import build_site

    path = tmp_path / "tiny.toml"
    path.write_text(SENSITIVITY)
    registry: Registry[Path] = Registry("sensitivity board", "leaderboard build")
    registry.add("tiny", "test", value=path)
    monkeypatch.setattr(sens, "SENSITIVITIES", registry)
    build_site(results, tmp_path / "site")
    page = (tmp_path / "site" / "sensitivity-tiny-sensitivity.html").read_text()
    assert "Kendall" in page and "operational" in page and "best-schedule" in page
    assert "sensitivity-tiny-sensitivity.html" in (tmp_path / "site" / "index.html").read_text()
    assert (tmp_path / "site" / "data" / "sensitivity-tiny-sensitivity-correlations.csv").is_file()
    board = next((tmp_path / "site").glob("tiny-default--*.html")).read_text()
    assert "consumption-based, lifecycle, average" in board  # the board names its carbon signal


def test_a_study_never_mixes_carbon_signal_types() -> None:
    """An Electricity Maps trace (consumption-based) and a Let's Wait Awhile one (production-based) on one board are
    refused before anything runs; every trace names its signal."""
    from harness.carbon.traces import load_trace

    assert load_trace("lwa:DE@2020-03-01T00:00").signal.basis == "production"
    assert load_trace("DE@2021-11-15T00:00").signal.label == "consumption-based, lifecycle, average"
    raw = tomllib.loads(STUDY.format(accounting="default"))
    raw["traces"] = ["DE@2021-11-15T00:00", "lwa:DE@2020-03-01T00:00"]
    del raw["hindsight"]
    with pytest.raises(HarnessError, match="mixes carbon signal types"):
        parse_study(raw, "mixed")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\ntrain_w = 350.0\n', "missing"),
        (
            'name = "x"\ntrain_w = 1\noneshot_w = 1\nidle_w = 0\npue = 0.9\ncharge_init = true\nsource = "s"\n',
            "PUE >= 1",
        ),
        ('name = "x"\nwatts = 3\n', "unknown keys"),
        ("name = ", "accounting profile bad.toml"),
    ],
)
def test_a_broken_accounting_profile_file_is_one_clear_error(text: str, message: str) -> None:
    from harness.sim.accounting import parse_profile

    with pytest.raises(HarnessError, match=message):
        parse_profile(text, "bad.toml")
