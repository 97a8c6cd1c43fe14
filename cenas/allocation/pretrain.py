"""Pretraining of the clean-mode RL agent over historical trace windows that do not overlap evaluation windows.

Each episode is a full CE-NAS simulation (the clean RL policy acting stochastically and updating online after every
interval, as the reference agent does) on one window. The default windows are consecutive, non-overlapping 80-h
windows of US-CAL-CISO from 2021-01-05 00:00 to 2021-06-30 (after the HotCarbon traces of 2021-01-01..04 and before
the NeurIPS window of 2021-07-02), so no evaluation window is ever seen in training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cenas.allocation.rl import STATE_DIMS, ActorCritic, RLPolicy, save_checkpoint
from harness.benchmarks import get_benchmark
from harness.carbon.traces import WINDOWS, load_trace, parse_time
from harness.config import Budget
from harness.errors import HarnessError
from harness.sim.accounting import get_profile
from harness.sim.simulator import Simulator


@dataclass(frozen=True)
class PretrainSpec:
    region: str = "US-CAL-CISO"
    first: str = "2021-01-05T00:00"
    last: str = "2021-06-30T23:00"
    episode_hours: int = 80
    episodes: int = 24
    gpus: int = 8
    benchmark: str = "nb201/cifar10/pi5-energy"
    forecaster: str = "transformer"
    accounting: str = "default"
    seed: int = 0
    method_options: dict[str, Any] = field(default_factory=lambda: {"queue_capacity": 10})


def episode_windows(spec: PretrainSpec) -> list[pd.Timestamp]:
    """Start times of the consecutive non-overlapping windows; refuses any that touches a named window."""
    start, last = parse_time(spec.first), parse_time(spec.last)
    starts = []
    while start + pd.Timedelta(hours=spec.episode_hours - 1) <= last:
        starts.append(start)
        start += pd.Timedelta(hours=spec.episode_hours)
    for begin in starts:
        end = begin + pd.Timedelta(hours=spec.episode_hours)
        for window in WINDOWS.values():
            w0 = parse_time(window.start)
            w1 = w0 + pd.Timedelta(hours=window.hours)
            if begin < w1 and w0 < end:
                raise HarnessError(f"pretraining window {begin} overlaps evaluation window {window.name}")
    if not starts:
        raise HarnessError("no pretraining window fits between --first and --last")
    return starts


def pretrain(
    spec: PretrainSpec, out: Path, progress: Callable[[int, int, float], None] | None = None
) -> dict[str, Any]:
    """Run the episodes, write the checkpoint (+ its JSON spec) to `out`, return the training log."""
    from cenas.method import CENAS, CENASOptions
    from harness.options import parse_options

    starts = episode_windows(spec)
    rng = np.random.default_rng(spec.seed)
    agent = ActorCritic(STATE_DIMS["clean"], int(rng.integers(2**31)))
    bench = get_benchmark(spec.benchmark)
    returns = []
    for episode in range(spec.episodes):
        start = starts[episode % len(starts)]
        trace = load_trace(f"{spec.region}@{start.strftime('%Y-%m-%dT%H:%M')}").window(None, spec.episode_hours)
        policy = RLPolicy(mode="clean", greedy=False, online_updates=True, agent=agent)
        options = spec.method_options | {"policy": "rl", "forecaster": spec.forecaster}
        method = CENAS(parse_options(CENASOptions, options, "cenas"))
        method.policy_override = policy
        sim = Simulator(
            bench, trace, method, spec.gpus, Budget(hours=spec.episode_hours), get_profile(spec.accounting),
            seed=spec.seed * 1000 + episode,
        )  # fmt: skip
        sim.run()
        total = float(np.sum(policy.rewards))
        returns.append(total)
        if progress:
            progress(episode + 1, spec.episodes, total)
    log = {"spec": asdict(spec), "windows": [s.isoformat() for s in starts], "episode_returns": returns}
    save_checkpoint(agent, out, log)
    return log


__all__ = ["PretrainSpec", "episode_windows", "pretrain"]
