"""The examples of docs/studies.md work as written: every `python` block runs (in order, one namespace, from a folder
that sees the committed results), every study file parses as a study, every `harness` command exists; the cluster
example, which needs SLURM, is compiled only."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import cli

PAGE = REPO / "docs" / "studies.md"
BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.S | re.M)


def blocks(kind: str) -> list[tuple[str, str]]:
    """(info string, code) of every fenced block of the page whose info string starts with `kind`."""
    found = BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    return [(info, code) for info, code in found if info.split()[:1] == [kind]]


def test_the_page_has_examples_of_every_kind() -> None:
    kinds = {info.split()[0] for info, _ in BLOCK.findall(PAGE.read_text(encoding="utf-8")) if info}
    assert kinds == {"python", "toml", "bash"}
    assert len(blocks("python")) >= 5


def test_every_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    (tmp_path / "results").symlink_to(REPO / "results")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    ran = 0
    for info, code in blocks("python"):
        compiled = compile(code, f"{PAGE.name} ({info})", "exec")
        if info.split()[1:] == ["cluster"]:
            continue  # needs a SLURM cluster and dask-jobqueue: compiled above, not run
        exec(compiled, namespace)  # the documentation's own examples
        ran += 1
    assert ran >= 4
    assert (tmp_path / "hotcarbon-anytime.png").stat().st_size > 10_000
    assert (tmp_path / "hotcarbon-fronts.png").stat().st_size > 10_000
    studies = namespace["studies"]
    assert set(studies.runs["study"]) >= {"hotcarbon", "leaderboard-nb201", "leaderboard-nb301"}
    assert namespace["per_run"]["hv_fraction"].between(0, 1).all()


def test_every_study_file_example_parses(tmp_path: Path) -> None:
    from harness.studies.spec import load_study_spec

    for i, (_, code) in enumerate(blocks("toml")):
        tomllib.loads(code)
        path = tmp_path / f"example-{i}.toml"
        path.write_text(code)
        load_study_spec(str(path))  # raises HarnessError on anything the harness would refuse


def test_every_harness_command_of_the_page_exists() -> None:
    commands = [line.split() for _, code in blocks("bash") for line in code.splitlines() if line.startswith("harness ")]
    assert commands
    for words in commands:
        sub = [w for w in words[1:3] if not w.startswith("-") and w.isidentifier()]
        result = cli(*sub[:1], "--help")
        assert result.returncode == 0, (words, result.stderr)
