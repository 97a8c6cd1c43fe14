"""Hourly carbon traces: SOURCES.md statistics, gap reporting, named windows and addressing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.carbon.traces import WINDOWS, load_trace, load_trace_table, yearly_summary
from harness.cli import app
from harness.errors import HarnessError

# SOURCES.md section 8: calendar year 2021, UTC, life-cycle column (mean, min, max to 0.1 g; CV to 0.001)
STATS_2021 = [
    ("sc", "US-CAL-CISO", 273.4, 99.5, 417.9, 0.246),
    ("sc", "DE", 436.1, 131.1, 689.0, 0.285),
    ("sc", "GB", 224.4, 39.7, 393.8, 0.307),
    ("sc", "US-MIDA-PJM", 435.0, 312.8, 571.9, 0.115),
    ("sc", "US-TEX-ERCO", 417.9, 183.5, 609.2, 0.214),
    ("sc", "CA-ON", 49.6, 11.3, 171.9, 0.698),
    ("sc", "SG", 491.6, 473.0, 501.6, 0.009),
    ("dp", "NO", 32.3, 23.7, 111.4, 0.288),
    ("dp", "ES", 174.3, 64.1, 360.7, 0.325),
]


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return yearly_summary()


@pytest.mark.parametrize(("source", "zone", "mean", "lo", "hi", "cv"), STATS_2021)
def test_calendar_2021_statistics(summary, source, zone, mean, lo, hi, cv) -> None:
    row = summary[(summary["source"] == source) & (summary["zone"] == zone) & (summary["year"] == 2021)].iloc[0]
    assert row["hours"] == 8760 and row["gap_hours"] == 0
    assert row["mean"] == pytest.approx(mean, abs=0.1)
    assert row["min"] == pytest.approx(lo, abs=0.1)
    assert row["max"] == pytest.approx(hi, abs=0.1)
    assert row["cv"] == pytest.approx(cv, abs=0.001)


@pytest.mark.parametrize(
    ("name", "hours", "lo", "hi", "mean"),
    [
        ("hotcarbon-1", 41, 166.5, 353.4, 299.3),
        ("hotcarbon-2", 41, 175.0, 352.4, 270.0),
        ("neurips", 57, 204.0, 328.4, 274.9),
    ],
)
def test_named_windows_match_sources(name, hours, lo, hi, mean) -> None:
    trace = load_trace(name)
    assert trace.hours == hours and trace.region == "sc:US-CAL-CISO"
    assert trace.start == pd.Timestamp(WINDOWS[name].start, tz="UTC")
    stats = trace.stats()
    assert (stats["min"], stats["max"], stats["mean"]) == pytest.approx((lo, hi, mean), abs=0.1)


def test_first_rows_and_hourly_resampling_of_each_format() -> None:
    ciso = load_trace("US-CAL-CISO")
    assert ciso.start == pd.Timestamp("2021-01-01", tz="UTC") and ciso.values[0] == 317.31
    fr = load_trace("lwa:FR")  # 30-min file: on-the-hour rows kept
    assert fr.start == pd.Timestamp("2019-12-20", tz="UTC") and fr.values[0] == 42.34123797146737
    se = load_trace("ca:SE")  # hourly polls with gaps, reported as NaN hours
    assert se.values[0] == 38.0
    assert int(np.isnan(se.values).sum()) == se.hours - 7603
    assert se.gaps()[0][1] >= 1


def test_gaps_are_never_filled() -> None:
    table = load_trace_table()
    pl = table[(table["source"] == "ca") & (table["zone"] == "PL")]
    assert pl["ci"].notna().sum() == 894 and pl["ci"].isna().sum() == 16


def test_region_addressing_and_errors() -> None:
    assert load_trace("DE-LU").region == "sc:DE"  # sustain-cluster folder name alias
    assert load_trace("ES").region == "dp:ES"
    window = load_trace("US-CAL-CISO@2021-07-02T06:00")
    assert window.start == pd.Timestamp("2021-07-02 06:00", tz="UTC")
    assert window.end == pd.Timestamp("2023-01-01", tz="UTC")
    with pytest.raises(HarnessError, match="unknown trace region 'MARS'"):
        load_trace("MARS")
    with pytest.raises(HarnessError, match="outside"):
        load_trace("US-CAL-CISO@2030-01-01")
    with pytest.raises(HarnessError, match="only 4 hours"):
        load_trace("US-CAL-CISO").window("2022-12-31T20:00", 10)


def test_cli_traces_list_and_show_with_plot(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["traces", "list", "--zone", "US-CAL-CISO"])
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.output.splitlines() if "sc:US-CAL-CISO" in x and "2021" in x)
    assert "273.4" in line and "99.5" in line and "417.9" in line
    png = tmp_path / "trace.png"
    shown = runner.invoke(app, ["traces", "show", "hotcarbon-1", "--plot", str(png)])
    assert shown.exit_code == 0, shown.output
    assert "41 h from 2021-01-01 00:00" in shown.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _raw_rows(upstream, name: str) -> list[tuple[str, float]]:
    import csv

    with upstream(name).open(newline="") as handle:
        return [(row["Time"], float(row["Carbon Intensity"])) for row in csv.DictReader(handle)]


@pytest.mark.parametrize(
    ("name", "zone", "hour", "samples"),
    [
        ("ci-lwa-ger", "DE", "2019-12-20 00", 4),  # 15-min series
        ("ci-lwa-ger", "DE", "2020-06-01 13", 4),
        ("ci-lwa-gb", "GB", "2019-12-20 00", 2),  # 30-min stretch
        ("ci-lwa-gb", "GB", "2020-06-01 13", None),  # whichever step the file has there
    ],
)
def test_native_lets_wait_awhile_hours_are_the_mean_of_their_samples(upstream, name, zone, hour, samples) -> None:
    """Hand-computed from the raw CSV: the mean of every sample whose time starts with the hour."""
    in_hour = [value for time, value in _raw_rows(upstream, name) if time.startswith(hour + ":")]
    assert in_hour and (samples is None or len(in_hour) == samples)
    trace = load_trace(f"lwa:{zone}")
    index = int((pd.Timestamp(hour + ":00", tz="UTC") - trace.start) / pd.Timedelta(hours=1))
    assert trace.values[index] == pytest.approx(sum(in_hour) / len(in_hour), rel=1e-12)
    on_the_hour = next(value for time, value in _raw_rows(upstream, name) if time == hour + ":00:00")
    if len(set(in_hour)) > 1:
        assert trace.values[index] != on_the_hour  # the old on-the-hour sample is not the hour's value


def test_french_lets_wait_awhile_hours_stay_on_the_hour(upstream) -> None:
    """FR's half-hour points are the authors' interpolation of hourly data: the on-the-hour rows are the data."""
    rows = _raw_rows(upstream, "ci-lwa-fr")
    trace = load_trace("lwa:FR")
    on_hour = [value for time, value in rows if time.endswith(":00:00")]
    np.testing.assert_array_equal(
        trace.values[: len(on_hour)][~np.isnan(trace.values[: len(on_hour)])][:100], np.array(on_hour[:100])
    )


def test_traces_list_summary_is_cached_verified_and_equals_the_table(monkeypatch) -> None:
    from harness.carbon import summary as catalog
    from harness.carbon import traces
    from harness.data.fetch import cache_dir

    rows = catalog.yearly_rows()
    frame = yearly_summary()
    assert [r["id"] for r in rows] == frame["id"].tolist() and len(rows) == len(frame)
    assert [r["mean"] for r in rows] == frame["mean"].tolist()
    assert rows[0]["start"] == frame["start"].iloc[0].strftime("%Y-%m-%d %H:%M")
    cached = cache_dir() / "summaries" / f"traces-{catalog._summary_key(None)}.json"
    assert cached.is_file()

    def no_table(*args, **kwargs):
        raise AssertionError("the cached summary should have been used")

    with monkeypatch.context() as patched:
        patched.setattr(traces, "yearly_summary", no_table)
        assert catalog.yearly_rows() == rows  # served from the verified cache, no pandas
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0x01
    cached.write_bytes(bytes(data))
    assert catalog.yearly_rows() == rows  # fails its checksum: recomputed from the table, never used
