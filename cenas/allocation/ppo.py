"""CE-NAS's clean allocation agent as it runs: a PPO policy's verified ONNX export (`PPOPolicy`), the rule policies
that share its observation, and the shipped checkpoint's pins (training: `cenas.allocation.ppo_train`).

The shipped checkpoint is the policy's weights only (`rl_clean_ppo.pt`, a torch state dict read with
`weights_only=True` after its sha256 matches the JSON beside it; never SB3's pickled zip) plus `rl_clean_ppo.json`:
the training spec, the command that regenerates it, the wall time and the learning curve, and `rl_clean_ppo.onnx`:
the policy's action probabilities exported to ONNX, pinned by the JSON (`harness.inference`), which is what runs load.

At run time (`policy=rl`, `rl.mode=clean`) the agent sees the environment's observation computed from the run's own
state (`harness.envs.allocation.observation`), so a run of `cenas` and an episode of the environment acting with this
policy are the same simulation.
"""

from __future__ import annotations

import hashlib
import json
from abc import abstractmethod
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cenas.allocation.base import AllocationPolicy, PolicyState
from harness.errors import HarnessError

DEFAULT_CHECKPOINT = "rl_clean_ppo.pt"


def rank_half(obs: np.ndarray, gpus: int) -> np.ndarray:
    """Train on 3/4 of the GPUs in hours cleaner than half of the surrounding 48 h (observation 7, the hour's rank),
    on 1/8 otherwise; obs shape (n, 12), returns (n,) actions."""
    return np.where(obs[:, 7] < 0.5, round(0.75 * gpus), max(1, gpus // 8))


RULES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {"rank-half": rank_half}
"""Rules the agent can be warm-started from (`TrainSpec.imitate`): observations (n, 12) and GPUs -> actions (n,)."""


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
