"""Issue 33: torch, BoTorch and Stable-Baselines3 are extras. Without them (blocked in a subprocess, as a default
install lacks them) `harness run --method cenas --budget 500lbs` runs and writes the record the full install writes,
and what needs them is one error line naming the extra, before any work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import cli, one_error_line

BLOCKED = ("torch", "botorch", "stable_baselines3", "onnx", "gpytorch")
WITHOUT = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: the default install)")
sys.meta_path.insert(0, Block())
from harness.cli import main
main()
"""


def without_extras(*args: str) -> subprocess.CompletedProcess:
    """`harness ARGS` in a fresh interpreter where torch, BoTorch, Stable-Baselines3 and onnx cannot be imported."""
    return subprocess.run([sys.executable, "-c", WITHOUT, *args], capture_output=True, text=True, timeout=600)


def test_the_default_method_runs_without_torch_and_writes_the_same_record(tmp_path: Path) -> None:
    blocked, full = tmp_path / "blocked.json", tmp_path / "full.json"
    result = without_extras("run", "--method", "cenas", "--budget", "500lbs", "--out", str(blocked))
    assert result.returncode == 0, result.stderr
    assert cli("run", "--method", "cenas", "--budget", "500lbs", "--out", str(full)).returncode == 0
    ours, theirs = json.loads(blocked.read_text()), json.loads(full.read_text())
    for record in (ours, theirs):
        record["provenance"].pop("libraries")  # the environments differ there, and only there
    assert ours == theirs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--method", "qnehvi", "--budget", "2h"), "method qnehvi needs torch, botorch"),
        (("run", "--method", "cenas-rl-reference", "--budget", "2h"), "pip install 'cenas-bench[rl]'"),
        (("run", "--method", "cenas", "--set", "sampler=qnehvi", "--budget", "2h"), "cenas-bench[rl,qnehvi]"),
        (("spotcheck", "--archs", "2"), "`harness spotcheck` needs torch"),
        (("forecast", "export", "DE"), "`harness forecast export` needs torch, onnx"),
        (("rl", "export"), "`harness rl export` needs torch, stable_baselines3, onnx"),
    ],
)
def test_what_needs_an_extra_says_which_in_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    one_error_line(without_extras(*args, *(("--out", str(tmp_path / "x.json")) if args[0] == "run" else ())), message)
    assert not (tmp_path / "x.json").exists()
