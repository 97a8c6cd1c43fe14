"""`harness leaderboard build`: the static leaderboard site from committed study results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import out, progress_reporter, sub_app

leaderboard_app = sub_app("leaderboard", "Build the static leaderboard site from committed study results.")


@leaderboard_app.command("build")
def leaderboard_build(
    results: Annotated[
        Path, typer.Option("--results", help="Folder of study results (each STUDY/ from `harness study report`).")
    ] = Path("results"),
    site: Annotated[
        Path, typer.Option("--out", help="Site folder, replaced whole (refused if it holds files it did not build).")
    ] = Path("leaderboards/site"),
    submissions: Annotated[
        Path | None,
        typer.Option("--submissions", help="Folder of submission bundles (`harness submit`) to add to their boards."),
    ] = None,
) -> None:
    """Build the offline leaderboard site: an index of boards, one page per board (ranking table with CIs and tests,
    anytime curves, final fronts, allocation plot, CSV downloads) and a methodology page. Open OUT/index.html in a
    browser; no server or network is needed. The same results give byte-identical files."""
    from harness.leaderboard.site import build_site, build_steps

    with progress_reporter("leaderboard", build_steps(results), every_s=5.0) as report:
        done = [0]

        def step(note: str) -> None:
            done[0] += 1
            report(done[0], note)

        studies, files = build_site(results, site, step, submissions)
    boards = sum(len(s.boards) for s in studies)
    out.print(f"built {site}/index.html: {len(studies)} studies, {boards} boards, {len(files)} files", markup=False)
