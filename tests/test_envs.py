"""The gymnasium allocation environment: API conformance, fidelity to the simulator, its reward, bad input."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from harness.config import Budget, RunSpec, parse_budget
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
    spec = RunSpec(
        "cenas",
        "nb201/cifar10/pi5-energy",
        TRACE,
        parse_budget("10h"),
        info["seed"],
        8,
        method_options={"policy": "fixed", "fixed_train": train},
    )
    record = execute(spec)
    assert env.result.hv == record.summary["hv"] and env.result.totals.carbon_g == record.summary["carbon_g"]
    assert [r["train_gpus"] for r in env.result.intervals] == [train] * len(rewards)
    decades = -math.log10(env.regret(env.result.hv))  # regret starts at 1 (nothing trained)
    expected = decades - env.result.totals.carbon_g / env.reference_carbon_g / 10.0  # default price: 1 / 10 h
    assert sum(rewards) == pytest.approx(expected)  # the reward telescopes: decades of regret minus priced carbon


def test_a_carbon_budget_ends_the_episode_as_it_ends_the_run() -> None:
    """`carbon_budget` (reference hours) is a run budget like any other; the training credit telescopes too."""
    env = CarbonAllocationEnv(traces=(TRACE,), hours=24, carbon_budget=3.0, train_credit=0.5)
    _, info = env.reset(seed=5)
    assert info["carbon_budget_g"] == pytest.approx(3.0 * env.reference_carbon_g)
    rewards, terminated = [], False
    while not terminated:
        _, reward, terminated, _, _ = env.step(6)
        rewards.append(reward)
    assert env.result.stop_reason == "carbon budget" and len(rewards) < 24
    budget = Budget(carbon_g=info["carbon_budget_g"], hours=24.0)
    spec = RunSpec(
        "cenas",
        "nb201/cifar10/pi5-energy",
        TRACE,
        budget,
        info["seed"],
        8,
        method_options={"policy": "fixed", "fixed_train": 6},
    )
    record = execute(spec)
    assert env.result.hv == record.summary["hv"] and env.result.totals.carbon_g == record.summary["carbon_g"]
    train_hours = env.result.totals.busy_s["train"] / 3600.0 / 8
    assert sum(rewards) == pytest.approx(-math.log10(env.regret(env.result.hv)) + 0.5 * train_hours)  # price 0


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
    with pytest.raises(HarnessError, match="carbon_budget must be"):
        CarbonAllocationEnv(traces=(TRACE,), carbon_budget=(5.0, 2.0))
