"""`harness forecast`: train and evaluate the carbon-intensity forecasters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli.common import err, out, sub_app

forecast_app = sub_app("forecast", "Train and evaluate carbon-intensity forecasters.")


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
