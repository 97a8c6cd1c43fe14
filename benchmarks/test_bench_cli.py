"""Start-up targets for the command line (run: `pytest benchmarks --benchmark-enable`): `harness --help` and the
cached listings in <= 0.5 s each. Measured on the 2-core machine (minimum of 5): `--help` 0.76 -> 0.26 s,
`methods list` 0.89 -> 0.34 s, `study list` 1.13 -> 0.34 s when CE-NAS's command plugin and the study reports stopped
importing numpy, pandas and torch at start-up; `benchmarks list` 0.90 -> 0.48 s once the benchmark modules stopped
importing their tables' builders (pandas) to register their ids; `traces list` 1.1 -> 0.45 s from a cached summary."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.mark.parametrize(
    "args", [("--help",), ("methods", "list"), ("study", "list"), ("benchmarks", "list"), ("traces", "list")]
)
def test_cli_start_up(benchmark, args: tuple[str, ...]) -> None:
    """Target: <= 0.5 s per command, start-up included (a fresh interpreter each round)."""
    result = benchmark.pedantic(_harness, args=args, rounds=5, iterations=1)
    assert result.returncode == 0 and result.stdout
    if benchmark.stats is not None:
        assert benchmark.stats["min"] <= 0.5


def test_start_up_imports_no_heavy_library() -> None:
    """What the start-up target rests on: the command line imports neither pandas nor torch until a command needs
    them (a plain test, no timing)."""
    code = (
        "import sys; from harness.cli import main; import harness.benchmarks; "
        "print(sorted(m for m in ('pandas', 'torch', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
