"""`harness forecast train` / `export`: train the carbon-intensity forecasters and export them to ONNX (their accuracy
is the study `forecast-accuracy`: `harness sweep forecast-accuracy`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, out, sub_app

forecast_app = sub_app(
    "forecast", "Train and export carbon-intensity forecasters (accuracy: `harness sweep forecast-accuracy`)."
)


@forecast_app.command("train")
def forecast_train(
    regions: Annotated[list[str], typer.Argument(help="Trace regions, e.g. US-CAL-CISO DE US-MIDA-PJM.")],
    epochs: Annotated[int, typer.Option(help="Maximum epochs (the best held-out epoch is kept).")] = 20,
    split: Annotated[str, typer.Option(help="Train on origins before this UTC time.")] = "2021-07-01T00:00",
    seed: Annotated[int, typer.Option(help="Seed of initialisation and shuffling.")] = 0,
    out_dir: Annotated[Path | None, typer.Option(help="Folder for checkpoints (default: CACHE/models).")] = None,
) -> None:
    """Train the transformer forecaster per region on data before --split; writes forecast_<region>.pt (weights),
    .onnx (their export, what runs load) and .json (spec, pins the export)."""
    from harness.optional import require

    require(("torch", "onnx"), "`harness forecast train`")
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


@forecast_app.command("export")
def forecast_export(
    regions: Annotated[list[str], typer.Argument(help="Trace regions whose forecaster to export, e.g. US-CAL-CISO.")],
) -> None:
    """Export a forecaster's weights to ONNX beside them and pin the export in its JSON (what runs load; needed for
    a checkpoint trained before exports existed). Needs torch and the onnx package; the same weights give the same
    bytes."""
    from harness.optional import require

    require(("torch", "onnx"), "`harness forecast export`")
    from harness.carbon import transformer as tf
    from harness.carbon.traces import load_trace

    paths = [tf.find_checkpoint(load_trace(region).region) for region in regions]  # every region checked first
    for path in paths:
        entry = tf.export(path)
        out.print(f"{path.with_suffix('.onnx')}: {entry['size']:,} bytes, sha256 {entry['sha256'][:12]}")
