"""Heuristic (HotCarbon §3.5), random and fixed allocation policies."""

from __future__ import annotations

import math

import numpy as np

from cenas.allocation.base import AllocationPolicy, PolicyState, action_to_train_gpus


def heuristic_train_gpus(ci_now: float, window: np.ndarray, n_gpus: int, clamp: bool = True) -> int:
    """λ_s = (C_cur − C_min)/(C_max − C_min) over the window (0.5 if flat); sampling GPUs = floor(G·λ_s + 0.5).

    Returns the training GPUs v = G − n_s, clamped to [1, G−1] when `clamp` (so both paths keep at least one GPU).
    """
    lo, hi = float(np.min(window)), float(np.max(window))
    share = 0.5 if hi == lo else (ci_now - lo) / (hi - lo)
    sampling = math.floor(n_gpus * share + 0.5)
    train = n_gpus - sampling
    return min(max(train, 1), n_gpus - 1) if clamp and n_gpus >= 2 else max(train, 0)


class HeuristicPolicy(AllocationPolicy):
    """More sampling GPUs when the current intensity is high relative to the next `window_hours` hours."""

    name = "heuristic"

    def __init__(self, window_hours: int = 24, clamp: bool = True) -> None:
        self.window_hours, self.clamp = window_hours, clamp

    def train_gpus(self, state: PolicyState) -> int:
        return self.train_gpus_at(state.now_s, state.ci_now, state.n_gpus)

    def train_gpus_at(self, now_s: float, ci_now: float, n_gpus: int) -> int:
        """Training GPUs at time `now_s` (s) and intensity `ci_now` (gCO2/kWh), over the forecast window."""
        ahead = self.forecaster.forecast(self.carbon, now_s, self.window_hours - 1)
        window = np.concatenate([[ci_now], ahead])
        return heuristic_train_gpus(ci_now, window, n_gpus, self.clamp)


class RandomPolicy(AllocationPolicy):
    """A uniformly random action in {0..9} each interval, mapped as CE-NAS's RL actions are."""

    name = "random"

    def train_gpus(self, state: PolicyState) -> int:
        return action_to_train_gpus(int(self.rng.integers(10)), state.n_gpus)


class FixedPolicy(AllocationPolicy):
    name = "fixed"

    def __init__(self, train: int) -> None:
        self.train = train

    def train_gpus(self, state: PolicyState) -> int:
        return min(self.train, state.n_gpus)
