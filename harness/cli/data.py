"""`harness data`: fetch, verify, list and build the pinned upstream data files and tables."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from harness.cli.common import err, human_bytes, out, sub_app
from harness.errors import HarnessError

data_app = sub_app("data", "Fetch, verify and list the pinned upstream data files.")


@data_app.command("list")
def data_list(
    group: Annotated[str | None, typer.Option(help="Only this group: nb201, carbon, ecnas, nb301, hwnasbench.")] = None,
) -> None:
    """List every pinned upstream file: name, group, size, licence and whether it is cached."""
    from harness.data.fetch import cache_dir, raw_path
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    table = Table(title=f"Upstream data files (cache: {cache_dir()})")
    for column in ("name", "group", "size", "cached", "licence"):
        table.add_column(column, no_wrap=column != "licence")
    for entry in manifest:
        if group and entry.group != group:
            continue
        size = human_bytes(entry.size) if entry.size else "?"
        cached = "yes" if raw_path(entry).exists() else ("user-supplied" if entry.optional else "-")
        table.add_row(entry.name, entry.group, size, cached, entry.license)
    out.print(table)


@data_app.command("fetch")
def data_fetch(
    names: Annotated[list[str] | None, typer.Argument(help="File or group names (see `harness data list`).")] = None,
    all_files: Annotated[
        bool, typer.Option("--all", help="Every mirrored file (user-supplied ones by name only).")
    ] = False,
) -> None:
    """Download files into the cache, verifying sha256 before anything is kept.

    Set CENAS_BENCH_MIRROR (e.g. file:///abs/path/upstream) to fetch from a mirror laid out as
    OWNER/REPO/COMMIT/PATH, and CENAS_BENCH_CACHE to choose the cache folder.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from harness.data.fetch import fetch, source_url
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    if all_files and names:
        raise HarnessError("give file names or --all, not both")
    if not all_files and not names:
        raise HarnessError("name the files to fetch (see `harness data list`) or pass --all")
    entries = [f for f in manifest if not f.optional] if all_files else manifest.select(names or [])
    total = sum(f.size or 0 for f in entries) or None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("fetching", total=total)
        results = []
        for entry in entries:
            progress.update(task, description=f"fetching {entry.name}")
            [result] = fetch([entry], on_bytes=lambda _e, n: progress.advance(task, n))
            if result.action == "cached":
                progress.advance(task, entry.size or 0)
            results.append(result)
    downloaded = sum(r.action == "downloaded" for r in results)
    where = source_url(entries[0]).rsplit(entries[0].rel, 1)[0] if entries else ""
    out.print(
        f"{len(results)} files verified ({downloaded} downloaded from {where}, {len(results) - downloaded} cached)"
    )


@data_app.command("verify")
def data_verify(
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="Also rebuild every table from the verified raw files and compare bytes."),
    ] = False,
) -> None:
    """Re-hash every cached raw file against the manifest and every built table against its stamp (and the inputs
    its stamp claims against the manifest's pins); exit 1 if any is corrupt (a corrupt raw file is never used, a
    corrupt table is rebuilt on its next load). `--rebuild` also rebuilds each table from verified raw files and
    compares bytes: it catches a table rewritten together with its stamp's checksum."""
    from harness.data.fetch import verify
    from harness.data.tables import check_table, rebuild_check, table_names

    results = [(r.entry.name, r.status, r.detail) for r in verify()]
    tables = [(f"table {c.name}", c.status, c.detail) for c in map(check_table, table_names())]
    if rebuild and not any(status == "corrupt" for _, status, _ in tables):
        from harness.carbon.traces import load_trace_table
        from harness.data.build_ecnas import load_ecnas
        from harness.data.build_nb201 import load_nb201

        with err.status("rebuilding tables"), rebuild_check() as checks:
            for load in (load_nb201, load_ecnas, load_trace_table):
                load()
        tables += [(f"table {c.name} (rebuilt)", c.status, c.detail) for c in checks]
    table = Table(title="Cache verification")
    for column in ("name", "status", "detail"):
        table.add_column(column)
    styles = {"ok": "green", "missing": "yellow", "stale": "yellow", "corrupt": "bold red"}
    for name, status, detail in results + tables:
        table.add_row(name, f"[{styles[status]}]{status}[/]", detail)
    out.print(table)
    bad = [name for name, status, _ in results + tables if status == "corrupt"]
    present = sum(status != "missing" for _, status, _ in results)
    if bad:
        err.print(
            f"error: {len(bad)} corrupt: {', '.join(bad)}; `harness data fetch --all` / `harness data build` "
            "replace them",
            markup=False,
        )
        raise typer.Exit(1)
    out.print(f"{present} cached files ok, {len(results) - present} not fetched; {len(tables)} tables ok")


@data_app.command("build")
def data_build() -> None:
    """Build (or confirm up to date) the cached parquet tables: NB201, the EC-NAS records and the hourly traces."""
    from harness.carbon.traces import load_trace_table
    from harness.data.build_ecnas import load_ecnas
    from harness.data.build_nb201 import load_nb201

    with err.status("building tables"):
        nb201 = load_nb201()
        ecnas = load_ecnas()
        traces = load_trace_table()
    out.print(
        f"nb201: {len(nb201)} architectures x {nb201.shape[1]} columns; ecnas: {len(ecnas)} records; "
        f"traces: {len(traces)} hourly rows"
    )
