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


@dataclass
class Job:
    """A unit of GPU work on one architecture: full training (`train`) or a supernet evaluation (`oneshot`).

    `payload` is the method's own data (e.g. CE-NAS's continuous point x); the simulator never reads it.
    """

    kind: str
    arch: int
    payload: Any = None
    job_id: int = -1

    def __post_init__(self) -> None:
        if self.kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {self.kind!r}; expected one of {JOB_KINDS}")
        self.arch = int(self.arch)


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
    gpu: int = -1
    first_start_s: float = 0.0
    segment_start_s: float = 0.0
    energy_kwh: float = 0.0
    carbon_g: float = 0.0
    preemptions: int = 0
    token: int = field(default=0)
