"""Fetch manifest files over https or from a mirror (`CENAS_BENCH_MIRROR`, e.g. file:///abs/upstream) into the cache.

Every download goes to a temp file beside its target, is checked (size, sha256 or git blob id) and only then renamed,
so the cache never holds a partial or unverified file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.data.manifest import DataFile, Manifest, load_manifest
from harness.errors import DataIntegrityError, HarnessError, MissingDataError

MIRROR_ENV = "CENAS_BENCH_MIRROR"
CACHE_ENV = "CENAS_BENCH_CACHE"
CHUNK = 1 << 20


def cache_dir() -> Path:
    """The cache root: `$CENAS_BENCH_CACHE`, else the platform's user cache folder for cenas-bench."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("cenas-bench"))


def raw_path(entry: DataFile, cache: Path | None = None) -> Path:
    """Where `entry` lives in the cache: CACHE/raw/OWNER/REPO/COMMIT/PATH."""
    return (cache or cache_dir()) / "raw" / entry.rel


def source_url(entry: DataFile) -> str:
    """The URL to download from: the mirror's copy when `$CENAS_BENCH_MIRROR` is set, else upstream."""
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        return mirror.rstrip("/") + "/" + entry.rel
    return entry.url


def file_digests(path: Path) -> tuple[str, str, int]:
    """(sha256 hex, git blob SHA-1 hex, size in bytes) of a file, read in 1 MiB chunks."""
    size = path.stat().st_size
    sha256 = hashlib.sha256()
    blob = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)  # git object id
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            blob.update(chunk)
    return sha256.hexdigest(), blob.hexdigest(), size


def check_file(entry: DataFile, path: Path) -> str | None:
    """None if `path` matches the entry's pinned size and hash; else a one-line description of the mismatch."""
    sha256, blob, size = file_digests(path)
    if entry.size is not None and size != entry.size:
        return f"size {size} bytes, expected {entry.size} (truncated or corrupt)"
    if entry.sha256 is not None and sha256 != entry.sha256:
        return f"sha256 mismatch: expected {entry.sha256}, got {sha256}"
    if entry.git_blob is not None and blob != entry.git_blob:
        return f"git blob mismatch: expected {entry.git_blob}, got {blob}"
    return None


ProgressHook = Callable[[DataFile, int], None]


def download(entry: DataFile, cache: Path | None = None, on_bytes: ProgressHook | None = None) -> Path:
    """Download one entry into the cache atomically and return its path; raise DataIntegrityError on a mismatch."""
    target = raw_path(entry, cache)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    url = source_url(entry)
    if not url.startswith(("https://", "http://", "file://")):
        raise HarnessError(f"{entry.name}: unsupported URL scheme in {url} (use https:// or file://)")
    try:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as out:  # noqa: S310 - checked
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    if on_bytes:
                        on_bytes(entry, len(chunk))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HarnessError(f"cannot fetch {entry.name} from {url}: {reason}") from None
        problem = check_file(entry, tmp)
        if problem:
            raise DataIntegrityError(f"{entry.name} ({entry.rel}): {problem}; the cache was left unchanged")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


@dataclass(frozen=True)
class FetchResult:
    entry: DataFile
    path: Path
    action: str  # "downloaded" | "cached"


def fetch(
    entries: Iterable[DataFile], cache: Path | None = None, on_bytes: ProgressHook | None = None
) -> list[FetchResult]:
    """Make every entry present and verified in the cache; already-verified files are not downloaded again."""
    results = []
    for entry in entries:
        path = raw_path(entry, cache)
        if path.exists() and check_file(entry, path) is None:
            results.append(FetchResult(entry, path, "cached"))
            continue
        results.append(FetchResult(entry, download(entry, cache, on_bytes), "downloaded"))
    return results


@dataclass(frozen=True)
class VerifyResult:
    entry: DataFile
    status: str  # "ok" | "missing" | "corrupt"
    detail: str = ""


def verify(manifest: Manifest | None = None, cache: Path | None = None) -> list[VerifyResult]:
    """Re-hash every manifest file present in the cache and report each one."""
    results = []
    for entry in manifest or load_manifest():
        path = raw_path(entry, cache)
        if not path.exists():
            results.append(VerifyResult(entry, "missing"))
            continue
        problem = check_file(entry, path)
        results.append(VerifyResult(entry, "corrupt" if problem else "ok", problem or ""))
    return results


def require(name: str, manifest: Manifest | None = None, cache: Path | None = None) -> Path:
    """Path of a verified cached file, fetching it (from the mirror or upstream) if it is not cached yet."""
    entry = (manifest or load_manifest())[name]
    path = raw_path(entry, cache)
    if path.exists():
        return path
    if entry.optional:
        raise MissingDataError(
            f"{entry.name} is not in the cache; it is user-supplied: run `harness data fetch {entry.name}` "
            f"(downloads {entry.url}) or place the file at {path}"
        )
    return download(entry, cache)
