"""CE-NAS's actor-critic allocation agent (spec §5.2), in two modes that share networks and optimisers.

- `reference`: the code's plumbing: state = [(T - t)/40, (CI_t - min)/(max - min) - 0.5 with min/max over the
  rest of the trace, HV_0/HV_max (stale: the HV at initialisation), raw trained count]; reward =
  20·step_ratio·ΔHV/HV_max − (2/max_CI)·step_carbon/G + 0.05·new samples with step_ratio = 0.8·(40 − (T − t))/40 + 0.8;
  stochastic actions; one online update per interval on that single transition (R = r_t).
- `clean`: state = [remaining carbon-budget (else time) fraction, current/mean/min/max of the next 24 h forecast
  over the max of the past week and the forecast, HV/HV_max, |P|/1500, |R|/Cap]; reward with the same weights,
  a consistent horizon in step_ratio and step carbon normalised by the largest possible interval carbon; weights
  from a pretraining checkpoint (`harness rl pretrain`), greedy or stochastic actions, frozen by default.
Action a in {0..9} -> training GPUs v = max(floor(G·min(a, 9)/10), 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cenas.allocation.base import AllocationPolicy, PolicyState, action_to_train_gpus
from harness.errors import HarnessError

N_ACTIONS = 10
HIDDEN = (100, 150, 200, 100)
ALPHA, GAMMA_SAMPLES, ENTROPY_WEIGHT = 20.0, 0.05, 0.5
REFERENCE_HORIZON = 40.0  # hard-coded in the reference's a3c_params.py
MAX_SAMPLES = 1500
HISTORY_HOURS = 30 * 24  # reference mode, ci_range=history: the intensity range of the 30 days up to the run's start
DEFAULT_CHECKPOINT = "rl_clean_default.pt"
STATE_DIMS = {"reference": 4, "clean": 8}


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
    """Networks + RMSprop(alpha 0.9, eps 1e-10), actor lr 1e-4, critic lr 1e-1, entropy weight 0.5."""

    def __init__(self, state_dim: int, seed: int) -> None:
        import torch

        self.torch = torch
        self.actor, self.critic = build_networks(state_dim, seed)
        self.actor_opt = torch.optim.RMSprop(self.actor.parameters(), lr=1e-4, alpha=0.9, eps=1e-10)
        self.critic_opt = torch.optim.RMSprop(self.critic.parameters(), lr=1e-1, alpha=0.9, eps=1e-10)

    def probabilities(self, state: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return self.actor(self.torch.as_tensor(state, dtype=self.torch.double)).numpy()

    def update(self, states: np.ndarray, actions: np.ndarray, returns: np.ndarray) -> None:
        """One actor-critic step on a batch: actor −Σ log π(a|s)(R − V(s)) − 0.5 Σ H(π); critic MSE(R, V(s))."""
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


def checkpoint_path(name: str | None) -> Path:
    """A checkpoint path: a file path, or the name of one shipped in cenas/allocation/checkpoints/."""
    if name and Path(name).exists():
        return Path(name)
    shipped = Path(str(resources.files("cenas.allocation").joinpath("checkpoints", name or DEFAULT_CHECKPOINT)))
    if not shipped.exists():
        raise HarnessError(
            f"RL checkpoint '{name or DEFAULT_CHECKPOINT}' not found; create one with `harness rl pretrain --out PATH`"
        )
    return shipped


class RLPolicy(AllocationPolicy):
    name = "rl"

    def __init__(
        self,
        mode: str = "clean",
        checkpoint: str | None = None,
        greedy: bool = True,
        online_updates: bool | None = None,
        agent: ActorCritic | None = None,
        ci_range: str = "history",
    ) -> None:
        if mode not in STATE_DIMS:
            raise HarnessError(f"rl_mode must be reference or clean (got {mode!r})")
        self.mode, self.greedy = mode, bool(greedy)
        self.online = (mode == "reference") if online_updates is None else bool(online_updates)
        self.agent = agent  # a shared agent (pretraining); otherwise built in setup from the run's seed
        self.checkpoint = checkpoint
        self.ci_range = ci_range
        self.previous: Transition | None = None
        self.hv0: float | None = None
        self.rewards: list[float] = []

    def setup(self, carbon, forecaster, rng) -> None:  # type: ignore[no-untyped-def]
        super().setup(carbon, forecaster, rng)
        if self.agent is None:
            self.agent = ActorCritic(STATE_DIMS[self.mode], int(rng.integers(2**31)))
            if self.mode == "clean":
                payload = self.agent.torch.load(checkpoint_path(self.checkpoint), weights_only=True)
                self.agent.load_state_dict(payload)
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
        if self.mode == "reference":
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
        ahead = self.forecaster.forecast(self.carbon, state.now_s, 24)
        past = self.carbon.history(state.now_s, 168)
        scale = max(float(np.nanmax(past)), float(np.max(ahead)), 1e-9)
        if state.carbon_budget_g is not None:
            left = 1.0 - state.carbon_used_g / state.carbon_budget_g
        else:
            left = 1.0 - state.hour / self.horizon_hours(state)
        return np.array(
            [
                left,
                state.ci_now / scale,
                float(np.mean(ahead)) / scale,
                float(np.min(ahead)) / scale,
                float(np.max(ahead)) / scale,
                state.hv / state.hv_max,
                min(state.n_observed / MAX_SAMPLES, 1.0),
                state.queue_len / max(state.queue_capacity, 1),
            ]
        )

    def reward(self, state: PolicyState) -> float:
        """Reward of the previous action, computed at this boundary from what its interval produced."""
        hv_term = state.hv_gain / state.hv_max
        if self.mode == "reference":
            cur_step = REFERENCE_HORIZON - (self.horizon_hours(state) - state.hour)
            step_ratio = 0.8 * (cur_step / REFERENCE_HORIZON) + 0.8
            carbon_term = (2.0 / self.ci_max) * state.step_carbon_g / state.n_gpus
        else:
            step_ratio = 0.8 * (state.hour / self.horizon_hours(state)) + 0.8
            full_hour_g = state.n_gpus * self.full_power_kw * self.ci_max
            carbon_term = 2.0 * state.step_carbon_g / full_hour_g
        return ALPHA * step_ratio * hv_term - carbon_term + GAMMA_SAMPLES * state.new_samples

    full_power_kw = 0.350 * 1.58  # default accounting profile, per GPU

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


def save_checkpoint(agent: ActorCritic, path: Path, spec: dict[str, Any]) -> None:
    """Write the weights (torch zip) and, beside them, the JSON training spec that produced them."""
    import io

    from harness.io import atomic_write_bytes, atomic_write_text

    buffer = io.BytesIO()
    agent.torch.save(agent.state_dict(), buffer)
    atomic_write_bytes(path, buffer.getvalue())
    atomic_write_text(path.with_suffix(".json"), json.dumps(spec, indent=1, sort_keys=True) + "\n")
