"""Plots of carbon traces."""

from __future__ import annotations

from pathlib import Path

from harness.carbon.traces import Trace
from harness.plotting import new_figure, save_png


def plot_trace(trace: Trace, path: str | Path) -> Path:
    """Hourly intensity (step plot, gaps left blank) with the window mean; written as PNG."""
    figure = new_figure()
    axes = figure.add_subplot()
    axes.step(trace.times, trace.values, where="post", color="tab:green", lw=1.2)
    mean = trace.stats()["mean"]
    axes.axhline(mean, color="grey", ls="--", lw=0.8, label=f"mean {mean:.1f}")
    axes.set_ylabel("carbon intensity (gCO$_2$eq/kWh)")
    axes.set_xlabel("time (UTC)")
    axes.set_title(f"{trace.region}, {trace.hours} h from {trace.start:%Y-%m-%d %H:%M} UTC")
    axes.legend(loc="upper right")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return save_png(figure, path)
