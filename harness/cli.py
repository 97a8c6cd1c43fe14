"""`harness`: run carbon-aware NAS benchmarks, manage their data, inspect benchmarks and carbon traces."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError

app = typer.Typer(
    help=__doc__,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
data_app = typer.Typer(help="Fetch, verify and list the pinned upstream data files.", no_args_is_help=True)
bench_app = typer.Typer(help="List and inspect the registered benchmarks.", no_args_is_help=True)
traces_app = typer.Typer(
    help="List and inspect hourly carbon-intensity traces (gCO2eq/kWh, UTC).", no_args_is_help=True
)
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="benchmarks")
app.add_typer(traces_app, name="traces")

out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


# ---------------------------------------------------------------------------------------------------------- data
@data_app.command("list")
def data_list(
    group: Annotated[str | None, typer.Option(help="Only this group: nb201, carbon, ecnas, nb301, hwnasbench.")] = None,
) -> None:
    """List every pinned upstream file: name, group, size, licence and whether it is cached."""
    from harness.data.fetch import cache_dir, raw_path
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    table = Table(title=f"Upstream data files (cache: {cache_dir()})")
    for column in ("name", "group", "size", "cached", "licence"):
        table.add_column(column, no_wrap=column != "licence")
    for entry in manifest:
        if group and entry.group != group:
            continue
        size = _human_bytes(entry.size) if entry.size else "?"
        cached = "yes" if raw_path(entry).exists() else ("user-supplied" if entry.optional else "-")
        table.add_row(entry.name, entry.group, size, cached, entry.license)
    out.print(table)


@data_app.command("fetch")
def data_fetch(
    names: Annotated[list[str] | None, typer.Argument(help="File or group names (see `harness data list`).")] = None,
    all_files: Annotated[
        bool, typer.Option("--all", help="Every mirrored file (user-supplied ones by name only).")
    ] = False,
) -> None:
    """Download files into the cache, verifying sha256 before anything is kept.

    Set CENAS_BENCH_MIRROR (e.g. file:///abs/path/upstream) to fetch from a mirror laid out as
    OWNER/REPO/COMMIT/PATH, and CENAS_BENCH_CACHE to choose the cache folder.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from harness.data.fetch import fetch, source_url
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    if all_files and names:
        raise HarnessError("give file names or --all, not both")
    if not all_files and not names:
        raise HarnessError("name the files to fetch (see `harness data list`) or pass --all")
    entries = [f for f in manifest if not f.optional] if all_files else manifest.select(names or [])
    total = sum(f.size or 0 for f in entries) or None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err
    ) as progress:
        task = progress.add_task("fetching", total=total)
        results = []
        for entry in entries:
            progress.update(task, description=f"fetching {entry.name}")
            [result] = fetch([entry], on_bytes=lambda _e, n: progress.advance(task, n))
            if result.action == "cached":
                progress.advance(task, entry.size or 0)
            results.append(result)
    downloaded = sum(r.action == "downloaded" for r in results)
    where = source_url(entries[0]).rsplit(entries[0].rel, 1)[0] if entries else ""
    out.print(
        f"{len(results)} files verified ({downloaded} downloaded from {where}, {len(results) - downloaded} cached)"
    )


@data_app.command("verify")
def data_verify() -> None:
    """Re-hash every cached file against the manifest and report each one; exit 1 if any is corrupt."""
    from harness.data.fetch import verify

    results = verify()
    table = Table(title="Cache verification")
    for column in ("name", "status", "detail"):
        table.add_column(column)
    for r in results:
        style = {"ok": "green", "missing": "yellow", "corrupt": "bold red"}[r.status]
        table.add_row(r.entry.name, f"[{style}]{r.status}[/]", r.detail)
    out.print(table)
    bad = [r for r in results if r.status == "corrupt"]
    present = sum(r.status != "missing" for r in results)
    if bad:
        err.print(f"error: {len(bad)} corrupt file(s): {', '.join(r.entry.name for r in bad)}; fetch them again")
        raise typer.Exit(1)
    out.print(f"{present} cached files ok, {len(results) - present} not fetched")


@data_app.command("build")
def data_build() -> None:
    """Build (or confirm up to date) the cached parquet tables: the NB201 table and the hourly traces."""
    from harness.carbon.traces import load_trace_table
    from harness.data.build_nb201 import load_nb201

    with err.status("building tables"):
        nb201 = load_nb201()
        traces = load_trace_table()
    out.print(f"nb201: {len(nb201)} architectures x {nb201.shape[1]} columns; traces: {len(traces)} hourly rows")


# ---------------------------------------------------------------------------------------------------- benchmarks
@bench_app.command("list")
def benchmarks_list() -> None:
    """List the registered benchmark ids."""
    from harness.benchmarks import DEFAULT_BENCHMARK, benchmark_ids

    table = Table(title="Benchmarks")
    table.add_column("id", no_wrap=True)
    table.add_column("description")
    for benchmark_id, description in benchmark_ids().items():
        marker = " (default)" if benchmark_id == DEFAULT_BENCHMARK else ""
        table.add_row(benchmark_id + marker, description)
    out.print(table)


@bench_app.command("show")
def benchmarks_show(
    benchmark_id: Annotated[str, typer.Argument(help="A benchmark id (see `benchmarks list`).")],
) -> None:
    """Size, objective ranges, reference point and the HV_max computed from the benchmark's own table."""
    import numpy as np

    from harness.benchmarks import get_benchmark

    with err.status(f"loading {benchmark_id}"):
        bench = get_benchmark(benchmark_id)
        arrays = bench.arrays
    table = Table(title=f"{bench.id}: {bench.description}", show_header=True)
    for column in ("quantity", "min", "max", "unit"):
        table.add_column(column)
    acc, cost = bench.objectives_meta
    rows: list[tuple[str, Any, str]] = [
        (f"{acc.label} (maximise)", arrays.objectives[:, 0], acc.unit),
        (f"{cost.label} (minimise)", -arrays.objectives[:, 1], cost.unit),
        ("one-shot accuracy estimate", arrays.oneshot_objectives[:, 0], acc.unit),
        ("full-training time", arrays.train_seconds, "s"),
        ("one-shot evaluation time", arrays.oneshot_seconds, "s"),
    ]
    for label, values, unit in rows:
        table.add_row(label, f"{np.min(values):.6g}", f"{np.max(values):.6g}", unit)
    out.print(f"architectures: {bench.n_archs}")
    out.print(table)
    ref = bench.ref_point
    out.print(f"reference point: ({ref[0]:g} {acc.unit}, {-ref[1]:g} {cost.unit})  [maximisation form: {tuple(ref)}]")
    out.print(f"Pareto front: {len(bench.pareto_indices)} architectures")
    out.print(f"HV_max: {bench.hv_max:.4f} (hypervolume of the table's Pareto front, computed from the table)")


# -------------------------------------------------------------------------------------------------------- traces
@traces_app.command("list")
def traces_list(
    zone: Annotated[str | None, typer.Option(help="Only this zone, e.g. US-CAL-CISO.")] = None,
) -> None:
    """Every region and calendar year: span, hours, gaps, mean/min/max (g/kWh) and coefficient of variation."""
    from harness.carbon.traces import SOURCES, WINDOWS, yearly_summary

    with err.status("loading traces"):
        summary = yearly_summary()
    if zone:
        summary = summary[summary["zone"] == zone]
    table = Table(title="Carbon-intensity traces (life-cycle gCO2eq/kWh, hourly, UTC)")
    for column in ("region", "year", "from", "to (excl.)", "hours", "gaps", "mean", "min", "max", "CV"):
        table.add_column(column, justify="left" if column in ("region", "from", "to (excl.)") else "right")
    for row in summary.itertuples():
        table.add_row(
            row.id, str(row.year), f"{row.start:%Y-%m-%d %H:%M}", f"{row.end:%Y-%m-%d %H:%M}", str(row.hours),
            str(row.gap_hours), f"{row.mean:.1f}", f"{row.min:.1f}", f"{row.max:.1f}", f"{row.cv:.3f}",
        )  # fmt: skip
    out.print(table)
    out.print("sources: " + "; ".join(f"{k} = {v}" for k, v in SOURCES.items()))
    out.print("a bare zone resolves to the first source that has it; named windows: " + ", ".join(WINDOWS))


@traces_app.command("show")
def traces_show(
    region: Annotated[str, typer.Argument(help="ZONE, SOURCE:ZONE, ZONE@START or a named window (hotcarbon-1).")],
    start: Annotated[str | None, typer.Option(help="First hour, ISO UTC (e.g. 2021-07-02T00:00).")] = None,
    hours: Annotated[int | None, typer.Option(help="Number of hours (default: 48, or the whole window).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Also write a PNG plot of the window here.")] = None,
) -> None:
    """Hourly values, statistics and gaps of a trace window; optionally a PNG plot."""
    from harness.carbon.traces import WINDOWS, load_trace

    trace = load_trace(region)
    if start or region not in WINDOWS:
        default_hours = 48 if "@" not in region and not start else None
        trace = trace.window(start, hours or default_hours)
    elif hours:
        trace = trace.window(None, hours)
    stats = trace.stats()
    out.print(
        f"{trace.region}: {trace.hours} h from {trace.start:%Y-%m-%d %H:%M} UTC; mean {stats['mean']:.1f}, "
        f"min {stats['min']:.1f}, max {stats['max']:.1f} g/kWh, CV {stats['cv']:.3f}"
    )
    gaps = trace.gaps()
    out.print(f"gaps: {len(gaps)} ({sum(n for _, n in gaps)} h)" if gaps else "gaps: none")
    for t0, n in gaps[:10]:
        out.print(f"  missing {n} h from {t0:%Y-%m-%d %H:%M}")
    if trace.hours <= 168:
        table = Table()
        table.add_column("hour (UTC)")
        table.add_column("g/kWh", justify="right")
        for when, value in zip(trace.times, trace.values, strict=True):
            table.add_row(f"{when:%Y-%m-%d %H:%M}", "gap" if value != value else f"{value:.2f}")
        out.print(table)
    if plot:
        from harness.carbon.plots import plot_trace

        out.print(f"plot written to {plot_trace(trace, plot)}")


def main() -> None:
    """Console entry point: user errors become one `error:` line on stderr and exit status 2."""
    try:
        app()
    except HarnessError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
