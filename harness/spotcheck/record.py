"""Spot-check records (schema `cenas-bench/spotcheck/1`, written by `harness spotcheck`): reading and checking them
without importing torch (the leaderboard's "spot checks" page reads them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

SCHEMA = "cenas-bench/spotcheck/1"

REQUIRED = ("spec", "hardware", "versions", "measurement", "rows", "summary")
NUMBER = (int, float)
SHAPE: dict[str, dict[str, Any]] = {
    "spec": {"benchmark": str, "device": str},
    "hardware": {"cpu": str},
    "measurement": {"time": str, "energy": str, "data": str},
    "summary": {
        "archs": int,
        "kendall_tau_time": NUMBER,
        "kendall_p_time": NUMBER,
        "time_ratio_median": NUMBER,
        "time_ratio_min": NUMBER,
        "time_ratio_max": NUMBER,
        "params_match": bool,
    },
}
"""What the leaderboard reads of each section: key -> type(s) (a number may also be null: not measured)."""
ROW = {"arch": str, "params": int, "table_s_per_epoch": NUMBER, "s_per_epoch": NUMBER, "time_ratio": NUMBER}


def read_record(path: Path) -> dict[str, Any]:
    """A spot-check record, its schema and keys checked (one error line)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read spot-check record {path} ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise HarnessError(f"{path} is not a spot-check record (schema {SCHEMA})")
    missing = [k for k in REQUIRED if k not in document]
    if missing or not document["rows"]:
        raise HarnessError(f"{path}: spot-check record without {', '.join(missing) or 'rows'}")
    problem = _shape_problem(document)
    if problem:
        raise HarnessError(f"{path} is not a valid spot-check record: {problem}")
    return document


def _kind_ok(value: Any, kind: Any) -> bool:
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    return isinstance(value, kind) or (kind is NUMBER and value is None)


def _shape_problem(document: dict[str, Any]) -> str | None:
    """The first field the leaderboard reads that is missing or of the wrong type, or None."""
    if not isinstance(document["versions"], dict):
        return "versions is not an object"
    for section, fields in SHAPE.items():
        part = document[section]
        if not isinstance(part, dict):
            return f"{section} is not an object"
        for key, kind in fields.items():
            if key not in part or not _kind_ok(part[key], kind):
                return f"{section}.{key} is missing or not {_kind_name(kind)}"
    summary = document["summary"]
    for key in ("energy_ratio_median", "kendall_tau_energy", "kendall_tau_accuracy"):  # optional: shown when present
        if key in summary and not _kind_ok(summary[key], NUMBER):
            return f"summary.{key} is not a number"
    row_fields = ROW | ({"j_per_epoch": NUMBER, "energy_ratio": NUMBER} if "energy_ratio_median" in summary else {})
    rows = document["rows"]
    if not isinstance(rows, list):
        return "rows is not a list"
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            return f"rows[{i}] is not an object"
        for key, kind in row_fields.items():
            if key not in row or not _kind_ok(row[key], kind):
                return f"rows[{i}].{key} is missing or not {_kind_name(kind)}"
    return None


def _kind_name(kind: Any) -> str:
    return {str: "text", int: "an integer", bool: "true or false"}.get(kind, "a number")


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Every `*.json` spot-check record in `folder` (none if it does not exist), by file name, each with `file`."""
    if not folder.is_dir():
        return []
    return [read_record(p) | {"file": p.name} for p in sorted(folder.glob("*.json"))]
