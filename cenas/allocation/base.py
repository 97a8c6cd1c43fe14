"""The allocation-policy protocol and the state it sees at each boundary."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from harness.carbon.forecast import Forecaster
from harness.carbon.view import CarbonView


@dataclass(frozen=True)
class PolicyState:
    """What a policy sees at an allocation boundary."""

    now_s: float
    hour: int
    ci_now: float
    n_gpus: int
    hv: float
    hv_max: float  # the table's optimum: only the reference agent (its faithful, privileged state) reads it
    hv_box: float  # the reference box's volume (`Benchmark.hv_box`), known before the search
    n_observed: int
    queue_len: int
    queue_capacity: int
    carbon_used_g: float
    carbon_budget_g: float | None
    hours_budget: float | None
    step_carbon_g: float  # carbon of the interval that just ended
    new_samples: int  # architectures trained to completion in that interval
    hv_gain: float  # HV increase in that interval


def action_to_train_gpus(action: int, n_gpus: int, n_actions: int = 10) -> int:
    """CE-NAS's map: vanilla ratio = min(a, 9)/10, v = max(floor(G * ratio), 1). G=8: 1,1,1,2,3,4,4,5,6,7."""
    ratio = min(action, n_actions - 1) / n_actions
    return max(math.floor(n_gpus * ratio), 1)


class AllocationPolicy(ABC):
    name: str

    def setup(self, carbon: CarbonView, forecaster: Forecaster, rng: np.random.Generator) -> None:
        self.carbon, self.forecaster, self.rng = carbon, forecaster, rng

    @abstractmethod
    def train_gpus(self, state: PolicyState) -> int:
        """GPUs that train in the coming interval (the others run one-shot evaluations)."""
