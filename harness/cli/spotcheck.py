"""`harness spotcheck`: train sampled NB201 architectures for real and compare time and energy with the tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli.common import app, out, progress_reporter


@app.command("spotcheck")
def spotcheck_command(
    benchmark: Annotated[str, typer.Option(help="An NB201 benchmark; its dataset sets the images' shape.")] = (
        "nb201/cifar10/pi5-energy"
    ),
    archs: Annotated[int, typer.Option(help="Architectures, drawn across the table's whole time range (seeded).")] = 20,
    steps: Annotated[int, typer.Option(help="Timed training steps per architecture, after the warm-up.")] = 20,
    epochs: Annotated[int | None, typer.Option(help="Time this many whole epochs instead of --steps.")] = None,
    warmup: Annotated[int, typer.Option(help="Untimed steps first (allocator, cuDNN autotuning, caches).")] = 3,
    device: Annotated[str, typer.Option(help="cpu or cuda[:N].")] = "cpu",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="CIFAR-10's binary version (cifar-10-batches-bin); without it, timing runs on random "
            "tensors of the dataset's shape and the record says so."
        ),
    ] = None,
    accuracy_epochs: Annotated[
        int, typer.Option(help="Also train this many epochs and rank by test accuracy (needs --data-dir).")
    ] = 0,
    accounting: Annotated[str, typer.Option(help="Power profile whose training watts the energy is compared with.")] = (
        "default"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the architecture draw, the weights and the batches.")] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Record path (default: results/spotchecks/DEVICE-kARCHS.json).")
    ] = None,
) -> None:
    """Train sampled NB201 architectures with NAS-Bench-201's recipe, check their parameter counts, and compare the
    measured time per epoch (and energy, with an NVML or RAPL counter) with the table: ratio per architecture and
    Kendall's tau. Writes a spot-check record (docs/spotchecks.md) that the leaderboard shows."""
    from harness.io import atomic_write_text, check_writable
    from harness.optional import require

    require(("torch",), "`harness spotcheck`")
    from harness.spotcheck.run import SpotSpec, check, spotcheck

    spec = SpotSpec(
        benchmark,
        archs,
        steps,
        epochs,
        warmup,
        device,
        str(data_dir) if data_dir else None,
        accuracy_epochs,
        accounting,
        seed,
    )
    check(spec)
    target = out_path or Path("results") / "spotchecks" / f"{device.replace(':', '')}-k{archs}.json"
    check_writable(target)
    with progress_reporter("spot check", archs) as report:
        record = spotcheck(spec, lambda done, total, note: report(done, note))
    table = Table(title=f"{record['hardware'].get('gpu') or record['hardware']['cpu']}: measured vs table")
    for column in ("architecture", "params", "table s/epoch", "measured s/epoch", "ratio"):
        table.add_column(column, justify="left" if column == "architecture" else "right")
    for row in record["rows"]:
        table.add_row(
            row["arch"],
            str(row["params"]),
            f"{row['table_s_per_epoch']:.2f}",
            f"{row['s_per_epoch']:.2f}",
            f"{row['time_ratio']:.2f}",
        )
    out.print(table)
    s = record["summary"]
    tau = "n/a" if s["kendall_tau_time"] is None else f"{s['kendall_tau_time']:.3f} (p = {s['kendall_p_time']:.2g})"
    out.print(
        f"Kendall tau (time per epoch, measured vs table): {tau}; measured/table median "
        f"{s['time_ratio_median']:.2f}; energy: {record['measurement']['energy']}",
        markup=False,
    )
    atomic_write_text(target, json.dumps(record, indent=1, sort_keys=True) + "\n")
    out.print(f"record written to {target}", markup=False)
