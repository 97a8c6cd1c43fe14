"""The per-year summary of every trace that `harness traces list` prints, without pandas when cached.

The summary is computed from the verified traces table (`harness.carbon.traces.yearly_summary`) and cached as JSON
under CACHE/summaries/ with a checksum, keyed by the table's stamp (its pinned inputs, builder version and parquet
sha256): a rebuilt table, a changed pin or a new builder version gives a new key; a cached file that fails its
checksum is recomputed, never used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.carbon.catalog import BUILDER_VERSION, trace_files
from harness.data.manifest import load_manifest

SUMMARY_VERSION = 1


def _summary_key(cache: Path | None) -> str | None:
    """Key of the summary of the cached traces table, or None when the table is absent or not the current build."""
    from harness.data.tables import read_stamp

    document = read_stamp("traces", cache) or {}
    stamp = document.get("stamp") or {}
    pins = {e.name: e.sha256 for e in trace_files(load_manifest())}
    if stamp.get("version") != BUILDER_VERSION or stamp.get("inputs") != pins or not document.get("sha256"):
        return None
    text = json.dumps({"table": document["sha256"], "stamp": stamp, "summary": SUMMARY_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def yearly_rows(cache: Path | None = None) -> list[dict[str, Any]]:
    """One row per (source, zone, calendar year): id, zone, source, year, start/end (`YYYY-MM-DD HH:MM` UTC, end
    exclusive), hours, gap_hours, mean/min/max (g/kWh) and cv; ordered by zone, source order, year."""
    from harness.data.fetch import cache_dir
    from harness.io import read_cached, write_cached

    def path(key: str) -> Path:
        return (cache or cache_dir()) / "summaries" / f"traces-{key}.json"

    key = _summary_key(cache)
    cached = read_cached(path(key), key) if key else None
    if isinstance(cached, list):
        return cached
    from harness.carbon.traces import fmt_time, yearly_summary

    frame = yearly_summary(cache)  # builds (or rebuilds) the verified table when needed
    rows = [
        {**row, "start": fmt_time(row["start"]), "end": fmt_time(row["end"])} for row in frame.to_dict(orient="records")
    ]
    rows = json.loads(json.dumps(rows))  # plain JSON types, as a cached read returns them
    key = _summary_key(cache)  # the table exists now
    if key:
        write_cached(path(key), key, rows)
    return rows
