"""`TrainSpec`: everything a clean-agent checkpoint depends on (`harness rl train`; the training itself is
`cenas.allocation.ppo_train`). Kept free of numpy, pandas and torch so that the command line starts fast."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


@dataclass(frozen=True)
class TrainSpec:
    """Everything a clean-agent checkpoint depends on (with the library versions recorded beside it)."""

    regions: tuple[str, ...] = ("US-CAL-CISO", "DE")
    first: str = "2021-07-01T00:00"  # the transformer forecasters were trained on data before this hour
    last: str = "2021-12-31T23:00"
    windows_per_region: int = 40
    episode_hours: int = 48
    gpus: int = 8
    benchmark: str = "nb201/cifar10/pi5-energy"
    forecaster: str = "transformer"
    accounting: str = "default"
    hv_weight: float = 1.0
    carbon_price: float = 1 / 2  # decades of regret per all-GPU hour at R (docs/cenas.md: how it was chosen)
    train_credit: float = 1 / 2  # = carbon_price: training at R is carbon-neutral; the price falls on timing
    timesteps: int = 30_720
    n_envs: int = 2
    n_steps: int = 480
    batch_size: int = 240
    n_epochs: int = 10
    learning_rate: float = 1e-4  # fine-tuning the imitated rule: small steps
    gamma: float = 0.95  # a 20-h horizon: the intensity's daily cycle, and HV from jobs started now
    gae_lambda: float = 0.8  # short advantages: the timing term is immediate, HV gains are noisy
    ent_coef: float = 0.01
    net_arch: tuple[int, ...] = (64, 64)
    imitate: str = "rank-half"  # warm start: behaviour cloning of this rule (RULES) before PPO; "" for none
    imitation_episodes: int = 80  # episodes the rule plays to make the cloning data (per run of the spec)
    imitation_epochs: int = 20
    seed: int = 0

    def command(self, out: Path) -> str:
        """The `harness rl train` command line that reproduces this spec into `out`: flags for the fields the command
        line has (`CLI_FIELDS`), else `--spec` naming the JSON written beside the weights."""
        changed = {k: v for k, v in asdict(self).items() if v != asdict(TrainSpec())[k]}
        if set(changed) - set(CLI_FIELDS):
            return f"harness rl train --spec {out.with_suffix('.json')} --out {out}"
        parts = ["harness rl train"]
        for key, value in changed.items():
            flag = "--region" if key == "regions" else f"--{key.replace('_', '-')}"
            parts += [f"{flag} {v}" for v in (value if isinstance(value, tuple) else (value,))]
        return " ".join([*parts, f"--out {out}"])

    @classmethod
    def from_json(cls, path: Path) -> TrainSpec:
        """The spec in a JSON file: a checkpoint's document (its `spec`) or the spec's fields themselves."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            fields = document.get("spec", document)
            values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
            return cls(**values)
        except (OSError, ValueError, AttributeError) as exc:
            raise HarnessError(f"cannot read a training spec from {path} ({exc})") from None
        except TypeError as exc:
            raise HarnessError(f"{path} is not a training spec ({exc})") from None


CLI_FIELDS = (
    "timesteps",
    "regions",
    "first",
    "last",
    "windows_per_region",
    "forecaster",
    "carbon_price",
    "train_credit",
    "n_envs",
    "seed",
)
"""TrainSpec fields `harness rl train` has flags for (`regions` is `--region`, repeated)."""
