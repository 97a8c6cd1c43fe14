"""CE-NAS's own commands, plugged into `harness` through the command registry (`harness.methods.COMMANDS`):
`harness rl train`, `prices`, `export`. (HotCarbon §4.2's region check is the study `lamoo-check`:
`harness sweep lamoo-check`.)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cenas.allocation.spec import TrainSpec
from harness.cli.common import out, progress_reporter
from harness.errors import HarnessError

TRAIN_DEFAULTS = TrainSpec()


def rl_train(
    timesteps: Annotated[int, typer.Option(help="Environment steps (allocation intervals) PPO trains on.")] = (
        TRAIN_DEFAULTS.timesteps
    ),
    region: Annotated[
        list[str] | None, typer.Option(help="Trace region of the training windows (repeat for several).")
    ] = None,
    first: Annotated[str, typer.Option(help="First hour of the training period (UTC).")] = TRAIN_DEFAULTS.first,
    last: Annotated[str, typer.Option(help="Last hour of the training period (UTC).")] = TRAIN_DEFAULTS.last,
    windows_per_region: Annotated[int, typer.Option(help="Windows drawn per region.")] = (
        TRAIN_DEFAULTS.windows_per_region
    ),
    forecaster: Annotated[str, typer.Option(help="Forecaster the agent sees: transformer, persistence, oracle.")] = (
        TRAIN_DEFAULTS.forecaster
    ),
    carbon_price: Annotated[
        float,
        typer.Option(
            help="Reward's carbon price: decades of regret per all-GPU training hour at the reference intensity."
        ),
    ] = TRAIN_DEFAULTS.carbon_price,
    train_credit: Annotated[
        float,
        typer.Option(
            help="Reward per all-GPU training hour (equal to the price: training at the reference "
            "intensity is neutral)."
        ),
    ] = TRAIN_DEFAULTS.train_credit,
    n_envs: Annotated[int, typer.Option(help="Environments stepped in parallel (one process each).")] = (
        TRAIN_DEFAULTS.n_envs
    ),
    seed: Annotated[int, typer.Option(help="Seed of the window draw, PPO and the environments.")] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Checkpoint path (default: CACHE/models/rl_clean_ppo.pt).")
    ] = None,
    spec_file: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            help="Train the spec in this JSON (a checkpoint's .json, e.g. the shipped one, or the spec's fields) "
            "instead of the flags above.",
        ),
    ] = None,
) -> None:
    """Train CE-NAS's clean allocation agent with PPO (Stable-Baselines3) on the allocation environment; writes the
    weights (.pt), their ONNX export (.onnx, what runs load) and the spec, command, learning curve and the export's
    pin beside them (.json). Pass the .pt as rl.checkpoint."""
    from harness.optional import require

    require(("torch", "stable_baselines3", "onnx"), "`harness rl train`")
    from dataclasses import replace

    from cenas.allocation.ppo_train import train
    from harness.data.fetch import cache_dir
    from harness.io import check_writable

    spec = replace(
        TRAIN_DEFAULTS,
        timesteps=timesteps,
        regions=tuple(region or TRAIN_DEFAULTS.regions),
        first=first,
        last=last,
        windows_per_region=windows_per_region,
        forecaster=forecaster,
        carbon_price=carbon_price,
        train_credit=train_credit,
        n_envs=n_envs,
        seed=seed,
    )
    if spec_file is not None:
        if spec != TRAIN_DEFAULTS:
            raise HarnessError("give --spec or the training flags, not both")
        spec = TrainSpec.from_json(spec_file)
    for name, value in (
        ("--timesteps", spec.timesteps),
        ("--windows-per-region", spec.windows_per_region),
        ("--n-envs", spec.n_envs),
    ):
        if value < 1:
            raise HarnessError(f"{name} must be at least 1 (got {value})")
    for name, price in (("--carbon-price", spec.carbon_price), ("--train-credit", spec.train_credit)):
        if not price >= 0:
            raise HarnessError(f"{name} must be >= 0 (got {price})")
    target = out_path or cache_dir() / "models" / "rl_clean_ppo.pt"
    check_writable(target)
    with progress_reporter("training", spec.timesteps) as report:
        document = train(spec, target, lambda done, total, ret: report(done, f"mean episode return {ret:.2f}"))
    curve = document["learning_curve"]
    first, last = curve[0]["mean_return"], curve[-1]["mean_return"]
    out.print(
        f"{spec.timesteps} steps in {document['wall_s']:.0f} s; mean episode return {first:.2f} after the "
        f"first rollout, {last:.2f} after the last"
    )
    out.print(f"checkpoint written to {target} (spec in {target.with_suffix('.json')})")


def rl_prices(
    windows_per_region: Annotated[int, typer.Option(help="Training windows per region (evenly spaced).")] = 6,
    seeds: Annotated[int, typer.Option(help="Simulation seeds per window (0..N-1).")] = 2,
    price: Annotated[
        list[float] | None, typer.Option(help="Carbon price p to score (repeat; train credit = p).")
    ] = None,
) -> None:
    """How the reward prices carbon: the imitation rule and every fixed split on training windows, the reward's parts
    (decades of regret gained, carbon and training in reference all-GPU hours) and the mean return at each price
    (docs/cenas.md: what it says about the shipped price)."""
    from cenas.allocation.ppo_train import returns_at, reward_parts

    if windows_per_region < 1 or seeds < 1:
        raise HarnessError("--windows-per-region and --seeds must be at least 1")
    prices = price or [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]
    if any(not p >= 0 for p in prices):
        raise HarnessError("--price must be >= 0")
    total = (windows_per_region * len(TRAIN_DEFAULTS.regions)) * seeds * (TRAIN_DEFAULTS.gpus + 2)
    with progress_reporter("episodes", total) as report:
        parts = reward_parts(TRAIN_DEFAULTS, windows_per_region, tuple(range(seeds)), lambda done, _: report(done, ""))
    table = returns_at(parts, prices)
    view = Table(title=f"Mean over {len(parts) // len(table)} episodes per policy (training windows; train credit = p)")
    for column in ["policy", *table.columns]:
        view.add_column(column, justify="left" if column == "policy" else "right")
    for policy, row in table.iterrows():
        view.add_row(str(policy), *(f"{v:.3f}" for v in row))
    out.print(view)
    for column in table.columns[3:]:
        ranked = table[column].sort_values(ascending=False)
        out.print(
            f"{column}: best {ranked.index[0]} ({ranked.iloc[0]:.3f}), then {ranked.index[1]} ({ranked.iloc[1]:.3f})"
        )


def rl_export(
    checkpoint: Annotated[
        str | None, typer.Option(help="Checkpoint path or shipped name (default: the shipped agent).")
    ] = None,
) -> None:
    """Export a checkpoint's policy to ONNX beside its weights and pin the export in its JSON (what runs load; needed
    for a checkpoint trained before exports existed). Needs torch and the onnx package; the same weights give the
    same bytes."""
    from cenas.allocation.ppo import checkpoint_path
    from cenas.allocation.ppo_train import export
    from harness.optional import require

    require(("torch", "stable_baselines3", "onnx"), "`harness rl export`")

    entry = export(checkpoint)
    out.print(
        f"{checkpoint_path(checkpoint).with_suffix('.onnx')}: {entry['size']:,} bytes, sha256 {entry['sha256'][:12]}"
    )


def register(app: typer.Typer) -> None:
    """Add CE-NAS's commands to the `harness` app."""
    rl_app = typer.Typer(help="Train and export CE-NAS's clean RL allocation agent.", no_args_is_help=True)
    app.add_typer(rl_app, name="rl")
    rl_app.command("train")(rl_train)
    rl_app.command("prices")(rl_prices)
    rl_app.command("export")(rl_export)
