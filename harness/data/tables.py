"""Compact cached tables (parquet) built from verified upstream files, checksummed, rebuilt when their inputs change.

Each table `NAME` is two files in CACHE/tables: `NAME.parquet` and its stamp `NAME.json`:
`{"stamp": {builder, version, pinned input hashes, options}, "read": {input: hash of the bytes actually read},
"sha256": ..., "size": ...}`. A load reads the stamp, then the parquet bytes, and checks their sha256 before
parsing them (about 10 ms for the NB201 table). A table whose stamp differs from the one asked for, or whose bytes
fail their checksum, is rebuilt from verified raw files under a lock (or refused with a clear error when the cache
cannot be written). Both files are written atomically; the stamp last, so a crash leaves a table that fails its
check and is rebuilt, never one that is trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.fetch import cache_dir, cache_lock
from harness.errors import DataIntegrityError, HarnessError, MissingDataError, os_error
from harness.io import atomic_write_bytes

if TYPE_CHECKING:  # pandas and pyarrow are imported when a table is read or written, not to read a stamp
    import pandas as pd

log = logging.getLogger("harness.data")
Builder = Callable[[], "tuple[pd.DataFrame, Mapping[str, str]]"]
"""Builds a table; returns it and the hash of every raw file it read (`InputReader.read`)."""


def table_path(name: str, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "tables" / f"{name}.parquet"


def stamp_path(name: str, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "tables" / f"{name}.json"


def _canonical(value: Mapping[str, Any]) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


def read_stamp(name: str, cache: Path | None = None) -> dict[str, Any] | None:
    """The stamp document of a cached table, or None if it is absent or unreadable."""
    try:
        document = json.loads(stamp_path(name, cache).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


@dataclass(frozen=True)
class TableCheck:
    name: str
    status: str  # "ok" | "missing" | "stale" | "corrupt"
    detail: str = ""


def check_table(name: str, stamp: Mapping[str, Any] | None = None, cache: Path | None = None) -> TableCheck:
    """Whether a cached table's bytes match its recorded checksum (and, if given, its stamp matches `stamp`)."""
    if not table_path(name, cache).exists():
        return TableCheck(name, "missing")
    try:
        data, why = _verified_bytes(name, stamp, cache)
    except HarnessError as exc:
        return TableCheck(name, "corrupt", str(exc))
    if why == "missing":
        return TableCheck(name, "corrupt", "no stamp")
    if why == "stale":
        return TableCheck(name, "stale", "built from other inputs or by another builder version")
    return TableCheck(name, "ok") if data is not None else TableCheck(name, "corrupt", why)


def _bytes_problem(data: bytes, document: Mapping[str, Any]) -> str | None:
    if len(data) != document.get("size"):
        return f"size {len(data)} bytes, stamp says {document.get('size')}"
    digest = hashlib.sha256(data).hexdigest()
    if digest != document.get("sha256"):
        return f"sha256 {digest} differs from the stamp's {document.get('sha256')}"
    return None


def write_table(
    frame: pd.DataFrame, name: str, stamp: Mapping[str, Any], read: Mapping[str, str], cache: Path | None
) -> bytes:
    """Write `frame` as parquet (zstd) and its stamp document, each atomically; returns the parquet bytes."""
    data = encode_table(frame)
    document = {
        "stamp": _canonical(stamp),
        "read": dict(sorted(read.items())),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    atomic_write_bytes(table_path(name, cache), data)
    atomic_write_bytes(stamp_path(name, cache), (json.dumps(document, sort_keys=True, indent=1) + "\n").encode())
    return data


def encode_table(frame: pd.DataFrame) -> bytes:
    """A table's parquet bytes (zstd; the same frame gives the same bytes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, compression="zstd")
    return buffer.getvalue()


REBUILDS: ContextVar[list[TableCheck] | None] = ContextVar("table_rebuilds", default=None)
"""Set to a list (`rebuild_check`), every verified table a load finds is also rebuilt from verified raw files and
compared byte for byte; the outcome is appended (`harness data verify --rebuild`)."""


@contextmanager
def rebuild_check() -> Iterator[list[TableCheck]]:
    """Within the block, each table a load reads from the cache is rebuilt and compared; yields the outcomes."""
    found: list[TableCheck] = []
    token = REBUILDS.set(found)
    try:
        yield found
    finally:
        REBUILDS.reset(token)


def _unpinned_reads(document: Mapping[str, Any]) -> str | None:
    """Why a stamp's `read` hashes (the inputs a table was built from) are not the manifest's pins, or None. Files
    pinned by a git blob id (user-supplied) are checked by their reader instead."""
    from harness.data.manifest import load_manifest

    pins = {entry.name: entry.sha256 for entry in load_manifest()}
    read = document.get("read")
    if not isinstance(read, dict):
        return "its stamp lists no inputs"
    for name, digest in sorted(read.items()):
        if name not in pins:
            return f"its stamp claims an input {name!r} the manifest does not pin"
        pinned = pins[name]
        if pinned is not None and digest != pinned:
            return f"its stamp claims {name} was read with sha256 {str(digest)[:12]}..., not the pinned {pinned[:12]}"
    return None


class MissingColumnsError(MissingDataError):
    """A cached table lacks columns a reader asked for (e.g. NB201 without the optional HW-NAS-Bench columns)."""

    def __init__(self, name: str, columns: list[str]) -> None:
        super().__init__(f"cached table {name} has no column {', '.join(columns)}")
        self.columns = columns


def _parse(
    data: bytes, name: str, columns: list[str] | None, filters: Any, categories: list[str] | None = None
) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pa.set_memory_pool(pa.system_memory_pool())  # Arrow's default (mimalloc) keeps freed pages: +30 MB on a run's peak
    try:
        if columns is not None:
            present = set(pq.read_schema(io.BytesIO(data)).names)
            missing = [c for c in columns if c not in present]
            if missing:
                raise MissingColumnsError(name, missing)
        table = pq.read_table(io.BytesIO(data), columns=columns, filters=filters, read_dictionary=categories)
        return table.to_pandas()
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataIntegrityError(f"cached table {name} passed its checksum but cannot be parsed ({exc})") from None


def _verified_bytes(name: str, stamp: Mapping[str, Any] | None, cache: Path | None) -> tuple[bytes | None, str]:
    """The table's bytes if its stamp matches `stamp` (any stamp when None) and its bytes their checksum; else
    (None, why): "missing", "stale" or "fails its checksum (...)". An unreadable file is a HarnessError."""
    document = read_stamp(name, cache)
    if document is None:
        return None, "missing"
    if stamp is not None and document.get("stamp") != _canonical(stamp):
        return None, "stale"
    try:
        data = table_path(name, cache).read_bytes()
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        raise os_error(exc, f"cannot read cached table {name}") from None
    problem = _bytes_problem(data, document) or _unpinned_reads(document)
    return (None, f"fails its checksum ({problem})") if problem else (data, "ok")


def cached_table(
    name: str,
    stamp: Mapping[str, Any],
    build: Builder,
    cache: Path | None = None,
    columns: list[str] | None = None,
    filters: list[tuple[str, str, Any]] | None = None,
    categories: list[str] | None = None,
) -> pd.DataFrame:
    """Load table `name` from the cache, verified; build it first when it is missing, stale or fails its checksum.
    Only `columns` (default all) and rows passing `filters` are read; string columns named in `categories` come as
    pandas categoricals (dictionary-encoded: a fraction of the memory of one string per row)."""
    data, why = _verified_bytes(name, stamp, cache)
    if data is None:
        try:
            with cache_lock(cache, f"tables/{name}"):
                data, why = _verified_bytes(name, stamp, cache)  # another process may have built it meanwhile
                if data is None:
                    if why.startswith("fails"):
                        log.warning("cached table %s %s; rebuilding it from verified raw files", name, why)
                    frame, read = build()
                    data = write_table(frame, name, stamp, read, cache)
        except HarnessError as exc:
            if why.startswith("fails"):
                raise HarnessError(f"cached table {name} {why} and cannot be rebuilt: {exc}") from None
            raise
        except OSError as exc:
            raise os_error(exc, f"cannot write table {name} into the cache {cache or cache_dir()}") from None
    else:
        checks = REBUILDS.get()
        if checks is not None:
            frame, _ = build()
            rebuilt = encode_table(frame)
            same = rebuilt == data
            ours, theirs = hashlib.sha256(rebuilt).hexdigest()[:12], hashlib.sha256(data).hexdigest()[:12]
            detail = (
                "identical to its rebuild from verified raw files"
                if same
                else (
                    f"differs from its rebuild from verified raw files (sha256 {ours}..., cached {theirs}...): it was "
                    "rewritten; delete it and load again"
                )
            )
            checks.append(TableCheck(name, "ok" if same else "corrupt", detail))
    return _parse(data, name, columns, filters, categories)


def table_names(cache: Path | None = None) -> list[str]:
    """Names of the tables present in the cache (by their stamp or parquet file)."""
    folder = (cache or cache_dir()) / "tables"
    if not folder.is_dir():
        return []
    return sorted(
        {p.stem for p in folder.iterdir() if p.suffix in (".parquet", ".json") and not p.name.startswith(".")}
    )


def read_hashes(names: tuple[str, ...] = ("nb201", "ecnas", "traces"), cache: Path | None = None) -> dict[str, str]:
    """Raw file name -> hash of the bytes the cached tables `names` were built from (for run-record provenance)."""
    found: dict[str, str] = {}
    for name in names:
        document = read_stamp(name, cache) or {}
        read = document.get("read")
        if isinstance(read, dict):
            found.update({str(k): str(v) for k, v in read.items()})
    return found


def recorded_hashes(files: list[str]) -> dict[str, str]:
    """Hash of each raw file in `files` as the verified tables recorded it, sorted by name (one error line for a file
    no cached table was built from)."""
    read = read_hashes()
    unread = [name for name in files if name not in read]
    if unread:
        raise HarnessError(f"no cached table records reading {', '.join(unread)}; run `harness data build`")
    return {name: read[name] for name in sorted(files)}
