"""`harness forecast train`: train the carbon-intensity forecasters (their accuracy is the study
`forecast-accuracy`: `harness sweep forecast-accuracy`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, out, sub_app

forecast_app = sub_app("forecast", "Train carbon-intensity forecasters (accuracy: `harness sweep forecast-accuracy`).")


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
