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

from harness.errors import HarnessError
from harness.io import atomic_write_text

SCHEMA = "cenas-bench/run-record/1"


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


def load_record(path: str | Path) -> RunRecord:
    """Read a run record; raises HarnessError for files that are not run records."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if document.get("schema") != SCHEMA:
            raise ValueError(f"schema {document.get('schema')!r}")

        def rows(table: dict[str, Any]) -> list[dict[str, Any]]:
            return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]

        return RunRecord(
            spec=document["spec"],
            provenance=document["provenance"],
            summary=document["summary"],
            intervals=rows(document["intervals"]),
            evaluations=rows(document["evaluations"]),
        )
    except FileNotFoundError:
        raise HarnessError(f"no run record at {path}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HarnessError(f"{path} is not a cenas-bench run record ({exc})") from None
