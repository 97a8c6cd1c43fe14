"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under `folder`, lock files (cache housekeeping, always empty) excluded."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".locks" not in p.relative_to(folder).parts
    }


def cli(
    *args: str, cache: Path | None = None, cwd: Path | None = None, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run `harness ARGS` in a fresh interpreter (extra environment variables as keywords)."""
    environment = os.environ | env | ({"CENAS_BENCH_CACHE": str(cache)} if cache else {})
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        capture_output=True, text=True, timeout=timeout, env=environment, cwd=cwd,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Assert exit status 2 with exactly one `error:` line on stderr containing every fragment; return it."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]
