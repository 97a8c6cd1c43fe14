"""Small helpers shared by the tests."""

from __future__ import annotations

from pathlib import Path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under `folder`, lock files (cache housekeeping, always empty) excluded."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".locks" not in p.relative_to(folder).parts
    }
