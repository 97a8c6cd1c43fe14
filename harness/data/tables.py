"""Compact cached tables (parquet) built from verified upstream files, rebuilt only when their inputs change.

Each table carries a stamp in its parquet metadata: builder name and version, the pinned sha256 of every input and
the build options. A table whose stamp differs from the one asked for is rebuilt; reading never re-hashes inputs
(`harness data verify` does that), which keeps a load to a parquet read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.data.fetch import cache_dir
from harness.errors import HarnessError
from harness.io import atomic_open

STAMP_KEY = b"cenas_bench_stamp"


def table_path(name: str, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "tables" / f"{name}.parquet"


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The stamp stored in a cached table, or None if the file is absent or unreadable."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    raw = metadata.get(STAMP_KEY)
    return json.loads(raw) if raw else None


def write_table(frame: pd.DataFrame, path: Path, stamp: Mapping[str, Any]) -> None:
    """Write `frame` as parquet (zstd) with `stamp` in its metadata, atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[STAMP_KEY] = json.dumps(stamp, sort_keys=True).encode()
    table = table.replace_schema_metadata(metadata)
    with atomic_open(path, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")


def cached_table(
    name: str,
    stamp: Mapping[str, Any],
    build: Callable[[], pd.DataFrame],
    cache: Path | None = None,
    columns: list[str] | None = None,
    filters: list[tuple[str, str, Any]] | None = None,
) -> pd.DataFrame:
    """Load table `name` from the cache, building it first when it is missing or its stamp differs."""
    path = table_path(name, cache)
    if read_stamp(path) != json.loads(json.dumps(stamp, sort_keys=True)):
        write_table(build(), path, stamp)
    try:
        return pq.read_table(path, columns=columns, filters=filters).to_pandas()
    except (OSError, pa.ArrowInvalid) as exc:
        raise HarnessError(f"cached table {path} is unreadable ({exc}); delete it to rebuild") from None
