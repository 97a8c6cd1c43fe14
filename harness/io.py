"""Atomic file writes: write to a uniquely named temp file in the target folder, fsync, then rename.

A reader (or a process killed mid-write, kill -9 included) sees the target either absent or complete, never partial;
leftover temp files are named `.NAME.*.part` and are never taken for the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temp path beside `path`; on success fsync it and rename it over `path`, on error delete it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside `path`; on success rename it over `path`, on error delete it."""
    with atomic_path(path) as tmp, open(tmp, mode) as handle:
        yield handle


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_checked(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` atomically, then its sha256 beside it (`PATH` with suffix .sha256), also atomically: a reader
    that finds both agreeing has the whole file (`read_checked`)."""
    import hashlib

    data = text.encode("utf-8")
    atomic_write_bytes(path, data)
    atomic_write_text(Path(path).with_suffix(".sha256"), hashlib.sha256(data).hexdigest() + "\n")


def read_checked(path: str | os.PathLike[str]) -> bytes | None:
    """The bytes of a file written by `write_checked`, or None when it or its checksum is missing or they disagree."""
    import hashlib

    try:
        data = Path(path).read_bytes()
        expected = Path(path).with_suffix(".sha256").read_text().strip()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == expected else None


def read_cached(path: str | os.PathLike[str], key: str) -> Any:
    """The value `write_cached` stored at `path` under `key`; None when the file is absent, fails its checksum, is not
    such a document or belongs to another key (the caller then recomputes: nothing unverified is used)."""
    import json

    data = read_checked(path)
    try:
        document = json.loads(data) if data is not None else None
    except ValueError:
        return None
    return document.get("value") if isinstance(document, dict) and document.get("key") == key else None


def write_cached(path: str | os.PathLike[str], key: str, value: Any) -> None:
    """Cache a JSON-able `value` under `key` at `path` with its checksum (`write_checked`), for `read_cached`."""
    import json

    write_checked(path, json.dumps({"key": key, "value": value}, indent=1, sort_keys=True) + "\n")


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail now, not after hours of work, if a file cannot be written at `path`; create nothing.

    The nearest existing folder on the way must be a writable folder (probed with a temp file when it is the target's
    own folder). Raises HarnessError (one line) otherwise.
    """
    from harness.errors import HarnessError, os_error

    target = Path(path)
    if target.is_dir():
        raise HarnessError(f"{target} is a folder; give a file path")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise HarnessError(f"cannot write {target}: {folder} is a file, not a folder")
    try:
        if folder == target.parent:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
            os.close(fd)
            os.unlink(tmp)
        elif not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(folder))
    except OSError as exc:
        raise os_error(exc, f"cannot write {target}") from None
    return target


def file_stem(text: str) -> str:
    """`text` as a safe file-name stem: every run of characters other than letters, digits, '.' and '-' becomes one
    '-', with none at either end (board pages, report plots, method cards)."""
    import re

    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")
