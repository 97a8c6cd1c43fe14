"""CE-NAS's actor-critic allocation agent as the CE-NAS code has it (spec §5.2, `rl.mode=reference`).

State = [(T - t)/40, (CI_t - min)/(max - min) - 0.5 with min/max over the 30 days before the run (`ci_range=history`)
or the rest of the trace as the code reads it (`oracle-remaining`), HV_0/HV_max (stale: the HV at initialisation),
raw trained count]; reward = 20·step_ratio·ΔHV/HV_max − (2/max_CI)·step_carbon/G + 0.05·new samples with
step_ratio = 0.8·(40 − (T − t))/40 + 0.8; stochastic actions; one online update per interval on that single
transition (R = r_t). Action a in {0..9} -> training GPUs v = max(floor(G·min(a, 9)/10), 1).
The clean agent (`rl.mode=clean`) is a PPO policy trained on the allocation environment: `cenas.allocation.ppo`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from cenas.allocation.base import AllocationPolicy, PolicyState, action_to_train_gpus

N_ACTIONS = 10
HIDDEN = (100, 150, 200, 100)
ALPHA, GAMMA_SAMPLES, ENTROPY_WEIGHT = 20.0, 0.05, 0.5
REFERENCE_HORIZON = 40.0  # hard-coded in the reference's a3c_params.py
HISTORY_HOURS = 30 * 24  # ci_range=history: the intensity range of the 30 days up to the run's start
STATE_DIM = 4


def build_networks(state_dim: int, seed: int) -> tuple[Any, Any]:
    """Actor and critic as in RLnet.py: 4 bias-free sigmoid layers 100-150-200-100, Xavier-uniform weights.

    Initialised from a private torch.Generator seeded with `seed` (no global RNG state)."""
    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(seed)

    def body() -> list[nn.Module]:
        layers: list[nn.Module] = []
        width = state_dim
        for size in HIDDEN:
            linear = nn.Linear(width, size, bias=False)
            nn.init.xavier_uniform_(linear.weight, generator=generator)
            layers += [linear, nn.Sigmoid()]
            width = size
        return layers

    head = nn.Linear(HIDDEN[-1], N_ACTIONS)
    nn.init.kaiming_uniform_(head.weight, generator=generator)
    nn.init.zeros_(head.bias)
    actor = nn.Sequential(*body(), head, nn.Softmax(dim=-1))
    value = nn.Linear(HIDDEN[-1], 1)
    nn.init.kaiming_uniform_(value.weight, generator=generator)
    nn.init.zeros_(value.bias)
    critic = nn.Sequential(*body(), value)
    return actor.double(), critic.double()


@dataclass
class Transition:
    state: np.ndarray
    action: int


class ActorCritic:
    """Networks + RMSprop(alpha 0.9, eps 1e-10), actor lr 1e-4, critic lr 1e-1, entropy weight 0.5. Torch computes
    with one thread meanwhile (`one_thread`): tensors of a few hundred numbers gain nothing from a second, whose
    spin-waits cost a 2-core machine ~0.6 CPU-s per 80-h run, taken from the other worker of a sweep."""

    def __init__(self, state_dim: int, seed: int) -> None:
        import torch

        self.torch = torch
        self.actor, self.critic = build_networks(state_dim, seed)
        # torch.optim costs a process ~1.3 s and ~40 MB (it imports torch._dynamo); until 2026-12 the agent stepped
        # torch's private update function itself to avoid that, which a new torch could break silently (issue 33)
        self.actor_opt = torch.optim.RMSprop(self.actor.parameters(), lr=1e-4, alpha=0.9, eps=1e-10)
        self.critic_opt = torch.optim.RMSprop(self.critic.parameters(), lr=1e-1, alpha=0.9, eps=1e-10)

    @contextmanager
    def one_thread(self) -> Iterator[None]:
        """torch's intra-op threads at 1, restored on exit."""
        saved = self.torch.get_num_threads()
        self.torch.set_num_threads(1)
        try:
            yield
        finally:
            self.torch.set_num_threads(saved)

    def probabilities(self, state: np.ndarray) -> np.ndarray:
        with self.one_thread(), self.torch.no_grad():
            return self.actor(self.torch.as_tensor(state, dtype=self.torch.double)).numpy()

    def update(self, states: np.ndarray, actions: np.ndarray, returns: np.ndarray) -> None:
        """One actor-critic step on a batch: actor −Σ log π(a|s)(R − V(s)) − 0.5 Σ H(π); critic MSE(R, V(s))."""
        with self.one_thread():
            self._update(states, actions, returns)

    def _update(self, states: np.ndarray, actions: np.ndarray, returns: np.ndarray) -> None:
        torch = self.torch
        s = torch.as_tensor(states, dtype=torch.double)
        a = torch.as_tensor(actions, dtype=torch.long)
        r = torch.as_tensor(returns, dtype=torch.double)
        value = self.critic(s).squeeze(-1)
        critic_loss = torch.mean((r - value) ** 2)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        probs = self.actor(s).clamp_min(1e-12)
        advantage = r - value.detach()
        log_prob = torch.log(probs.gather(1, a[:, None]).squeeze(1))
        entropy = -(probs * torch.log(probs)).sum(dim=1)
        actor_loss = -(log_prob * advantage).sum() - ENTROPY_WEIGHT * entropy.sum()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()

    def state_dict(self) -> dict[str, Any]:
        return {"actor": self.actor.state_dict(), "critic": self.critic.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])


class RLPolicy(AllocationPolicy):
    """The CE-NAS code's agent: randomly initialised from the run's seed, learning online during the run."""

    name = "rl"

    def __init__(self, greedy: bool = False, online_updates: bool | None = None, ci_range: str = "history") -> None:
        self.greedy = bool(greedy)
        self.online = True if online_updates is None else bool(online_updates)
        self.ci_range = ci_range
        self.agent: ActorCritic | None = None
        self.previous: Transition | None = None
        self.hv0: float | None = None
        self.rewards: list[float] = []

    def setup(self, carbon, forecaster, rng) -> None:  # type: ignore[no-untyped-def]
        super().setup(carbon, forecaster, rng)
        self.agent = ActorCritic(STATE_DIM, int(rng.integers(2**31)))
        self.observe_range(0.0)

    def observe_range(self, now_s: float) -> None:
        """The intensity range (g/kWh) the state and reward are normalised by: min/max of the 30 days up to now
        (history), or of the whole remaining series (oracle-remaining, the CE-NAS code's future knowledge)."""
        if self.ci_range == "oracle-remaining":
            seen = self.carbon.oracle(now_s, 10**9)
        else:
            seen = self.carbon.history(now_s, HISTORY_HOURS)
        seen = seen[~np.isnan(seen)]
        self.ci_min, self.ci_max = float(seen.min()), float(seen.max())

    # ------------------------------------------------------------------------------------------- state
    def horizon_hours(self, state: PolicyState) -> float:
        return state.hours_budget if state.hours_budget is not None else 80.0

    def features(self, state: PolicyState) -> np.ndarray:
        """[(T - t)/40, centred relative intensity, HV_0/HV_max, trained count], shape (4,)."""
        if self.hv0 is None:
            self.hv0 = state.hv
        span = self.ci_max - self.ci_min or 1.0
        return np.array(
            [
                (self.horizon_hours(state) - state.hour) / REFERENCE_HORIZON,
                (state.ci_now - self.ci_min) / span - 0.5,
                self.hv0 / state.hv_max,
                float(state.n_observed),
            ]
        )

    def reward(self, state: PolicyState) -> float:
        """Reward of the previous action, computed at this boundary from what its interval produced."""
        cur_step = REFERENCE_HORIZON - (self.horizon_hours(state) - state.hour)
        step_ratio = 0.8 * (cur_step / REFERENCE_HORIZON) + 0.8
        carbon_term = (2.0 / self.ci_max) * state.step_carbon_g / state.n_gpus
        return ALPHA * step_ratio * state.hv_gain / state.hv_max - carbon_term + GAMMA_SAMPLES * state.new_samples

    # ------------------------------------------------------------------------------------------ decide
    def train_gpus(self, state: PolicyState) -> int:
        assert self.agent is not None, "setup() builds the agent"
        if self.ci_range == "history":
            self.observe_range(state.now_s)  # the range grows with what has been observed
        features = self.features(state)
        if self.previous is not None:
            r = self.reward(state)
            self.rewards.append(r)
            if self.online:
                self.agent.update(self.previous.state[None, :], np.array([self.previous.action]), np.array([r]))
        probs = self.agent.probabilities(features)
        stochastic = int(self.rng.choice(N_ACTIONS, p=probs / probs.sum())) if not self.greedy else -1
        action = int(np.argmax(probs)) if self.greedy else stochastic
        self.previous = Transition(features, action)
        return action_to_train_gpus(action, state.n_gpus)
