"""Board statistics (issue 34): the site's intervals recomputed independently from the committed runs, Holm, A12,
rank intervals, profiles, the resolvable difference, declared levels, n/a instead of survivor means, suites."""

from __future__ import annotations

import math
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.errors import HarnessError
from harness.studies import stats as st
from harness.studies.spec import parse_study
from harness.units import GRAMS_PER

REPO = Path(__file__).resolve().parents[1]

RESULTS = REPO / "results"
SITE = REPO / "leaderboards" / "site"
V2 = "suite-v2-nb201"


def _committed_scores(study: str, lbs: float) -> pd.DataFrame:
    """Every run's HV fraction (%) at `lbs`, computed here from the committed curves and runs (not by the harness):
    the HV of the last interval whose cumulative carbon is at most the level."""
    runs = pd.read_csv(RESULTS / study / "runs.csv.gz")
    curves = pd.read_parquet(RESULTS / study / "curves.parquet")
    rows = []
    for run in runs.itertuples():
        curve = curves[curves["key"] == run.key].sort_values("hour")
        before = curve[curve["cum_carbon_g"] <= lbs * GRAMS_PER["lbs"] * (1 + 1e-9)]
        hv = float(before["hv"].iloc[-1]) if len(before) else 0.0
        rows.append({"method": run.method, "trace": run.trace, "seed": run.seed, "score": 100 * hv / run.hv_max})
    return pd.DataFrame(rows)


def _site_summary(study: str) -> pd.DataFrame:
    [path] = sorted((SITE / "data").glob(f"{study}--*-summary.csv"))
    return pd.read_csv(path)


def test_the_sites_intervals_are_an_independent_stratified_bootstrap_of_the_committed_runs() -> None:
    """The suite-v2 NB201 board at its 25-lbs level: IQM and mean with their 95 % intervals, recomputed with
    scipy.stats.bootstrap directly (one sample per trace), equal the site's CSV; and the point values with numpy."""
    scores = _committed_scores(V2, 25.0)
    summary = _site_summary(V2)
    summary = summary[summary["level"] == "25 lbs"].set_index("method")
    checked = 0
    for method, runs in scores.groupby("method"):
        strata = tuple(g["score"].to_numpy() for _, g in runs.groupby("trace", sort=False))
        pooled = np.concatenate(strata)
        row = summary.loc[method]
        assert row["n"] == len(pooled) == 30
        assert row["mean"] == pytest.approx(pooled.mean(), rel=1e-9)
        assert row["iqm"] == pytest.approx(stats.trim_mean(pooled, 0.25), rel=1e-9)
        for name, fn in (("iqm", lambda x, axis: stats.trim_mean(x, 0.25, axis=axis)), ("mean", np.mean)):
            result = stats.bootstrap(
                strata,
                lambda *s, axis, fn=fn: fn(np.concatenate(s, axis=axis), axis=axis),
                n_resamples=2000,
                method="percentile",
                vectorized=True,
                rng=np.random.default_rng(0),
            )
            assert row[f"{name}_lo"] == pytest.approx(result.confidence_interval.low, rel=1e-9), (method, name)
            assert row[f"{name}_hi"] == pytest.approx(result.confidence_interval.high, rel=1e-9), (method, name)
        checked += 1
    assert checked == 10


def test_the_sites_holm_p_values_and_effect_sizes_recomputed() -> None:
    """Every pairwise test of the board: A12 = U / (n m) from scipy's Mann-Whitney U, and Holm's step-down
    adjustment computed here by hand over the board's family equals the site's."""
    [path] = sorted((SITE / "data").glob(f"{V2}--*-pairs.csv"))
    pairs = pd.read_csv(path)
    scores = _committed_scores(V2, 25.0)
    at = pairs[pairs["level"] == "25 lbs"]
    for row in at.itertuples():
        x = scores[scores["method"] == row.a]["score"].to_numpy()
        y = scores[scores["method"] == row.b]["score"].to_numpy()
        test = stats.mannwhitneyu(x, y, alternative="two-sided")
        assert row.a12 == pytest.approx(test.statistic / (len(x) * len(y)), rel=1e-9)
        assert row.p == pytest.approx(test.pvalue, rel=1e-9)
    row = at.iloc[0]  # the probability of improvement's interval: a stratified bootstrap of both methods' runs
    strata = [
        g["score"].to_numpy()
        for m in (row.a, row.b)
        for _, g in scores[scores["method"] == m].groupby("trace", sort=False)
    ]

    def a12(*s: np.ndarray, axis: int) -> np.ndarray:
        x, y = np.concatenate(s[:3], axis=axis)[..., :, None], np.concatenate(s[3:], axis=axis)[..., None, :]
        return np.mean(x > y, axis=(-2, -1)) + 0.5 * np.mean(x == y, axis=(-2, -1))

    result = stats.bootstrap(strata, a12, n_resamples=2000, method="percentile", vectorized=True,
                             rng=np.random.default_rng(0))  # fmt: skip
    assert row.a12_lo == pytest.approx(result.confidence_interval.low, rel=1e-9)
    assert row.a12_hi == pytest.approx(result.confidence_interval.high, rel=1e-9)
    p = pairs["p"].to_numpy()
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    np.testing.assert_allclose(pairs["p_holm"].to_numpy(), adjusted, rtol=1e-9)


def test_the_v2_board_spreads_methods_apart_where_v1_saturates() -> None:
    """At its last level the suite-v1 NB201 board's unprivileged methods lie within half a point of HV; suite v2's
    accuracy floor spreads them over more than 1.5 points, and separates at least one method from the leader (its
    rank interval excludes rank 1 and its Holm-corrected p is below 0.05) at some level."""

    def spread(summary: pd.DataFrame, level: str) -> float:
        at = summary[(summary["level"] == level) & ~summary["privileged"] & (summary["n"] > 0)]
        return float(at["iqm"].max() - at["iqm"].min())

    v1 = _site_summary("leaderboard-nb201")
    v2 = _site_summary(V2)
    assert spread(v1, "100 lbs") < 0.5
    assert spread(v2, "100 lbs") > 1.5
    separated = v2[(v2["rank_lo"] > 1) & (v2["p_holm_leader"] < 0.05)]
    assert len(separated) > 0


def test_a_carbon_blind_search_differs_between_traces_for_one_seed() -> None:
    """Replicates are independent: random search with the same seed trains other architectures on each trace, so
    its scores at the first level differ across traces for every seed."""
    scores = _committed_scores(V2, 10.0)
    blind = scores[scores["method"] == "random-search"]
    for seed, runs in blind.groupby("seed"):
        assert runs["score"].nunique() == len(runs) == 3, seed


def test_rank_intervals_tied_groups_and_profiles() -> None:
    scores = _committed_scores(V2, 50.0)
    level = st.LevelScores(
        "50 lbs", {m: [g["score"].to_numpy() for _, g in r.groupby("trace")] for m, r in scores.groupby("method")}, {}
    )
    table = st.level_table(level, frozenset({"cenas-heuristic-oracle"}))
    ranked = table[~table["privileged"]]
    assert sorted(ranked["rank"].astype(int)) == list(range(1, len(ranked) + 1))
    assert (ranked["rank_lo"] <= ranked["rank"]).all() and (ranked["rank"] <= ranked["rank_hi"]).all()
    assert (ranked["tied"] == (ranked["rank_lo"] == 1)).all()
    assert table[table["privileged"]]["rank"].isna().all()
    profile = st.performance_profile({m: np.concatenate(s) for m, s in level.runs.items()})
    for _, g in profile.groupby("method"):
        assert (np.diff(g["fraction"].to_numpy()) <= 0).all() and g["fraction"].iloc[0] == 1.0


def test_the_resolvable_difference_follows_the_normal_approximation() -> None:
    scores = _committed_scores(V2, 50.0)
    runs = {m: [g["score"].to_numpy() for _, g in r.groupby("trace")] for m, r in scores.groupby("method")}
    power = st.resolvable_difference(runs)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert power["n"] == 30
    assert power["difference"] == pytest.approx(z * math.sqrt(2 / 30) * power["sd"], rel=0.05)


BASE = """
schema = "cenas-bench/study/1"
budgets = ["100lbs"]
traces = ["hotcarbon-1"]
seeds = 1
[[methods]]
name = "random-search"
"""


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ('levels = ["10%", "5%"]', "increasing"),
        ('levels = ["ten"]', "is not a percentage"),
        ('levels = ["150%"]', "beyond the budget"),
        ('levels = ["200lbs"]', "beyond the budget"),
        ("levels = []", "levels is empty"),
        ('suite = "2"', "must look like 'v2'"),
    ],
)
def test_bad_levels_and_suites_are_one_error(extra: str, fragment: str) -> None:
    with pytest.raises(HarnessError, match=fragment):
        parse_study(tomllib.loads(extra + "\n" + BASE), "bad")


def test_a_percentage_level_needs_a_carbon_budget() -> None:
    text = BASE.replace('["100lbs"]', '["80h"]')
    with pytest.raises(HarnessError, match="no carbon term"):
        parse_study(tomllib.loads('levels = ["10%"]\n' + text), "bad")
    study = parse_study(tomllib.loads('levels = ["10lbs", "25lbs"]\n' + text), "ok")
    assert study.level_lbs("80h") == (10.0, 25.0)


def test_declared_levels_are_in_lbs_of_the_budget() -> None:
    study = parse_study(tomllib.loads('suite = "v2"\nlevels = ["10%", "100%"]\n' + BASE), "ok")
    assert study.level_lbs("100lbs") == pytest.approx((10.0, 100.0))
    assert study.to_dict()["suite"] == "v2" and study.to_dict()["levels"] == ["10%", "100%"]
    assert "suite" not in parse_study(tomllib.loads(BASE), "v1").to_dict()  # v1 study indexes unchanged


def test_survivor_means_are_never_published() -> None:
    """Where a run ended before a level, the summary (page, report, CSV) has no mean there."""
    from harness.studies.aggregate import summary_table, tidy_frame
    from harness.studies.published import read_published

    frames = read_published(RESULTS / "leaderboard-nb201")
    tidy = tidy_frame(frames.runs, frames.curves)
    table = summary_table(frames.runs, tidy, (100.0, 250.0))
    partial = table[(table["reached_at_250lbs"] > 0) & (table["reached_at_250lbs"] < table["runs"])]
    assert len(partial) > 0
    assert partial["regret_at_250lbs"].isna().all() and partial["fraction_lo_at_250lbs"].isna().all()


def test_one_carbon_grid_per_board() -> None:
    from harness.studies.aggregate import anytime, tidy_frame
    from harness.studies.published import read_published

    frames = read_published(RESULTS / "leaderboard-nb201")
    curves = anytime(tidy_frame(frames.runs, frames.curves))
    grids = {tuple(g["carbon_lbs"]) for _, g in curves.groupby("method")}
    assert len(grids) == 1


def test_suites_are_frozen_and_an_edited_study_is_caught(tmp_path, monkeypatch) -> None:
    from harness.studies import spec, suites

    for name in suites.suite_names():
        assert suites.check_suite(suites.load_suite(name)) == [], name
    assert set(suites.load_suite("v2").studies) == {"suite-v2-nb201", "suite-v2-nb201-3obj", "suite-v2-nb301"}
    copy = tmp_path / "studies"
    shutil.copytree(spec.studies_dir(), copy)
    path = copy / "suite-v2-nb301.toml"
    path.write_text(path.read_text().replace("seeds = 10", "seeds = 9"))
    monkeypatch.setattr(spec, "studies_dir", lambda: copy)
    monkeypatch.setattr(spec, "study_path", lambda name: copy / f"{name}.toml")
    problems = suites.check_suite(suites.load_suite("v2"))
    assert problems == [
        "suite-v2-nb301: the study file is not the one suite v2 froze (an edited study belongs in a new suite version)"
    ]


def test_the_saturation_table_of_suite_v2(tmp_path) -> None:
    from tests.helpers import cli

    out = tmp_path / "v2.csv"
    result = cli("suite", "saturation", "v2", "--csv", str(out), cwd=REPO)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert set(table["study"]) == {"suite-v2-nb201", "suite-v2-nb201-3obj", "suite-v2-nb301"}
    assert len(table[table["headline"]]) == 4  # four boards
    assert (table["gap_pp"] >= 0).all()  # random search is ranked, so the leader's IQM is at least its
    assert set(table["level"]) >= {"10 lbs", "25 lbs", "50 lbs", "100 lbs", "HV area 10-100 lbs"}
    summary = _site_summary(V2).set_index(["level", "method"])  # the same numbers as the board
    for row in table[table["study"] == V2].itertuples():
        assert summary.loc[(row.level, row.leader), "iqm"] == pytest.approx(row.leader_iqm, rel=1e-5)
        assert summary.loc[(row.level, "random-search"), "iqm"] == pytest.approx(row.random_search_iqm, rel=1e-5)
