"""Reinforcement-learning environments over the simulator (gymnasium API).

`CarbonAllocationEnv` (registered as `cenas-bench/CarbonAllocation-v0`): each step is one allocation interval of a
simulated CE-NAS search on real carbon traces; the action is how many GPUs train. See docs/envs.md.
"""

from harness.envs.allocation import ENV_ID, CarbonAllocationEnv

__all__ = ["ENV_ID", "CarbonAllocationEnv"]
