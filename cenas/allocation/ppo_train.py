"""Training CE-NAS's clean allocation agent: PPO (Stable-Baselines3) on `harness.envs.CarbonAllocationEnv`, its
imitation warm start, the reward's parts, and the ONNX export of a checkpoint (the policy that runs:
`cenas.allocation.ppo`).

Training (`harness rl train`, `train`) runs PPO over 48-h windows drawn from July-December 2021 (after the carbon
forecasters' training split) in several regions, none overlapping a named window or a window a shipped study
evaluates on.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cenas.allocation.ppo import RULES, verified_weights
from cenas.allocation.spec import TrainSpec
from harness.errors import HarnessError

EXCLUSION_DAYS = 14  # training windows keep clear of the first 14 days of every evaluation window


def _evaluated_windows() -> list[tuple[str, pd.Timestamp]]:
    """(region, start) of every named window and every trace a shipped study evaluates on."""
    from harness.carbon.traces import WINDOWS, load_trace, parse_time
    from harness.studies.spec import load_study_spec, shipped_studies

    found = [(w.region, parse_time(w.start)) for w in WINDOWS.values()]
    for name in shipped_studies():
        for text in load_study_spec(name).traces:
            trace = load_trace(text)
            found.append((trace.region, trace.start))
    return found


def training_windows(spec: TrainSpec) -> list[str]:
    """`windows_per_region` seeded window starts (`ZONE@START`) per region between `first` and `last`, each clear of
    every evaluated window (`EXCLUSION_DAYS`)."""
    from harness.carbon.traces import parse_time

    first, last = parse_time(spec.first), parse_time(spec.last)
    hours = int((last - first) / pd.Timedelta(hours=1)) + 1 - spec.episode_hours
    if hours < 1:
        raise HarnessError(f"no {spec.episode_hours}-h window fits between {spec.first} and {spec.last}")
    evaluated = _evaluated_windows()
    out = []
    for region in spec.regions:
        starts = first + pd.to_timedelta(np.arange(hours + 1), unit="h")
        clear = np.ones(len(starts), dtype=bool)
        for zone, begin in evaluated:
            if zone.split(":")[-1] == region:
                end = begin + pd.Timedelta(days=EXCLUSION_DAYS)
                clear &= ~((starts < end) & (begin < starts + pd.Timedelta(hours=spec.episode_hours)))
        pool = np.flatnonzero(clear)
        if len(pool) < spec.windows_per_region:
            raise HarnessError(f"only {len(pool)} training window starts in {region} clear of evaluation windows")
        rng = np.random.default_rng(np.random.SeedSequence([spec.seed, *region.encode()]))
        chosen = np.sort(rng.choice(pool, size=spec.windows_per_region, replace=False))
        out += [f"{region}@{starts[i]:%Y-%m-%dT%H:%M}" for i in chosen]
    return out


def _episode_parts(task: tuple[TrainSpec, str, int, str]) -> dict[str, Any]:
    """One environment episode of a rule or fixed split (`policy`: a RULES name or a GPU count) on `window`: the
    reward's parts summed (decades of regret gained, carbon / reference carbon, training all-GPU hours)."""
    spec, window, seed, policy = task
    env = _make_env(replace(spec, carbon_price=0.0, train_credit=0.0), [window])()  # the reward's parts come in info
    obs, _ = env.reset(seed=seed)
    parts, done = {"decades": 0.0, "carbon": 0.0, "train": 0.0}, False
    while not done:
        action = int(RULES[policy](obs[None, :], spec.gpus)[0]) if policy in RULES else int(policy)
        obs, _, done, _, info = env.step(action)
        parts["decades"] += info["step_decades"]
        parts["carbon"] += info["step_carbon_g"] / env.reference_carbon_g
        parts["train"] += info["step_train_hours"]
    env.close()
    return {"window": window, "seed": seed, "policy": policy, **parts}


def reward_parts(
    spec: TrainSpec,
    windows_per_region: int = 6,
    seeds: tuple[int, ...] = (0, 1),
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Episodes of the imitation rule and of every fixed split on `windows_per_region` of the spec's training windows
    per region (evenly spaced) x `seeds`: one row per episode with the reward's parts (`_episode_parts`). With
    train_credit = carbon_price = p an episode's return is decades - p * (carbon - train), so one set of episodes
    prices every p (`harness rl prices`; docs/cenas.md discusses the shipped price with it). Training windows only."""
    import multiprocessing

    windows = training_windows(spec)
    per = spec.windows_per_region
    step = max(per // windows_per_region, 1)
    chosen = [w for r in range(len(spec.regions)) for w in windows[r * per : (r + 1) * per : step][:windows_per_region]]
    policies = [spec.imitate or "rank-half", *map(str, range(spec.gpus + 1))]
    tasks = [(spec, w, s, p) for w in chosen for s in seeds for p in policies]
    rows = []
    with multiprocessing.get_context("forkserver").Pool(spec.n_envs) as pool:
        for row in pool.imap(_episode_parts, tasks):
            rows.append(row)
            if progress:
                progress(len(rows), len(tasks))
    return pd.DataFrame(rows)


def returns_at(parts: pd.DataFrame, prices: list[float]) -> pd.DataFrame:
    """Mean return per policy (rows, best first at the last price) at each price p (columns), with
    train_credit = p."""
    mean = parts.groupby("policy")[["decades", "carbon", "train"]].mean()
    table = pd.DataFrame({f"p={p:g}": mean["decades"] - p * (mean["carbon"] - mean["train"]) for p in prices})
    return pd.concat([mean, table], axis=1).sort_values(table.columns[-1], ascending=False)


def imitate(model: Any, vec: Any, spec: TrainSpec) -> dict[str, float]:
    """Behaviour cloning before PPO: the rule `spec.imitate` plays `imitation_episodes` episodes; the policy is fitted
    to its actions (cross-entropy) and the value head to its discounted returns (squared error, the spec's gamma), so
    PPO starts from the rule with a critic that already knows what the rule earns. Returns the rule's mean episode
    return, the final losses and the share of the cloning observations on which the greedy policy picks the rule's
    action."""
    import torch

    if spec.imitate not in RULES:
        raise HarnessError(f"unknown imitation rule '{spec.imitate}'; known: {', '.join(RULES)}")
    rule = RULES[spec.imitate]
    steps = -(-spec.imitation_episodes // spec.n_envs) * spec.episode_hours
    obs = vec.reset()
    observations, actions, rewards, dones = [], [], [], []
    for _ in range(steps):
        act = rule(obs, spec.gpus).astype(np.int64)
        observations.append(obs)
        actions.append(act)
        obs, reward, done, _ = vec.step(act)
        rewards.append(reward)
        dones.append(done)
    returns, running, episode, finished = [], np.zeros(spec.n_envs), np.zeros(spec.n_envs), []
    for reward, done in zip(reversed(rewards), reversed(dones), strict=True):
        running = reward + spec.gamma * running * (1.0 - done)
        returns.append(running)
    for reward, done in zip(rewards, dones, strict=True):
        episode += reward
        finished += episode[done].tolist()
        episode[done] = 0.0
    x = torch.as_tensor(np.concatenate(observations), dtype=torch.float32)
    a = torch.as_tensor(np.concatenate(actions))
    g = torch.as_tensor(np.concatenate(returns[::-1]), dtype=torch.float32)
    policy = model.policy
    optimiser = torch.optim.Adam(policy.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(spec.seed)
    policy.set_training_mode(True)
    for _ in range(spec.imitation_epochs):
        for batch in torch.randperm(len(x), generator=generator).split(spec.batch_size):
            values, log_prob, _ = policy.evaluate_actions(x[batch], a[batch])
            action_loss = -log_prob.mean()
            value_loss = torch.nn.functional.mse_loss(values.flatten(), g[batch])
            optimiser.zero_grad()
            (action_loss + 0.5 * value_loss).backward()
            optimiser.step()
    policy.set_training_mode(False)
    with torch.no_grad():
        greedy = policy.get_distribution(x).distribution.probs.argmax(dim=1)
    return {
        "rule_mean_return": float(np.mean(finished)),
        "steps": len(x),
        "action_loss": action_loss.item(),
        "value_loss": value_loss.item(),
        "agreement": float((greedy == a).float().mean()),
    }


def _make_env(spec: TrainSpec, windows: list[str]) -> Callable[[], Any]:
    def build() -> Any:
        import torch

        from harness.envs.allocation import CarbonAllocationEnv

        torch.set_num_threads(1)
        return CarbonAllocationEnv(
            traces=windows,
            benchmark=spec.benchmark,
            hours=spec.episode_hours,
            gpus=spec.gpus,
            accounting=spec.accounting,
            forecaster=spec.forecaster,
            hv_weight=spec.hv_weight,
            carbon_price=spec.carbon_price,
            train_credit=spec.train_credit,
        )

    return build


def train(spec: TrainSpec, out: Path, progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """Train PPO on the environment, write `out` (weights) and `out.with_suffix('.json')` (spec, sha256, learning
    curve); return that JSON document. `progress(timesteps done, total, mean episode return of the last rollout)`."""
    import stable_baselines3
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    from harness import __version__
    from harness.io import atomic_write_bytes

    windows = training_windows(spec)
    env_fns = [_make_env(spec, windows) for _ in range(spec.n_envs)]
    inner = SubprocVecEnv(env_fns, start_method="forkserver") if spec.n_envs > 1 else DummyVecEnv(env_fns)
    vec = VecMonitor(inner)
    vec.seed(spec.seed)
    torch.set_num_threads(1)
    model = PPO(
        "MlpPolicy",
        vec,
        n_steps=spec.n_steps,
        batch_size=spec.batch_size,
        n_epochs=spec.n_epochs,
        learning_rate=spec.learning_rate,
        gamma=spec.gamma,
        gae_lambda=spec.gae_lambda,
        ent_coef=spec.ent_coef,
        seed=spec.seed,
        device="cpu",
        policy_kwargs={"net_arch": list(spec.net_arch)},
        verbose=0,
    )
    start = time.monotonic()
    imitation: dict[str, float] | None = None
    curve: list[dict[str, float]] = []

    class Log(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            returns = [float(e["r"]) for e in self.model.ep_info_buffer or ()]
            curve.append({"timesteps": int(self.num_timesteps), "mean_return": float(np.mean(returns or [np.nan]))})
            if progress:
                progress(self.num_timesteps, spec.timesteps, curve[-1]["mean_return"])

    try:
        if spec.imitate:
            imitation = imitate(model, vec, spec)
        model.learn(spec.timesteps, callback=Log())
    finally:
        vec.close()
    wall_s = time.monotonic() - start
    buffer = io.BytesIO()
    torch.save(model.policy.state_dict(), buffer)
    weights = buffer.getvalue()
    document = {
        "spec": asdict(spec),
        "command": spec.command(out),
        "windows": windows,
        "wall_s": round(wall_s, 1),
        "sha256": hashlib.sha256(weights).hexdigest(),
        "size": len(weights),
        "learning_curve": curve,
        "imitation": imitation,
        "versions": {
            "cenas-bench": __version__,
            "stable-baselines3": stable_baselines3.__version__,
            "torch": torch.__version__,
        },
    }
    atomic_write_bytes(out, weights)
    return _export_beside(model.policy, document, out, weights)


def _export_beside(policy: Any, document: dict[str, Any], path: Path, weights: bytes) -> dict[str, Any]:
    """Write the policy's action probabilities as ONNX beside `path` and `document` (pinning it) as its JSON."""
    import torch

    from harness.envs.allocation import OBS_SIZE
    from harness.inference import save_export

    class Probabilities(torch.nn.Module):
        """Observation (n, 12) -> action probabilities (n, trained GPUs + 1): SB3's actor head and softmax."""

        def __init__(self) -> None:
            super().__init__()
            self.body, self.head = policy.mlp_extractor.policy_net, policy.action_net

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.head(self.body(obs)), dim=-1)

    return save_export(Probabilities(), (1, OBS_SIZE), ("obs", "probabilities"), path, weights, document)


def export(name: str | None) -> dict[str, Any]:
    """(Re-)export a checkpoint's policy to ONNX beside it and pin the export in its JSON (the weights file is left
    as it is); returns the `onnx` entry."""
    path, weights, document = verified_weights(name)
    return dict(_export_beside(_policy(weights, document), document, path, weights)["onnx"])


def load_policy(name: str | None) -> tuple[Any, dict[str, Any]]:
    """The SB3 actor-critic policy of a checkpoint (eval mode) and its JSON document. The weights' sha256 must match
    the document before torch reads them (`weights_only=True`): nothing unverified is deserialised."""
    _, weights, document = verified_weights(name)
    return _policy(weights, document), document


def _policy(weights: bytes, document: dict[str, Any]) -> Any:
    """The SB3 actor-critic policy (eval mode) of verified weights and their document; a document without a valid
    spec, or weights that are not this policy's state dict, is one HarnessError line."""
    import gymnasium as gym
    import torch
    from stable_baselines3.common.policies import ActorCriticPolicy

    from harness.envs.allocation import OBS_SIZE

    spec = document.get("spec")
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("gpus"), int)
        or not isinstance(spec.get("net_arch"), list)
    ):
        raise HarnessError(
            "RL checkpoint document has no valid spec (gpus, net_arch): not a `harness rl train` checkpoint"
        )
    policy = ActorCriticPolicy(
        gym.spaces.Box(0.0, 10.0, shape=(OBS_SIZE,), dtype=np.float32),
        gym.spaces.Discrete(spec["gpus"] + 1),
        lr_schedule=lambda _: 0.0,
        net_arch=list(spec["net_arch"]),
    )
    try:
        policy.load_state_dict(torch.load(io.BytesIO(weights), weights_only=True))
    except (RuntimeError, ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError) as exc:  # not weights
        raise HarnessError(
            f"RL checkpoint weights are not this policy's ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
        ) from None
    policy.set_training_mode(False)
    return policy
