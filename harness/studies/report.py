"""`harness study report`: summary tables (Markdown) and plots (SVG + PDF) of a swept study folder.

Every study gets `report.md` (per board: HV regret at carbon checkpoints with 95 % CIs, carbon to 95/99 % of HV_max,
GPU-hours, ranks and p-values against the best), `anytime_BOARD.{svg,pdf}` (log10 relative HV regret vs cumulative
carbon, mean and 95 % band per method) and `allocation_BOARD.{svg,pdf}` (mean GPUs training vs the hour's carbon
intensity, per carbon-aware method). A study may name an extra report (`report = "hotcarbon"`), registered in
`REPORTS`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.io import atomic_write_text, file_stem
from harness.studies import REPORTS
from harness.studies.aggregate import (
    BOARD,
    CHECKPOINTS_LBS,
    anytime,
    budget_label,
    fmt,
    study_frames,
    summary_table,
    tidy_frame,
)
from harness.studies.plots import plot_allocation, plot_anytime
from harness.studies.published import write_published

FORMATS = ("svg", "pdf")
METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}  # no dates: same inputs, same bytes


def board_slug(board: tuple, study: dict | None = None) -> str:
    """A board's file-name stem, the budget as the study file gives it (`...-500-lbs-8`)."""
    benchmark, budget, gpus = board
    text = "_".join((str(benchmark), budget_label(str(budget), study or {}), str(gpus)))
    return file_stem(text)


def markdown(name: str, table: pd.DataFrame, checkpoints: tuple[float, ...] = CHECKPOINTS_LBS) -> str:
    lines = [f"# Study `{name}`", "", "HV regret = HV_max - HV at each carbon checkpoint (mean [95 % CI] over runs; "
             "n/a where not every run reached it); p = Mann-Whitney U against the best at that checkpoint; carbon to "
             "95/99 % of HV_max = median over the runs that reached it (reached/runs); a privileged method (it knows "
             "more than the past, the present and forecasts) is ranked apart: `bound`, no rank.", ""]  # fmt: skip
    for board, group in table.groupby(list(BOARD), sort=False):
        shown = [c for c in checkpoints if group[f"reached_at_{c:g}lbs"].max() > 0]
        lines += [f"## {' / '.join(str(b) for b in board)}", ""]
        header = ["method", "runs", *[f"regret @ {c:g} lbs" for c in shown], "to 95 % (lbs)", "to 99 % (lbs)",
                  "GPU-h", "carbon (lbs)"]  # fmt: skip
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in group.to_dict("records"):
            cells = [row["method"] + (" (privileged)" if row.get("privileged") else ""), str(row["runs"])]
            for c in shown:
                k = f"{c:g}"
                if row[f"reached_at_{k}lbs"] < row["runs"]:
                    cells.append(f"n/a ({row[f'reached_at_{k}lbs']}/{row['runs']} reached)")
                    continue
                rank = row[f"rank_at_{k}lbs"]
                p = row[f"p_at_{k}lbs"]
                place = ", bound" if row.get("privileged") else ("" if np.isnan(rank) else f", #{int(rank)}")
                extra = place + ("" if np.isnan(p) else f", p={p:.3g}")
                at = f"_at_{k}lbs"
                cells.append(f"{fmt(row[f'regret{at}'])} [{fmt(row[f'regret_lo{at}'])}, {fmt(row[f'regret_hi{at}'])}]"
                             + extra)  # fmt: skip
            for pct in (95, 99):
                to = f"carbon_to_{pct}pct"
                cells.append(f"{fmt(row[f'{to}_lbs'])} ({row[f'{to}_reached']}/{row['runs']})")
            cells += [fmt(row["gpu_hours"], 1), fmt(row["carbon_lbs"], 1)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def board_title(board: tuple, study: dict | None = None) -> str:
    """`benchmark / budget / N GPUs`, the budget as the study file gives it (`500 lbs`, not `226796 g CO2eq`)."""
    benchmark, budget, gpus = board
    return f"{benchmark} / {budget_label(str(budget), study or {})} / {gpus} GPUs"


def write_figure(ax, stem: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:  # type: ignore[no-untyped-def]
    """Save the figure of `ax` as `stem.<format>` for each format, atomically, with no dates and fixed SVG ids (same
    inputs, same bytes)."""
    import matplotlib

    from harness.io import atomic_open

    paths = []
    for ext in formats:
        path = stem.with_suffix(f".{ext}")
        with atomic_open(path, "wb") as handle, matplotlib.rc_context({"svg.hashsalt": "cenas-bench"}):
            ax.figure.savefig(handle, format=ext, metadata=METADATA[ext])
        paths.append(path)
    return paths


def report(folder: Path, out: Path | None = None, plots: bool = True) -> tuple[str, list[Path]]:
    """Write report.md and plots for the study in `folder` (into `out`, default the folder), and, when the folder has
    run records, its committed form (`harness.studies.published`); returns the Markdown."""
    import json

    out = out or folder
    study = json.loads((folder / "study.json").read_text())["study"] if (folder / "study.json").exists() else {}
    if out.resolve() != folder.resolve():
        from harness.studies.sweep import check_study_folder

        check_study_folder(out, study.get("name", folder.name))  # never over a folder that is not this study's
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
            title = board_title(board, study)
            slug = board_slug(board, study)
            paths += write_figure(plot_anytime(group, title=title), out / f"anytime_{slug}")
            board_tidy = tidy[(tidy[list(BOARD)] == pd.Series(dict(zip(BOARD, board, strict=True)))).all(axis=1)]
            paths += write_figure(plot_allocation(board_tidy, title=title), out / f"allocation_{slug}")
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
