"""Run records: one self-describing JSON document per run, written atomically, loadable into pandas.

Layout: `schema`, `spec` (the RunSpec), `provenance` (package version, git commit, library versions, sha256 of every
data file used, accounting profile, trace window, benchmark reference point and HV_max), `summary`, and two tables
stored column-wise: `intervals` (one row per allocation interval) and `evaluations` (one row per job). Keys are
sorted and floats written with Python's shortest round-trip repr, so equal runs give byte-identical files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import HarnessError, os_error
from harness.io import atomic_write_text

SCHEMA = "cenas-bench/run-record/2"
"""2: evaluations carry each job's power and run segments, and HV counts paid trainings only (1: neither)."""
READABLE = ("cenas-bench/run-record/1", SCHEMA)
"""Schemas `load_record` reads (`harness audit` audits version 1 on what it carries)."""


def _table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    columns = list(rows[0]) if rows else []
    return {"columns": columns, "rows": [[row.get(c) for c in columns] for row in rows]}


def _clean(value: Any) -> Any:
    """JSON-safe: non-finite floats become None (JSON has no inf/nan)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


@dataclass(frozen=True)
class RunRecord:
    spec: dict[str, Any]
    provenance: dict[str, Any]
    summary: dict[str, Any]
    intervals: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]

    def to_json(self) -> str:
        document = {
            "schema": SCHEMA,
            "spec": self.spec,
            "provenance": self.provenance,
            "summary": self.summary,
            "intervals": _table(self.intervals),
            "evaluations": _table(self.evaluations),
        }
        return json.dumps(_clean(document), sort_keys=True, indent=1, allow_nan=False) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write atomically (temp file + rename); returns the path."""
        atomic_write_text(path, self.to_json())
        return Path(path)

    def intervals_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.intervals)

    def evaluations_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.evaluations)


_NUMBER = (int, float)
_SUMMARY_TYPES: dict[str, tuple[type, ...]] = {
    "stop_reason": (str,),
    "simulated_hours": _NUMBER,
    "hv": _NUMBER,
    "hv_max": _NUMBER,
    "hv_fraction": _NUMBER,
    "log_hv_diff": (*_NUMBER, type(None)),
    "carbon_g": _NUMBER,
    "carbon_kg": _NUMBER,
    "carbon_lbs": _NUMBER,
    "energy_kwh": _NUMBER,
    "gpu_hours": _NUMBER,
    "train_gpu_hours": _NUMBER,
    "oneshot_gpu_hours": _NUMBER,
    "n_trained": (int,),
    "n_unique_trained": (int,),
    "n_oneshot": (int,),
    "best_accuracy": (*_NUMBER, type(None)),
}
_SPEC_TYPES: dict[str, tuple[type, ...]] = {"method": (str,), "benchmark": (str,), "trace": (str,), "seed": (int,)}


def _require(mapping: Any, types: dict[str, tuple[type, ...]], where: str) -> None:
    if not isinstance(mapping, dict):
        raise ValueError(f"{where} is not an object")
    for key, allowed in types.items():
        if key not in mapping:
            raise ValueError(f"{where} lacks {key!r}")
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, allowed):
            raise ValueError(f"{where}.{key} has the wrong type ({type(value).__name__})")


def _rows(table: Any, where: str) -> list[dict[str, Any]]:
    if (
        not isinstance(table, dict)
        or not isinstance(table.get("columns"), list)
        or not isinstance(table.get("rows"), list)
    ):
        raise ValueError(f"{where} is not a columns/rows table")
    columns = table["columns"]
    if not all(isinstance(c, str) for c in columns):
        raise ValueError(f"{where} has non-text column names")
    if not all(isinstance(row, list) and len(row) == len(columns) for row in table["rows"]):
        raise ValueError(f"{where} has a row of the wrong length")
    return [dict(zip(columns, row, strict=True)) for row in table["rows"]]


def parse_record(document: Any) -> RunRecord:
    """A RunRecord from a decoded JSON document, its structure and the types `harness show` reads checked."""
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if document.get("schema") not in READABLE:
        raise ValueError(f"schema {document.get('schema')!r}, expected one of {READABLE}")
    _require(document.get("spec"), _SPEC_TYPES, "spec")
    _require(document.get("summary"), _SUMMARY_TYPES, "summary")
    provenance: Any = document.get("provenance")
    _require(provenance, {"package": (dict,), "data_files": (dict,), "trace": (dict,)}, "provenance")
    _require(provenance["package"], {"version": (str,), "git_commit": (str, type(None))}, "provenance.package")
    _require(provenance["trace"], {"region": (str,)}, "provenance.trace")
    return RunRecord(
        spec=document["spec"],
        provenance=provenance,
        summary=document["summary"],
        intervals=_rows(document.get("intervals"), "intervals"),
        evaluations=_rows(document.get("evaluations"), "evaluations"),
    )


def load_record(path: str | Path) -> RunRecord:
    """Read a run record; raises HarnessError (one line) for anything that is not a well-formed run record."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HarnessError(f"no run record at {path}") from None
    except IsADirectoryError:
        raise HarnessError(f"{path} is a folder, not a run record") from None
    except UnicodeDecodeError:
        raise HarnessError(f"{path} is not a cenas-bench run record (not UTF-8 text)") from None
    except OSError as exc:
        raise os_error(exc, f"cannot read {path}") from None
    try:
        return parse_record(json.loads(text))
    except RecursionError:
        raise HarnessError(f"{path} is not a cenas-bench run record (nested too deeply)") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HarnessError(f"{path} is not a cenas-bench run record ({exc})") from None
