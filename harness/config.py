"""Run specifications and budget parsing (`500lbs`, `225kg`, `2.5t`, `9000g`, `80h`, `3d`, `640gpuh`)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.errors import HarnessError
from harness.units import GRAMS_PER, SECONDS_PER

_BUDGET = re.compile(r"(?P<value>\d+(?:\.\d+)?|\.\d+)(?P<unit>[a-z]+)")
CARBON_UNITS = tuple(GRAMS_PER)
TIME_UNITS = ("h", "d")
GPU_HOURS_UNIT = "gpuh"
MIN_INTERVAL_S = 60.0
MAX_GPUS = 4096


@dataclass(frozen=True)
class Budget:
    """Stop conditions; the first one reached ends the run. None means unlimited."""

    carbon_g: float | None = None
    hours: float | None = None
    gpu_hours: float | None = None

    def __post_init__(self) -> None:
        if self.carbon_g is None and self.hours is None and self.gpu_hours is None:
            raise HarnessError("a budget needs at least one of carbon, time or GPU-hours")

    def describe(self) -> str:
        parts = []
        if self.carbon_g is not None:
            parts.append(f"{self.carbon_g:g} g CO2eq")
        if self.hours is not None:
            parts.append(f"{self.hours:g} h")
        if self.gpu_hours is not None:
            parts.append(f"{self.gpu_hours:g} GPU-h")
        return ", ".join(parts)


def parse_budget(texts: str | Iterable[str]) -> Budget:
    """Parse one or more budget terms (comma-separated or repeated); each kind may appear once.

    Carbon: g, kg, t, lbs. Time (simulated): h, d. Busy GPU-hours: gpuh. Values must be positive numbers.
    """
    items = [texts] if isinstance(texts, str) else list(texts)
    terms = [t.strip() for text in items for t in text.split(",")]
    found: dict[str, float] = {}
    for term in terms:
        match = _BUDGET.fullmatch(term)
        unit = match["unit"] if match else ""
        if not match or unit not in (*CARBON_UNITS, *TIME_UNITS, GPU_HOURS_UNIT):
            raise HarnessError(
                f"bad budget '{term}': use a positive number and a unit, carbon {'/'.join(CARBON_UNITS)} "
                f"(e.g. 500lbs), time h/d (e.g. 80h) or GPU-hours gpuh (e.g. 640gpuh)"
            )
        value = float(match["value"])
        if not math.isfinite(value):
            raise HarnessError(f"bad budget '{term[:40]}...': too large a number")
        if value <= 0:
            raise HarnessError(f"bad budget '{term}': it must be greater than zero")
        kind = "carbon_g" if unit in CARBON_UNITS else "hours" if unit in TIME_UNITS else "gpu_hours"
        if kind in found:
            raise HarnessError(f"bad budget '{','.join(terms)}': two {kind.split('_')[0]} budgets")
        if kind == "carbon_g":
            found[kind] = value * GRAMS_PER[unit]
        elif kind == "hours":
            found[kind] = value * SECONDS_PER[unit] / 3600.0
        else:
            found[kind] = value
    return Budget(**found)


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a run; two runs with equal specs give byte-identical records."""

    method: str
    benchmark: str
    trace: str
    budget: Budget
    seed: int = 0
    gpus: int = 8
    interval_s: float = 3600.0
    accounting: str = "default"
    method_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.interval_s, int | float) or not (
            math.isfinite(self.interval_s) and self.interval_s >= MIN_INTERVAL_S
        ):
            raise HarnessError(
                f"the allocation interval must be a finite number of at least one minute (got {self.interval_s} s)"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise HarnessError(f"--seed must be a non-negative integer below 2**63 (got {self.seed!r})")
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or not 1 <= self.gpus <= MAX_GPUS:
            raise HarnessError(f"--gpus must be at least 1 and at most {MAX_GPUS} (got {self.gpus!r})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
