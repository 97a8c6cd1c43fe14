"""The gymnasium allocation environment: API conformance, fidelity to the simulator, its reward, bad input."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from harness.config import RunSpec, parse_budget
from harness.envs import ENV_ID, CarbonAllocationEnv
from harness.errors import HarnessError
from harness.runner import execute

TRACE = "US-CAL-CISO@2021-07-02T00:00"


def test_the_environment_passes_gymnasiums_checker() -> None:
    check_env(CarbonAllocationEnv(traces=(TRACE, "DE@2021-11-15T00:00"), hours=6), skip_render_check=True)
    env = gym.make(ENV_ID, hours=3)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info["trace_name"] == TRACE


@pytest.mark.parametrize("train", [0, 3, 8])
def test_a_constant_action_is_the_fixed_split_run(train: int) -> None:
    """Sending the same split every hour reproduces `cenas` with `policy=fixed`: the environment adds no behaviour."""
    env = CarbonAllocationEnv(traces=(TRACE,), hours=10)
    _, info = env.reset(seed=7)
    rewards, terminated = [], False
    while not terminated:
        _, reward, terminated, truncated, _ = env.step(train)
        rewards.append(reward)
        assert not truncated
    spec = RunSpec("cenas", "nb201/cifar10/pi5-energy", TRACE, parse_budget("10h"), info["seed"], 8,
                   method_options={"policy": "fixed", "fixed_train": train})  # fmt: skip
    record = execute(spec)
    assert env.result.hv == record.summary["hv"] and env.result.totals.carbon_g == record.summary["carbon_g"]
    assert [r["train_gpus"] for r in env.result.intervals] == [train] * len(rewards)
    expected = 100 * env.result.hv / env.bench.hv_max - env.result.totals.carbon_g / env.reference_carbon_g
    assert sum(rewards) == pytest.approx(expected)  # the reward telescopes: HV gained minus priced carbon


def test_the_reference_carbon_follows_the_power_profile() -> None:
    default = CarbonAllocationEnv(traces=(TRACE,), hours=2)
    reference = CarbonAllocationEnv(traces=(TRACE,), hours=2, accounting="reference")
    default.reset(seed=0)
    reference.reset(seed=0)
    ratio = reference.reference_carbon_g / default.reference_carbon_g
    assert ratio == pytest.approx((1000.0 * 1.0) / (350.0 * 1.58))  # training watts x PUE of each profile


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(HarnessError, match="unknown"):
        CarbonAllocationEnv(traces=("XX-NOWHERE",))
    with pytest.raises(HarnessError, match="does not split GPUs"):
        CarbonAllocationEnv(method="random-search")
    env = CarbonAllocationEnv(traces=(TRACE,), hours=2)
    with pytest.raises(HarnessError, match="reset"):
        env.step(1)
    env.reset(seed=0)
    with pytest.raises(HarnessError, match="not a GPU count"):
        env.step(9)
    with pytest.raises(HarnessError, match="not one of"):
        env.reset(options={"trace": "DE@2021-11-15T00:00"})
