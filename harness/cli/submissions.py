"""`harness submit` and `harness verify`: result bundles of outside methods (docs/submissions.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import app, err, out


@app.command("submit")
def submit_command(
    study: Annotated[str, typer.Argument(help="The study whose suite to run: a name (`harness study list`) or .toml.")],
    method: Annotated[str, typer.Option("--method", help="The method to submit (registered, e.g. by a plugin).")],
    bundle: Annotated[
        Path | None, typer.Option("--out", help="Bundle folder (default: bundles/STUDY--METHOD); resumable.")
    ] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Method option KEY=VALUE on top of the study's shared options.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
) -> None:
    """Sweep METHOD on the study's suite (its benchmarks, traces, budgets, GPUs, seeds, accounting and shared
    options) and write a submission bundle: the records and their committed form, the method package's files and
    hashes, the environment, and a manifest of every file. Check it with `harness verify BUNDLE`; publish it with
    `harness leaderboard build --submissions FOLDER`.

    Example: `harness submit hotcarbon --method mutation-search --out bundles/mutation-search`."""
    from harness.cli.runs import _parse_options
    from harness.io import check_writable
    from harness.studies import executors as ex
    from harness.submissions import submission_study, submit

    options = _parse_options(sets or [])
    spec, _ = submission_study(study, method, options)  # bad study, method or option: one line, before any work
    folder = bundle or Path("bundles") / f"{spec.name}--{spec.methods[0].display}"
    check_writable(folder / "submission.json")
    executor = ex.make_executor(workers, None, None)

    def progress(done: int, total: int, elapsed: float) -> None:
        if done == total or elapsed == 0.0:
            err.print(f"submit {spec.name} / {method}: {done}/{total} cells", markup=False)

    try:
        submit(study, method, folder, executor, options, progress)
    finally:
        executor.close()
    out.print(
        f"bundle written to {folder} ({len(spec.cells())} runs); check it with `harness verify {folder}`",
        markup=False,
        highlight=False,
    )


@app.command("verify")
def verify_command(
    bundle: Annotated[Path, typer.Argument(help="A submission bundle folder (from `harness submit`).")],
    sample: Annotated[
        int, typer.Option(help="Cells to rerun, drawn with --seed; their records must be identical.")
    ] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the draw of cells to rerun.")] = 0,
) -> None:
    """Verify a submission bundle without installing anything: its manifest, the installed method package against
    the submitted one (byte for byte), every record (checksum, cell key, conservation audit, front HV), its
    committed form against its records, and SAMPLE reruns that must give byte-identical records. Writes
    BUNDLE/verification.json; the leaderboard then shows its rows as verified."""
    from harness.errors import HarnessError
    from harness.submissions import verify

    if sample < 1:
        raise HarnessError(f"--sample must be at least 1 (got {sample})")
    report = verify(bundle, sample, seed)
    out.print(
        f"{bundle}: clean; {len(report['cells_rerun'])} of {report['cells_total']} cells rerun to identical "
        f"records, {report['records_audited']} records audited; report in {bundle / 'verification.json'}",
        markup=False,
        highlight=False,
    )
