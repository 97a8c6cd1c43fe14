"""The static leaderboard: built from the committed study results, deterministic, checked in real headless Chromium
(DOM, charts, CSV links, no network request), and clear about bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.leaderboard.boards import boards_of
from harness.leaderboard.site import build_site, load_studies
from harness.studies.published import read_published
from harness.units import round_down
from tests.conftest import REPO
from tests.helpers import cli, one_error_line, snapshot

RESULTS = REPO / "results"
COMMITTED_SITE = REPO / "leaderboards" / "site"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

ONE_SEED = """
schema = "cenas-bench/study/1"
name = "one-seed"
description = "two methods, one trace, one seed, 6 h on 4 GPUs"
traces = ["hotcarbon-1"]
budgets = ["6h"]
gpus = [4]
seeds = 1

[[methods]]
name = "random-search"

[[methods]]
name = "cenas-heuristic"
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built (in this process) from the committed results."""
    out = tmp_path_factory.mktemp("site") / "site"
    build_site(RESULTS, out)
    return out


SPOT = "spotchecks.html"


def board_pages(site: Path) -> list[str]:
    """The board pages (`STUDY--BOARD.html`): not the index, methodology, spot checks, method cards or sensitivity
    boards."""
    return sorted(p.name for p in site.glob("*--*.html"))


# ------------------------------------------------------------------------------------------------- the build
def test_the_committed_site_is_the_build_of_the_committed_results(site: Path) -> None:
    """Same inputs, same bytes: a build in this process equals the committed site built by the CLI."""
    assert snapshot(site) == snapshot(COMMITTED_SITE), (
        "leaderboards/site/ is not the build of results/: run `harness leaderboard build` and commit it"
    )
    manifest = json.loads((site / "site.json").read_text())
    assert set(manifest["files"]) == {k for k in snapshot(site) if k != "site.json"}


def test_every_committed_study_is_published(site: Path) -> None:
    """Every committed search-run study has a board page; analysis studies (no runs) have none."""
    studies = sorted(p.name for p in RESULTS.iterdir() if (p / "study.json").is_file())
    analyses = {s for s in studies if json.loads((RESULTS / s / "study.json").read_text())["study"].get("analysis")}
    assert {"hotcarbon", "leaderboard-nb201", "leaderboard-nb301"} <= set(studies) - analyses
    assert {"lamoo-check", "forecast-accuracy"} <= analyses
    pages = board_pages(site)
    for study in studies:
        assert any(p.startswith(f"{study}--") for p in pages) == (study not in analyses), study


def test_a_surrogate_board_names_its_reference_front_a_bound(site: Path) -> None:
    """NAS-Bench-301's HV_max comes from a committed reference front: its boards say so, table boards do not."""
    nb301 = [p for p in board_pages(site) if p.startswith("leaderboard-nb301--")]
    assert len(nb301) == 2
    for name in nb301:
        text = (site / name).read_text(encoding="utf-8")
        assert "against the benchmark's reference front (grey; a bound from a long search" in text
    table = next(p for p in board_pages(site) if p.startswith("leaderboard-nb201--"))
    assert "against the benchmark's true front (grey)" in (site / table).read_text(encoding="utf-8")
    assert "committed reference front found by a long seeded search" in (site / "methodology.html").read_text()


def test_the_fronts_chart_text_describes_the_run_it_draws(site: Path) -> None:
    for name in board_pages(site):
        html = (site / name).read_text()
        alt = re.search(r"(Scatter chart[^<]*)<", html).group(1)  # type: ignore[union-attr]
        trace, seed = re.search(r"found on trace (\S+) with seed (\d+):", alt).groups()  # type: ignore[union-attr]
        fronts = pd.read_csv(site / "data" / name.replace(".html", "-fronts.csv.gz"))
        drawn = fronts[(fronts["trace"] == trace) & (fronts["seed"] == int(seed))].groupby("method").size()
        said = {m: int(n) for m, n in re.findall(r"([\w-]+): (\d+) points", alt)}
        assert {m: n for m, n in said.items() if n} == drawn.to_dict()  # a run that trained nothing has no front rows
        assert set(said) == set(pd.read_csv(site / "data" / name.replace(".html", "-runs.csv"))["method"])


def test_boards_rank_at_a_carbon_every_run_reached() -> None:
    """A suite-v1 board's headline is its matched carbon (reached by every run); ranks by IQM cover the unprivileged
    methods once each, the privileged ones are bounds; the per-run download holds the scores the statistics use."""
    frames = read_published(RESULTS / "leaderboard-nb201")
    study = json.loads((RESULTS / "leaderboard-nb201" / "study.json").read_text())["study"]
    (board,) = boards_of(study, frames)
    assert len(board.methods) >= 8 and len(board.traces) == 3 and board.seeds == list(range(10))
    assert board.title == "nb201/cifar10/pi5-energy · 80 h · 8 GPUs"  # the study's budget spelling, not grams
    assert board.suite == "v1" and not board.levels.declared
    final = board.tidy.sort_values("hour").groupby("key")["cum_carbon_lbs"].last()
    matched = float(board.headline.removesuffix(" lbs"))
    assert matched <= final.min() < matched * 1.1  # two significant digits, rounded down
    stats = board.levels.stats
    head = stats[stats["level"] == board.headline]
    assert (head["n"] == 30).all() and not head["missing"].astype(bool).any()
    assert head.loc[head["privileged"], "rank"].isna().all()
    assert set(head.loc[head["privileged"], "method"]) == {"cenas-heuristic-oracle", "cenas-rl-reference"}
    ranked = head[~head["privileged"]]
    assert sorted(ranked["rank"].astype(int)) == list(range(1, len(ranked) + 1))
    per_run = board.per_run()
    k = f"{matched:g}"
    assert len(per_run) == len(board.runs) and per_run[f"fraction_at_{k}lbs"].notna().all()
    means = (100 * per_run.groupby("method")[f"fraction_at_{k}lbs"].mean())[head["method"]]
    np.testing.assert_allclose(means.to_numpy(), head["mean"].to_numpy())


def test_fronts_are_nondominated_and_never_beyond_the_true_front() -> None:
    from harness.metrics import pareto_mask

    frames = read_published(RESULTS / "hotcarbon")
    fronts = frames.fronts
    true = fronts[fronts["key"] == ""][["accuracy", "cost"]].to_numpy()
    assert len(true) > 5
    for _, run in fronts[fronts["key"] != ""].groupby("key"):
        points = run[["accuracy", "cost"]].to_numpy() * [1, -1]
        assert pareto_mask(points).all()
        assert pareto_mask(np.vstack([true * [1, -1], points]))[: len(true)].all()  # no run dominates the true front
    assert set(fronts["key"]) - {""} == set(frames.runs["key"])


def test_round_down_keeps_two_significant_digits() -> None:
    assert [round_down(v) for v in (22.87, 8.843, 0.01234, 130.0)] == [22.0, 8.8, 0.012, 130.0]


# ------------------------------------------------------------------------------------------------ bad input
def test_an_empty_results_folder_builds_nothing(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    one_error_line(
        cli("leaderboard", "build", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "s")),
        "holds no search-run study results",
    )
    one_error_line(
        cli("leaderboard", "build", "--results", str(tmp_path / "nope"), "--out", str(tmp_path / "s")), "does not exist"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def committed_copy(tmp_path: Path, study: str = "ecnas-points") -> Path:
    """A copy of one study's committed results (no run records) in a fresh results folder."""
    folder = tmp_path / "results" / study
    shutil.copytree(RESULTS / study, folder, ignore=shutil.ignore_patterns("records"))
    return folder


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("schema", "cenas-bench/study-results/0", "study results schema 'cenas-bench/study-results/0'"),
        ("record_schema", "cenas-bench/run-record/0", "run records of schema 'cenas-bench/run-record/0'"),
    ],
)
def test_results_of_another_schema_are_refused(tmp_path: Path, key: str, value: str, message: str) -> None:
    folder = committed_copy(tmp_path)
    provenance = json.loads((folder / "provenance.json").read_text())
    (folder / "provenance.json").write_text(json.dumps(provenance | {key: value}))
    one_error_line(
        cli("leaderboard", "build", "--results", str(folder.parent), "--out", str(tmp_path / "site")), message
    )
    assert not (tmp_path / "site").exists()


def test_changed_or_old_results_are_refused(tmp_path: Path) -> None:
    folder = committed_copy(tmp_path)
    runs = folder / "runs.csv.gz"
    data = bytearray(runs.read_bytes())
    data[-12] ^= 0x01
    runs.write_bytes(bytes(data))
    args = ("leaderboard", "build", "--results", str(folder.parent), "--out", str(tmp_path / "site"))
    one_error_line(cli(*args), "does not match the checksum")
    (folder / "provenance.json").unlink()
    one_error_line(cli(*args), "older schema")
    assert not (tmp_path / "site").exists()


def test_studies_must_agree_on_what_both_record_of_a_benchmark(tmp_path: Path) -> None:
    """hotcarbon's results predate the `enumerable` provenance field that tree-solver's carry: not a clash. A
    different HV_max for the same benchmark is."""
    committed_copy(tmp_path, "hotcarbon")
    newer = committed_copy(tmp_path, "tree-solver")
    studies, _ = build_site(tmp_path / "results", tmp_path / "site")
    assert {page.study["name"] for page in studies} == {"hotcarbon", "tree-solver"}
    provenance = json.loads((newer / "provenance.json").read_text())
    provenance["benchmarks"]["nb201/cifar10/pi5-energy"]["hv_max"] += 1.0
    (newer / "provenance.json").write_text(json.dumps(provenance))
    one_error_line(
        cli("leaderboard", "build", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "s2")),
        "disagree on benchmarks 'nb201/cifar10/pi5-energy' (hv_max)",
    )


def test_a_foreign_output_folder_is_never_replaced(tmp_path: Path) -> None:
    committed_copy(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    one_error_line(
        cli("leaderboard", "build", "--results", str(tmp_path / "results"), "--out", str(out)), "did not build"
    )
    assert (out / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "results"]


def test_a_one_seed_study_is_published_and_marked(tmp_path: Path) -> None:
    """One run per method: no CI and no test, said on the page; the build still succeeds and rebuilds in place."""
    from harness.studies import executors as ex
    from harness.studies import sweep as sw
    from harness.studies.report import report
    from harness.studies.spec import load_study_spec

    spec_file = tmp_path / "one-seed.toml"
    spec_file.write_text(ONE_SEED)
    folder = tmp_path / "results" / "one-seed"
    sw.sweep(load_study_spec(str(spec_file)), folder, ex.SerialExecutor())
    report(folder, plots=False)
    shutil.rmtree(folder / "records")  # the leaderboard reads the committed form only
    out = tmp_path / "site"
    for _ in range(2):  # the second build replaces the first
        result = cli("leaderboard", "build", "--results", str(tmp_path / "results"), "--out", str(out))
        assert result.returncode == 0, result.stderr
    (page,) = board_pages(out)
    html = (out / page).read_text()
    assert "One run per method" in html and "With fewer than two runs per method" in html
    index = (out / "index.html").read_text()
    assert "no interval (one run per method)" in index
    summary = pd.read_csv(next((out / "data").glob("*-summary.csv")))
    assert summary["iqm_lo"].isna().all() and summary["mean_hi"].isna().all() and summary["iqm"].notna().all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one-seed.toml", "results", "site"]


# ----------------------------------------------------------------------------------------- headless Chromium
@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("the leaderboard test needs headless Chromium: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?( %)?")


def test_the_site_works_offline_in_headless_chromium(site: Path, browser, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    requests: list[str] = []
    problems: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))

    page.goto((site / "index.html").as_uri())
    pages = board_pages(site)
    linked = page.eval_on_selector_all("section.board-levels h3 a", "els => els.map(e => e.getAttribute('href'))")
    assert sorted(linked) == pages  # every board, once, from the index
    studies = {s.study["name"]: s for s in load_studies(RESULTS)}
    badges = 0
    for name in pages:
        page.goto((site / name).as_uri())
        board = next(b for s in studies.values() for b in s.boards if f"{b.slug}.html" == name)
        assert page.locator("h1").count() == 1
        rows = page.locator("table.ranking tbody tr")
        assert rows.count() == len(board.methods)
        headline = page.eval_on_selector_all(
            "table.ranking tbody tr", "rows => rows.map(r => r.cells[3].textContent.trim())"
        )
        stats = board.levels.stats
        stopped = set(stats[(stats["level"] == board.headline) & (stats["n"] == 0)]["method"])
        assert all(NUMBER.match(text) for text in headline[: len(headline) - len(stopped)]), headline
        assert all(text.startswith("n/a (") for text in headline[len(headline) - len(stopped) :]), headline
        assert not stopped or board.levels.declared  # a v1 headline (matched carbon) has every run's value
        headers = page.eval_on_selector_all("table.ranking thead th", "ths => ths.map(t => [t.scope, t.title])")
        assert all(scope == "col" and len(title) > 20 for scope, title in headers)  # header cells with definitions
        charts = page.eval_on_selector_all(
            "figure.chart",
            "els => els.map(e => [e.querySelector('svg.chart').getBoundingClientRect().width,"
            " e.querySelector('figcaption .sr').textContent])",
        )
        assert len(charts) >= 3 and all(width > 1000 and len(alt) > 60 for width, alt in charts)
        privileged = board.provenance.get("privileged", {})
        badged = page.eval_on_selector_all(
            "table.ranking tbody th .badge.privileged", "els => els.map(e => e.parentElement.firstChild.textContent)"
        )
        assert sorted(b.strip() for b in badged) == sorted(m for m in board.methods if m in privileged)
        badges += len(badged)
        if badged:  # the badge links to its explanation, and the row is ranked apart as a bound
            explanation = page.inner_text("#privileged")
            assert "ranked apart" in explanation and all(m in explanation for m in privileged if m in board.methods)
            bounds = page.eval_on_selector_all(
                "table.ranking tbody tr",
                "rows => rows.filter(r => r.querySelector('.badge')).map(r => r.cells[0].textContent.trim())",
            )
            assert set(bounds) == {"bound"}
        hrefs = page.eval_on_selector_all("a[download]", "els => els.map(e => e.href)")
        assert len(hrefs) == 5
        for href in hrefs:
            frame = pd.read_csv(Path(href.removeprefix("file://")))
            assert len(frame) > 0 or (href.endswith("-pairs.csv") and len(board.methods) == 1), href
        # sorting: the headline IQM column, ascending then descending, by its numbers (n/a rows last)
        header = page.locator("table.ranking thead th").nth(3).locator("button")
        for order in ("ascending", "descending"):
            header.click()
            values = [
                float(v)
                for v in page.eval_on_selector_all(
                    "table.ranking tbody tr", "rows => rows.map(r => r.cells[3].dataset.sort)"
                )
                if v
            ]
            assert values == sorted(values, reverse=order == "descending")
            assert page.locator("table.ranking thead th").nth(3).get_attribute("aria-sort") == order
    assert badges >= 3  # the oracle heuristic (NB201, HotCarbon) and the reference agent (HV_max) at least
    page.goto((site / "methodology.html").as_uri())
    text = page.inner_text("main")
    assert "HV_max" in text and "PUE" in text and "git commit" in text
    assert "Cheap estimate (proxy): supernet" in text and "Cheap estimate (proxy): early-stopping" in text
    hashes = page.eval_on_selector_all("code.hash", "els => els.map(e => e.textContent)")
    used = {d for s in studies.values() for d in s.provenance["data_files"].values()}
    assert used <= set(" ".join(hashes).split())
    page.goto((site / pages[-1]).as_uri())
    shot = tmp_path / "board.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    context.close()
    assert not problems, problems
    assert requests and all(url.startswith("file://") for url in requests), [u for u in requests if "file:" not in u]


def test_the_sensitivity_boards_show_their_rank_correlations_in_headless_chromium(
    site: Path, browser, tmp_path: Path
) -> None:
    """Every accounting-sensitivity board: linked from the index, its correlation table read in Chromium equals the
    Kendall and Spearman statistics recomputed from the committed studies, its chart and downloads are there."""
    from scipy import stats

    from harness.studies.sensitivity import SENSITIVITIES, load_sensitivity

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto((site / "index.html").as_uri())
    linked = page.eval_on_selector_all("#sensitivity ~ section h3 a", "els => els.map(e => e.getAttribute('href'))")
    boards = {s.study["name"]: s.boards[0] for s in load_studies(RESULTS)}
    specs = [load_sensitivity(e.load()) for e in SENSITIVITIES.entries().values()]
    assert sorted(linked) == sorted(f"sensitivity-{spec.name}.html" for spec in specs) and len(specs) == 2
    for spec in specs:
        page.goto((site / f"sensitivity-{spec.name}.html").as_uri())
        rows = page.eval_on_selector_all(
            "#correlation + table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
        )
        assert [r[0] for r in rows] == [p for p in spec.studies if p != spec.baseline]

        def ranking(study: str) -> pd.Series:
            board = boards[study]
            head = board.levels.stats[board.levels.stats["level"] == board.headline]
            return head.set_index("method")["rank"].dropna()

        base = ranking(spec.studies[spec.baseline])
        for row in rows:
            other = ranking(spec.studies[row[0]])
            common = [m for m in base.index if m in other.index]
            tau = stats.kendalltau(base[common], other[common]).statistic
            assert row[1] == str(len(common)) and float(row[2].split(" ")[0]) == pytest.approx(tau, abs=5e-4)
        width = page.eval_on_selector("#figure-ranks svg", "e => e.getBoundingClientRect().width")
        assert width > 1000
        for href in page.eval_on_selector_all("main p a[href^='data/']", "els => els.map(e => e.href)"):
            assert len(pd.read_csv(Path(href.removeprefix("file://")))) > 0
        shot = tmp_path / f"{spec.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
    context.close()


def test_summary_downloads_show_no_survivor_means(site: Path) -> None:
    """A level some runs of a method never reached is n/a in the downloads too, as on the page (never a survivor
    mean): the method's row there has n = 0, no values, and says how many runs reached it."""
    checked = 0
    for path in sorted((site / "data").glob("*-summary.csv")):
        table = pd.read_csv(path)
        table["missing"] = table["missing"].astype(object).fillna("").astype(str)
        partial = table["missing"] != ""
        assert (table.loc[partial, "n"] == 0).all(), path.name
        for column in ("iqm", "iqm_lo", "iqm_hi", "mean", "mean_lo", "mean_hi", "rank", "a12_leader"):
            assert table.loc[partial, column].isna().all(), (path.name, column)
        assert table.loc[partial, "missing"].str.contains("runs reached it").all()
        checked += int(partial.sum())
    assert checked > 0  # some board has a level that not every run reached


def test_a_reader_at_1400_px_gets_fitting_tables_method_cards_one_colour_each_and_values_on_hover(
    site: Path, browser
) -> None:
    """Issue 35: at 1400 px no table is wider than its column and no page scrolls sideways; every board row links to
    its method card (whose name and tooltip say what it is); a method has one colour on every board, in its swatch
    and in every chart line; hovering a curve point shows its value."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    cards = sorted(p.name for p in site.glob("method-*.html"))
    assert cards
    sensitivity = sorted(p.name for p in site.glob("sensitivity-*.html") if "--" not in p.name)
    for name in ["index.html", "methodology.html", SPOT, *board_pages(site), *sensitivity, *cards]:
        page.goto((site / name).as_uri())
        widths = page.eval_on_selector_all("table", "ts => ts.map(t => [t.scrollWidth, t.parentElement.clientWidth])")
        assert all(width <= column for width, column in widths), (name, widths)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400, name
    colours: dict[str, set[str]] = {}
    boards_of_method: dict[str, int] = {}
    undrawn = 0
    for name in board_pages(site):
        page.goto((site / name).as_uri())
        links = page.eval_on_selector_all(
            "table.ranking tbody th a.method",
            "els => els.map(e => [e.textContent.trim(), e.getAttribute('href'), e.title,"
            " getComputedStyle(e.querySelector('.swatch')).backgroundColor])",
        )
        assert len(links) == page.locator("table.ranking tbody tr").count()  # every row links to its card
        for method, href, tooltip, colour in links:
            assert (site / href).is_file() and len(tooltip) > 30, (name, method)
            colours.setdefault(method, set()).add(colour)
            boards_of_method[method] = boards_of_method.get(method, 0) + 1
        keys = page.eval_on_selector_all(
            "fieldset.series label",
            "els => els.map(e => [e.querySelector('input').value, e.querySelector('line').getAttribute('stroke')])",
        )
        for method, stroke in keys:  # the chart's line of that method has the key's colour
            lines = page.eval_on_selector_all(
                f'svg.chart [data-method="{method}"] path', "ps => ps.map(p => p.getAttribute('style') || '')"
            )
            assert any(stroke.lower() in style.lower() for style in lines), (name, method, stroke)
        figures = page.eval_on_selector_all(
            "figure.chart",
            """fs => fs.map(f => {
                const groups = [...f.querySelectorAll('svg.chart g[data-method]')];
                const drawn = new Set(groups.filter(g => g.children.length).map(g => g.dataset.method));
                const empty = [...new Set(groups.map(g => g.dataset.method))].filter(m => !drawn.has(m));
                const keys = [...f.querySelectorAll('fieldset.series input')].map(i => i.value);
                return [empty, keys, f.querySelector('figcaption').textContent];
            })""",
        )
        for empty, keys, caption in figures:  # a method with nothing on a chart's axes: named, no key
            assert not set(empty) & set(keys) and all(m in caption for m in empty), (name, empty, caption)
            undrawn += len(empty)
        points = page.locator('svg[data-chart="anytime"] g[data-method] use[data-tip]:visible')
        point = points.last  # drawn last: on top of every other point
        tip = point.get_attribute("data-tip")
        assert re.search(r"[\d.]+ lbs → log10 regret -?\d+\.\d{3}", tip or ""), tip
        point.hover()
        tooltip = page.locator("#tooltip")
        assert tooltip.is_visible() and tooltip.inner_text() == tip
        page.mouse.move(1, 1)
        assert not tooltip.is_visible()
    assert all(len(c) == 1 for c in colours.values()), colours
    assert undrawn  # the operational scheduler board's search on no training GPU spends no carbon: not on a log axis
    assert max(boards_of_method.values()) >= 3  # cenas and others are on several boards, in one colour
    page.goto((site / "method-oneshot-lamoo.html").as_uri())
    text = page.inner_text("main")
    assert "estimated front" in text and "HotCarbon 2023" in text and "baselines.lamoo_family:OneShotLaMOO" in text
    page.goto((site / "method-cenas-heuristic-oracle.html").as_uri())
    assert "oracle forecast" in page.inner_text("main") and page.locator("main .badge.privileged").count() >= 1
    context.close()
