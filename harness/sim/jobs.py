"""Jobs, outcomes and allocations exchanged between the simulator and a method."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

TRAIN = "train"
ONESHOT = "oneshot"
JOB_KINDS: tuple[str, ...] = (TRAIN, ONESHOT)

Allocation = dict[str, int]
"""GPUs per job kind for the next interval, e.g. {"train": 6, "oneshot": 2}; GPUs not allocated stay idle."""


SUPERNET = -1
"""`Job.arch` of supernet training: work on sampling GPUs that is not one architecture's."""
SUPERNET_KIND = "supernet"
"""How records and interval counters name supernet training (it runs as a `oneshot` job)."""
RECORDED_KINDS: tuple[str, ...] = (*JOB_KINDS, SUPERNET_KIND)


@dataclass
class Job:
    """A unit of GPU work on one architecture: full training (`train`) or a supernet evaluation (`oneshot`); or, with
    `arch = SUPERNET` on a sampling GPU, `seconds` of supernet training (see `Job.supernet_training`).

    `payload` is the method's own data (e.g. CE-NAS's continuous point x); the simulator never reads it.
    """

    kind: str
    arch: int
    payload: Any = None
    job_id: int = -1
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {self.kind!r}; expected one of {JOB_KINDS}")
        self.arch = int(self.arch)
        if (self.arch == SUPERNET) != (self.seconds is not None):
            raise ValueError("a job has explicit seconds exactly when it is supernet training")
        if self.seconds is not None and not (self.kind == ONESHOT and self.seconds > 0):
            raise ValueError("supernet training runs on a sampling GPU for a positive number of seconds")

    @classmethod
    def supernet_training(cls, seconds: float, payload: Any = None) -> Job:
        """`seconds` GPU-seconds of supernet training on a sampling GPU, drawing training power; no objectives."""
        return cls(ONESHOT, SUPERNET, payload, seconds=float(seconds))

    @property
    def is_supernet(self) -> bool:
        return self.arch == SUPERNET

    @property
    def recorded_kind(self) -> str:
        """Its kind in records and interval counters: `supernet` for supernet training, else its kind."""
        return SUPERNET_KIND if self.is_supernet else self.kind


@dataclass(frozen=True)
class Outcome:
    """What a finished job yields: objectives (maximisation; true for `train`, estimates for `oneshot`) and cost."""

    objectives: np.ndarray
    seconds: float
    energy_kwh: float
    carbon_g: float
    start_s: float
    end_s: float
    free: bool = False  # an initial evaluation that the accounting profile does not charge (reference mode)


@dataclass
class RunningJob:
    """Simulator-side state of a job that has started at least once."""

    job: Job
    remaining_s: float
    power_w: float
    """Facility watts (PUE included, where the profile adds it)."""
    overhead_w: float = 0.0
    """The facility overhead of `power_w` (PUE - 1 times the GPU's watts); the rest is the dynamic term."""
    gpu: int = -1
    first_start_s: float = 0.0
    segment_start_s: float = 0.0
    energy_kwh: float = 0.0
    carbon_g: float = 0.0
    preemptions: int = 0
    token: int = -1
    """Identifies the current start (a run-wide sequence number): a completion event matches only the start that
    scheduled it, so the event of a job cut at a boundary can never complete the next job started on that GPU."""
    segments: list[tuple[int, float, float]] = field(default_factory=list)
    """(gpu, start_s, end_s) of every piece of work done so far; the audit sums them."""
