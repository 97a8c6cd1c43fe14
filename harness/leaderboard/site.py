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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import __version__
from harness.errors import HarnessError, os_error
from harness.leaderboard.boards import Board, boards_of, study_folders
from harness.studies.published import read_published

SITE_SCHEMA = "cenas-bench/site/1"
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
    digits = max(0, min(6, sig - 1 - math.floor(math.log10(abs(v)))))
    return f"{v:,.{digits}f}"


def pct(value: Any, digits: int = 2) -> str:
    if not _finite(value):
        return "n/a"
    return f"{100 * float(value):.{digits}f} %"


def _finite(value: Any) -> bool:
    return value is not None and isinstance(value, int | float | np.floating) and math.isfinite(float(value))


def _not_worse(p: Any) -> bool:
    """A p-value against the best that does not reject equality at ALPHA (NaN: no test)."""
    return _finite(p) and p >= ALPHA


def cells_for(board: Board, row: dict[str, Any]) -> dict[str, Any]:
    """The display cells of one summary row: per checkpoint (text, sort value, marks), carbon to target, costs."""
    checkpoints = []
    for c in board.checkpoints:
        k = f"{c:g}"
        reached, runs = int(row[f"reached@{k}"]), int(row["runs"])
        p, rank = row[f"p@{k}"], row[f"rank@{k}"]
        complete = reached == runs
        mark = ""
        if complete and _finite(rank) and int(rank) == 1 and board.min_runs > 1:
            mark = "best"
        elif complete and _not_worse(p):
            mark = "tie"
        half = (row[f"regret_hi@{k}"] - row[f"regret_lo@{k}"]) / 2
        fhalf = (row[f"fraction_hi@{k}"] - row[f"fraction_lo@{k}"]) / 2
        checkpoints.append({
            "lbs": c, "complete": complete, "reached": reached, "runs": runs, "mark": mark,
            "p": num(p, 2) if _finite(p) else "", "rank": int(rank) if _finite(rank) else None,
            "regret": num(row[f"regret@{k}"]), "regret_ci": num(half, 2) if _finite(half) else None,
            "regret_sort": row[f"regret@{k}"] if complete else None,
            "fraction": pct(row[f"fraction@{k}"]), "fraction_ci": pct(fhalf) if _finite(fhalf) else None,
            "fraction_sort": row[f"fraction@{k}"] if complete else None,
        })  # fmt: skip
    rank = row[f"rank@{board.matched_lbs:g}"]
    return {
        "method": row["method"], "runs": int(row["runs"]), "rank": int(rank) if _finite(rank) else None,
        "privileged": board.provenance.get("privileged", {}).get(row["method"], []),
        "checkpoints": checkpoints,
        "to": [{"pct": p, "lbs": num(row[f"to{p}_lbs"]), "sort": row[f"to{p}_lbs"] if _finite(row[f"to{p}_lbs"])
                else None, "reached": int(row[f"to{p}_reached"])} for p in (95, 99)],
        "gpu_hours": num(row["gpu_hours"]), "gpu_hours_sort": row["gpu_hours"],
        "carbon": num(row["carbon_lbs"]), "carbon_sort": row["carbon_lbs"],
    }  # fmt: skip


def summary_csv(board: Board) -> pd.DataFrame:
    """The board's table as numbers (one row per method), every column the page shows and the test p-values."""
    keep = ["method", "runs"]
    for c in board.checkpoints:
        k = f"{c:g}"
        keep += [f"{p}@{k}" for p in ("rank", "regret", "regret_lo", "regret_hi", "fraction", "fraction_lo",
                                      "fraction_hi", "reached", "p")]  # fmt: skip
    keep += ["to95_lbs", "to95_reached", "to99_lbs", "to99_reached", "gpu_hours", "carbon_lbs"]
    table = board.summary[keep].copy()
    for c in board.checkpoints:  # n/a where not every run reached the checkpoint, as the page shows: no survivor means
        k = f"{c:g}"
        partial = table[f"reached@{k}"] < table["runs"]
        for p in ("rank", "regret", "regret_lo", "regret_hi", "fraction", "fraction_lo", "fraction_hi", "p"):
            table.loc[partial, f"{p}@{k}"] = np.nan
    table.columns = [c.replace("@", "_at_") + ("lbs" if "@" in c else "") for c in keep]
    return table


def index_row(board: Board) -> dict[str, Any]:
    """The index's line for a board: leader at the matched carbon, its regret, and the methods not significantly
    worse (p >= ALPHA against the leader); privileged methods are neither (they are bounds, badged on the board)."""
    k = f"{board.matched_lbs:g}"
    leader = board.leader
    ties = [r["method"] for r in board.summary.to_dict("records")
            if r["method"] != leader["method"] and not r["privileged"] and _not_worse(r[f"p@{k}"])]  # fmt: skip
    return {"board": board, "leader": leader["method"], "regret": leader[f"regret@{k}"], "ties": ties,
            "tests": board.min_runs > 1}  # fmt: skip


# ---------------------------------------------------------------------------------------------------- charts
def alt_anytime(board: Board) -> str:
    c = board.matched_lbs
    leader = board.leader
    return (f"Line chart of log10 relative hypervolume regret (lower is better) against cumulative carbon in lbs "
            f"CO2eq on a log axis, one line with a 95 % band per method ({', '.join(board.methods)}). At the matched "
            f"carbon of {c:g} lbs the lowest mean regret is {leader['method']}'s, "
            f"{num(leader[f'regret@{c:g}'])}. The numbers are in the table above and in the curve CSV.")  # fmt: skip


def alt_fronts(chosen: pd.DataFrame, methods: list[str], trace: str, seed: int, front: str = "true front") -> str:
    """`chosen`: the true (or reference) front (method "") and the one run per method the chart draws."""
    sizes = chosen[chosen["method"] != ""].groupby("method").size()
    parts = ", ".join(f"{m}: {int(sizes.get(m, 0))} points" for m in methods)
    return (f"Scatter chart of the final Pareto fronts found on trace {trace} with seed {seed}: error (100 minus "
            f"accuracy, log scale) against cost, "
            f"drawn against the benchmark's {front} ({int((chosen['method'] == '').sum())} points); "
            f"{parts}. The points are in the fronts CSV.")  # fmt: skip


def alt_allocation(board: Board, methods: list[str]) -> str:
    return (f"Line chart of the mean number of GPUs training against the hour's carbon-intensity percentile within "
            f"its trace window (0 = cleanest hour), in deciles, for {', '.join(methods)}. A method that trains "
            f"more in clean hours slopes down. The hourly numbers are in the curve CSV.")  # fmt: skip


def _charts(board: Board, site: Path) -> dict[str, Any]:
    from harness.studies.report import allocating_methods, plot_allocation, plot_anytime, plot_fronts

    folder = site / "charts" / board.slug
    folder.mkdir(parents=True, exist_ok=True)
    key = (board.benchmark, board.budget, board.gpus)
    charts: dict[str, Any] = {}
    anytime = plot_anytime(board.curves, key, folder, ("svg",))[0]
    charts["anytime"] = {"src": anytime.relative_to(site).as_posix(), "alt": alt_anytime(board)}
    trace, seed = board.front_run()
    chosen = board.fronts[(board.fronts["method"] == "") | ((board.fronts["trace"] == trace)
                                                           & (board.fronts["seed"] == seed))]  # fmt: skip
    bench = board.provenance["benchmarks"][board.benchmark]
    front_name = "true front" if bench.get("enumerable", True) else "reference front"
    title = f"{board.benchmark}: final fronts, {trace}, seed {seed}"
    fronts = plot_fronts(chosen, bench["objectives"], title, folder / "fronts", ("svg",), front_name)[0]
    alt = alt_fronts(chosen, board.methods, trace, seed, front_name)
    charts["fronts"] = {"src": fronts.relative_to(site).as_posix(), "alt": alt, "trace": trace, "seed": seed,
                        "front": front_name}  # fmt: skip
    aware = allocating_methods(board.tidy)
    if aware:
        allocation = plot_allocation(board.tidy, key, folder, ("svg",))[0]
        charts["allocation"] = {"src": allocation.relative_to(site).as_posix(), "alt": alt_allocation(board, aware),
                                "methods": aware}  # fmt: skip
    return charts


# --------------------------------------------------------------------------------------------------- writing
def _csv(frame: pd.DataFrame, path: Path) -> None:
    """A CSV download; gzip-compressed (no name or time stamp: same frame, same bytes) when `path` ends in .gz."""
    import gzip

    path.parent.mkdir(parents=True, exist_ok=True)
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
    env.filters |= {"num": num, "pct": pct, "lbs": lambda c: f"{c:g}"}
    return env


def _data_sources(studies: list[StudyPage]) -> list[dict[str, Any]]:
    """Every upstream file the published runs read: manifest entry (URL, licence, citation) and the sha256 used."""
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    used: dict[str, dict[str, Any]] = {}
    for page in studies:
        for name, digest in page.provenance["data_files"].items():
            entry = manifest[name]
            row = used.setdefault(name, {"name": name, "group": entry.group, "url": entry.url,
                                         "license": entry.license, "citation": entry.citation, "sha256": set(),
                                         "studies": []})  # fmt: skip
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
                raise HarnessError(f"studies {entry['studies'][0]} and {page.study['name']} disagree on {field} "
                                   f"{name!r} ({', '.join(clash)}): publish results made by one version of the "
                                   "harness")  # fmt: skip
            entry["info"] = {k: entry["info"].get(k, info.get(k)) for k in sorted(set(entry["info"]) | set(info))}
            entry["studies"].append(page.study["name"])
    return [merged[k] for k in sorted(merged)]


def _citations(names: list[str]) -> list[str]:
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    return list(dict.fromkeys(manifest[n].citation for n in names))


def _render(studies: list[StudyPage], site: Path, results: Path, spotchecks: list[dict[str, Any]]) -> None:
    env = _environment()
    boards = [b for page in studies for b in page.boards]
    common = {"version": __version__, "results": results.name}
    for page in studies:
        for board in page.boards:
            stem = f"data/{board.slug}"
            downloads = {
                "summary": f"{stem}-summary.csv", "runs": f"{stem}-runs.csv",
                "curves": f"{stem}-curves.csv", "fronts": f"{stem}-fronts.csv.gz",
            }  # fmt: skip
            _csv(summary_csv(board), site / downloads["summary"])
            _csv(board.per_run(), site / downloads["runs"])
            _csv(board.curves, site / downloads["curves"])
            _csv(
                board.fronts[["method", "trace", "seed", "key", "arch", "accuracy", "cost"]], site / downloads["fronts"]
            )
            rows = [cells_for(board, r) for r in board.summary.to_dict("records")]
            rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["method"]))
            html = env.get_template("board.html").render(
                common, board=board, page=page, rows=rows, charts=_charts(board, site), downloads=downloads,
                title=f"{board.title} ({page.study['name']})", alpha=ALPHA,
                privileged={m: w for m, w in board.provenance.get("privileged", {}).items() if m in board.methods},
            )  # fmt: skip
            (site / f"{board.slug}.html").write_text(html, encoding="utf-8")
    index = env.get_template("index.html").render(
        common,
        studies=studies,
        boards=boards,
        index_rows=[index_row(b) for b in boards],
        title="Leaderboard",
        alpha=ALPHA,
    )
    (site / "index.html").write_text(index, encoding="utf-8")
    methodology = env.get_template("methodology.html").render(
        common,
        studies=studies,
        sources=_data_sources(studies),
        benchmarks=_merged(studies, "benchmarks"),
        profiles=_merged(studies, "accounting"),
        citations=_citations,
        title="Methodology",
        alpha=ALPHA,
    )
    (site / "methodology.html").write_text(methodology, encoding="utf-8")
    page = env.get_template("spotchecks.html").render(common, records=spotchecks, title="Spot checks")
    (site / "spotchecks.html").write_text(page, encoding="utf-8")
    for name in ("site.css", "site.js"):
        shutil.copyfile(Path(__file__).with_name("static") / name, site / name)


def _manifest(site: Path) -> None:
    files = {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(site.rglob("*")) if p.is_file()}  # fmt: skip
    document = {"schema": SITE_SCHEMA, "version": __version__, "files": files}
    (site / MANIFEST).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_studies(results: Path) -> list[StudyPage]:
    """Every study under `results`, read from its committed form (checked) into boards."""
    pages = []
    for folder in study_folders(results):
        frames = read_published(folder)
        if frames.runs.empty:
            raise HarnessError(f"{folder}: the study has no runs")
        study = json.loads((folder / "study.json").read_text(encoding="utf-8"))["study"]
        pages.append(StudyPage(study, frames.provenance, boards_of(study, frames)))
    return pages


def check_output(out: Path) -> None:
    """`out` must be absent, empty, or a site this command built (it is replaced whole)."""
    if out.exists() and not out.is_dir():
        raise HarnessError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise HarnessError(f"{out} is not empty and holds no {MANIFEST}: refusing to replace a folder this command "
                           f"did not build")  # fmt: skip
    parent = out.parent if out.parent != Path("") else Path(".")
    if not parent.is_dir():
        raise HarnessError(f"cannot build into {out}: {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise HarnessError(f"cannot build into {out}: {parent} is not writable")


def build_site(results: Path, out: Path) -> tuple[list[StudyPage], list[Path]]:
    """Build the site for every study under `results` into `out` (replaced whole); returns the studies and files."""
    check_output(out)
    from harness.spotcheck.record import read_records

    studies = load_studies(results)  # every input checked before anything is written
    spotchecks = read_records(results / "spotchecks")
    parent = out.parent if out.parent != Path("") else Path(".")
    staging = parent / f".{out.name}.building-{os.getpid()}"
    old = parent / f".{out.name}.old-{os.getpid()}"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        _render(studies, staging, results, spotchecks)
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
