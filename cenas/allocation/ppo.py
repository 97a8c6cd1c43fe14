"""CE-NAS's clean allocation agent: a PPO policy (Stable-Baselines3) trained on `harness.envs.CarbonAllocationEnv`.

Training (`harness rl train`, `train`) runs PPO over 48-h windows drawn from July-December 2021 (after the carbon
forecasters' training split) in several regions, none overlapping a named window or a window a shipped study
evaluates on. The shipped checkpoint is the policy's weights only (`rl_clean_ppo.pt`, a torch state dict read with
`weights_only=True` after its sha256 matches the JSON beside it; never SB3's pickled zip) plus `rl_clean_ppo.json`:
the training spec, the command that regenerates it, the wall time and the learning curve, and `rl_clean_ppo.onnx`:
the policy's action probabilities exported to ONNX, pinned by the JSON (`harness.inference`), which is what runs load.

At run time (`policy=rl`, `rl.mode=clean`) the agent sees the environment's observation computed from the run's own
state (`harness.envs.allocation.observation`), so a run of `cenas` and an episode of the environment acting with this
policy are the same simulation.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import time
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import asdict, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cenas.allocation.base import AllocationPolicy, PolicyState
from cenas.allocation.spec import TrainSpec
from harness.errors import HarnessError

DEFAULT_CHECKPOINT = "rl_clean_ppo.pt"
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


def rank_half(obs: np.ndarray, gpus: int) -> np.ndarray:
    """Train on 3/4 of the GPUs in hours cleaner than half of the surrounding 48 h (observation 7, the hour's rank),
    on 1/8 otherwise; obs shape (n, 12), returns (n,) actions."""
    return np.where(obs[:, 7] < 0.5, round(0.75 * gpus), max(1, gpus // 8))


RULES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {"rank-half": rank_half}
"""Rules the agent can be warm-started from (`TrainSpec.imitate`): observations (n, 12) and GPUs -> actions (n,)."""


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


SHIPPED_EXPORTS = {"rl_clean_ppo.onnx": "a3d02036af244076d41cb152fac7d7d8213edbb84bb4a3b0b74b32efa6e2a225"}
"""sha256 of the agent export shipped in cenas/allocation/checkpoints/, pinned in code (issue 38): the JSON beside it
is editable. Update together with a reshipped agent (`harness rl train` then `harness rl export`)."""


def checkpoint_path(name: str | None) -> Path:
    """A checkpoint path: a file path, or the name of one shipped in cenas/allocation/checkpoints/."""
    if name and Path(name).exists():
        return Path(name)
    shipped = Path(str(resources.files("cenas.allocation").joinpath("checkpoints", name or DEFAULT_CHECKPOINT)))
    if not shipped.exists():
        raise HarnessError(f"RL checkpoint '{name or DEFAULT_CHECKPOINT}' not found; make one with `harness rl train`")
    return shipped


def verified_weights(name: str | None) -> tuple[Path, bytes, dict[str, Any]]:
    """A checkpoint's path, weight bytes and JSON document, the bytes' sha256 checked against the document."""
    path = checkpoint_path(name)
    meta_path = path.with_suffix(".json")
    try:
        weights, document = path.read_bytes(), json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise HarnessError(f"RL checkpoint {path}: cannot read it and its spec {meta_path.name} ({exc})") from None
    digest = hashlib.sha256(weights).hexdigest()
    if digest != document.get("sha256"):
        pinned = str(document.get("sha256"))[:12]
        raise HarnessError(f"RL checkpoint {path} fails its checksum ({digest[:12]} != {pinned}); nothing was loaded")
    return path, weights, document


def model_hashes(name: str | None) -> dict[str, str]:
    """sha256 of a checkpoint's weights and of its verified ONNX export (the bytes `PPOPolicy` runs), by file name."""
    from harness.inference import verified_export

    path, _, document = verified_weights(name)
    _, _, digest = verified_export(
        path, document["sha256"], document.get("onnx"), "run `harness rl export`", _pin(path)
    )
    return {path.name: document["sha256"], path.with_suffix(".onnx").name: digest}


def _pin(path: Path) -> str | None:
    """The code's pin of a shipped agent export (None for an agent trained elsewhere)."""
    shipped = path.resolve().parent == checkpoint_path(None).resolve().parent
    return SHIPPED_EXPORTS.get(path.with_suffix(".onnx").name) if shipped else None


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


class ObservingPolicy(AllocationPolicy):
    """A policy acting on the allocation environment's observation (template: `decide` from the features; the
    PPO agent and the rules it can imitate)."""

    last_share = 0.0

    def setup(self, carbon, forecaster, rng) -> None:  # type: ignore[no-untyped-def]
        from harness.envs.allocation import reference_intensity

        super().setup(carbon, forecaster, rng)
        self.reference_ci = reference_intensity(carbon)

    def features(self, state: PolicyState) -> np.ndarray:
        """The environment's 12-value observation (`harness.envs.allocation`) at this boundary, shape (12,)."""
        from harness.envs.allocation import budget_progress, observation

        progress = budget_progress(state.hours_budget, state.carbon_budget_g, state.now_s, state.carbon_used_g)
        return observation(
            self.carbon,
            self.forecaster,
            state.now_s,
            self.reference_ci,
            queue_fill=state.queue_len / max(state.queue_capacity, 1),
            progress=progress,
            hv_share=state.hv / state.hv_box,
            last_share=self.last_share,
        )

    @abstractmethod
    def decide(self, features: np.ndarray, n_gpus: int) -> int:
        """Training GPUs of `n_gpus` given the observation, shape (12,)."""

    def train_gpus(self, state: PolicyState) -> int:
        train = self.decide(self.features(state), state.n_gpus)
        self.last_share = train / state.n_gpus
        return train


class RulePolicy(ObservingPolicy):
    """A rule of `RULES` on the environment's observation (`policy=rank-half`: what the clean agent is warm-started
    from, evaluated beside it)."""

    def __init__(self, rule: str) -> None:
        self.name, self.rule = rule, RULES[rule]

    def decide(self, features: np.ndarray, n_gpus: int) -> int:
        return int(self.rule(features[None, :], n_gpus)[0])


class PPOPolicy(ObservingPolicy):
    """The trained PPO agent: the environment's observation in, training GPUs out (`rl.mode=clean`). It runs the
    checkpoint's verified ONNX export (`harness.inference`): neither torch nor Stable-Baselines3 is imported."""

    name = "rl"

    def __init__(self, checkpoint: str | None = None, greedy: bool = True) -> None:
        from harness.inference import OnnxModel

        path, _, self.document = verified_weights(checkpoint)
        remedy = f"run `harness rl export{' --checkpoint ' + checkpoint if checkpoint else ''}`"
        self.model = OnnxModel(path, self.document["sha256"], self.document.get("onnx"), remedy, _pin(path))
        self.trained_gpus = int(self.document["spec"]["gpus"])
        self.greedy = greedy

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Action probabilities over 0..trained GPUs, shape (trained_gpus + 1,)."""
        return self.model(features[None, :])[0].astype(np.float64)

    def decide(self, features: np.ndarray, n_gpus: int) -> int:
        probs = self.probabilities(features)
        action = int(np.argmax(probs)) if self.greedy else int(self.rng.choice(len(probs), p=probs / probs.sum()))
        return round(action * n_gpus / self.trained_gpus)  # the agent's share of this run's GPUs
