"""The carbon forecasters' accuracy as an analysis (`forecast-accuracy`, study `forecast-accuracy`): per trace
region, MAPE (%) of the shipped transformer forecaster and of persistence (same hour of the previous day) over the
next 24/48/72 h, on every hourly origin after the model's training split (`harness.carbon.transformer.evaluate`).
The report is the table of docs/cenas.md ("Carbon forecaster")."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from harness.io import atomic_write_text
from harness.studies.analysis import Analysis, AnalysisCell

HORIZONS = (24, 48, 72)


class ForecastAccuracy(Analysis):
    """MAPE of the transformer forecaster vs persistence on the origins after its training split."""

    axes = ("trace",)

    def _checkpoint(self, cell: AnalysisCell) -> Path:
        from harness.carbon import transformer as tf
        from harness.carbon.traces import load_trace

        return tf.find_checkpoint(load_trace(cell.trace or "").region)

    def inputs(self, cell: AnalysisCell) -> dict[str, str]:
        """The trace's data files and the forecaster's weights."""
        path = self._checkpoint(cell)
        return super().inputs(cell) | {f"model:{path.name}": hashlib.sha256(path.read_bytes()).hexdigest()}

    def compute(self, cell: AnalysisCell) -> dict[str, Any]:
        from harness.carbon import transformer as tf

        return tf.evaluate(self._checkpoint(cell), HORIZONS)


def markdown(study: dict[str, Any], frame: pd.DataFrame) -> str:
    split = ", ".join(sorted(set(frame["split"])))
    lines = [
        f"# Forecast accuracy (`{study['name']}`)",
        "",
        f"MAPE (%) over the next 24/48/72 h on every hourly origin after the training split ({split}); transformer "
        "vs persistence (same hour of the previous day). Regenerate: `harness sweep forecast-accuracy`.",
        "",
        "| region | test origins | "
        + " | ".join(f"{h} h {m}" for h in HORIZONS for m in ("transformer", "persistence"))
        + " |",
        "|---|---:|" + "---:|" * (2 * len(HORIZONS)),
    ]
    for row in frame.to_dict("records"):
        numbers = " | ".join(f"{row[f'{m}_{h}h']:.2f}" for h in HORIZONS for m in ("transformer", "persistence"))
        lines.append(f"| {row['region']} | {row['test_origins']} | {numbers} |")
    return "\n".join(lines) + "\n"


def write(study: dict[str, Any], folder: Path, frame: pd.DataFrame, out: Path) -> list[Path]:
    """forecast.md (the table) and forecast.json (the study and one row per region)."""
    paths = [out / "forecast.md", out / "forecast.json"]
    atomic_write_text(paths[0], markdown(study, frame))
    rows = frame.drop(columns=["key"], errors="ignore").to_dict("records")
    atomic_write_text(paths[1], json.dumps({"study": study, "regions": rows}, indent=1, sort_keys=True) + "\n")
    return paths
