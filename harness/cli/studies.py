"""`harness sweep`, `harness study` and `harness ecnas-points`: studies (grids of runs as data) and their reports."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import app, err, out, print_registry, sub_app
from harness.errors import HarnessError

study_app = sub_app("study", "List, inspect and report studies (grids of runs as data).")


@app.command("sweep")
def sweep_command(
    study: Annotated[str, typer.Argument(help="A shipped study name (`harness study list`) or a .toml path.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Study folder (default: results/NAME).")] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="An existing Dask scheduler, tcp://HOST:PORT.")] = None,
    dask_local: Annotated[
        int | None, typer.Option(help="Start a Dask LocalCluster on 127.0.0.1 with N workers.")
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(help="Only cells whose label contains every comma-separated term, e.g. 'cenas,seed 0'."),
    ] = None,
    report_after: Annotated[bool, typer.Option("--report/--no-report", help="Write the aggregate and report.")] = True,
) -> None:
    """Run every missing cell of a study into OUT/records (content-addressed, resumable), then aggregate and report.

    A sweep interrupted at any moment (Ctrl-C, kill -9) is finished by running the same command again; the result is
    byte-identical to an uninterrupted sweep, on any executor and worker count.
    """
    import time
    import warnings

    from harness.io import check_writable
    from harness.studies import executors as ex
    from harness.studies import store
    from harness.studies import sweep as sw
    from harness.studies.spec import load_study_spec

    spec = load_study_spec(study)
    folder = out_dir or Path("results") / spec.name
    check_writable(folder / "study.json")
    store.check_study_folder(folder, spec.name)  # another study's folder, or one we did not make: refused before work
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ex.SweepWarning)
        executor = ex.make_executor(workers, scheduler, dask_local)
    for warning in caught:
        err.print(f"warning: {warning.message}", markup=False, highlight=False, soft_wrap=True)
    state = {"skipped": 0, "last": 0.0}
    heartbeat = sw.Heartbeat(spec.name, executor, lambda line: err.print(line, markup=False, highlight=False))

    def plain(done: int, total: int, elapsed: float) -> None:
        if elapsed == 0.0:
            state["skipped"] = done
        heartbeat.update(done, total)
        if done == total or time.monotonic() - state["last"] >= 10:
            state["last"] = time.monotonic()
            err.print(sw.log_line(spec.name, done, total, elapsed, int(state["skipped"])), markup=False)

    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops a sweep as Ctrl-C does: workers terminated, resumable
    try:
        if err.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task(f"sweep {spec.name}", total=None, rate="")

                def fancy(done: int, total: int, elapsed: float) -> None:
                    if elapsed == 0.0:
                        state["skipped"] = done
                    rate = (done - state["skipped"]) / elapsed * 60 if elapsed else 0.0
                    bar.update(task, completed=done, total=total, rate=f"{rate:.1f} cells/min")

                result = sw.sweep(spec, folder, executor, only, fancy)
        else:
            with heartbeat:  # a status line at least every 30 s, even while no cell finishes
                result = sw.sweep(spec, folder, executor, only, plain)
    except KeyboardInterrupt:
        executor.abort()
        done = len(store.Store(folder).keys())
        err.print(
            f"interrupted: {done} records in {folder / 'records'}; run the same command again to finish the "
            "remaining cells",
            markup=False,
        )
        sys.exit(130)
    finally:
        executor.close()
    out.print(
        f"{spec.name}: {result.total} cells ({result.skipped} already done, {result.ran} run) in "
        f"{result.seconds:.1f} s on {executor.description}; records in {folder / 'records'}"
    )
    if report_after and not only:
        _write_report(folder)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _write_report(folder: Path, target: Path | None = None) -> None:
    from harness.studies.report import report

    text, written = report(folder, target)
    out.print(text, markup=False, highlight=False)
    for path in written:
        out.print(f"written {path}", markup=False)


@study_app.command("list")
def study_list() -> None:
    """The shipped studies (leaderboards/studies/*.toml)."""
    from harness.studies.spec import STUDIES

    print_registry(STUDIES, "Studies")


@study_app.command("show")
def study_show(
    study: Annotated[str, typer.Argument(help="A study name or .toml path.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document (the study and its run count).")
    ] = False,
) -> None:
    """The resolved grid of a study: methods with their options, benchmarks, traces, budgets, GPUs and seeds."""
    from harness.studies.spec import load_study_spec

    s = load_study_spec(study)
    if as_json:
        document = {"study": s.to_dict(), "runs": len(s.cells())}
        sys.stdout.write(json.dumps(document, indent=1, sort_keys=True) + "\n")
        return
    out.print(json.dumps(s.to_dict(), indent=1, sort_keys=True), markup=False, highlight=False)
    out.print(f"{len(s.cells())} runs", markup=False)


@study_app.command("report")
def study_report(
    study: Annotated[str, typer.Argument(help="A study folder, or a study name (its folder under results/).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write (default: the study folder).")] = None,
) -> None:
    """Tables (HV regret at carbon checkpoints with CIs, carbon-to-target, ranks, tests) and SVG/PDF plots."""
    folder = Path(study)
    if not folder.is_dir():
        folder = Path("results") / study
    if not (folder / "study.json").is_file():
        raise HarnessError(f"{study} is not a study folder (no study.json; run `harness sweep` first)")
    _write_report(folder, out_dir)


suite_app = sub_app("suite", "Versioned benchmark suites: their frozen studies, rules and saturation tables.")


@suite_app.command("list")
def suite_list() -> None:
    """The shipped suites (`leaderboards/suites/NAME.toml`)."""
    from harness.studies.suites import load_suite, suite_names

    for name in suite_names():
        suite = load_suite(name)
        out.print(f"{name}: {suite.description} Studies: {', '.join(suite.studies)}.", markup=False, soft_wrap=True)


@suite_app.command("show")
def suite_show(name: Annotated[str, typer.Argument(help="A suite name, e.g. v2 (`harness suite list`).")]) -> None:
    """A suite's rules and studies, checking that every shipped study file is the one the suite froze."""
    from harness.studies.suites import check_suite, load_suite

    suite = load_suite(name)
    for label, text in (
        ("description", suite.description),
        ("reference points", suite.reference_rule),
        ("levels", suite.levels),
        ("headline", suite.headline),
    ):
        out.print(f"{label}: {text}", markup=False, soft_wrap=True)
    for study, digest in suite.studies.items():
        out.print(f"study {study}: sha256 {digest}", markup=False)
    problems = check_suite(suite)
    if problems:
        more = f" (and {len(problems) - 1} more)" if problems[1:] else ""
        raise HarnessError(f"suite {name}: {problems[0]}{more}")
    out.print(f"every study file of suite {name} is the frozen one", markup=False)


@suite_app.command("saturation")
def suite_saturation(
    name: Annotated[str, typer.Argument(help="A suite name, e.g. v2.")],
    results: Annotated[Path, typer.Option(help="Folder of committed study results.")] = Path("results"),
    csv: Annotated[Path | None, typer.Option(help="Also write the table as CSV here.")] = None,
) -> None:
    """How far random search and the leader are apart on every board of a suite, at every level (IQM of the runs'
    scores, % of HV_max), from the committed results: a board where the gap is within the intervals cannot rank."""
    from harness.io import atomic_write_text
    from harness.studies.suites import load_suite, saturation

    suite = load_suite(name)
    if not results.is_dir():
        raise HarnessError(f"no results folder at {results}")
    table = saturation(suite, results)
    if table.empty:
        raise HarnessError(f"no study of suite {name} has results under {results}; run `harness sweep` first")
    for row in table.to_dict("records"):
        base = "n/a" if row["random_search_iqm"] != row["random_search_iqm"] else f"{row['random_search_iqm']:.2f} %"
        gap = "" if row["gap_pp"] != row["gap_pp"] else f", gap {row['gap_pp']:.2f} pp"
        out.print(
            f"{row['study']} | {row['benchmark']} | {row['level']}{' (headline)' if row['headline'] else ''}: "
            f"random search {base}, leader {row['leader']} {row['leader_iqm']:.2f} %{gap}",
            markup=False,
            soft_wrap=True,
        )
    if csv:
        atomic_write_text(csv, table.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
