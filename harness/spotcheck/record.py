"""Spot-check records (schema `cenas-bench/spotcheck/1`, written by `harness spotcheck`): reading and checking them
without importing torch (the leaderboard's "spot checks" page reads them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

SCHEMA = "cenas-bench/spotcheck/1"

REQUIRED = ("spec", "hardware", "versions", "measurement", "rows", "summary")


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
    return document


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Every `*.json` spot-check record in `folder` (none if it does not exist), by file name, each with `file`."""
    if not folder.is_dir():
        return []
    return [read_record(p) | {"file": p.name} for p in sorted(folder.glob("*.json"))]
