"""`harness study report`: summary tables (Markdown) and plots (SVG + PDF) of a swept study folder.

Every study gets `report.md` (per board and level: the leaderboard's statistics, `harness.studies.levels`; carbon to
95/99 % of HV_max, GPU-hours), `anytime_BOARD.{svg,pdf}` (log10 relative HV regret vs cumulative
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
    anytime,
    budget_label,
    fmt,
    study_frames,
    summary_table,
    tidy_frame,
)
from harness.studies.hindsight import with_hindsight
from harness.studies.plots import plot_allocation, plot_anytime
from harness.studies.published import write_published

FORMATS = ("svg", "pdf")
METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}  # no dates: same inputs, same bytes


def board_slug(board: tuple, study: dict | None = None) -> str:
    """A board's file-name stem, the budget as the study file gives it (`...-500-lbs-8`)."""
    benchmark, budget, gpus = board
    text = "_".join((str(benchmark), budget_label(str(budget), study or {}), str(gpus)))
    return file_stem(text)


def markdown(name: str, study: dict, runs: pd.DataFrame, tidy: pd.DataFrame, privileged: frozenset[str]) -> str:
    """The study's report: per board, every level (the headline first) with each method's IQM and mean and their
    stratified bootstrap intervals, rank interval, A12 and Holm-corrected p against the leader, and the costs; the
    same levels, statistics and leader as the leaderboard (`harness.studies.levels`)."""
    from harness.studies.levels import board_levels

    costs = summary_table(runs, tidy, (), privileged)
    suite = study.get("suite", "v1")
    lines = [
        f"# Study `{name}` (suite {suite})",
        "",
        "Scores are HV fractions (% of HV_max) once a level's carbon was emitted (an HV area: the mean HV "
        "fraction over that carbon range). IQM = interquartile mean over runs, mean, each with its 95 % "
        "stratified bootstrap interval (runs resampled within their trace); rank by IQM with its 95 % bootstrap "
        "interval; A12 = probability that a run of the leader beats a run of the method; p = two-sided "
        "Mann-Whitney U against the leader, Holm-corrected over every test of the board; n/a where not every run "
        "reached the level. A privileged method (it knows more than the past, the present and forecasts) is "
        "ranked apart: `bound`, no rank.",
        "",
    ]
    for board, board_runs in runs.groupby(list(BOARD), sort=False):
        levels = board_levels(study, board_runs, tidy[tidy["key"].isin(board_runs["key"])], privileged)
        power = levels.power
        chosen = "declared before the runs" if levels.declared else "suite v1: matched carbon, chosen after the runs"
        lines += [
            f"## {board_title(board, study)}",
            "",
            f"Headline: {levels.headline} ({chosen}); leader: {levels.leader() or 'none'}. "
            + (
                f"With n = {int(power['n'])} runs per method and a pooled SD of {power['sd']:.2f} pp, differences "
                f"below {power['difference']:.2f} pp cannot be resolved (alpha 0.05, power 0.8)."
                if power["difference"] == power["difference"]
                else ""
            ),
            "",
        ]
        for level in levels.names:
            header = ["method", "n", "rank", "IQM [95 % CI]", "mean [95 % CI]", "A12 vs leader", "Holm p"]
            lines += [
                f"### {level}" + (" (headline)" if level == levels.headline else ""),
                "",
                "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header),
            ]
            table = levels.stats[levels.stats["level"] == level]
            for row in table.to_dict("records"):
                label = row["method"] + (" (privileged)" if row.get("privileged") else "")
                if row.get("missing"):
                    lines.append(f"| {label} | 0 | – | n/a ({row['missing']}) | n/a | – | – |")
                    continue
                rank = (
                    "bound"
                    if row["privileged"]
                    else (f"{int(row['rank'])} ({int(row['rank_lo'])}-{int(row['rank_hi'])})")
                )
                a12 = (
                    "leader"
                    if row["leader"]
                    else (f"{fmt(row['a12_leader'])} [{fmt(row['a12_leader_lo'])}, {fmt(row['a12_leader_hi'])}]")
                )
                p = "–" if np.isnan(row["p_holm_leader"]) else f"{row['p_holm_leader']:.3g}"
                iqm = f"{fmt(row['iqm'])} [{fmt(row['iqm_lo'])}, {fmt(row['iqm_hi'])}]"
                mean = f"{fmt(row['mean'])} [{fmt(row['mean_lo'])}, {fmt(row['mean_hi'])}]"
                lines.append(f"| {label} | {row['n']} | {rank} | {iqm} | {mean} | {a12} | {p} |")
            lines.append("")
        header = ["method", "runs", "to 95 % (lbs)", "to 99 % (lbs)", "GPU-h", "carbon (lbs)"]
        lines += ["### Costs", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in costs.to_dict("records"):
            if tuple(row[k] for k in BOARD) != tuple(board):
                continue
            cells = [row["method"], str(row["runs"])]
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
        from harness.studies.store import check_study_folder

        check_study_folder(out, study.get("name", folder.name))  # never over a folder that is not this study's
    if study.get("analysis"):
        return analysis_report(study, folder, out)
    frames = study_frames(folder)  # every record is read once
    runs = frames.runs
    if runs.empty:
        raise HarnessError(f"{folder}: the study has no runs")
    paths = write_published(frames, out) if (folder / "records").is_dir() else []
    frames = with_hindsight(study, frames)  # bounds chosen after the runs: shown, never published as runs
    runs = frames.runs
    tidy = tidy_frame(runs, frames.curves)
    privileged = frozenset(frames.provenance.get("privileged", {}))
    text = markdown(study.get("name", folder.name), study, runs, tidy, privileged)
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
