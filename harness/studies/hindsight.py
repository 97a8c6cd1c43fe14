"""Bounds chosen in hindsight: a study row that, for each board, trace and seed, takes the best run among the rows it
names (`[[hindsight]]` in a study file: `label`, `of`), by the board's headline score (the HV area over the declared
levels; suite v1: the final HV). Choosing after every candidate has run knows the whole window, so the row is
privileged: badged and ranked apart on every board, a bound on what any one of its candidates could do, never a
method. It is derived when a study's frames are read for its report and its boards; the committed files hold only
the runs that ran.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from harness.studies.aggregate import BOARD
from harness.studies.published import StudyFrames
from harness.units import GRAMS_PER


def hindsight_phrase(of: list[str]) -> str:
    """What a hindsight row knows (its privileged information)."""
    return (
        f"chosen in hindsight: for each trace and seed, the best of {len(of)} rows by the headline, knowing how each "
        "ran"
    )


def _score(study: dict[str, Any], run: dict[str, Any], curve: pd.DataFrame) -> float:
    """The run's headline value: the HV area over the study's declared levels of its budget, else its final HV."""
    from harness.config import parse_budget
    from harness.studies.levels import hv_area
    from harness.studies.spec import level_lbs

    if not study.get("levels"):
        return float(run["hv"])
    budget = next(b for b in map(parse_budget, study["budgets"]) if b.describe() == run["budget"])
    low, high = (level_lbs(study["levels"][i], budget) * GRAMS_PER["lbs"] for i in (0, -1))
    return hv_area(curve.sort_values("hour"), low, high)


def with_hindsight(study: dict[str, Any], frames: StudyFrames) -> StudyFrames:
    """`frames` with the study's hindsight rows added (runs, curves and fronts under keys `KEY~LABEL`); provenance
    names each row's candidates and its privileged information."""
    declared = study.get("hindsight") or []
    if not declared:
        return frames
    runs, curves, fronts = [frames.runs], [frames.curves], [frames.fronts]
    provenance = dict(frames.provenance)
    provenance["methods"] = dict(provenance.get("methods", {}))
    provenance["privileged"] = dict(provenance.get("privileged", {}))
    by_key = {k: g for k, g in frames.curves.groupby("key", sort=False)}
    for entry in declared:
        label, of = entry["label"], list(entry["of"])
        candidates = frames.runs[frames.runs["method"].isin(of)]
        chosen = []
        for _, group in candidates.groupby([*BOARD, "trace", "seed"], sort=False):
            rows = group.to_dict("records")
            rank = [of.index(r["method"]) for r in rows]  # ties: the first candidate the study names
            scores = [_score(study, r, by_key[r["key"]]) for r in rows]
            best = max(range(len(rows)), key=lambda i: (scores[i], -rank[i]))
            chosen.append(rows[best])
        picked = pd.DataFrame(chosen, columns=frames.runs.columns)
        rename = {k: f"{k}~{label}" for k in picked["key"]}
        runs.append(picked.assign(method=label, key=picked["key"].map(rename)))
        mine = frames.curves[frames.curves["key"].isin(rename)]
        curves.append(mine.assign(method=label, key=mine["key"].map(rename)))
        theirs = frames.fronts[frames.fronts["key"].isin(rename)]
        fronts.append(theirs.assign(key=theirs["key"].map(rename)))
        provenance["methods"][label] = {"hindsight of": of}
        provenance["privileged"][label] = [hindsight_phrase(of)]
    return StudyFrames(
        pd.concat(runs, ignore_index=True),
        pd.concat(curves, ignore_index=True),
        pd.concat(fronts, ignore_index=True),
        provenance,
    )


def picked_counts(frames: StudyFrames, label: str) -> dict[str, int]:
    """How often each candidate was the best (the hindsight row's runs, by the row their key came from)."""
    originals = frames.runs.set_index("key")["method"]
    keys = frames.runs.loc[frames.runs["method"] == label, "key"].str.rsplit("~", n=1).str[0]
    return dict(pd.Series(np.asarray(originals.reindex(keys))).value_counts().sort_index())
