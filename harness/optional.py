"""Optional dependencies: the default install runs every method but two without torch; the `rl` extra (torch,
Stable-Baselines3, onnx) trains, exports and runs the reference RL agent, the `qnehvi` extra (torch, BoTorch) runs
qNEHVI, and spot checks need torch too. A missing one is one error line naming the extra, before any work starts."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

from harness.errors import HarnessError

EXTRAS = {"torch": "rl", "stable_baselines3": "rl", "onnx": "rl", "botorch": "qnehvi"}
"""Module -> the extra of pyproject.toml that installs it."""


def missing(modules: Iterable[str]) -> list[str]:
    """The modules of `modules` that cannot be imported here."""
    return [m for m in dict.fromkeys(modules) if not _importable(m)]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a finder that refuses the name (or a broken parent package)
        return False


def require(modules: Iterable[str], purpose: str) -> None:
    """HarnessError (one line) unless every module of `modules` can be imported, naming the extras to install."""
    absent = missing(modules)
    if absent:
        extras = ",".join(dict.fromkeys(EXTRAS.get(m, "dev") for m in absent))
        raise HarnessError(
            f"{purpose} needs {', '.join(absent)}, which the default install leaves out: "
            f"pip install 'cenas-bench[{extras}]' (or the lock file, requirements.lock)"
        )
