"""Accounting profiles: watts per GPU state (busy by job kind, idle), PUE, embodied carbon, and how initial samples
are charged. Each profile is a data file (`harness/sim/profiles/NAME.toml`, its sources cited in `source`); a run
record carries its profile in full.

A run's carbon is the sum of separately recorded terms (every record's summary and interval rows):

    dynamic_g  = sum over busy GPU-seconds of the job's watts x intensity / 3.6e6
    idle_g     = sum over idle GPU-seconds of idle_w x intensity / 3.6e6       (allocated or not: reserved GPUs)
    overhead_g = (PUE - 1) x (dynamic + idle) energy x intensity               (the facility: cooling, power delivery)
    embodied_g = G x reserved seconds x embodied_kg_per_gpu x 1000 / (lifetime_years x 8760 x 3600)

The last is the Green Software Foundation's SCI amortisation M = TE x (TR / EL) x (RR / ToR) with one GPU as the
resource (TE its embodied carbon, TR the time reserved, EL its expected life); SCI = (E x I + M) per R, with R one
search. Energy (kWh) is dynamic + idle + overhead; intensity is the trace's value for the hour in which the energy
was drawn. Jobs whose benchmark measured training energy (EC-NAS) draw energy / duration watts, their dynamic term,
with no PUE added (already measured). A carbon budget counts every term the profile has.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources

from harness.errors import HarnessError
from harness.registry import Registry
from harness.sim.jobs import ONESHOT, TRAIN

HOURS_PER_YEAR = 8760.0
"""Hours of a year of an embodied-carbon lifetime (EL in the SCI formula)."""
TERMS = ("dynamic", "idle", "overhead", "embodied")
"""The carbon terms every record separates (`TERM_g` in its summary and interval rows; energy `TERM_kwh` for the
first three)."""


@dataclass(frozen=True)
class PowerProfile:
    name: str
    train_w: float
    oneshot_w: float
    idle_w: float
    pue: float
    charge_init: bool
    source: str
    embodied_kg_per_gpu: float = 0.0
    lifetime_years: float = 4.0

    def busy_w(self, kind: str) -> float:
        """Facility watts of one GPU busy with a job of `kind` (PUE included)."""
        return {TRAIN: self.train_w, ONESHOT: self.oneshot_w}[kind] * self.pue

    @property
    def idle_facility_w(self) -> float:
        return self.idle_w * self.pue

    @property
    def embodied_g_per_gpu_s(self) -> float:
        """Embodied carbon amortised per reserved GPU-second (g/s): TE / EL."""
        return self.embodied_kg_per_gpu * 1000.0 / (self.lifetime_years * HOURS_PER_YEAR * 3600.0)

    def overhead_share(self, facility_w: float) -> float:
        """The facility-overhead watts of `facility_w` watts that include this profile's PUE."""
        return facility_w * (1.0 - 1.0 / self.pue)


def parse_profile(text: str, where: str) -> PowerProfile:
    """A profile from the text of its TOML file (`where` names it in errors); HarnessError, one line, when malformed."""
    try:
        data = tomllib.loads(text)
        known = {f.name for f in fields(PowerProfile)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown keys {unknown}")
        profile = PowerProfile(**data)
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        raise HarnessError(f"accounting profile {where}: {exc}") from None
    numbers = (profile.train_w, profile.oneshot_w, profile.idle_w, profile.embodied_kg_per_gpu)
    if min(numbers) < 0 or profile.pue < 1.0 or profile.lifetime_years <= 0:
        raise HarnessError(f"accounting profile {where}: watts and embodied carbon >= 0, PUE >= 1, lifetime > 0")
    return profile


PROFILES: Registry[PowerProfile] = Registry("accounting profile", "registries")
"""Accounting profiles by name (`--accounting`), read from `harness/sim/profiles/*.toml`."""
for _file in sorted(resources.files("harness.sim").joinpath("profiles").iterdir(), key=lambda f: f.name):
    if _file.name.endswith(".toml"):
        _profile = parse_profile(_file.read_text(encoding="utf-8"), _file.name)
        if f"{_profile.name}.toml" != _file.name:
            raise HarnessError(f"accounting profile {_file.name} is named {_profile.name!r}; name the file after it")
        PROFILES.add(_profile.name, _profile.source, value=_profile)


def get_profile(name: str) -> PowerProfile:
    return PROFILES.get(name)
