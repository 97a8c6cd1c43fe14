"""`harness leaderboard build`: the static leaderboard site, from committed study results only.

The site is a folder of HTML pages (index, one page per board, methodology), SVG charts drawn at build time with
matplotlib, per-board CSV files and one small script (sortable tables) and stylesheet. It needs no network and no
server: pages link files by relative path and embed no `fetch()`, so it works from `file://` and any static host.
The same results give byte-identical files (no dates; fixed SVG ids). The folder is built next to `out` and swapped
in whole, so `out` is either the previous site or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import __version__
from harness.carbon.catalog import SIGNALS
from harness.errors import HarnessError, os_error
from harness.io import file_stem
from harness.leaderboard.boards import Board, boards_of
from harness.leaderboard.charts import Chart
from harness.plotting import method_style
from harness.sim.accounting import TERMS
from harness.studies.published import read_published, study_folders

SITE_SCHEMA = "cenas-bench/site/1"
FORMULA = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP CSV injection); such text cells are
written with a leading apostrophe."""
DASHARRAY = {"-": "none", "--": "6 3", ":": "1.5 2.5", "-.": "6 2 1.5 2"}
"""SVG dash patterns of matplotlib's line styles, for the method keys drawn in HTML."""
MANIFEST = "site.json"
ALPHA = 0.05


@dataclass(frozen=True)
class StudyPage:
    """A study's boards and provenance, as the templates read them."""

    study: dict[str, Any]
    provenance: dict[str, Any]
    boards: list[Board]


# ------------------------------------------------------------------------------------------------- formatting
def num(value: Any, sig: int = 3) -> str:
    """A number with about `sig` significant digits and no exponent ("n/a" for NaN/None)."""
    if not _finite(value):
        return "n/a"
    v = float(value)
    if v == 0:
        return "0"
    return f"{v:,.{_digits(v, sig)}f}"


def _digits(v: float, sig: int) -> int:
    return max(0, min(6, sig - 1 - math.floor(math.log10(abs(v)))))


def _finite(value: Any) -> bool:
    return value is not None and isinstance(value, int | float | np.floating) and math.isfinite(float(value))


def interval(value: Any, low: Any, high: Any, digits: int = 2) -> dict[str, str]:
    """{"value", "ci"}: `value` and `[low, high]` at `digits` decimals ("n/a" without a value; "" without bounds)."""
    if not _finite(value):
        return {"value": "n/a", "ci": ""}
    bounds = f"[{float(low):.{digits}f}, {float(high):.{digits}f}]" if _finite(low) and _finite(high) else ""
    return {"value": f"{float(value):.{digits}f}", "ci": bounds}


def _rank_text(row: dict[str, Any]) -> str:
    if row.get("privileged"):
        return "bound"
    if not _finite(row.get("rank")):
        return "–"
    rank, low, high = int(row["rank"]), int(row["rank_lo"]), int(row["rank_hi"])
    return f"{rank}" if low == high else f"{rank} ({low}–{high})"


def stat_cells(row: dict[str, Any]) -> dict[str, Any]:
    """One method at one level (a `BoardLevels.stats` row) as the pages show it: rank and rank interval, IQM and
    mean with their 95 % stratified bootstrap intervals, and against the leader A12 with its interval and the
    Holm-adjusted p-value."""
    missing = str(row.get("missing") or "")
    p = row.get("p_holm_leader")
    return {
        "method": row["method"],
        "n": int(row["n"]),
        "missing": missing,
        "privileged": bool(row.get("privileged")),
        "rank": int(row["rank"]) if _finite(row.get("rank")) else None,
        "rank_text": _rank_text(row),
        "leader": bool(row.get("leader") is True),
        "tied": bool(row.get("tied") is True),
        "iqm": interval(row.get("iqm"), row.get("iqm_lo"), row.get("iqm_hi")),
        "iqm_sort": row.get("iqm") if not missing else None,
        "mean": interval(row.get("mean"), row.get("mean_lo"), row.get("mean_hi")),
        "a12": interval(row.get("a12_leader"), row.get("a12_leader_lo"), row.get("a12_leader_hi"))
        if _finite(row.get("a12_leader"))
        else None,
        "p": num(p, 2) if _finite(p) else "",
        "significant": _finite(p) and float(p or 0.0) < ALPHA,
    }


def _order(cells: dict[str, Any]) -> tuple:
    return (bool(cells["missing"]), cells["privileged"], cells["rank"] or 0, -(cells["iqm_sort"] or 0), cells["method"])


def levels_for(board: Board) -> list[dict[str, Any]]:
    """Every level of the board, the headline first, each with its rows best first (ranked, then privileged bounds,
    then methods with runs that ended before it)."""
    stats = board.levels.stats
    out = []
    for name in board.levels.names:
        rows = [stat_cells(r) for r in stats[stats["level"] == name].to_dict("records")]
        rows.sort(key=_order)
        out.append({"name": name, "headline": name == board.headline, "rows": rows})
    return out


def cells_for(board: Board, level: dict[str, Any]) -> list[dict[str, Any]]:
    """The ranking table: the headline level's rows (`levels_for`) with each method's costs (carbon to 95/99 % of
    HV_max, GPU-hours, carbon) and its badges."""
    costs = {r["method"]: r for r in board.summary.to_dict("records")}
    rows = []
    for cells in level["rows"]:
        row = costs[cells["method"]]
        rows.append(
            cells
            | {
                "runs": int(row["runs"]),
                "badges": board.provenance.get("privileged", {}).get(cells["method"], []),
                "track": board.provenance.get("submissions", {}).get(cells["method"], {}).get("track"),
                "to": [_to_target(row, p) for p in (95, 99)],
                "gpu_hours": num(row["gpu_hours"]),
                "gpu_hours_sort": row["gpu_hours"],
                "carbon": num(row["carbon_lbs"]),
                "carbon_sort": row["carbon_lbs"],
            }
        )
    return rows


def _to_target(row: dict[str, Any], p: int) -> dict[str, Any]:
    value = row[f"carbon_to_{p}pct_lbs"]
    return {
        "pct": p,
        "lbs": num(value),
        "sort": value if _finite(value) else None,
        "reached": int(row[f"carbon_to_{p}pct_reached"]),
    }


def index_levels(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The index's lines for a board, from its `levels_for`: at each level, the leader (rank 1 by IQM) and the
    methods tied with it (their bootstrap rank interval reaches 1); privileged methods are neither (they are bounds,
    badged)."""
    lines = []
    for level in levels:
        rows = [r for r in level["rows"] if not r["missing"] and not r["privileged"]]
        leader = next((r for r in rows if r["leader"]), None)
        if leader is None:
            continue
        ties = [r["method"] for r in rows if r is not leader and r["tied"]]
        lines.append({"name": level["name"], "headline": level["headline"], "leader": leader, "ties": ties})
    return lines


def power_sentence(board: Board) -> str:
    """What the board's n can resolve at its headline (`stats.resolvable_difference`)."""
    power = board.levels.power
    tests = len(board.levels.pairs)
    if not _finite(power.get("difference")):
        return "With fewer than two runs per method, no difference can be resolved on this board."
    return (
        f"With n = {int(power['n'])} independent searches per method and a pooled within-method SD of "
        f"{power['sd']:.2f} pp at the headline ({board.headline}), differences below {power['difference']:.2f} pp "
        f"cannot be resolved (two-sided test at α = {ALPHA:g} with power 0.8); the Holm correction over the "
        f"board's {tests} tests raises this bound."
    )


def summary_csv(board: Board) -> pd.DataFrame:
    """The board's statistics as numbers: one row per level x method (`BoardLevels.stats`: n, mean and IQM with
    their intervals, rank and rank interval, leader and tied flags, A12 against the leader with its interval, raw
    and Holm-adjusted p-values; empty where the method has no value), each method's costs, and the suite."""
    costs = board.summary[
        [
            "method",
            "runs",
            "carbon_to_95pct_lbs",
            "carbon_to_95pct_reached",
            "carbon_to_99pct_lbs",
            "carbon_to_99pct_reached",
            "gpu_hours",
            "carbon_lbs",
        ]
    ]
    table = board.levels.stats.merge(costs, on="method", how="left")
    return table.assign(suite=board.suite, headline=table["level"] == board.headline)


# ------------------------------------------------------------------------------------------------ method cards
def card_slug(method: str) -> str:
    """The file of a method's card: `method-<label>.html`."""
    return f"method-{file_stem(method)}.html"


def method_cards(studies: list[StudyPage]) -> dict[str, dict[str, Any]]:
    """Per method label on any board: what it is (the registry's description, paper, code entry point), each
    study's resolved options and privileged information, and its boards; sorted by label."""
    from harness.methods import METHODS

    cards: dict[str, dict[str, Any]] = {}
    for page in studies:
        submitted = page.provenance.get("submissions", {})
        specs = [
            *page.study.get("methods", []),
            *({"name": s["method"], "label": label, "submission": s} for label, s in submitted.items()),
            *({"name": "", "label": h["label"], "hindsight": h["of"]} for h in page.study.get("hindsight", [])),
        ]
        for spec in specs:
            label = spec.get("label") or spec["name"]
            boards = [b for b in page.boards if label in b.methods]
            if not boards:
                continue
            if "hindsight" in spec:
                card = cards.setdefault(
                    label,
                    {
                        "method": label,
                        "name": label,
                        "file": card_slug(label),
                        "submission": None,
                        "description": "A bound chosen in hindsight, not a method: for each board, trace and seed, "
                        f"the best run by the headline among {', '.join(spec['hindsight'])}.",
                        "paper": None,
                        "target": None,
                        "overrides": {},
                        "studies": [],
                    },
                )
            elif "submission" in spec:
                sub = spec["submission"]
                card = cards.setdefault(
                    label,
                    {
                        "method": label,
                        "name": spec["name"],
                        "file": card_slug(label),
                        "submission": sub,
                        "description": sub["text"]["description"],
                        "paper": sub["text"]["paper"],
                        "target": sub["package"]["target"],
                        "overrides": {},
                        "studies": [],
                    },
                )
            else:
                entry = METHODS.entry(spec["name"]).load() if spec["name"] in METHODS else None
                card = cards.setdefault(
                    label,
                    {
                        "method": label,
                        "name": spec["name"],
                        "file": card_slug(label),
                        "submission": None,
                        "description": entry.description if entry else f"{spec['name']} (not registered here)",
                        "paper": entry.paper if entry else None,
                        "target": entry.target if entry else None,
                        "overrides": dict(entry.defaults) if entry else {},
                        "studies": [],
                    },
                )
            card["studies"].append(
                {
                    "name": page.study["name"],
                    "set": spec.get("options", {}),
                    "boards": boards,
                    "privileged": page.provenance.get("privileged", {}).get(label, []),
                    "options": json.dumps(page.provenance.get("methods", {}).get(label, {}), indent=1, sort_keys=True),
                }
            )
    for card in cards.values():
        card["privileged"] = sorted({w for s in card["studies"] for w in s["privileged"]})
        card["tooltip"] = card["description"] + (
            " Privileged: " + "; ".join(card["privileged"]) + "." if card["privileged"] else ""
        )
    return dict(sorted(cards.items()))


# ---------------------------------------------------------------------------------------------------- charts
def alt_anytime(board: Board) -> str:
    leader = board.leader
    lead = (
        f" At the headline ({board.headline}) {leader['method']} leads with an interquartile mean of "
        f"{leader['iqm']:.2f} % of HV_max."
        if leader
        else ""
    )
    return (
        f"Line chart of log10 relative hypervolume regret (lower is better) against cumulative carbon in lbs "
        f"CO2eq on a log axis, one line with a 95 % band per method ({', '.join(board.methods)}).{lead} The "
        f"numbers are in the tables above and the CSVs."
    )


def alt_profile(board: Board) -> str:
    return (
        f"Step chart of each method's performance profile at the headline ({board.headline}): the fraction of "
        f"its runs that score at least tau, against tau in percent of HV_max, for {', '.join(board.methods)}. "
        f"A curve further right and higher is better. Every run's score is in the runs CSV."
    )


def alt_fronts(chosen: pd.DataFrame, methods: list[str], trace: str, seed: int, front: str = "true front") -> str:
    """`chosen`: the true (or reference) front (method "") and the one run per method the chart draws."""
    sizes = chosen[chosen["method"] != ""].groupby("method").size()
    parts = ", ".join(f"{m}: {int(sizes.get(m, 0))} points" for m in methods)
    return (
        f"Scatter chart of the final Pareto fronts found on trace {trace} with seed {seed}: error (100 minus "
        f"accuracy, log scale) against cost, "
        f"drawn against the benchmark's {front} ({int((chosen['method'] == '').sum())} points); "
        f"{parts}. The points are in the fronts CSV."
    )


def alt_attainment(board: Board, front: str) -> str:
    return (
        f"Line chart of each method's median attainment front over its {board.min_runs} or more runs (the error, "
        f"100 minus accuracy on a log scale, that half of the runs reach at each cost or less), with the band "
        f"between the 25 % and 75 % attainment fronts, against the benchmark's {front}, for "
        f"{', '.join(board.methods)}. Every run's front is in the fronts CSV."
    )


def alt_allocation(board: Board, methods: list[str]) -> str:
    return (
        f"Line chart of the mean number of GPUs training against the hour's carbon-intensity percentile within "
        f"its trace window (0 = cleanest hour), in deciles, for {', '.join(methods)}. A method that trains "
        f"more in clean hours slopes down. The hourly numbers are in the curve CSV."
    )


def _anytime_tips(curves: pd.DataFrame) -> dict[str, list[str]]:
    from harness.studies.plots import drawn, hover_points, methods_of

    tips = {}
    for method in methods_of(curves):
        points = hover_points(drawn(curves[curves["method"] == method]))
        tips[method] = [
            f"{method}: {num(r.carbon_lbs)} lbs → log10 regret {r.mean:.3f}"
            + (f" (95 % band {r.lower:.3f} to {r.upper:.3f})" if _finite(r.lower) else "")
            + f", {int(r.runs)} runs"
            for r in points.itertuples()
        ]
    return tips


def _front_tips(chosen: pd.DataFrame, cost: str) -> dict[str, list[str]]:
    from harness.studies.plots import methods_of

    tips = {}
    for method in methods_of(chosen):
        g = chosen[chosen["method"] == method].sort_values("cost")
        tips[method] = [
            f"{method}: arch {r.arch}, {cost} {num(r.cost, 4)}, accuracy {r.accuracy:.2f} %" for r in g.itertuples()
        ]
    return tips


def _charts(board: Board, site: Path, order: list[str]) -> dict[str, Chart]:
    from harness.leaderboard.charts import WIDE, save
    from harness.studies.plots import (
        allocating_methods,
        methods_of,
        plot_allocation,
        plot_anytime,
        plot_attainment,
        plot_fronts,
        plot_profile,
    )

    folder = site / "charts" / board.slug
    front_name = board.front_name
    objectives = board.provenance["benchmarks"][board.benchmark]["objectives"]
    cost = objectives[1] if len(objectives) > 1 else "cost"

    def axes():  # type: ignore[no-untyped-def]
        from matplotlib.figure import Figure

        return Figure(figsize=WIDE, layout="constrained").add_subplot()

    charts: dict[str, Chart] = {}
    title = f"{board.title}: anytime HV regret"
    ax = plot_anytime(board.curves, axes(), title=title, legend=False)
    charts["anytime"] = save(
        ax,
        folder / "anytime.svg",
        site,
        "anytime",
        alt_anytime(board),
        methods_of(board.curves),
        _anytime_tips(board.curves),
        order,
    )
    everyone = board.fronts
    ax = plot_attainment(
        everyone, objectives, axes(), f"{board.title}: median attainment fronts over runs", front_name, legend=False
    )
    charts["attainment"] = save(
        ax,
        folder / "attainment.svg",
        site,
        "attainment",
        alt_attainment(board, front_name),
        methods_of(everyone),
        {},
        order,
    )
    trace, seed = board.front_run()
    chosen = everyone[(everyone["method"] == "") | ((everyone["trace"] == trace) & (everyone["seed"] == seed))]
    title = f"{board.title}: final fronts, {trace}, seed {seed}"
    ax = plot_fronts(chosen, objectives, axes(), title, front_name, legend=False)
    charts["fronts"] = save(
        ax,
        folder / "fronts.svg",
        site,
        "fronts",
        alt_fronts(chosen, board.methods, trace, seed, front_name),
        methods_of(chosen),
        _front_tips(chosen, cost),
        order,
    )
    profile = board.levels.profile
    ax = plot_profile(
        profile,
        axes(),
        f"{board.title}: performance profile at {board.headline}",
        legend=False,
        score=f"{board.headline}, % of HV_max",
    )
    charts["profile"] = save(
        ax, folder / "profile.svg", site, "profile", alt_profile(board), methods_of(profile), {}, order
    )
    aware = allocating_methods(board.tidy)
    if aware:
        ax = plot_allocation(board.tidy, axes(), f"{board.title}: allocation", legend=False)
        charts["allocation"] = save(
            ax,
            folder / "allocation.svg",
            site,
            "allocation",
            alt_allocation(board, aware),
            methods_of(board.tidy),
            {},
            order,
        )
    return charts


# --------------------------------------------------------------------------------------------------- writing
def _csv(frame: pd.DataFrame, path: Path) -> None:
    """A CSV download; gzip-compressed (no name or time stamp: same frame, same bytes) when `path` ends in .gz."""
    import gzip

    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.copy()
    for column in frame.select_dtypes(include=["object", "string"]).columns:  # text a spreadsheet would run
        frame[column] = frame[column].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in FORMULA else v)
    data = frame.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8")
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0) if path.suffix == ".gz" else data)


def _environment():  # type: ignore[no-untyped-def]
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.leaderboard", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters |= {
        "num": num,
        "lbs": lambda c: f"{c:g}",
        "color": lambda m: method_style(m).color,
        "dasharray": lambda m: DASHARRAY[method_style(m).dash],
    }
    return env


def _data_sources(studies: list[StudyPage]) -> list[dict[str, Any]]:
    """Every upstream file the published runs read: manifest entry (URL, licence, citation) and the sha256 used."""
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    used: dict[str, dict[str, Any]] = {}
    for page in studies:
        for name, digest in page.provenance["data_files"].items():
            entry = manifest[name]
            row = used.setdefault(
                name,
                {
                    "name": name,
                    "group": entry.group,
                    "url": entry.url,
                    "license": entry.license,
                    "citation": entry.citation,
                    "sha256": set(),
                    "studies": [],
                },
            )
            row["sha256"].add(digest)
            row["studies"].append(page.study["name"])
    return [row | {"sha256": sorted(row["sha256"])} for _, row in sorted(used.items())]


def _merged(studies: list[StudyPage], field: str) -> list[dict[str, Any]]:
    """One entry per benchmark or power profile across studies (`provenance[field]`), with the studies using it.

    Studies must agree on every field both record (data files, objectives, reference point, HV_max, watts); a field
    that a later harness added and an earlier study lacks is not a disagreement, and the entry keeps it."""
    merged: dict[str, dict[str, Any]] = {}
    for page in studies:
        for name, info in page.provenance[field].items():
            entry = merged.setdefault(name, {"name": name, "info": dict(info), "studies": []})
            clash = sorted(k for k in set(entry["info"]) & set(info) if entry["info"][k] != info[k])
            if clash:
                raise HarnessError(
                    f"studies {entry['studies'][0]} and {page.study['name']} disagree on {field} "
                    f"{name!r} ({', '.join(clash)}): publish results made by one version of the "
                    "harness"
                )
            entry["info"] = {k: entry["info"].get(k, info.get(k)) for k in sorted(set(entry["info"]) | set(info))}
            entry["studies"].append(page.study["name"])
    return [merged[k] for k in sorted(merged)]


def _citations(names: list[str]) -> list[str]:
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    return list(dict.fromkeys(manifest[n].citation for n in names))


def _render(
    studies: list[StudyPage],
    site: Path,
    results: Path,
    spotchecks: list[dict[str, Any]],
    progress: Callable[[str], None],
) -> None:
    env = _environment()
    boards = [b for page in studies for b in page.boards]
    newest_suite_first = sorted(
        boards, key=lambda b: -int(b.suite.removeprefix("v"))
    )  # stable: study order within a suite
    cards = method_cards(studies)
    levels = {b.slug: levels_for(b) for b in boards}  # the board pages and the index read the same levels
    common = {"version": __version__, "results": results.name}
    for page in studies:
        for board in page.boards:
            stem = f"data/{board.slug}"
            downloads = {
                "summary": f"{stem}-summary.csv",
                "runs": f"{stem}-runs.csv",
                "pairs": f"{stem}-pairs.csv",
                "curves": f"{stem}-curves.csv",
                "fronts": f"{stem}-fronts.csv.gz",
            }
            _csv(summary_csv(board), site / downloads["summary"])
            _csv(board.per_run(), site / downloads["runs"])
            _csv(board.levels.pairs.assign(suite=board.suite), site / downloads["pairs"])
            _csv(board.curves.assign(suite=board.suite), site / downloads["curves"])
            _csv(
                board.fronts[["method", "trace", "seed", "key", "arch", "accuracy", "cost"]].assign(suite=board.suite),
                site / downloads["fronts"],
            )
            board_levels = levels[board.slug]
            rows = cells_for(board, board_levels[0])
            order = [r["method"] for r in rows]
            html = env.get_template("board.html").render(
                common,
                board=board,
                page=page,
                rows=rows,
                levels=board_levels,
                cards=cards,
                charts=_charts(board, site, order),
                downloads=downloads,
                power=power_sentence(board),
                signal=board_signal(board),
                title=f"{board.title} ({page.study['name']})",
                alpha=ALPHA,
                privileged={m: w for m, w in board.provenance.get("privileged", {}).items() if m in board.methods},
            )
            (site / f"{board.slug}.html").write_text(html, encoding="utf-8")
        progress(f"rendered {page.study['name']}")
    for card in cards.values():
        html = env.get_template("method.html").render(common, card=card, title=f"{card['method']} (method)")
        (site / card["file"]).write_text(html, encoding="utf-8")
    sensitivities = _sensitivity_pages(studies, site, env, common, cards)
    index = env.get_template("index.html").render(
        common,
        sensitivities=sensitivities,
        studies=studies,
        boards=newest_suite_first,
        levels={s: index_levels(v) for s, v in levels.items()},
        cards=cards,
        title="Leaderboard",
        alpha=ALPHA,
    )
    (site / "index.html").write_text(index, encoding="utf-8")
    methodology = env.get_template("methodology.html").render(
        common,
        studies=studies,
        suites=_suites(studies),
        sources=_data_sources(studies),
        benchmarks=_merged(studies, "benchmarks"),
        profiles=_merged(studies, "accounting"),
        signals=SIGNALS,
        citations=_citations,
        title="Methodology",
        alpha=ALPHA,
    )
    (site / "methodology.html").write_text(methodology, encoding="utf-8")
    page = env.get_template("spotchecks.html").render(common, records=spotchecks, title="Spot checks")
    (site / "spotchecks.html").write_text(page, encoding="utf-8")
    for name in ("site.css", "site.js"):
        shutil.copyfile(Path(__file__).with_name("static") / name, site / name)
    progress("index, method cards, methodology and spot checks")


def board_signal(board: Board) -> str:
    """The carbon signal type of a board's traces (`harness.carbon.catalog.SIGNALS`; a study never mixes them)."""
    from harness.carbon.traces import load_trace

    return "; ".join(sorted({load_trace(trace).signal.label for trace in board.traces}))


def _p_text(p: Any) -> str:
    """A p-value as the pages show it: two significant digits, scientific below 0.001."""
    return f"{float(p):.1e}" if _finite(p) and 0 < float(p) < 1e-3 else num(p, 2)


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}" if _finite(value) else "–"


def _sensitivity_pages(
    studies: list[StudyPage], site: Path, env: Any, common: dict[str, Any], cards: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every shipped sensitivity board whose studies the site holds (`harness.studies.sensitivity`): its page, CSVs
    and rank chart; returns what the index lists (name, file, description, correlations)."""
    from matplotlib.figure import Figure

    from harness.leaderboard.charts import WIDE, save
    from harness.studies.plots import methods_of, plot_rank_shift
    from harness.studies.sensitivity import SENSITIVITIES, TARGET, load_sensitivity, sensitivity

    boards = {page.study["name"]: page.boards for page in studies}
    listed = []
    for entry in SENSITIVITIES.entries().values():
        spec = load_sensitivity(entry.load())
        if not all(name in boards for name in spec.studies.values()):
            continue  # a results folder without every study of this board
        for name in spec.studies.values():
            if len(boards[name]) != 1:
                raise HarnessError(f"sensitivity {spec.name}: study {name} has {len(boards[name])} boards, not one")
        chosen = {name: boards[name][0] for name in spec.studies.values()}
        result = sensitivity(spec, chosen)
        slug = file_stem(f"sensitivity-{spec.name}")
        downloads = {k: f"data/{slug}-{k}.csv" for k in ("ranks", "correlations", "carbon")}
        for key, frame in (("ranks", result.ranks), ("correlations", result.correlations), ("carbon", result.carbon)):
            _csv(frame, site / downloads[key])
        ax = Figure(figsize=WIDE, layout="constrained").add_subplot()
        plot_rank_shift(result.ranks, ax, f"{spec.name}: rank at {result.headline} by accounting profile", False)
        ranked = result.ranks.dropna(subset=["rank"])
        order = methods_of(ranked)
        alt = "Rank of each method under each profile: " + "; ".join(
            f"{m}: " + ", ".join(f"{r.profile} {int(r.rank)}" for r in ranked[ranked["method"] == m].itertuples())
            for m in order
        )
        chart = save(ax, site / "charts" / slug / "ranks.svg", site, "ranks", alt, order, {}, order)
        base = result.ranks[result.ranks["profile"] == spec.baseline]["method"].tolist()
        cell = {(r["profile"], r["method"]): r for r in result.ranks.to_dict("records")}
        carbon = {(r["profile"], r["method"]): r for r in result.carbon.to_dict("records")}
        ranks_rows = []
        for method in base:
            cells = []
            for profile in spec.studies:
                r = cell.get((profile, method), {})
                shown = interval(r.get("iqm"), r.get("iqm_lo"), r.get("iqm_hi"))
                rank = "(bound)" if r.get("privileged") else (f"#{int(r['rank'])}" if _finite(r.get("rank")) else "")
                cells.append({"iqm": shown["value"], "ci": shown["ci"], "rank": rank})
            ranks_rows.append(
                {"method": method, "privileged": bool(cell[(spec.baseline, method)]["privileged"]), "cells": cells}
            )
        ratio_rows = [
            {
                "method": method,
                "cells": [
                    {
                        "ratio": num(carbon[(p, method)]["ratio_to_reference"], 3),
                        "reached": f"{carbon[(p, method)]['reached']}/{carbon[(p, method)]['runs']}",
                    }
                    for p in spec.studies
                ],
            }
            for method in base
        ]
        terms = [
            {
                "profile": r["profile"],
                "method": r["method"],
                "carbon": num(r["carbon_lbs"]),
                **{t: _pct(r[f"{t}_share"]) for t in TERMS},
            }
            for r in result.carbon.to_dict("records")
        ]
        correlations = [
            {
                "profile": r["profile"],
                "n": r["n"],
                "tau": f"{r['kendall_tau']:.3f}" if _finite(r["kendall_tau"]) else "n/a",
                "tau_p": _p_text(r["kendall_p"]),
                "rho": f"{r['spearman_rho']:.3f}" if _finite(r["spearman_rho"]) else "n/a",
                "rho_p": _p_text(r["spearman_p"]),
                "leader": r["leader"],
                "same_leader": r["same_leader"],
            }
            for r in result.correlations.to_dict("records")
            if r["profile"] != spec.baseline
        ]
        page = {
            "name": spec.name,
            "description": spec.description,
            "file": f"{slug}.html",
            "headline": result.headline,
            "baseline": spec.baseline,
            "studies": spec.studies,
            "boards": {p: f"{chosen[name].slug}.html" for p, name in spec.studies.items()},
            "signal": board_signal(chosen[spec.studies[spec.baseline]]),
            "reference": spec.reference_method,
            "target": round(100 * TARGET),
            "correlations": correlations,
            "ranks": ranks_rows,
            "ratios": ratio_rows,
            "terms": terms,
            "chart": chart,
            "downloads": downloads,
        }
        html = env.get_template("sensitivity.html").render(common, page=page, cards=cards, title=spec.name)
        (site / f"{slug}.html").write_text(html, encoding="utf-8")
        listed.append(page)
    return listed


def _suites(studies: list[StudyPage]) -> list[dict[str, Any]]:
    """Every shipped suite with its saturation table over the site's boards (rows formatted for the page)."""
    from harness.studies.suites import load_suite, saturation_rows, suite_names

    out = []
    for name in suite_names():
        suite = load_suite(name)
        table = [
            row
            for page in studies
            if page.study["name"] in suite.studies
            for b in page.boards
            for row in saturation_rows(name, page.study["name"], (b.benchmark, b.budget, b.gpus), b.levels)
        ]
        rows = [
            {
                "study": r["study"],
                "benchmark": r["benchmark"],
                "level": r["level"],
                "headline": r["headline"],
                "random_search": f"{r['random_search_iqm']:.2f} %" if _finite(r["random_search_iqm"]) else "not run",
                "leader": r["leader"],
                "leader_iqm": f"{r['leader_iqm']:.2f} %" if _finite(r["leader_iqm"]) else "",
                "gap": f"{r['gap_pp']:.2f}" if _finite(r["gap_pp"]) else "–",
            }
            for r in table
        ]
        out.append(
            {
                "name": name,
                "description": suite.description,
                "reference_rule": suite.reference_rule,
                "levels": suite.levels,
                "headline": suite.headline,
                "studies": list(suite.studies),
                "saturation": rows,
            }
        )
    return out


def _manifest(site: Path) -> None:
    files = {
        p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }
    document = {"schema": SITE_SCHEMA, "version": __version__, "files": files}
    (site / MANIFEST).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_studies(
    results: Path, progress: Callable[[str], None] = lambda _: None, submissions: Path | None = None
) -> list[StudyPage]:
    """Every study under `results`, read from its committed form (checked) into boards, with the rows of the
    submission bundles under `submissions` made for its suite (`harness.submissions`)."""
    from harness.studies.hindsight import with_hindsight
    from harness.submissions import bundles_in, with_submissions

    bundles = bundles_in(submissions) if submissions is not None else []
    folders = study_folders(results)
    names = {f.name for f in folders}
    for bundle in bundles:
        if bundle.submission["study"] not in names:
            raise HarnessError(
                f"{bundle.path} is for study {bundle.submission['study']}, which {results} does not hold"
            )
    pages = []
    for folder in folders:
        frames = read_published(folder)
        if frames.runs.empty:
            raise HarnessError(f"{folder}: the study has no runs")
        study = json.loads((folder / "study.json").read_text(encoding="utf-8"))["study"]
        frames = with_hindsight(study, with_submissions(study, frames, bundles))
        pages.append(StudyPage(study, frames.provenance, boards_of(study, frames)))
        progress(f"read {study['name']}")
    return pages


def check_output(out: Path) -> None:
    """`out` must be absent, empty, or a site this command built (it is replaced whole)."""
    if out.exists() and not out.is_dir():
        raise HarnessError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise HarnessError(
            f"{out} is not empty and holds no {MANIFEST}: refusing to replace a folder this command did not build"
        )
    parent = out.parent if out.parent != Path("") else Path(".")
    if not parent.is_dir():
        raise HarnessError(f"cannot build into {out}: {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise HarnessError(f"cannot build into {out}: {parent} is not writable")


def _clean_stale(parent: Path, name: str) -> None:
    """Remove the staging folders of builds of `name` that were killed (their process is gone)."""
    for folder in parent.glob(f".{name}.*-*"):
        kind, _, pid = folder.name.removeprefix(f".{name}.").rpartition("-")
        if kind not in ("building", "old") or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # alive (another user's process): not ours to remove


def build_steps(results: Path) -> int:
    """How many times `build_site` calls its `progress`: each study read, each study rendered, and the last pages."""
    return 2 * len(study_folders(results)) + 1


def build_site(
    results: Path, out: Path, progress: Callable[[str], None] = lambda _: None, submissions: Path | None = None
) -> tuple[list[StudyPage], list[Path]]:
    """Build the site for every study under `results` (and the bundles under `submissions`) into `out` (replaced
    whole); returns the studies and files. `progress(note)` is called `build_steps(results)` times."""
    check_output(out)
    from harness.spotcheck.record import read_records

    studies = load_studies(results, progress, submissions)  # every input checked before anything is written
    for field in ("benchmarks", "accounting"):
        _merged(studies, field)  # studies that disagree are refused before any work
    spotchecks = read_records(results / "spotchecks")
    parent = out.parent if out.parent != Path("") else Path(".")
    _clean_stale(parent, out.name)
    staging = parent / f".{out.name}.building-{os.getpid()}"
    old = parent / f".{out.name}.old-{os.getpid()}"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        _render(studies, staging, results, spotchecks, progress)
        _manifest(staging)
        if out.exists():
            out.rename(old)
        staging.rename(out)
    except OSError as exc:
        raise os_error(exc, f"cannot build the site into {out}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return studies, sorted(p for p in out.rglob("*") if p.is_file())
