"""Allocation policies: the reference action map, the heuristic's rounding and clamping, RL plumbing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cenas.allocation.base import PolicyState, action_to_train_gpus
from cenas.allocation.rl import ActorCritic, RLPolicy
from cenas.allocation.simple import HeuristicPolicy, heuristic_train_gpus
from harness.carbon.forecast import OracleForecaster, PersistenceForecaster
from harness.carbon.traces import load_trace
from harness.carbon.view import CarbonView
from tests.helpers import modules_after_run


def test_reference_action_map_for_8_gpus() -> None:
    assert [action_to_train_gpus(a, 8) for a in range(10)] == [1, 1, 1, 2, 3, 4, 4, 5, 6, 7]
    assert action_to_train_gpus(12, 8) == 7  # min(a, 9)


def test_heuristic_rounding_and_clamping_on_a_real_window() -> None:
    window = load_trace("hotcarbon-1").values[:24]
    lo, hi = window.min(), window.max()
    assert heuristic_train_gpus(lo, window, 8) == 7  # λ_s = 0 -> 8 train GPUs, clamped to G-1
    assert heuristic_train_gpus(hi, window, 8) == 1  # λ_s = 1 -> 0 train GPUs, clamped to 1
    assert heuristic_train_gpus(lo, window, 8, clamp=False) == 8
    assert heuristic_train_gpus(hi, window, 8, clamp=False) == 0
    for ci in window:
        share = (ci - lo) / (hi - lo)
        assert heuristic_train_gpus(ci, window, 8) == min(max(8 - math.floor(8 * share + 0.5), 1), 7)
    flat = np.full(24, window[0])
    assert heuristic_train_gpus(window[0], flat, 8) == 4  # λ_s = 0.5 when C_max = C_min
    half = lo + (hi - lo) * 2.5 / 8  # G·λ_s = 2.5 rounds half up: 3 sampling GPUs
    assert heuristic_train_gpus(half, np.array([lo, half, hi]), 8) == 5


def state(**overrides) -> PolicyState:
    from harness.benchmarks import DEFAULT_BENCHMARK, get_benchmark

    bench = get_benchmark(DEFAULT_BENCHMARK)
    base = dict(
        now_s=7200.0,
        hour=2,
        ci_now=300.0,
        n_gpus=8,
        hv=1900.0,
        hv_max=bench.hv_max,
        hv_box=bench.hv_box,
        n_observed=30,
        queue_len=5,
        queue_capacity=10,
        carbon_used_g=1000.0,
        carbon_budget_g=None,
        hours_budget=80.0,
        step_carbon_g=500.0,
        new_samples=4,
        hv_gain=10.0,
    )
    return PolicyState(**(base | overrides))


def test_heuristic_policy_uses_the_oracle_window() -> None:
    trace = load_trace("neurips")
    policy = HeuristicPolicy(window_hours=24)
    policy.setup(CarbonView(trace, load_trace(trace.region)), OracleForecaster(), np.random.default_rng(0))
    window = trace.values[:24]
    assert policy.train_gpus(state(now_s=0.0, ci_now=window[0])) == heuristic_train_gpus(window[0], window, 8)


def test_persistence_is_yesterday_and_sees_history_before_the_window() -> None:
    trace = load_trace("neurips")
    full = load_trace("US-CAL-CISO")
    offset = int((trace.start - full.start).total_seconds() // 3600)
    predicted = PersistenceForecaster().forecast(CarbonView(trace, load_trace(trace.region)), 0.0, 48)
    np.testing.assert_array_equal(predicted, np.tile(full.values[offset - 23 : offset + 1], 2))


def test_reference_rl_state_and_reward() -> None:
    trace = load_trace("neurips")
    policy = RLPolicy(greedy=False)
    policy.setup(CarbonView(trace, load_trace(trace.region)), OracleForecaster(), np.random.default_rng(0))
    first = policy.features(state(hv=1800.0, n_observed=10))
    later = policy.features(state(hv=1950.0, n_observed=42, hour=5))
    hv_max = state().hv_max
    assert first[2] == later[2] == pytest.approx(1800.0 / hv_max)  # stale HV, as in the reference
    assert later[0] == pytest.approx((80 - 5) / 40) and later[3] == 42.0  # 40/80 mismatch, raw count
    s = state()
    step_ratio = 0.8 * ((40 - (80 - 2)) / 40) + 0.8
    expected = 20 * step_ratio * 10.0 / hv_max - (2 / policy.ci_max) * 500.0 / 8 + 0.05 * 4
    assert policy.reward(s) == pytest.approx(expected)


def test_online_update_changes_the_actor() -> None:
    agent = ActorCritic(4, seed=0)
    s = np.array([[1.0, 0.1, 0.9, 10.0]])
    before = agent.probabilities(s[0])
    agent.update(s, np.array([3]), np.array([1.0]))
    assert not np.allclose(before, agent.probabilities(s[0]))
    assert np.allclose(ActorCritic(4, seed=0).probabilities(s[0]), before)  # seeded, no global RNG


def test_the_agent_computes_with_one_torch_thread_and_restores_the_setting() -> None:
    import torch

    agent, seen = ActorCritic(4, seed=0), []
    for net in (agent.actor, agent.critic):
        net.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        s = np.array([[1.0, 0.1, 0.9, 10.0]])
        agent.probabilities(s[0])
        agent.update(s, np.array([3]), np.array([1.0]))
        assert seen == [1, 1, 1] and torch.get_num_threads() == 2  # actor; critic and actor of the update
    finally:
        torch.set_num_threads(saved)


def test_a_reference_run_with_the_interior_point_tree_skips_sklearn_and_uses_torch_optim() -> None:
    """Start-up: the interior-point tree does not import sklearn (~1.1 s; libsvm is imported only for a fallback fit);
    the reference agent steps its networks with torch.optim's RMSprop (whose import brings torch._dynamo: ~1.3 s and
    ~40 MB a process, the stated cost of not stepping torch's private update function by hand)."""
    watched = ("torch", "torch.optim", "sklearn")
    assert modules_after_run("cenas-rl-reference", watched, {"tree.solver": "ipm"}) == ["torch", "torch.optim"]
