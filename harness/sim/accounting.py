"""Power profiles: watts per GPU state (busy by job kind, idle) and PUE, and how initial samples are charged.

Energy (kWh) = sum over GPU-seconds of watts x PUE / 3.6e6; carbon (g) = energy x the intensity of the hour in
which it was drawn (a job spanning an hour boundary is charged at each hour's intensity). Jobs whose benchmark
measured training energy (EC-NAS) draw energy / duration watts instead, with no PUE added (already measured).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.registry import Registry
from harness.sim.jobs import ONESHOT, TRAIN


@dataclass(frozen=True)
class PowerProfile:
    name: str
    train_w: float
    oneshot_w: float
    idle_w: float
    pue: float
    charge_init: bool
    source: str

    def busy_w(self, kind: str) -> float:
        """Facility watts of one GPU busy with a job of `kind` (PUE included)."""
        return {TRAIN: self.train_w, ONESHOT: self.oneshot_w}[kind] * self.pue

    @property
    def idle_facility_w(self) -> float:
        return self.idle_w * self.pue


PROFILES: Registry[PowerProfile] = Registry("accounting profile", "registries")
"""Power profiles by name (`--accounting`)."""
for _profile in (
    PowerProfile(
        name="default",
        train_w=350.0,
        oneshot_w=350.0,
        idle_w=18.0,
        pue=1.58,
        charge_init=True,
        source=(
            "NVIDIA GeForce RTX 3090 (the GPU of CE-NAS's HotCarbon simulation): 350 W total graphics power "
            "(NVIDIA specification) for training and for supernet evaluation, 18 W idle (single-display idle "
            "measured in public reviews), PUE 1.58 (Uptime Institute survey average used by Strubell et al., "
            "ACL 2019). Initial samples are trained and charged like any other job."
        ),
    ),
    PowerProfile(
        name="reference",
        train_w=1000.0,
        oneshot_w=0.0,
        idle_w=0.0,
        pue=1.0,
        charge_init=False,
        source=(
            "CE-NAS reference code (cake-lab/CE-NAS cenas_RL.py): carbon = intensity x busy training GPU-hours, "
            "i.e. an implicit 1 kW per training GPU; one-shot and idle GPUs are free; initial samples are free."
        ),
    ),
):
    PROFILES.add(_profile.name, _profile.source, value=_profile)


def get_profile(name: str) -> PowerProfile:
    return PROFILES.get(name)
