"""`harness benchmarks`, `harness traces` and `harness methods`: what is registered, and its details."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from harness.cli.common import app, err, out, print_registry, sub_app
from harness.errors import HarnessError

SHOW_SAMPLE = 2000

bench_app = sub_app("benchmarks", "List and inspect the registered benchmarks.")
traces_app = sub_app("traces", "List and inspect hourly carbon-intensity traces (gCO2eq/kWh, UTC).")
methods_app = sub_app("methods", "List the registered search methods and their options.")


@bench_app.command("list")
def benchmarks_list() -> None:
    """List the registered benchmark ids."""
    from harness.benchmarks import DEFAULT_BENCHMARK
    from harness.benchmarks.base import BENCHMARKS

    print_registry(BENCHMARKS, "Benchmarks", "id", lambda i: " (default)" if i == DEFAULT_BENCHMARK else "")


@bench_app.command("show")
def benchmarks_show(
    benchmark_id: Annotated[str, typer.Argument(help="A benchmark id (see `benchmarks list`).")],
    saturation: Annotated[
        bool,
        typer.Option(
            help="Also show how far random search gets at 10/50/500 lbs (10 seeds; about 30 s the first "
            "time, then cached)."
        ),
    ] = True,
) -> None:
    """Size, objective ranges, reference point, the HV_max computed from the benchmark's own table, and how
    discriminative the benchmark is (the HV random search reaches at 10, 50 and 500 lbs)."""
    import numpy as np

    from harness.benchmarks import get_benchmark

    with err.status(f"loading {benchmark_id}"):
        bench = get_benchmark(benchmark_id)
        if bench.enumerable:
            idx = np.arange(bench.n_archs)
        else:
            idx = np.random.default_rng(0).integers(bench.n_archs, size=SHOW_SAMPLE)
        f, f1 = bench.objectives(idx), bench.oneshot_objectives(idx)
        train_s, oneshot_s = bench.train_seconds(idx), bench.oneshot_seconds(idx)
    what = "" if bench.enumerable else f" (over {SHOW_SAMPLE:,} uniform architectures)"
    table = Table(title=f"{bench.id}: {bench.description}", show_header=True)
    for column in ("quantity", "min", "max", "unit"):
        table.add_column(column)
    acc, *costs = bench.objectives_meta
    rows: list[tuple[str, Any, str]] = [
        (f"{acc.label} (maximise)", f[:, 0], acc.unit),
        *((f"{c.label} (minimise)", -f[:, 1 + k], c.unit) for k, c in enumerate(costs)),
        ("one-shot accuracy estimate", f1[:, 0], acc.unit),
        ("full-training time", train_s, "s"),
        ("one-shot evaluation time", oneshot_s, "s"),
    ]
    for label, values, unit in rows:
        table.add_row(label, f"{np.min(values):.6g}", f"{np.max(values):.6g}", unit)
    out.print(f"architectures: {bench.n_archs:,}{what}")
    out.print(table)
    ref = bench.ref_point
    shown = ", ".join([f"{ref[0]:g} {acc.unit}", *(f"{-r:g} {c.unit}" for r, c in zip(ref[1:], costs, strict=True))])
    out.print(f"reference point: ({shown})  [maximisation form: {tuple(float(v) for v in ref)}]")
    if bench.enumerable:
        out.print(f"Pareto front: {len(bench.pareto_indices)} architectures")
        out.print(f"HV_max: {bench.hv_max:.4f} (hypervolume of the table's Pareto front, computed from the table)")
    else:
        out.print(f"reference front: {len(bench.pareto_indices)} architectures")
        out.print(
            f"HV_max: {bench.hv_max:.4f} (hypervolume of the committed reference front: a bound, not the optimum; "
            "runs may exceed it)"
        )
    out.print(f"cheap estimate (proxy): {bench.proxy.describe()}", markup=False, highlight=False)
    if saturation:
        _print_saturation(bench.id)


def _print_saturation(benchmark_id: str) -> None:
    from harness.studies.saturation import SEEDS, TRACE, saturation

    with err.status(f"random search on {benchmark_id}: {SEEDS} seeds to 500 lbs (cached afterwards)") as status:
        summary = saturation(benchmark_id, before_compute=lambda: status.update(f"running {SEEDS} random searches"))
    title = f"Saturation: random search, mean of {summary['seeds']} seeds ({TRACE}, {summary['gpus']} GPUs)"
    table = Table(title=title)
    for column in ("carbon", "HV / HV_max", "HV regret"):
        table.add_column(column, justify="right")
    for row in summary["rows"]:
        table.add_row(f"{row['lbs']:g} lbs", f"{100 * row['hv_fraction']:.2f} %", f"{row['hv_regret']:.4g}")
    out.print(table)
    if summary["ended_before_500lbs"]:
        out.print(f"{summary['ended_before_500lbs']} of the runs ended before 500 lbs (their final HV counts)")


@bench_app.command("reference")
def benchmarks_reference(
    benchmark_id: Annotated[str, typer.Argument(help="A surrogate benchmark id, e.g. nb301/cifar10/params.")],
    evaluations: Annotated[int, typer.Option(min=1000, help="Architectures to score in all.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Seed of the search.")] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Where to write the JSON (default: the packaged reference file).")
    ] = None,
) -> None:
    """Make the reference front of a benchmark whose space cannot be enumerated (NAS-Bench-301): uniform samples,
    NSGA-II and Pareto local search scored straight on the surrogate; its HV is the benchmark's HV_max (a bound)."""
    from harness.benchmarks import get_benchmark
    from harness.benchmarks.nb301 import reference_resource
    from harness.benchmarks.reference import make_reference
    from harness.cli.common import progress_reporter
    from harness.io import atomic_write_text, check_writable

    bench = get_benchmark(benchmark_id)  # unknown ids: one error line
    if bench.enumerable:
        raise HarnessError(f"{benchmark_id} is a table: its HV_max is exact and needs no reference front")
    target = out_path or Path(__file__).resolve().parent.parent / "benchmarks" / "reference" / reference_resource(
        benchmark_id
    )
    check_writable(target)
    with progress_reporter(f"scoring {benchmark_id}", evaluations) as report:
        document = make_reference(bench, evaluations, seed, progress=lambda done, total: report(done, ""))
    atomic_write_text(target, json.dumps(document, indent=1) + "\n")
    out.print(
        f"{target}: {len(document['front'])} front architectures from {document['evaluations']:,} scored "
        f"({document['per_stage']}); HV {document['hv']:.6g} at reference point {document['ref_point']}; "
        f"{document['seconds']:.0f} s"
    )


# -------------------------------------------------------------------------------------------------------- traces
@traces_app.command("list")
def traces_list(
    zone: Annotated[str | None, typer.Option(help="Only this zone, e.g. US-CAL-CISO.")] = None,
) -> None:
    """Every region and calendar year: span, hours, gaps, mean/min/max (g/kWh) and coefficient of variation."""
    from harness.carbon.catalog import SOURCES, WINDOWS
    from harness.carbon.summary import yearly_rows

    with err.status("loading traces"):
        summary = yearly_rows()
    if zone:
        summary = [row for row in summary if row["zone"] == zone]
    table = Table(title="Carbon-intensity traces (life-cycle gCO2eq/kWh, hourly, UTC)")
    for column in ("region", "year", "from", "to (excl.)", "hours", "gaps", "mean", "min", "max", "CV"):
        table.add_column(column, justify="left" if column in ("region", "from", "to (excl.)") else "right")
    for row in summary:
        table.add_row(
            row["id"],
            str(row["year"]),
            row["start"],
            row["end"],
            str(row["hours"]),
            str(row["gap_hours"]),
            f"{row['mean']:.1f}",
            f"{row['min']:.1f}",
            f"{row['max']:.1f}",
            f"{row['cv']:.3f}",
        )
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


@methods_app.command("list")
def methods_list() -> None:
    """List the registered search methods."""
    from harness.methods import METHODS, registry

    entries = registry()
    print_registry(METHODS, "Methods", mark=lambda n: f" (on {entries[n].benchmark})" if entries[n].benchmark else "")


@methods_app.command("show")
def methods_show(
    name: Annotated[str, typer.Argument(help="A method name (see `harness methods list`).")],
    option: Annotated[
        list[str] | None,
        typer.Option("--set", help="Show the method with these options set (KEY=VALUE, repeatable), as `harness run`."),
    ] = None,
) -> None:
    """A method's options: dotted key, type, range, this entry's default and meaning (set with `--set KEY=VALUE`),
    and the privileged information these options use (an oracle forecast, the table's optimum), which boards badge.

    Example: `harness methods show cenas-heuristic --set forecaster=oracle`."""
    from harness.cli.runs import _parse_options
    from harness.methods import create_method, method_class, registry
    from harness.options import flatten, option_specs, options_dict

    cls = method_class(name)
    entry = registry()[name]
    method = create_method(name, _parse_options(option or []))
    current = flatten(options_dict(method.options))
    table = Table(title=f"{name}: options ({cls.__module__}.{cls.__name__})")
    for column in ("key", "type", "range", "default", "meaning"):
        table.add_column(column, no_wrap=column in ("key", "default"))
    overridden = dict(entry.defaults)
    for spec in option_specs(cls.Options):
        value = json.dumps(current[spec.key])
        mark = " *" if spec.key in overridden else ""
        table.add_row(spec.key, spec.type_text, spec.bounds_text(), value + mark, spec.help)
    out.print(escape(entry.description))
    privileged = method.privileged()
    if privileged:
        out.print(
            f"PRIVILEGED: {'; '.join(privileged)} (not known to a real search: boards badge and rank it apart)",
            markup=False,
            highlight=False,
        )
    else:
        out.print("privileged information: none (only the past, the current hour and forecasts)")
    if not option_specs(cls.Options):
        out.print(f"{name} has no options")
        return
    out.print(table)
    if overridden:
        out.print("* set by this registry entry (the class default differs)")


@app.command("registries")
def registries(
    kind: Annotated[str | None, typer.Argument(help="One registry, e.g. 'forecaster' (default: all).")] = None,
) -> None:
    """Everything the harness looks up by name: benchmarks, methods, studies, reports, accounting profiles, trace
    windows, forecasters, allocation policies and command plugins, each with its entries."""
    import harness.benchmarks
    import harness.carbon.forecast
    import harness.carbon.traces
    import harness.methods
    import harness.sim.accounting
    import harness.studies  # noqa: F401 - each import registers its entries
    from harness.errors import HarnessError
    from harness.methods import METHODS, method_class
    from harness.registry import ALL

    for name in METHODS:
        method_class(name)  # importing the methods registers their own registries (e.g. allocation policies)

    if kind is not None and kind not in ALL:
        raise HarnessError(f"unknown registry '{kind}'; known: {', '.join(sorted(ALL))}")
    for name in [kind] if kind else sorted(ALL):
        print_registry(ALL[name], f"{name} ({len(ALL[name])})")
