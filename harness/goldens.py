"""Golden runs: the exactness tier of search-quality regression.

For every registered method, one small seeded run (12 simulated hours, 8 GPUs, the method's default benchmark, the
`hotcarbon-1` trace, seed 0) is summarised as final HV, carbon (g), number of trainings and the sha256 of its
evaluation sequence and of its interval table. `goldens.json` (committed under `tests/`) stores them; a test compares
every method against it, and another fails when a registered method has none. Runs are deterministic to the byte, so
the comparison is exact; the floats are also shown with their relative change so a diff is readable.

Update after a deliberate change of behaviour: `harness goldens --update` rewrites the file and prints what changed.
A harmless change of random stream fails the goldens by design; the statistical gate (issue 13) is the tier that
tolerates it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.io import atomic_write_text

SCHEMA = "cenas-bench/goldens/1"
BUDGET = "12h"
TRACE = "hotcarbon-1"
GPUS = 8
SEED = 0
GOLDEN_FILE = Path(__file__).resolve().parent / "expected" / "goldens.json"
"""The committed goldens, package data (`harness/expected/`)."""


def golden_spec(method: str) -> RunSpec:
    from harness.methods import default_benchmark

    return RunSpec(method, default_benchmark(method), TRACE, parse_budget(BUDGET), SEED, GPUS)


def _digest(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, allow_nan=False).encode()).hexdigest()


def compute(methods: list[str], workers: int | None = None) -> dict[str, dict[str, Any]]:
    """Goldens of `methods`, their runs spread over the sweep executor (`workers` processes, default one per core)."""
    from harness.studies.executors import run_texts

    texts = run_texts([golden_spec(m) for m in methods], workers)
    return {m: summarise(text) for m, text in zip(methods, texts, strict=True)}


def summarise(record_text: str) -> dict[str, Any]:
    """The golden summary of one run record (its JSON text, as written)."""
    document = json.loads(record_text)
    s = document["summary"]
    return {
        "benchmark": document["spec"]["benchmark"],
        "hv": s["hv"],
        "carbon_g": s["carbon_g"],
        "n_trained": s["n_trained"],
        "evaluations_sha256": _digest(document["evaluations"]["rows"]),
        "intervals_sha256": _digest(document["intervals"]["rows"]),
    }


def load_goldens(path: Path = GOLDEN_FILE) -> dict[str, dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HarnessError(f"cannot read goldens file {path} ({exc})") from None
    methods = document.get("methods") if isinstance(document, dict) else None
    if not isinstance(methods, dict) or not all(isinstance(v, dict) for v in methods.values()):
        raise HarnessError(f'{path} is not a goldens file (expected {{"methods": {{NAME: {{...}}}}}})')
    return dict(methods)


def differences(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Readable lines of what changed between two goldens of one method (empty: identical)."""
    if old is None:
        return ["new golden"]
    lines = []
    for key, value in new.items():
        before = old.get(key)
        if before == value:
            continue
        if isinstance(value, float) and isinstance(before, float) and before:
            lines.append(f"{key}: {before!r} -> {value!r} ({100 * (value - before) / abs(before):+.4f} %)")
        else:
            lines.append(f"{key}: {before!r} -> {value!r}")
    return lines


def write_goldens(goldens: dict[str, dict[str, Any]], path: Path = GOLDEN_FILE) -> None:
    document = {
        "schema": SCHEMA,
        "run": {"budget": BUDGET, "trace": TRACE, "gpus": GPUS, "seed": SEED},
        "regenerate": "harness goldens --update",
        "methods": dict(sorted(goldens.items())),
    }
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
