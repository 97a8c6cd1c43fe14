"""What `harness traces list` needs, without pandas: trace sources, named windows, and the per-year summary of every
trace, cached beside the traces table.

The summary is computed from the verified traces table (`harness.carbon.traces.yearly_summary`) and cached as JSON
under CACHE/summaries/ with a checksum, keyed by the table's stamp (its pinned inputs, builder version and parquet
sha256): a rebuilt table, a changed pin or a new builder version gives a new key; a cached file that fails its
checksum is recomputed, never used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.data.manifest import DataFile, Manifest, load_manifest
from harness.registry import Registry

BUILDER_VERSION = 2  # traces table; 2: GB and DE lets-wait-awhile hours are the mean of their 15/30-min samples
SUMMARY_VERSION = 1
SOURCES: dict[str, str] = {
    "sc": "Electricity Maps via sustain-cluster",
    "dp": "Electricity Maps via decarbonization-potential",
    "lwa": "ENTSO-E via lets-wait-awhile",
    "ca": "co2signal via carbonAdvisor",
}


def trace_files(manifest: Manifest) -> list[DataFile]:
    return [f for f in manifest if f.group == "carbon"]


@dataclass(frozen=True)
class NamedWindow:
    name: str
    region: str
    start: str
    end_inclusive: str
    description: str

    @property
    def hours(self) -> int:
        span = datetime.fromisoformat(self.end_inclusive) - datetime.fromisoformat(self.start)
        return int(span.total_seconds() // 3600) + 1


WINDOWS: Registry[NamedWindow] = Registry("trace window", "traces list")
"""Named trace windows (`--trace hotcarbon-1`)."""
for _window in (
    NamedWindow("hotcarbon-1", "US-CAL-CISO", "2021-01-01T00:00", "2021-01-02T16:00", "HotCarbon'23 trace 1"),
    NamedWindow("hotcarbon-2", "US-CAL-CISO", "2021-01-02T17:00", "2021-01-04T09:00", "HotCarbon'23 trace 2"),
    NamedWindow("neurips", "US-CAL-CISO", "2021-07-02T00:00", "2021-07-04T08:00", "CE-NAS NeurIPS'24 Fig. 3"),
    NamedWindow(
        "neurips-code",
        "US-CAL-CISO",
        "2021-07-02T06:00",
        "2021-07-04T14:00",
        "CE-NAS code's start: row 13158 of its file, if that file starts 2020-01-01 00:00 UTC",
    ),
):
    WINDOWS.add(_window.name, f"{_window.description}: {_window.region} {_window.start} to {_window.end_inclusive}",
                value=_window)  # fmt: skip


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
    rows = [{**row, "start": fmt_time(row["start"]), "end": fmt_time(row["end"])}
            for row in frame.to_dict(orient="records")]  # fmt: skip
    rows = json.loads(json.dumps(rows))  # plain JSON types, as a cached read returns them
    key = _summary_key(cache)  # the table exists now
    if key:
        write_cached(path(key), key, rows)
    return rows
