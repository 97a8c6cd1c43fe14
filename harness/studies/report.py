"""`harness study report`: summary tables (Markdown) and plots (SVG + PDF) of a swept study folder.

Every study gets `report.md` (per board: HV regret at carbon checkpoints with 95 % CIs, carbon to 95/99 % of HV_max,
GPU-hours, ranks and p-values against the best), `anytime_BOARD.{svg,pdf}` (log10 relative HV regret vs cumulative
carbon, mean and 95 % band per method) and `allocation_BOARD.{svg,pdf}` (mean GPUs training vs the hour's carbon
intensity, per carbon-aware method). A study may name an extra report (`report = "hotcarbon"`), registered in
`REPORTS`.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.io import atomic_write_text
from harness.studies import REPORTS
from harness.studies.aggregate import (
    BOARD,
    CHECKPOINTS_LBS,
    anytime,
    fmt,
    study_frames,
    summary_table,
    tidy_frame,
)
from harness.studies.published import write_published

FORMATS = ("svg", "pdf")
METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}  # no dates: same inputs, same bytes


def board_slug(board: tuple) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", "_".join(str(b) for b in board)).strip("-")


def markdown(name: str, table: pd.DataFrame, checkpoints: tuple[float, ...] = CHECKPOINTS_LBS) -> str:
    lines = [f"# Study `{name}`", "", "HV regret = HV_max - HV at each carbon checkpoint (mean [95 % CI] over runs; "
             "n/a where not every run reached it); p = Mann-Whitney U against the best at that checkpoint; carbon to "
             "95/99 % of HV_max = median over the runs that reached it (reached/runs); a privileged method (it knows "
             "more than the past, the present and forecasts) is ranked apart: `bound`, no rank.", ""]  # fmt: skip
    for board, group in table.groupby(list(BOARD), sort=False):
        shown = [c for c in checkpoints if group[f"reached@{c:g}"].max() > 0]
        lines += [f"## {' / '.join(str(b) for b in board)}", ""]
        header = ["method", "runs", *[f"regret @ {c:g} lbs" for c in shown], "to 95 % (lbs)", "to 99 % (lbs)",
                  "GPU-h", "carbon (lbs)"]  # fmt: skip
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in group.to_dict("records"):
            cells = [row["method"] + (" (privileged)" if row.get("privileged") else ""), str(row["runs"])]
            for c in shown:
                k = f"{c:g}"
                if row[f"reached@{k}"] < row["runs"]:
                    cells.append(f"n/a ({row[f'reached@{k}']}/{row['runs']} reached)")
                    continue
                rank = row[f"rank@{k}"]
                p = row[f"p@{k}"]
                place = ", bound" if row.get("privileged") else ("" if np.isnan(rank) else f", #{int(rank)}")
                extra = place + ("" if np.isnan(p) else f", p={p:.3g}")
                cells.append(f"{fmt(row[f'regret@{k}'])} [{fmt(row[f'regret_lo@{k}'])}, {fmt(row[f'regret_hi@{k}'])}]"
                             + extra)  # fmt: skip
            for pct in (95, 99):
                cells.append(f"{fmt(row[f'to{pct}_lbs'])} ({row[f'to{pct}_reached']}/{row['runs']})")
            cells += [fmt(row["gpu_hours"], 1), fmt(row["carbon_lbs"], 1)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot_anytime(curves: pd.DataFrame, board: tuple, out: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Mean log10 relative HV regret against cumulative carbon (log axis) with 95 % bands, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, (method, g) in enumerate(curves.groupby("method", sort=False)):
        g = g[g["runs"] >= max(1, 0.5 * g["runs"].max())]  # drawn while at least half of the runs are still going
        color = f"C{i % 10}"
        ax.plot(g["carbon_lbs"], g["mean"], color=color, label=method, linestyle=["-", "--", ":", "-."][i % 4])
        ax.fill_between(g["carbon_lbs"], g["lower"], g["upper"], color=color, alpha=0.15, linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel("cumulative carbon (lbs CO2eq)")
    ax.set_ylabel("log10 relative HV regret")
    ax.set_title(" / ".join(str(b) for b in board), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return _save(fig, out / f"anytime_{board_slug(board)}", formats)


def allocating_methods(tidy: pd.DataFrame) -> list[str]:
    """Methods whose number of training GPUs changes during their runs (the ones an allocation plot shows)."""
    changes = tidy.groupby("method", sort=False)["train_gpus"].nunique()
    return [str(m) for m, n in changes.items() if n > 1]


def plot_allocation(tidy: pd.DataFrame, board: tuple, out: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Mean training GPUs against the hour's intensity percentile within its own trace window (0 = cleanest hour),
    in deciles, one line per method that changes its allocation; percentiles make regions with different intensity
    levels comparable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    tidy = tidy.assign(pct=100 * tidy.groupby("key")["ci"].rank(pct=True))
    edges = np.linspace(0, 100, 11)
    plotted = 0
    drawn = set(allocating_methods(tidy))
    for i, (method, g) in enumerate(tidy.groupby("method", sort=False)):
        if method not in drawn:
            continue
        bins = pd.cut(g["pct"], edges, include_lowest=True)
        means = g.groupby(bins, observed=True)["train_gpus"].mean()
        centers = [iv.mid for iv in means.index]
        ax.plot(centers, means.to_numpy(), marker="o", markersize=3, color=f"C{i % 10}", label=method,
                linestyle=["-", "--", ":", "-."][i % 4])  # fmt: skip
        plotted += 1
    ax.set_xlabel("hour's carbon intensity, percentile within its trace window (0 = cleanest)")
    ax.set_ylabel("GPUs training (mean)")
    ax.set_title(" / ".join(str(b) for b in board) + ("" if plotted else " (no carbon-aware method)"), fontsize=9)
    ax.grid(True, alpha=0.3)
    if plotted:
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return _save(fig, out / f"allocation_{board_slug(board)}", formats)


def plot_fronts(
    fronts: pd.DataFrame,
    objectives: list[str],
    title: str,
    stem: Path,
    formats: tuple[str, ...] = FORMATS,
    front_name: str = "true front",
) -> list[Path]:
    """Final Pareto fronts of one run per method (column `method`; rows with method "" are the benchmark's true front,
    or a surrogate's reference front, named by `front_name`): error (100 - accuracy, log axis) against cost, both lower
    is better. Methods differ by marker as well as colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    true = fronts[fronts["method"] == ""].sort_values("cost")
    ax.step(true["cost"], 100 - true["accuracy"], where="post", color="0.4", linewidth=1.2, label=front_name)
    markers = "os^vDP*Xh<>p"
    methods = [m for m in dict.fromkeys(fronts["method"]) if m]
    for i, method in enumerate(methods):
        g = fronts[fronts["method"] == method].sort_values("cost")
        error = 100 - g["accuracy"]
        ax.step(g["cost"], error, where="post", color=f"C{i % 10}", alpha=0.5, linewidth=0.8)
        ax.scatter(g["cost"], error, color=f"C{i % 10}", marker=markers[i % len(markers)], s=18, label=method)
    ax.set_yscale("log")  # error = 100 - accuracy on a log axis spreads the good architectures apart
    ax.set_xlabel(objectives[1] if len(objectives) > 1 else "cost")
    label = "100 − " + (objectives[0] if objectives else "accuracy (%)") + ", log scale"
    ax.set_ylabel(textwrap.fill(label, 48))  # long labels (NB301's) wrap instead of running off the figure
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    fig.tight_layout()
    return _save(fig, stem, formats)


def _save(fig, stem: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:  # type: ignore[no-untyped-def]
    import matplotlib.pyplot as plt

    from harness.io import atomic_open

    paths = []
    for ext, meta in ((f, METADATA[f]) for f in formats):
        path = stem.with_suffix(f".{ext}")
        with atomic_open(path, "wb") as handle, plt.rc_context({"svg.hashsalt": "cenas-bench"}):
            fig.savefig(handle, format=ext, metadata=meta)  # no dates, fixed SVG ids: same inputs, same bytes
        paths.append(path)
    plt.close(fig)
    return paths


def report(folder: Path, out: Path | None = None, plots: bool = True) -> tuple[str, list[Path]]:
    """Write report.md and plots for the study in `folder` (into `out`, default the folder), and, when the folder has
    run records, its committed form (`harness.studies.published`); returns the Markdown."""
    import json

    out = out or folder
    study = json.loads((folder / "study.json").read_text())["study"] if (folder / "study.json").exists() else {}
    if study.get("analysis"):
        return analysis_report(study, folder, out)
    frames = study_frames(folder)  # every record is read once
    runs = frames.runs
    if runs.empty:
        raise HarnessError(f"{folder}: the study has no runs")
    paths = write_published(frames, out) if (folder / "records").is_dir() else []
    tidy = tidy_frame(runs, frames.curves)
    privileged = frozenset(frames.provenance.get("privileged", {}))
    text = markdown(study.get("name", folder.name), summary_table(runs, tidy, privileged=privileged))
    paths.append(out / "report.md")
    atomic_write_text(paths[-1], text + "\n")
    if plots:
        curves = anytime(tidy)
        for board, group in curves.groupby(list(BOARD), sort=False):
            paths += plot_anytime(group, board, out)
            board_tidy = tidy[(tidy[list(BOARD)] == pd.Series(dict(zip(BOARD, board, strict=True)))).all(axis=1)]
            paths += plot_allocation(board_tidy, board, out)
    if study.get("report"):
        paths += REPORTS.get(study["report"])(study, folder, frames, out)
    return text, paths


def analysis_report(study: dict, folder: Path, out: Path) -> tuple[str, list[Path]]:
    """An analysis study's committed results (`results.csv`) and its report (the study's `report`, whose first
    Markdown file is returned as the text)."""
    from harness.studies.analysis import load_analysis, write_results

    frame = load_analysis(folder)
    paths = [write_results(frame, out)] if (folder / "records").is_dir() else []
    if not study.get("report"):
        return frame.to_string(index=False), paths
    written = REPORTS.get(study["report"])(study, folder, frame, out)
    text = next((p.read_text(encoding="utf-8") for p in written if p.suffix == ".md"), "")
    return text, paths + written
