"""Hourly carbon-intensity traces (gCO2eq/kWh, UTC) built from the mirrored upstream CSVs.

Sources, in the order a bare zone name resolves to them:
  sc  - Electricity Maps data portal via HewlettPackard/sustain-cluster (life-cycle `LCA` column), 2021-2022
  dp  - Electricity Maps data portal via umassos/decarbonization-potential (older vintage), 2021-2022
  lwa - ENTSO-E derived series via dos-group/lets-wait-awhile: GB and DE are native 15/30-min series, their hourly value
        is the mean of the hour's samples; FR's half-hour points were interpolated by the authors from hourly data, so
        its on-the-hour rows are the original values
  ca  - polled co2signal / Electricity Maps via umassos/carbonAdvisor (hourly with gaps)
Each (source, zone) becomes one series on a complete hourly UTC index; hours the source lacks stay NaN and are
reported as gaps, never filled.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.carbon.catalog import BUILDER_VERSION, SOURCES, WINDOWS, Signal, signal_of, trace_files
from harness.data.fetch import InputReader, VerifiedFile, cache_dir
from harness.data.manifest import DataFile, Manifest, load_manifest
from harness.data.tables import cached_table
from harness.errors import DataIntegrityError, HarnessError

LWA_ZONES = {"fr": "FR", "gb": "GB", "ger": "DE"}
LWA_ON_THE_HOUR = {"FR"}  # FR's half-hour points are cubic interpolations of hourly data; GB and DE are native
ZONE_ALIASES = {"BR-SP": "BR-CS", "CL-SIC": "CL-SEN", "DE-LU": "DE"}  # sustain-cluster folder -> Zone Id
E1_TIME = "Datetime (UTC)"
E1_LCA = "Carbon Intensity gCO\u2082eq/kWh (LCA)"
E1_DIRECT = "Carbon Intensity gCO\u2082eq/kWh (direct)"


def _source_of(entry: DataFile) -> str:
    return entry.name.split("-")[1]


def _read_one(entry: DataFile, file: VerifiedFile) -> pd.DataFrame:
    """Parse one upstream CSV into rows (zone, time UTC, ci, ci_direct) in its own hourly resolution."""
    source = _source_of(entry)
    try:
        if source in ("sc", "dp"):
            raw = pd.read_csv(file.stream())
            zones = raw["Zone Id"].unique()
            if len(zones) != 1:
                raise ValueError(f"expected one zone, found {list(zones)}")
            out = pd.DataFrame(
                {
                    "time": pd.to_datetime(raw[E1_TIME], format="%Y-%m-%d %H:%M:%S", utc=True),
                    "ci": raw[E1_LCA].astype(float),
                    "ci_direct": raw[E1_DIRECT].astype(float),
                }
            )
            out.insert(0, "zone", zones[0])
            return out
        if source == "lwa":
            raw = pd.read_csv(file.stream())
            time = pd.to_datetime(raw["Time"], format="%Y-%m-%d %H:%M:%S", utc=True)
            zone = LWA_ZONES[re.sub(r"^ci-lwa-", "", entry.name)]
            ci = raw["Carbon Intensity"].astype(float)
            if zone in LWA_ON_THE_HOUR:  # interpolated by the authors from hourly data: the hour's value is on it
                on_hour = (time.dt.minute == 0).to_numpy()
                return pd.DataFrame({"zone": zone, "time": time[on_hour], "ci": ci[on_hour]})
            hourly = ci.groupby(time.dt.floor("h").to_numpy()).mean()  # native 15/30-min series: the hour's mean
            return pd.DataFrame({"zone": zone, "time": hourly.index, "ci": hourly.to_numpy()})
        if source == "ca":
            raw = pd.read_csv(file.stream())
            zone = entry.name.removeprefix("ci-ca-")
            time = pd.to_datetime(raw["zone_datetime"], format="%Y-%m-%dT%H:%M:%S.%fZ", utc=True)
            return pd.DataFrame({"zone": zone, "time": time, "ci": raw["carbon_intensity_avg"].astype(float)})
    except (KeyError, ValueError, pd.errors.ParserError) as exc:
        raise DataIntegrityError(f"{entry.name}: not in the documented trace format ({exc})") from None
    raise HarnessError(f"no trace reader for {entry.name}")


def build_traces(fetch: Callable[[str], VerifiedFile], entries: list[DataFile]) -> pd.DataFrame:
    """Long table (source, zone, time, ci, ci_direct): one complete hourly UTC index per (source, zone)."""
    parts: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for entry in entries:
        frame = _read_one(entry, fetch(entry.name))
        parts.setdefault((_source_of(entry), frame["zone"].iat[0]), []).append(frame)
    series = []
    for (source, zone), frames in sorted(parts.items()):
        frame = pd.concat(frames).sort_values("time")
        if frame["time"].duplicated().any():
            raise DataIntegrityError(f"trace {source}:{zone} has duplicate hours")
        hours = pd.date_range(frame["time"].iat[0], frame["time"].iat[-1], freq="h")
        frame = frame.set_index("time").reindex(hours).rename_axis("time").reset_index()
        frame["source"], frame["zone"] = source, zone
        series.append(frame.reindex(columns=["source", "zone", "time", "ci", "ci_direct"]))
    return pd.concat(series, ignore_index=True)


def load_trace_table(manifest: Manifest | None = None, cache: Path | None = None, lean: bool = False) -> pd.DataFrame:
    """All traces from the cache (built on first use, or when an input's pinned hash changes). `lean`: only the
    columns runs use (source, zone, time, ci), source and zone as categoricals."""
    manifest = manifest or load_manifest()
    entries = trace_files(manifest)
    stamp = {"builder": "traces", "version": BUILDER_VERSION, "inputs": {e.name: e.sha256 for e in entries}}

    def build() -> tuple[pd.DataFrame, dict[str, str]]:
        reader = InputReader(manifest, cache)
        return build_traces(reader, entries), reader.read

    if not lean:
        return cached_table("traces", stamp, build, cache)
    return cached_table("traces", stamp, build, cache, ["source", "zone", "time", "ci"], categories=["source", "zone"])


@functools.cache
def _series_index(cache_key: str) -> dict[tuple[str, str], tuple[pd.Timestamp, np.ndarray]]:
    """(source, zone) -> (first hour, hourly values), built once per process and cache folder."""
    table = load_trace_table(cache=Path(cache_key), lean=True)
    source, zone = table["source"].cat, table["zone"].cat
    codes = source.codes.to_numpy(np.int64) * len(zone.categories) + zone.codes.to_numpy(np.int64)
    values = table["ci"].to_numpy(np.float64)
    times = table["time"]
    index = {}
    for code in pd.unique(codes):  # series in table order
        rows = np.flatnonzero(codes == code)
        s, z = divmod(int(code), len(zone.categories))
        index[(str(source.categories[s]), str(zone.categories[z]))] = (times.iat[rows[0]], values[rows])
    return index


@dataclass(frozen=True)
class Trace:
    """An hourly series: `values[i]` is the mean intensity (gCO2eq/kWh) of the hour starting at `start + i h`."""

    region: str
    start: pd.Timestamp
    values: np.ndarray

    @property
    def hours(self) -> int:
        return len(self.values)

    @property
    def signal(self) -> Signal:
        """What the values measure (basis, emission factors, average or marginal): its source's."""
        return signal_of(self.region)

    @property
    def times(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.hours, freq="h")

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end: the start of the hour after the last one."""
        return self.start + pd.Timedelta(hours=self.hours)

    def gaps(self) -> list[tuple[pd.Timestamp, int]]:
        """Missing stretches as (first missing hour, length in hours)."""
        missing = np.isnan(self.values)
        out, i = [], 0
        while i < len(missing):
            if missing[i]:
                j = i
                while j < len(missing) and missing[j]:
                    j += 1
                out.append((self.start + pd.Timedelta(hours=i), j - i))
                i = j
            else:
                i += 1
        return out

    def window(self, start: pd.Timestamp | str | None = None, hours: int | None = None) -> Trace:
        """The sub-trace from `start` (default: this trace's start) for `hours` (default: to the end)."""
        begin = self.start if start is None else parse_time(start)
        offset = int((begin - self.start) / pd.Timedelta(hours=1))
        if begin != self.start + pd.Timedelta(hours=offset) or not 0 <= offset < self.hours:
            raise HarnessError(
                f"trace {self.region} covers {fmt_time(self.start)} to {fmt_time(self.end)} (exclusive) on whole "
                f"hours; {fmt_time(begin)} is outside it"
            )
        stop = self.hours if hours is None else offset + hours
        if hours is not None and (hours <= 0 or stop > self.hours):
            raise HarnessError(
                f"trace {self.region} has only {self.hours - offset} hours from {fmt_time(begin)}; asked for {hours}"
            )
        return Trace(self.region, begin, self.values[offset:stop])

    def stats(self) -> dict[str, float]:
        """mean, min, max and coefficient of variation (population std / mean) over the present hours."""
        v = self.values[~np.isnan(self.values)]
        return {"mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()), "cv": float(v.std() / v.mean())}


def parse_time(text: str | pd.Timestamp) -> pd.Timestamp:
    """A UTC timestamp from ISO text (`2021-07-02`, `2021-07-02T06:00`, `2021-07-02 06:00`); naive means UTC."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise HarnessError(f"cannot read time {text!r}; use ISO form like 2021-07-02T06:00 (UTC)") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def fmt_time(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M")


def trace_data_files(trace: Trace, manifest: Manifest | None = None) -> list[DataFile]:
    """The manifest files a trace's values come from (its source and zone; for provenance)."""
    source, zone = trace.region.split(":")
    out = []
    for entry in trace_files(manifest or load_manifest()):
        if _source_of(entry) != source:
            continue
        name_zone = re.sub(r"^ci-[a-z]+-", "", entry.name)
        name_zone = re.sub(r"-\d{4}$", "", name_zone)
        if ZONE_ALIASES.get(name_zone, LWA_ZONES.get(name_zone, name_zone)) == zone:
            out.append(entry)
    return out


def yearly_summary(cache: Path | None = None) -> pd.DataFrame:
    """One row per (source, zone, calendar year): id, span, hours, gap hours, mean/min/max and CV."""
    table = load_trace_table(cache=cache)
    table = table.assign(year=table["time"].dt.year)
    rows = []
    for (source, zone, year), group in table.groupby(["source", "zone", "year"], sort=False):
        trace = Trace(f"{source}:{zone}", group["time"].iat[0], group["ci"].to_numpy())
        rows.append(
            {
                "id": f"{source}:{zone}",
                "zone": zone,
                "source": source,
                "year": int(year),
                "start": trace.start,
                "end": trace.end,
                "hours": trace.hours,
                "gap_hours": int(np.isnan(trace.values).sum()),
                **trace.stats(),
            }
        )
    order = {s: i for i, s in enumerate(SOURCES)}
    frame = pd.DataFrame(rows)
    frame["rank"] = frame["source"].map(order)
    return frame.sort_values(["zone", "rank", "year"]).drop(columns="rank").reset_index(drop=True)


def resolve_region(region: str, available: set[tuple[str, str]]) -> tuple[str, str]:
    """(source, zone) of `region`: `SOURCE:ZONE`, or a zone (or sustain-cluster folder alias) in source order."""
    source, _, zone = region.rpartition(":")
    zone = ZONE_ALIASES.get(zone, zone)
    candidates = [source] if source else list(SOURCES)
    for candidate in candidates:
        if (candidate, zone) in available:
            return candidate, zone
    known = sorted({z for _, z in available})
    raise HarnessError(f"unknown trace region '{region}'; known zones: {', '.join(known)} (see `harness traces list`)")


def load_trace(spec: str, cache: Path | None = None) -> Trace:
    """A trace from `REGION`, `REGION@START` (ISO, UTC) or a named window (`hotcarbon-1`, `hotcarbon-2`, `neurips`)."""
    if spec in WINDOWS:
        window = WINDOWS[spec]
        return load_trace(window.region, cache).window(window.start, window.hours)
    region, _, start = spec.partition("@")
    series = _series_index(str(cache or cache_dir()))
    source, zone = resolve_region(region, set(series))
    start_time, values = series[(source, zone)]
    trace = Trace(f"{source}:{zone}", start_time, values)
    return trace.window(start) if start else trace
