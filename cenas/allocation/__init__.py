"""GPU allocation policies: how many of the G GPUs train (the rest sample with the supernet) each interval.

`POLICIES` maps CE-NAS's `policy` option to a factory taking the method's options (`CENASOptions`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.registry import Registry

if TYPE_CHECKING:
    from cenas.allocation.base import AllocationPolicy

POLICIES: Registry[Any] = Registry("allocation policy", "methods show cenas")


def _heuristic(o: Any) -> AllocationPolicy:
    from cenas.allocation.simple import HeuristicPolicy

    return HeuristicPolicy(o.heuristic.window_hours, o.heuristic.clamp)


def _random(o: Any) -> AllocationPolicy:
    from cenas.allocation.simple import RandomPolicy

    return RandomPolicy()


def _fixed(o: Any) -> AllocationPolicy:
    from cenas.allocation.simple import FixedPolicy

    return FixedPolicy(o.fixed_train)


def _rank_half() -> AllocationPolicy:
    from cenas.allocation.ppo import RulePolicy

    return RulePolicy("rank-half")


def _rl(o: Any) -> AllocationPolicy:
    if o.rl.mode == "clean":
        from cenas.allocation.ppo import PPOPolicy

        if o.rl.online_updates:
            raise HarnessError("rl.online_updates=true needs rl.mode=reference: the clean PPO agent is frozen")

        return PPOPolicy(o.rl.checkpoint, o.rl.greedy)
    from cenas.allocation.rl import RLPolicy

    return RLPolicy(greedy=o.rl.greedy, online_updates=o.rl.online_updates, ci_range=o.rl.ci_range)


POLICIES.add(
    "heuristic", "HotCarbon'23: sampling share from the intensity's place in the forecast window", value=_heuristic
)
POLICIES.add("random", "a uniformly random split each interval", value=_random)
POLICIES.add(
    "rank-half",
    "3/4 of the GPUs train in hours cleaner than half of the surrounding 48 h (past and forecast), 1/8 "
    "otherwise: the rule the clean RL agent is warm-started from",
    value=lambda o: _rank_half(),
)
POLICIES.add("fixed", "`fixed_train` GPUs train every interval", value=_fixed)
POLICIES.add(
    "rl", "reference: the CE-NAS code's online actor-critic; clean: a PPO agent trained on the environment", value=_rl
)
