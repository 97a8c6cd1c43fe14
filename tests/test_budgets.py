"""Budget parsing, table-driven, and the CLI's handling of bad run input (exit 2, one line, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import Budget, RunSpec, parse_budget
from harness.errors import HarnessError

GOOD = [
    ("500lbs", Budget(carbon_g=500 * 453.59237)),
    ("225kg", Budget(carbon_g=225_000.0)),
    ("2.5t", Budget(carbon_g=2_500_000.0)),
    ("9000g", Budget(carbon_g=9000.0)),
    (".5t", Budget(carbon_g=500_000.0)),
    ("80h", Budget(hours=80.0)),
    ("3d", Budget(hours=72.0)),
    ("640gpuh", Budget(gpu_hours=640.0)),
    ("500lbs,80h", Budget(carbon_g=500 * 453.59237, hours=80.0)),
    (["225kg", "640gpuh", "2d"], Budget(carbon_g=225_000.0, hours=48.0, gpu_hours=640.0)),
    (" 80h ", Budget(hours=80.0)),
]
BAD = [
    ("500lb", "bad budget '500lb'"),
    ("-5kg", "bad budget '-5kg'"),
    ("0h", "greater than zero"),
    ("0.0kg", "greater than zero"),
    ("5 kg", "bad budget '5 kg'"),
    ("kg", "bad budget 'kg'"),
    ("", "bad budget ''"),
    ("1e3g", "bad budget '1e3g'"),
    ("80H", "bad budget '80H'"),
    ("80hours", "bad budget '80hours'"),
    ("500lbs,600kg", "two carbon budgets"),
    ("nan g", "bad budget"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_good_budgets(text, expected) -> None:
    assert parse_budget(text) == expected


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_budgets(text, message) -> None:
    with pytest.raises(HarnessError, match=message):
        parse_budget(text)


def test_run_spec_rejects_bad_values() -> None:
    with pytest.raises(HarnessError, match="--gpus must be at least 1"):
        RunSpec("random-search", "nb201/cifar10/pi5-energy", "hotcarbon-1", Budget(hours=1), gpus=0)
    with pytest.raises(HarnessError, match="--seed"):
        RunSpec("random-search", "nb201/cifar10/pi5-energy", "hotcarbon-1", Budget(hours=1), seed=-1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "500lb"], "bad budget '500lb'"),
        (["--budget", "-5kg"], "bad budget '-5kg'"),
        (["--budget", "0h"], "greater than zero"),
        (["--budget", "1h", "--gpus", "0"], "--gpus must be at least 1"),
        (["--budget", "1h", "--method", "simulated-annealing"], "unknown method 'simulated-annealing'"),
        (["--budget", "1h", "--benchmark", "nb201/mnist"], "unknown benchmark 'nb201/mnist'"),
        (["--budget", "1h", "--trace", "ATLANTIS"], "unknown trace region 'ATLANTIS'"),
        (["--budget", "1h", "--trace", "US-CAL-CISO@1999-01-01"], "outside it"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, args, message) -> None:
    base = ["--method", "random-search"] if "--method" not in args else []
    result = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", "run", *base, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []
