"""Matplotlib figures written atomically as PNG (Agg backend, no display needed), and each method's fixed style."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
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


# Colour-blind-safe colours (Okabe-Ito, then Paul Tol's muted scheme); yellow and pale tones left out (unreadable as
# thin lines on white).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#332288",
    "#882255",
    "#117733",
    "#999933",
    "#44AA99",
    "#AA4499",
    "#000000",
    "#6699CC",
)
DASHES = ("-", "--", ":", "-.")
MARKERS = "os^vDP*Xh<>p"


@dataclass(frozen=True)
class MethodStyle:
    """How a method is drawn on every chart: colour (hex), matplotlib line style and marker."""

    color: str
    dash: str
    marker: str


_FIXED_GREYS = ("#d9d9d9", "#c0c0c0", "#a6a6a6", "#8c8c8c", "#737373", "#5a5a5a", "#404040", "#262626", "#0d0d0d")
STYLES: dict[str, MethodStyle] = {
    "cenas": MethodStyle("#0072B2", "-", "o"),
    "cenas-heuristic": MethodStyle("#D55E00", "--", "s"),
    "cenas-heuristic-oracle": MethodStyle("#CC79A7", ":", "s"),
    "cenas-rl-reference": MethodStyle("#56B4E9", "-.", "^"),
    "random-allocation": MethodStyle("#999933", "--", "v"),
    "vanilla-lamoo": MethodStyle("#009E73", "-", "D"),
    "oneshot-lamoo": MethodStyle("#E69F00", "--", "P"),
    "qnehvi": MethodStyle("#882255", ":", "X"),
    "nsga2": MethodStyle("#332288", "-.", "h"),
    "random-search": MethodStyle("#000000", ":", "*"),
    "semoa": MethodStyle("#117733", "-", "o"),
    # the allocation study's policies (CE-NAS's allocation environment)
    "rl-clean": MethodStyle("#0072B2", "-", "o"),
    "heuristic-forecast": MethodStyle("#D55E00", "--", "s"),
    "heuristic-oracle": MethodStyle("#CC79A7", ":", "s"),
    "random": MethodStyle("#999933", "--", "v"),
    "rank-half": MethodStyle("#44AA99", "-.", "D"),
    **{f"fixed-{k}": MethodStyle(grey, ":", "o") for k, grey in enumerate(_FIXED_GREYS)},
    # the tree-solver study's pairs
    "vanilla-lamoo-libsvm": MethodStyle("#009E73", "-", "D"),
    "vanilla-lamoo-ipm": MethodStyle("#44AA99", "--", "d"),
    "cenas-heuristic-libsvm": MethodStyle("#D55E00", "-", "s"),
    "cenas-heuristic-ipm": MethodStyle("#AA4499", "--", "p"),
}
"""The project's methods and study labels, each one style everywhere (a related variant: a related colour)."""


def method_style(name: str) -> MethodStyle:
    """The method's style, a function of its name only: the same on every board, in every build and report.

    Names in `STYLES` get theirs; any other (an outside plugin) gets colour, dash and marker from different bytes of
    its name's SHA-256, so two such methods that share a colour almost always differ in dash or marker."""
    if name in STYLES:
        return STYLES[name]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return MethodStyle(
        PALETTE[digest[0] % len(PALETTE)], DASHES[digest[1] % len(DASHES)], MARKERS[digest[2] % len(MARKERS)]
    )
