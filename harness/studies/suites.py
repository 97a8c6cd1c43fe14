"""Versioned benchmark suites: a frozen set of studies (`leaderboards/suites/NAME.toml`), each study file pinned by
its sha256, with the rule that chose its reference points, its levels and its headline stated once.

A suite is reproducible by its name: `harness suite show v1` lists its studies and checks that the shipped study files
are the frozen ones (an edited study belongs in a new suite version), and `harness sweep STUDY` reruns each. Every
study of a suite names it (`suite = "v2"`; a study without the key is in v1), and every board and download names the
suite of its study.

`saturation(suite, results)` is the suite's saturation table: on every board of its studies, at each level, how far
random search and the leader are apart (interquartile means of the runs' scores, % of HV_max), from the committed
results.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import HarnessError
from harness.studies.levels import BoardLevels

SCHEMA = "cenas-bench/suite/1"
BASELINE = "random-search"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    reference_rule: str
    levels: str
    headline: str
    studies: dict[str, str]
    """study name -> sha256 of its study file as frozen."""


def suites_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("leaderboards").joinpath("suites")))


def suite_names() -> list[str]:
    return sorted(p.stem for p in suites_dir().glob("*.toml"))


def load_suite(name: str) -> Suite:
    """The shipped suite `name` (one error line when unknown or malformed)."""
    path = suites_dir() / f"{name}.toml"
    if name not in suite_names():
        raise HarnessError(f"unknown suite {name!r} (known: {', '.join(suite_names())})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        if raw.get("schema") != SCHEMA or raw.get("name") != name:
            raise ValueError(f"schema must be {SCHEMA!r} and name {name!r}")
        return Suite(
            name,
            str(raw["description"]),
            str(raw["reference_rule"]),
            str(raw["levels"]),
            str(raw["headline"]),
            {str(k): str(v) for k, v in raw["studies"].items()},
        )
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"{path} is not a suite file ({exc})") from None


def check_suite(suite: Suite) -> list[str]:
    """Problems with the shipped study files of `suite` (empty when every file is the frozen one and names the
    suite)."""
    from harness.studies.spec import load_study_spec, studies_dir

    problems = []
    for study, pinned in suite.studies.items():
        path = studies_dir() / f"{study}.toml"
        if not path.is_file():
            problems.append(f"{study}: no shipped study file")
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != pinned:
            problems.append(
                f"{study}: the study file is not the one suite {suite.name} froze (an edited study "
                f"belongs in a new suite version)"
            )
        elif (named := load_study_spec(study).suite) != suite.name:
            problems.append(f"{study}: the study names suite {named}, not {suite.name}")
    return problems


COLUMNS = (
    "suite",
    "study",
    "benchmark",
    "budget",
    "gpus",
    "level",
    "headline",
    "random_search_iqm",
    "leader",
    "leader_iqm",
    "gap_pp",
    "methods",
    "n",
)


def saturation_rows(suite: str, study: str, board: tuple, levels: BoardLevels) -> list[dict[str, Any]]:
    """One board's rows of the saturation table (`saturation`), from its levels and statistics."""
    rows = []
    stats = levels.stats
    for name in levels.names:
        leader = levels.leader_row(name)
        base = stats[(stats["level"] == name) & (stats["n"] > 0) & (stats["method"] == BASELINE)]
        lead_iqm = float(leader["iqm"]) if leader else float("nan")
        base_iqm = float(base["iqm"].iloc[0]) if len(base) else float("nan")
        rows.append(
            {
                "suite": suite,
                "study": study,
                "benchmark": board[0],
                "budget": board[1],
                "gpus": board[2],
                "level": name,
                "headline": name == levels.headline,
                "random_search_iqm": base_iqm,
                "leader": str(leader["method"]) if leader else "",
                "leader_iqm": lead_iqm,
                "gap_pp": lead_iqm - base_iqm,
                "methods": int(stats["method"].nunique()),
                "n": int(levels.power["n"]),
            }
        )
    return rows


def saturation(suite: Suite, results: Path) -> pd.DataFrame:
    """On every board of the suite's studies with committed results under `results`, at every level (the headline
    first): random search's and the leader's interquartile mean (% of HV_max), the leader, and the gap in pp.
    Columns: suite, study, benchmark, budget, gpus, level, headline, random_search_iqm, leader, leader_iqm, gap_pp,
    methods, n."""
    import json

    from harness.studies.aggregate import BOARD, tidy_frame
    from harness.studies.levels import board_levels
    from harness.studies.published import read_published

    rows: list[dict[str, Any]] = []
    for study in suite.studies:
        folder = results / study
        if not (folder / "study.json").is_file():
            continue
        spec = json.loads((folder / "study.json").read_text(encoding="utf-8"))["study"]
        frames = read_published(folder)
        tidy = tidy_frame(frames.runs, frames.curves)
        privileged = frozenset(frames.provenance.get("privileged", {}))
        for board, runs in frames.runs.groupby(list(BOARD), sort=False):
            levels = board_levels(spec, runs, tidy[tidy["key"].isin(runs["key"])], privileged)
            rows += saturation_rows(suite.name, study, board, levels)
    return pd.DataFrame(rows, columns=list(COLUMNS))
