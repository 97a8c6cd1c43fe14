"""Golden runs: every registered method's small seeded run matches the committed summary exactly."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from harness import goldens as g
from harness.methods import registry


@pytest.fixture(scope="module")
def fresh() -> dict[str, dict]:
    return g.compute(sorted(registry()), workers=2)


def test_every_registered_method_has_a_golden() -> None:
    assert set(g.load_goldens()) == set(registry()), "run `harness goldens --update` for new methods"


@pytest.mark.parametrize("method", sorted(registry()))
def test_golden_run_is_unchanged(fresh: dict[str, dict], method: str) -> None:
    stored = g.load_goldens()[method]
    assert g.differences(stored, fresh[method]) == [], f"{method} changed; `harness goldens --update` if deliberate"


def test_a_different_run_is_caught_and_described() -> None:
    from harness.runner import execute

    stored = g.load_goldens()["random-search"]
    other = g.summarise(execute(replace(g.golden_spec("random-search"), seed=1)).to_json())
    lines = g.differences(stored, other)
    assert any(line.startswith("evaluations_sha256:") for line in lines)
    assert any(line.startswith("hv:") and line.endswith("%)") for line in lines)


def test_goldens_command_rejects_an_unknown_method() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", "goldens", "--method", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.strip().startswith("error: unknown method 'nope'")
