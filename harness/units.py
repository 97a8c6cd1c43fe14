"""Units in one place: carbon mass (g, kg, t, lbs), energy (J, Wh, kWh), time (s, h, d), GPU-hours.

Internally the harness uses grams CO2eq, kWh, seconds and GPU-hours.
"""

from __future__ import annotations

import math

from harness.errors import HarnessError

GRAMS_PER: dict[str, float] = {"g": 1.0, "kg": 1_000.0, "t": 1_000_000.0, "lbs": 453.59237}  # lbs: avoirdupois
SECONDS_PER: dict[str, float] = {"s": 1.0, "h": 3_600.0, "d": 86_400.0}
JOULES_PER_KWH = 3_600_000.0


def grams(value: float, unit: str) -> float:
    """Carbon mass in grams from `value` in `unit` (g, kg, t, lbs)."""
    return value * GRAMS_PER[unit]


def from_grams(value_g: float, unit: str) -> float:
    """Carbon mass `value_g` (grams) expressed in `unit`."""
    return value_g / GRAMS_PER[unit]


def seconds(value: float, unit: str) -> float:
    """Duration in seconds from `value` in `unit` (s, h, d)."""
    return value * SECONDS_PER[unit]


def kwh_from_watt_seconds(watt_seconds: float) -> float:
    """Energy in kWh from W x s (joules)."""
    return watt_seconds / JOULES_PER_KWH


def format_carbon(value_g: float) -> str:
    """Human-readable carbon, e.g. `226.8 kg (500.0 lbs)`."""
    if value_g >= 1e6:
        main = f"{value_g / 1e6:.3f} t"
    elif value_g >= 1e3:
        main = f"{value_g / 1e3:.2f} kg"
    else:
        main = f"{value_g:.1f} g"
    return f"{main} ({from_grams(value_g, 'lbs'):.2f} lbs)"


def round_down(value: float, digits: int = 2) -> float:
    """`value` rounded down to `digits` significant digits (22.87 -> 22, 8.843 -> 8.8)."""
    if value <= 0 or not math.isfinite(value):
        raise HarnessError(f"cannot round {value!r} down to significant digits")
    step = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    return round(math.floor(round(value / step, 9)) * step, 12)
