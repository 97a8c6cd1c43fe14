"""The manifest of pinned upstream data files (name -> URL at a full commit, sha256, size, licence, citation)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlparse

from harness.errors import HarnessError

RAW_HOST = "raw.githubusercontent.com"


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

    @property
    def rel(self) -> str:
        """OWNER/REPO/COMMIT/PATH: the file's place in a mirror and in the cache."""
        parsed = urlparse(self.url)
        if parsed.netloc != RAW_HOST:
            raise HarnessError(f"manifest entry {self.name}: not a {RAW_HOST} URL: {self.url}")
        return parsed.path.lstrip("/")

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
