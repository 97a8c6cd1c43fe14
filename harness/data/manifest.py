"""The manifest of pinned upstream data files (name -> URL at a full commit, sha256, size, licence, citation)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath
from urllib.parse import urlparse

from harness.errors import HarnessError

RAW_HOST = "raw.githubusercontent.com"
HWNB = "hw-nas-bench"
"""Manifest name of the user-supplied HW-NAS-Bench pickle (the only entry fetched by hand)."""


@dataclass(frozen=True)
class DataFile:
    """One upstream file. `sha256`/`size` are None only for user-supplied files pinned by `git_blob`."""

    name: str
    group: str
    url: str
    sha256: str | None
    size: int | None
    license: str
    citation: str
    format: str
    git_blob: str | None = None
    optional: bool = False
    note: str = ""
    max_size: int | None = None  # download cap in bytes for an entry without a pinned size

    def __post_init__(self) -> None:
        if self.sha256 is None and self.git_blob is None:
            raise HarnessError(f"manifest entry {self.name}: pinned by neither sha256 nor git blob")
        if self.size is None and self.max_size is None:
            raise HarnessError(f"manifest entry {self.name}: needs a size or a max_size (download cap)")
        self.rel  # noqa: B018 - validates the URL and its path now

    @property
    def rel(self) -> str:
        """OWNER/REPO/COMMIT/PATH: the file's place in a mirror and in the cache (never outside it)."""
        parsed = urlparse(self.url)
        if parsed.scheme != "https" or parsed.netloc != RAW_HOST:
            raise HarnessError(f"manifest entry {self.name}: not an https://{RAW_HOST} URL: {self.url}")
        rel = parsed.path.lstrip("/")
        parts = PurePosixPath(rel).parts
        if (
            len(parts) < 4
            or any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts)
            or not re.fullmatch(r"[0-9a-f]{40}", parts[2])
            or parsed.query
            or parsed.fragment
        ):
            raise HarnessError(
                f"manifest entry {self.name}: path {rel!r} is not OWNER/REPO/COMMIT40/PATH inside the cache"
            )
        return rel

    @property
    def cap(self) -> int:
        """Most bytes a download of this entry may have: its pinned size, else its max_size."""
        return self.size if self.size is not None else int(self.max_size or 0)

    @property
    def commit(self) -> str:
        """The full 40-hex upstream commit the URL is pinned to."""
        return self.rel.split("/")[2]


@dataclass(frozen=True)
class Manifest:
    """An ordered collection of DataFile entries addressable by name or group."""

    files: tuple[DataFile, ...]

    def __post_init__(self) -> None:
        names = [f.name for f in self.files]
        if len(names) != len(set(names)):
            raise HarnessError("manifest has duplicate names")

    def __getitem__(self, name: str) -> DataFile:
        for entry in self.files:
            if entry.name == name:
                return entry
        raise HarnessError(f"unknown data file '{name}' (see `harness data list`)")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def groups(self) -> list[str]:
        return sorted({f.group for f in self.files})

    def select(self, names: Iterable[str]) -> list[DataFile]:
        """Resolve file names and group names (e.g. `nb201`, `carbon`) into entries, in manifest order."""
        wanted: set[str] = set()
        for name in names:
            if name in self.groups:
                wanted.update(f.name for f in self.files if f.group == name)
            else:
                wanted.add(self[name].name)
        return [f for f in self.files if f.name in wanted]

    def replace(self, entry: DataFile) -> Manifest:
        """A copy with `entry` substituted for the entry of the same name (used to test bad checksums)."""
        self[entry.name]
        return Manifest(tuple(entry if f.name == entry.name else f for f in self.files))


@functools.cache
def load_manifest() -> Manifest:
    """The manifest shipped with the package (harness/data/manifest.json)."""
    text = resources.files("harness.data").joinpath("manifest.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return Manifest(tuple(DataFile(**entry) for entry in raw["files"]))
