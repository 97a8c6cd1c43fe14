"""Small helpers shared by the tests."""

from __future__ import annotations

import json
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
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=cwd,
    )


def one_error_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Assert exit status 2 with exactly one `error:` line on stderr containing every fragment; return it."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def modules_after_run(method: str, watched: tuple[str, ...], options: dict[str, str] | None = None) -> list[str]:
    """Which of `watched` a fresh interpreter has imported after one 6-h run of `method` (NB201 CIFAR-10 with Pi 5
    energy, US-CAL-CISO from 2021-07-02, `options` as `--set`) that trained something; sorted."""
    code = (
        "import json, sys\n"
        "from harness.config import RunSpec, parse_budget\n"
        "from harness.runner import execute\n"
        "record = execute(RunSpec(sys.argv[1], 'nb201/cifar10/pi5-energy', 'US-CAL-CISO@2021-07-02T00:00', "
        "parse_budget('6h'), method_options=json.loads(sys.argv[2])))\n"
        "assert record.summary['n_trained'] > 0\n"
        "print(json.dumps(sorted(m for m in sys.argv[3:] if m in sys.modules)))\n"
    )
    command = [sys.executable, "-c", code, method, json.dumps(options or {}), *watched]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))
