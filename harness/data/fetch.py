"""Fetch manifest files over https or from a mirror (`CENAS_BENCH_MIRROR`, e.g. file:///abs/upstream) into the cache,
and read them back verified.

Every download goes to a uniquely named temp file beside its target, is capped at the pinned size, checked (size,
sha256 or git blob id) and only then renamed, under a per-file lock, so the cache never holds a partial or
unverified file and concurrent fetches into one cache both succeed. Every read (`read_verified`) hashes the bytes it
returns: a file changed in the cache after it was fetched is refused, never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.data.manifest import DataFile, Manifest, load_manifest
from harness.errors import DataIntegrityError, HarnessError, MissingDataError, os_error
from harness.io import atomic_path

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
    """Where `entry` lives in the cache: CACHE/raw/OWNER/REPO/COMMIT/PATH (the manifest guarantees it stays inside)."""
    return (cache or cache_dir()) / "raw" / entry.rel


@contextlib.contextmanager
def cache_lock(cache: Path | None, key: str, timeout_s: float = 600.0) -> Iterator[None]:
    """An inter-process lock on one cache item (`key`, e.g. `raw/NAME` or `tables/NAME`), held while it is written."""
    from filelock import FileLock, Timeout

    folder = (cache or cache_dir()) / ".locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / (key.replace("/", "__") + ".lock")), timeout=timeout_s)
        lock.acquire()
    except Timeout:
        raise HarnessError(f"timed out after {timeout_s:.0f} s waiting for another process writing {key}") from None
    except OSError as exc:
        raise os_error(exc, f"cannot write to the cache {cache or cache_dir()}") from None
    try:
        yield
    finally:
        lock.release()


def source_url(entry: DataFile) -> str:
    """The URL to download from: the mirror's copy when `$CENAS_BENCH_MIRROR` is set, else upstream."""
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        return mirror.rstrip("/") + "/" + entry.rel
    return entry.url


@dataclass(frozen=True)
class Digests:
    """Hashes of one file's bytes: sha256 hex, git blob SHA-1 hex, size in bytes."""

    sha256: str
    git_blob: str
    size: int

    def mismatch(self, entry: DataFile) -> str | None:
        """None if these digests match the entry's pins; else a one-line description of the mismatch."""
        if entry.size is not None and self.size != entry.size:
            return f"size {self.size} bytes, expected {entry.size} (truncated or corrupt)"
        if entry.sha256 is not None and self.sha256 != entry.sha256:
            return f"sha256 mismatch: expected {entry.sha256}, got {self.sha256}"
        if entry.git_blob is not None and self.git_blob != entry.git_blob:
            return f"git blob mismatch: expected {entry.git_blob}, got {self.git_blob}"
        return None

    def pin_value(self, entry: DataFile) -> str:
        """The digest of the kind the entry is pinned by (sha256, else git blob id)."""
        return self.sha256 if entry.sha256 is not None else self.git_blob


def digest_bytes(data: bytes) -> Digests:
    blob = hashlib.sha1(f"blob {len(data)}\0".encode(), usedforsecurity=False)  # git object id
    blob.update(data)
    return Digests(hashlib.sha256(data).hexdigest(), blob.hexdigest(), len(data))


def file_digests(path: Path) -> Digests:
    """Digests of a file, read in 1 MiB chunks."""
    size = path.stat().st_size
    sha256 = hashlib.sha256()
    blob = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            blob.update(chunk)
    return Digests(sha256.hexdigest(), blob.hexdigest(), size)


def check_file(entry: DataFile, path: Path) -> str | None:
    """None if `path` matches the entry's pinned size and hash; else a one-line description of the mismatch."""
    return file_digests(path).mismatch(entry)


ProgressHook = Callable[[DataFile, int], None]


def _stream_to(entry: DataFile, url: str, path: Path, cap: int, on_bytes: ProgressHook | None) -> None:
    """Copy `url` into `path`, refusing more than `cap` bytes."""
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=60) as response, path.open("wb") as out:  # noqa: S310 - checked
            while chunk := response.read(CHUNK):
                received += len(chunk)
                if received > cap:
                    raise DataIntegrityError(
                        f"{entry.name}: the download exceeds its {cap}-byte cap from the manifest; "
                        "the cache was left unchanged"
                    )
                out.write(chunk)
                if on_bytes:
                    on_bytes(entry, len(chunk))
    except urllib.error.URLError as exc:
        raise HarnessError(f"cannot fetch {entry.name} from {url}: {exc.reason}") from None
    except ValueError as exc:
        raise HarnessError(f"cannot fetch {entry.name} from {url}: {exc}") from None
    except FileNotFoundError as exc:
        if exc.filename == str(path):
            raise
        raise HarnessError(f"cannot fetch {entry.name} from {url}: not found") from None


def download(entry: DataFile, cache: Path | None = None, on_bytes: ProgressHook | None = None) -> Path:
    """Download one entry into the cache atomically and return its path; raise DataIntegrityError on a mismatch.

    Holds the entry's lock; if another process completed the same file meanwhile, its verified copy is kept.
    """
    target = raw_path(entry, cache)
    url = source_url(entry)
    if not url.startswith(("https://", "http://", "file://")):
        raise HarnessError(f"{entry.name}: unsupported URL scheme in {url} (use https:// or file://)")
    cap = entry.cap
    with cache_lock(cache, f"raw/{entry.name}"):
        if target.is_file() and check_file(entry, target) is None:
            return target
        try:
            with atomic_path(target) as tmp:
                _stream_to(entry, url, tmp, cap, on_bytes)
                problem = check_file(entry, tmp)
                if problem:
                    raise DataIntegrityError(f"{entry.name} ({entry.rel}): {problem}; the cache was left unchanged")
        except OSError as exc:
            raise os_error(exc, f"cannot fetch {entry.name} into the cache") from None
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
        if path.is_file() and check_file(entry, path) is None:
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
        try:
            problem = check_file(entry, path)
        except OSError as exc:
            problem = f"unreadable ({exc.strerror or exc})"
        results.append(VerifyResult(entry, "corrupt" if problem else "ok", problem or ""))
    return results


def require(name: str, manifest: Manifest | None = None, cache: Path | None = None) -> Path:
    """Path of a cached file, fetching it (from the mirror or upstream) if it is not cached yet.

    The path is not re-verified here: code that parses a file reads it through `read_verified` instead.
    """
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


@dataclass(frozen=True)
class VerifiedFile:
    """The bytes of one manifest file, hashed as read and matching its pin; parse these, never the path."""

    entry: DataFile
    data: bytes = field(repr=False)
    digests: Digests

    def stream(self) -> io.BytesIO:
        return io.BytesIO(self.data)

    def text(self) -> str:
        return self.data.decode("utf-8")


def read_verified(name: str, manifest: Manifest | None = None, cache: Path | None = None) -> VerifiedFile:
    """Read a manifest file from the cache (fetching it first if absent) and verify the very bytes returned.

    A cached file that no longer matches its pin is refused with a DataIntegrityError naming the fix; a user-supplied
    file (HW-NAS-Bench) that does not match is refused with where to get the right one.
    """
    entry = (manifest or load_manifest())[name]
    path = require(name, manifest, cache)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise HarnessError(f"{path} is a folder where the cache expects the file {entry.name}; remove it") from None
    except OSError as exc:
        raise os_error(exc, f"cannot read {entry.name} from the cache") from None
    digests = digest_bytes(data)
    problem = digests.mismatch(entry)
    if problem:
        fix = (
            f"get the pinned file from {entry.url} (`harness data fetch {entry.name}`)"
            if entry.optional
            else f"run `harness data fetch {entry.name}` to download it again"
        )
        raise DataIntegrityError(f"cached {entry.name} ({path}) fails its pin: {problem}; nothing was used; {fix}")
    return VerifiedFile(entry, data, digests)


class InputReader:
    """`reader(name)` -> VerifiedFile, remembering the digest of every file read (for a table's stamp)."""

    def __init__(self, manifest: Manifest | None = None, cache: Path | None = None) -> None:
        self.manifest = manifest or load_manifest()
        self.cache = cache
        self.read: dict[str, str] = {}

    def __call__(self, name: str) -> VerifiedFile:
        verified = read_verified(name, self.manifest, self.cache)
        self.read[name] = verified.digests.pin_value(verified.entry)
        return verified
