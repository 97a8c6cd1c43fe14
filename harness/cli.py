"""`harness`: run carbon-aware NAS benchmarks, manage their data, inspect benchmarks and carbon traces."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
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
methods_app = typer.Typer(help="List the registered search methods.", no_args_is_help=True)
app.add_typer(methods_app, name="methods")
forecast_app = typer.Typer(help="Train and evaluate carbon-intensity forecasters.", no_args_is_help=True)
rl_app = typer.Typer(help="Pretrain CE-NAS's clean-mode RL allocation agent.", no_args_is_help=True)
app.add_typer(forecast_app, name="forecast")
app.add_typer(rl_app, name="rl")
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
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err,
        transient=True, disable=not err.is_terminal,
    ) as progress:  # fmt: skip
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
    """Re-hash every cached raw file against the manifest and every built table against its stamp; exit 1 if any
    is corrupt (a corrupt raw file is never used, a corrupt table is rebuilt on its next load)."""
    from harness.data.fetch import verify
    from harness.data.tables import check_table, table_names

    results = [(r.entry.name, r.status, r.detail) for r in verify()]
    tables = [(f"table {c.name}", c.status, c.detail) for c in map(check_table, table_names())]
    table = Table(title="Cache verification")
    for column in ("name", "status", "detail"):
        table.add_column(column)
    styles = {"ok": "green", "missing": "yellow", "stale": "yellow", "corrupt": "bold red"}
    for name, status, detail in results + tables:
        table.add_row(name, f"[{styles[status]}]{status}[/]", detail)
    out.print(table)
    bad = [name for name, status, _ in results + tables if status == "corrupt"]
    present = sum(status != "missing" for _, status, _ in results)
    if bad:
        err.print(f"error: {len(bad)} corrupt: {', '.join(bad)}; `harness data fetch --all` / `harness data build` "
                  "replace them", markup=False)  # fmt: skip
        raise typer.Exit(1)
    out.print(f"{present} cached files ok, {len(results) - present} not fetched; {len(tables)} tables ok")


@data_app.command("build")
def data_build() -> None:
    """Build (or confirm up to date) the cached parquet tables: NB201, the EC-NAS records and the hourly traces."""
    from harness.carbon.traces import load_trace_table
    from harness.data.build_ecnas import load_ecnas
    from harness.data.build_nb201 import load_nb201

    with err.status("building tables"):
        nb201 = load_nb201()
        ecnas = load_ecnas()
        traces = load_trace_table()
    out.print(
        f"nb201: {len(nb201)} architectures x {nb201.shape[1]} columns; ecnas: {len(ecnas)} records; "
        f"traces: {len(traces)} hourly rows"
    )


# ---------------------------------------------------------------------------------------------------- benchmarks
@bench_app.command("list")
def benchmarks_list() -> None:
    """List the registered benchmark ids."""
    from harness.benchmarks import DEFAULT_BENCHMARK, benchmark_ids

    rows = [(i + (" (default)" if i == DEFAULT_BENCHMARK else ""), d) for i, d in benchmark_ids().items()]
    _print_named_list("Benchmarks", "id", rows)


def _print_named_list(title: str, key: str, rows: list[tuple[str, str]], second: str = "description") -> None:
    """A two-column table: a key column that never wraps and a text column."""
    table = Table(title=title)
    table.add_column(key, no_wrap=True)
    table.add_column(second)
    for name, description in rows:
        table.add_row(escape(name), escape(description))
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


# ------------------------------------------------------------------------------------------------------- run
DEFAULT_TRACE = "US-CAL-CISO@2021-07-02T00:00"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "-" for c in text).strip("-")


@app.command("run")
def run(
    method: Annotated[str, typer.Option(help="Search method (see `harness methods list`).")] = "cenas",
    budget: Annotated[
        list[str] | None,
        typer.Option(
            help="Stop condition(s), first reached wins: carbon 500lbs/225kg/2.5t/9000g, simulated time 80h/3d, "
            "busy GPU-hours 640gpuh. Repeat or comma-separate to combine. Default: 80h."
        ),
    ] = None,
    benchmark: Annotated[
        str | None,
        typer.Option(help="Benchmark id (see `harness benchmarks list`). Default: the method's own, else NB201."),
    ] = None,
    trace: Annotated[
        str, typer.Option(help="Carbon trace: ZONE, ZONE@START (UTC) or a window (hotcarbon-1, hotcarbon-2, neurips).")
    ] = DEFAULT_TRACE,
    gpus: Annotated[int, typer.Option(help="Number of GPUs in the simulated cluster.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives a byte-identical record.")] = 0,
    interval: Annotated[float, typer.Option(help="Allocation interval in hours.")] = 1.0,
    accounting: Annotated[
        str, typer.Option(help="Power profile: default (RTX 3090 watts, PUE 1.58) or reference (CE-NAS code).")
    ] = "default",
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Method option KEY=VALUE, repeatable; dotted keys for groups (tree.kernel=rbf). Types, ranges and "
            "defaults: `harness methods show METHOD`.",
        ),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Where to write the run record (JSON). Default: runs/NAME.json.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Also write HV-vs-carbon and allocation PNGs into this folder.")
    ] = None,
) -> None:
    """Simulate one carbon-aware NAS run and write its record.

    Example: `harness run --method random-search --budget 500lbs --seed 1`.
    """
    from harness.config import RunSpec, parse_budget
    from harness.io import check_writable
    from harness.methods import default_benchmark, resolve_options
    from harness.runner import execute

    spec = RunSpec(
        method=method,
        benchmark=benchmark or default_benchmark(method),
        trace=trace,
        budget=parse_budget(budget or ["80h"]),
        seed=seed,
        gpus=gpus,
        interval_s=interval * 3600.0,
        accounting=accounting,
        method_options=_parse_options(option or []),
    )
    target = out_path or Path("runs") / f"{_slug(method)}__{_slug(spec.benchmark)}__{_slug(trace)}__seed{seed}.json"
    resolve_options(method, spec.method_options)  # bad options fail before anything is loaded
    check_writable(target)
    if plot:
        check_writable(plot / f"{target.stem}.probe")
    with err.status(f"simulating {method} on {spec.benchmark}") as status:
        record = execute(spec, on_boundary=lambda now: status.update(f"simulating {method}: hour {now / 3600:.0f}"))
    record.write(target)
    _print_summary(record)
    out.print(f"record written to {target}")
    if plot:
        from harness.record_plots import write_plots

        for path in write_plots(record, plot, target.stem):
            out.print(f"plot written to {path}")


def _parse_options(items: list[str]) -> dict[str, str]:
    """`--set KEY=VALUE` items -> {key: value text}; values are parsed by each option's declared type later."""
    options: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise HarnessError(f"bad --set '{item}': use KEY=VALUE (see `harness methods show METHOD`)")
        if key in options:
            raise HarnessError(f"--set {key} given twice")
        options[key] = value.strip()
    return options


def _print_summary(record: Any) -> None:
    s = record.summary
    log_diff = s["log_hv_diff"]
    rows = [
        ("final hypervolume", f"{s['hv']:.4f} ({100 * s['hv_fraction']:.2f}% of HV_max {s['hv_max']:.4f})"),
        ("log10(HV_max - HV)", "-inf" if log_diff is None else f"{log_diff:.4f}"),
        ("carbon", f"{s['carbon_lbs']:.2f} lbs = {s['carbon_kg']:.3f} kg CO2eq"),
        ("energy", f"{s['energy_kwh']:.3f} kWh"),
        (
            "GPU-hours (busy)",
            f"{s['gpu_hours']:.2f} (train {s['train_gpu_hours']:.2f}, one-shot {s['oneshot_gpu_hours']:.2f})",
        ),
        ("simulated time", f"{s['simulated_hours']:.2f} h (stopped by {s['stop_reason']})"),
        ("architectures trained", f"{s['n_trained']} ({s['n_unique_trained']} distinct), {s['n_oneshot']} one-shot"),
        ("best accuracy", "-" if s["best_accuracy"] is None else f"{s['best_accuracy']:.2f} %"),
    ]
    spec, region = record.spec, record.provenance["trace"]["region"]
    title = escape(f"{spec['method']} on {spec['benchmark']} ({region})")
    _print_named_list(title, "quantity", rows, second="value")


@app.command("show")
def show(
    record_path: Annotated[Path, typer.Argument(help="A run record written by `harness run`.")],
    plot: Annotated[Path | None, typer.Option(help="Write HV-vs-carbon and allocation PNGs into this folder.")] = None,
) -> None:
    """Print a run record's summary and provenance; optionally plot it."""
    from harness.results import load_record

    record = load_record(record_path)
    _print_summary(record)
    p = record.provenance
    out.print(f"spec: {record.spec}", markup=False, highlight=False)
    out.print(
        f"package {p['package']['version']} at commit {p['package']['git_commit']}; {len(p['data_files'])} data files",
        markup=False,
    )
    if plot:
        from harness.record_plots import write_plots

        for path in write_plots(record, plot, record_path.stem):
            out.print(f"plot written to {path}")


@methods_app.command("list")
def methods_list() -> None:
    """List the registered search methods."""
    from harness.methods import registry

    rows = [
        (e.name, e.description + (f" Runs on {e.benchmark} by default." if e.benchmark else ""))
        for e in registry().values()
    ]
    _print_named_list("Methods", "name", rows)


@methods_app.command("show")
def methods_show(
    name: Annotated[str, typer.Argument(help="A method name (see `harness methods list`).")],
) -> None:
    """A method's options: dotted key, type, range, this entry's default and meaning (set with `--set KEY=VALUE`)."""
    from harness.methods import method_class, registry, resolve_options
    from harness.options import flatten, option_specs, options_dict

    cls = method_class(name)
    entry = registry()[name]
    current = flatten(options_dict(resolve_options(name)))
    table = Table(title=f"{name}: options ({cls.__module__}.{cls.__name__})")
    for column in ("key", "type", "range", "default", "meaning"):
        table.add_column(column, no_wrap=column in ("key", "default"))
    overridden = dict(entry.defaults)
    for spec in option_specs(cls.Options):
        value = json.dumps(current[spec.key])
        mark = " *" if spec.key in overridden else ""
        table.add_row(spec.key, spec.type_text, spec.bounds_text(), value + mark, spec.help)
    out.print(escape(entry.description))
    if not option_specs(cls.Options):
        out.print(f"{name} has no options")
        return
    out.print(table)
    if overridden:
        out.print("* set by this registry entry (the class default differs)")


# --------------------------------------------------------------------------------------------- forecasting
@forecast_app.command("train")
def forecast_train(
    regions: Annotated[list[str], typer.Argument(help="Trace regions, e.g. US-CAL-CISO DE US-MIDA-PJM.")],
    epochs: Annotated[int, typer.Option(help="Maximum epochs (the best held-out epoch is kept).")] = 20,
    split: Annotated[str, typer.Option(help="Train on origins before this UTC time.")] = "2021-07-01T00:00",
    seed: Annotated[int, typer.Option(help="Seed of initialisation and shuffling.")] = 0,
    out_dir: Annotated[Path | None, typer.Option(help="Folder for checkpoints (default: CACHE/models).")] = None,
) -> None:
    """Train the transformer forecaster per region on data before --split; writes forecast_<region>.pt + .json."""
    from harness.carbon import transformer as tf
    from harness.carbon.traces import load_trace
    from harness.data.fetch import cache_dir

    folder = out_dir or cache_dir() / "models"
    for region in regions:
        region_id = load_trace(region).region
        spec = tf.TrainSpec(region_id, split=split, epochs=epochs, seed=seed)
        with err.status(f"training forecaster for {region_id}") as status:

            def report(epoch: int, total: int, loss: float, name: str = region_id) -> None:
                status.update(f"{name}: epoch {epoch}/{total}, held-out MSE {loss:.4f}")

            model, meta = tf.train(spec, progress=report)
        path = folder / tf.checkpoint_name(region_id)
        tf.save(model, meta, path)
        out.print(f"{region_id}: best epoch {meta['best_epoch']}, held-out MSE {meta['holdout_mse']:.4f} -> {path}")


@forecast_app.command("eval")
def forecast_eval(
    regions: Annotated[list[str], typer.Argument(help="Regions with a trained forecaster.")],
    markdown: Annotated[Path | None, typer.Option(help="Also write the table as Markdown here.")] = None,
) -> None:
    """MAPE (%) of the transformer vs persistence over 24/48/72-h windows, on every origin after the split."""
    from harness.carbon import transformer as tf
    from harness.carbon.traces import load_trace
    from harness.io import atomic_write_text

    table = Table(title="Forecast MAPE (%) on held-out origins (after the training split)")
    for column in ("region", "origins", "24 h", "48 h", "72 h"):
        table.add_column(column, justify="left" if column == "region" else "right")
    lines = [
        "| region | test origins | 24 h transformer | 24 h persistence | 48 h transformer | 48 h persistence "
        "| 72 h transformer | 72 h persistence |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for region in regions:
        with err.status(f"evaluating {region}"):
            result = tf.evaluate(tf.find_checkpoint(load_trace(region).region))
        cells = [f"{result[f'transformer_{h}h']:.2f} vs {result[f'persistence_{h}h']:.2f}" for h in (24, 48, 72)]
        table.add_row(result["region"], str(result["test_origins"]), *cells)
        numbers = " | ".join(f"{result[f'{m}_{h}h']:.2f}" for h in (24, 48, 72) for m in ("transformer", "persistence"))
        lines.append(f"| {result['region']} | {result['test_origins']} | {numbers} |")
    out.print(table)
    out.print("cells: transformer vs persistence (same hour of the previous day)")
    if markdown:
        atomic_write_text(markdown, "\n".join(lines) + "\n")
        out.print(f"markdown table written to {markdown}")


# -------------------------------------------------------------------------------------------------- CE-NAS
@rl_app.command("pretrain")
def rl_pretrain(
    episodes: Annotated[int, typer.Option(help="Episodes (80-h windows, cycled).")] = 24,
    region: Annotated[str, typer.Option(help="Trace region of the pretraining windows.")] = "US-CAL-CISO",
    first: Annotated[str, typer.Option(help="First hour of the pretraining period (UTC).")] = "2021-01-05T00:00",
    last: Annotated[str, typer.Option(help="Last hour of the pretraining period (UTC).")] = "2021-06-30T23:00",
    forecaster: Annotated[str, typer.Option(help="Forecaster the agent sees: transformer, persistence, oracle.")] = (
        "transformer"
    ),
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Checkpoint path (default: CACHE/models/rl.pt).")
    ] = None,
) -> None:
    """Pretrain the clean-mode actor-critic over non-overlapping historical windows; writes .pt + .json spec."""
    from cenas.allocation.pretrain import PretrainSpec, pretrain
    from harness.data.fetch import cache_dir

    spec = PretrainSpec(region=region, first=first, last=last, episodes=episodes, forecaster=forecaster, seed=seed)
    target = out_path or cache_dir() / "models" / "rl_clean.pt"
    with err.status("pretraining") as status:
        log = pretrain(spec, target, lambda e, n, r: status.update(f"episode {e}/{n}: return {r:.3f}"))
    returns = log["episode_returns"]
    out.print(f"{len(returns)} episodes; mean return first quarter {np.mean(returns[: len(returns) // 4 or 1]):.3f}, "
              f"last quarter {np.mean(returns[-(len(returns) // 4 or 1) :]):.3f}")  # fmt: skip
    out.print(f"checkpoint written to {target} (spec in {target.with_suffix('.json')})")


@app.command("lamoo-check")
def lamoo_check_command(
    benchmark: Annotated[str | None, typer.Option(help="Benchmark id.")] = None,
    runs: Annotated[int, typer.Option(help="Independent LaMOO runs.")] = 10,
    samples: Annotated[int, typer.Option(help="Trained uniform samples the tree is built from.")] = 100,
    compare: Annotated[int, typer.Option(help="Architectures drawn from the region and from the whole space.")] = 50,
    cp: Annotated[float, typer.Option(help="UCB exploration constant Cp.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the first run.")] = 0,
) -> None:
    """HotCarbon §4.2: mean accuracy and cost of architectures from the LaMOO-selected region vs the whole space."""
    from cenas.lamoo_check import CheckSpec, lamoo_check
    from harness.benchmarks import DEFAULT_BENCHMARK

    spec = CheckSpec(benchmark or DEFAULT_BENCHMARK, runs, samples, compare, cp, seed)
    with err.status("running LaMOO"):
        result = lamoo_check(spec)
    unit = result["cost_unit"]
    table = Table(title=f"LaMOO region vs whole space on {spec.benchmark} ({runs} runs, {compare} archs each)")
    for column in ("run", "leaf samples", "acc region", "acc space", f"cost region ({unit})", f"cost space ({unit})"):
        table.add_column(column, justify="right")
    for row in [*result["runs"], {"run": "mean", **result["mean"]}]:
        table.add_row(
            str(row["run"]), f"{row['leaf_samples']:.1f}", f"{row['region_acc']:.2f}", f"{row['space_acc']:.2f}",
            f"{row['region_cost']:.3f}", f"{row['space_cost']:.3f}",
        )  # fmt: skip
    out.print(table)
    mean = result["mean"]
    better_acc, better_cost = mean["region_acc"] > mean["space_acc"], mean["region_cost"] < mean["space_cost"]
    verdict = "better on both" if better_acc and better_cost else (
        "better cost, not better accuracy" if better_cost else "better accuracy, not better cost" if better_acc
        else "better on neither"
    )  # fmt: skip
    out.print(f"region is {verdict}; HotCarbon reported 72.12 vs 68.28 % and 16.59 vs 22.84 mJ on its own table")


@app.command("compare")
def compare(
    preset: Annotated[str, typer.Option(help="Comparison preset (hotcarbon).")] = "hotcarbon",
    seeds: Annotated[int | None, typer.Option(help="Override the preset's number of seeds.")] = None,
    budget: Annotated[str | None, typer.Option(help="Override the preset's budget.")] = None,
    workers: Annotated[int | None, typer.Option(help="Parallel processes (default: one per core).")] = None,
    out_dir: Annotated[Path | None, typer.Option(help="Output folder (default: results/PRESET).")] = None,
) -> None:
    """Run a preset grid of methods x traces x seeds and write mean ± SE tables (markdown, JSON)."""
    from harness import compare as cmp
    from harness.io import check_writable

    _check_counts(seeds=seeds, workers=workers)
    chosen = cmp.shrink(cmp.get_preset(preset), seeds=seeds, budget=budget)
    folder = out_dir or Path("results") / chosen.name
    check_writable(folder / "comparison.json")
    with err.status(f"running {chosen.name}") as status:
        rows = cmp.run_preset(chosen, workers, lambda done, total: status.update(f"{chosen.name}: run {done}/{total}"))
    paths = cmp.write_outputs(chosen, rows, folder)
    out.print(cmp.markdown(chosen, cmp.aggregate(chosen, rows)))
    for path in paths:
        out.print(f"written {path}")


@app.command("ecnas-points")
def ecnas_points(
    method: Annotated[str, typer.Option(help="Search method (see `harness methods list`).")] = "semoa",
    benchmark: Annotated[str, typer.Option(help="An EC-NAS benchmark (ecnas/4v, ecnas/5v).")] = "ecnas/4v",
    seeds: Annotated[int, typer.Option(help="Runs with seeds 0..N-1.")] = 10,
    budget: Annotated[str, typer.Option(help="Stop condition if the method has not finished first.")] = "500lbs",
    workers: Annotated[int, typer.Option(help="Parallel processes.")] = 2,
    out_dir: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/ecnas"),
) -> None:
    """Extreme (lowest energy, highest accuracy) and knee points of the final fronts, beside EC-NAS Table 1."""
    from harness import ecnas_points as ep
    from harness.benchmarks import get_benchmark
    from harness.benchmarks.ecnas import ECNASBenchmark
    from harness.config import parse_budget
    from harness.io import check_writable

    if not isinstance(get_benchmark(benchmark), ECNASBenchmark):
        raise HarnessError(f"ecnas-points needs an EC-NAS benchmark (ecnas/4v, ecnas/5v), not {benchmark}")
    _check_counts(seeds=seeds, workers=workers)
    parse_budget(budget)  # one clear error before any run starts
    check_writable(out_dir / f"{method}_points.json")
    spec = ep.PointsSpec(method, benchmark, seeds, budget)
    with err.status(f"running {method} on {benchmark}, {seeds} seeds"):
        per_seed = ep.collect(spec, workers)
    paths = ep.write_outputs(spec, per_seed, out_dir)
    out.print(ep.markdown(spec, ep.summarise(per_seed)))
    for path in paths:
        out.print(f"written {path}")


def _check_counts(**counts: int | None) -> None:
    """`--seeds`, `--workers` and the like: when given, at least 1."""
    for name, value in counts.items():
        if value is not None and value < 1:
            raise HarnessError(f"--{name} must be at least 1 (got {value})")


def main() -> None:
    """Console entry point: user errors and OS errors become one `error:` line on stderr and exit status 2."""
    from harness.errors import os_error

    try:
        app()
    except HarnessError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(str(os_error(exc, "operating-system error")))
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)


def _fail(message: str) -> None:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(2)
