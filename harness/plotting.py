"""Matplotlib figures written atomically as PNG (Agg backend, no display needed)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from harness.io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float = 8.0, height: float = 3.5) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_png(figure: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Render `figure` to PNG and write it atomically; returns the path."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
