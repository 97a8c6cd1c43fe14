"""`harness run` and `harness show`: one simulated search, and its record."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from harness.cli.common import app, err, out, print_named_list
from harness.errors import HarnessError
from harness.io import check_writable

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
        str,
        typer.Option(
            help="Accounting profile (harness/sim/profiles): default (RTX 3090 watts, idle draw, PUE 1.58), "
            "operational (busy GPUs only), hyperscale (PUE 1.1), embodied-bloom / embodied-a100 (plus embodied "
            "carbon per reserved GPU-hour) or reference (the CE-NAS code's). See `harness registries`."
        ),
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
    from harness.sim.accounting import TERMS

    s = record.summary
    log_diff = s["log_hv_diff"]
    rows = [
        ("final hypervolume", f"{s['hv']:.4f} ({100 * s['hv_fraction']:.2f}% of HV_max {s['hv_max']:.4f})"),
        ("log10(HV_max - HV)", "-inf" if log_diff is None else f"{log_diff:.4f}"),
        ("carbon", f"{s['carbon_lbs']:.2f} lbs = {s['carbon_kg']:.3f} kg CO2eq"),
        (
            "  by term",
            ", ".join(f"{t} {s[f'{t}_g'] / 1000:.3f} kg" for t in TERMS),
        ),
        ("energy", f"{s['energy_kwh']:.3f} kWh"),
        (
            "GPU-hours (busy)",
            f"{s['gpu_hours']:.2f} (train {s['train_gpu_hours']:.2f}, one-shot {s['oneshot_gpu_hours']:.2f})",
        ),
        ("simulated time", f"{s['simulated_hours']:.2f} h (stopped by {s['stop_reason']})"),
        ("architectures trained", f"{s['n_trained']} ({s['n_unique_trained']} distinct), {s['n_oneshot']} one-shot"),
        ("best accuracy", "-" if s["best_accuracy"] is None else f"{s['best_accuracy']:.2f} %"),
    ]
    privileged = record.provenance.get("method", {}).get("privileged")
    if privileged:
        rows.append(("PRIVILEGED", "; ".join(privileged)))
    spec, region = record.spec, record.provenance["trace"]["region"]
    title = escape(f"{spec['method']} on {spec['benchmark']} ({region})")
    print_named_list(title, "quantity", rows, second="value")


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
        highlight=False,  # rich's highlighter is quadratic in a long unbroken field (100,000 characters: 45 s)
    )
    if plot:
        from harness.record_plots import write_plots

        try:
            paths = write_plots(record, plot, record_path.stem)  # checks the intervals before writing anything
        except HarnessError as exc:
            raise HarnessError(f"{record_path}: {exc}") from None
        for path in paths:
            out.print(f"plot written to {path}")


@app.command("audit")
def audit(
    records: Annotated[list[Path], typer.Argument(help="Run records (JSON) to audit.")],
) -> None:
    """Check each run record against the conservation laws: every finished job ran exactly its work, no GPU or job
    ran twice at once, energy is power x time (idle included), carbon is energy x the trace's hourly intensity
    (recomputed from the trace), budgets hold, and the HV counts only paid trainings. Each violation is one line naming
    the record and the job, GPU or interval; exit 0 when every record is clean, 1 otherwise.

    Example: `harness audit runs/*.json`.
    """
    from harness.audit import audit_record
    from harness.results import load_record

    loaded = [(path, load_record(path)) for path in records]  # unreadable or too-old records fail before any audit
    bad = 0
    for path, record in loaded:
        report = audit_record(record)
        for note in report.notes:
            out.print(f"{path}: note: {note}", markup=False, highlight=False)
        for violation in report.violations:
            out.print(f"{path}: {violation}", markup=False, highlight=False)
        verdict = "clean" if report.clean else f"{len(report.violations)} violations"
        out.print(f"{path}: {verdict} ({report.jobs} jobs, {report.segments} segments)", markup=False, highlight=False)
        bad += not report.clean
    if bad:
        out.print(f"{bad} of {len(loaded)} records fail the audit", markup=False)
        raise typer.Exit(1)


@app.command("goldens")
def goldens_command(
    update: Annotated[bool, typer.Option("--update", help="Rewrite the golden file with the new values.")] = False,
    method: Annotated[list[str] | None, typer.Option(help="Only these methods (repeatable; default: all).")] = None,
    file: Annotated[Path | None, typer.Option(help="Golden file (default: harness/expected/goldens.json).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
) -> None:
    """Golden runs (12 h, 8 GPUs, seed 0, hotcarbon-1) of every method against the committed goldens; exit 1 on a
    difference. `--update` rewrites the file after a deliberate change and prints what changed."""
    from harness import goldens as g
    from harness.methods import METHODS

    names = method or sorted(METHODS)
    for name in names:
        METHODS.entry(name)  # unknown methods: one error line before any run
    path = file or g.GOLDEN_FILE
    stored = g.load_goldens(path)
    with err.status(f"running {len(names)} golden runs"):
        fresh = g.compute(names, workers)
    changed = 0
    for name in names:
        lines = g.differences(stored.get(name), fresh[name])
        changed += bool(lines)
        out.print(f"{name}: " + ("same" if not lines else "; ".join(lines)), markup=False)
    if update:
        g.write_goldens(stored | fresh, path)
        out.print(f"{changed} of {len(names)} changed; written {path}", markup=False)
    elif changed:
        err.print(
            f"error: {changed} of {len(names)} golden runs differ; run with --update if the change is deliberate",
            markup=False,
        )
        raise typer.Exit(1)


@app.command("regress")
def regress_command(
    method: Annotated[list[str], typer.Option(help="Method to gate (repeatable; `all` for every registered method).")],
    baseline: Annotated[
        Path | None,
        typer.Option(help="Baseline file (one method only; default: harness/expected/quality/METHOD.json)."),
    ] = None,
    update: Annotated[bool, typer.Option("--update", help="Run the seeds and write them as the new baseline.")] = False,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Method option KEY=VALUE over the baseline's, repeatable (one method): gate a variant against the "
            "method's baseline, e.g. --set tree.solver=ipm.",
        ),
    ] = None,
) -> None:
    """Statistical quality gate: 10 seeds of a 12 h run (8 GPUs, hotcarbon-1, the method's default benchmark) against
    a committed baseline; fails (exit 1) when HV regret at a carbon checkpoint or the carbon to reach the target HV is
    significantly worse (one-sided Mann-Whitney U, p < 0.01) by more than 10 % of the baseline's median. `--update`
    writes a baseline instead. Works for any registered method, plugins included (docs/quality.md).

    Example: `harness regress --method vanilla-lamoo --set tree.solver=ipm` (a faster solver, same baseline)."""
    from harness import quality as q
    from harness.methods import METHODS, create_method

    names = sorted(METHODS) if method == ["all"] else method
    for name in names:
        METHODS.entry(name)  # unknown methods: one error line before any run
    if baseline is not None and len(names) > 1:
        raise HarnessError("--baseline names one method's file; give one --method with it")
    overrides = _parse_options(option or [])
    if overrides and (len(names) > 1 or update):
        raise HarnessError("--set gates one method's variant against its baseline: give one --method, no --update")
    paths = {name: baseline or q.BASELINE_DIR / f"{name}.json" for name in names}
    if update:
        for name in names:
            check_writable(paths[name])
            specs = q.gate_specs(name, range(q.SEEDS))
            with err.status(f"{name}: {len(specs)} seeds"):
                document = q.make_baseline(name, specs, q.run_curves(specs, workers))
            q.write_baseline(document, paths[name])
            out.print(f"{name}: baseline written to {paths[name]}", markup=False)
        return
    baselines = {name: q.load_baseline(paths[name], name) for name in names}  # every file checked before any run
    options = {name: {**b["run"]["method_options"], **overrides} for name, b in baselines.items()}
    for name in names:
        create_method(name, options[name])  # bad options: one error line before any run
    jobs = {name: (b, q.specs_for(name, b, options=options[name])) for name, b in baselines.items()}
    with err.status(f"{sum(len(specs) for _, specs in jobs.values())} gate runs"):
        measured = q.measure_all(jobs, workers)
    lines, failed = list(q.TABLE_HEADER), []
    for name in names:
        rows = q.compare(baselines[name], measured[name])
        lines += q.table(name, rows)
        failed += [name] if any(r.failed for r in rows) else []
    out.print("\n".join(lines), markup=False, highlight=False)
    if failed:
        err.print(f"error: search quality regressed for {', '.join(failed)} (see the FAIL rows)", markup=False)
        raise typer.Exit(1)
    out.print(f"quality gate passed for {len(names)} method(s)", markup=False)
