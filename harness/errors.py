"""Errors the CLI turns into one clear line and exit status 2."""

from __future__ import annotations

import errno


class HarnessError(Exception):
    """A user-facing error: bad input, missing or corrupt data. The message is one line."""


class DataIntegrityError(HarnessError):
    """A downloaded or cached file does not match its pinned checksum or size."""


class MissingDataError(HarnessError):
    """A required data file is not in the cache (and could not be fetched here)."""


_HINTS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EISDIR: "is a folder",
    errno.ENOTDIR: "a path component is not a folder",
    errno.ENOENT: "no such file or folder",
}


def os_error(exc: OSError, doing: str) -> HarnessError:
    """An OSError (permissions, read-only or full disk, folder in the way) as a one-line HarnessError."""
    reason = _HINTS.get(exc.errno or -1) or exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    return HarnessError(f"{doing}: {reason}{where}")
