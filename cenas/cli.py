"""CE-NAS's own commands, plugged into `harness` through the command registry (`harness.methods.command_plugins`):
`harness rl train` and `harness lamoo-check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cenas.allocation.ppo import TrainSpec
from harness.cli.common import err, out, progress_reporter
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
) -> None:
    """Train CE-NAS's clean allocation agent with PPO (Stable-Baselines3) on the allocation environment; writes the
    weights (.pt) and the spec, command and learning curve beside them (.json). Pass the .pt as rl.checkpoint."""
    from dataclasses import replace

    from cenas.allocation.ppo import train
    from harness.data.fetch import cache_dir
    from harness.io import check_writable

    for name, value in (("--timesteps", timesteps), ("--windows-per-region", windows_per_region), ("--n-envs", n_envs)):
        if value < 1:
            raise HarnessError(f"{name} must be at least 1 (got {value})")
    for name, price in (("--carbon-price", carbon_price), ("--train-credit", train_credit)):
        if not price >= 0:
            raise HarnessError(f"{name} must be >= 0 (got {price})")
    spec = replace(
        TRAIN_DEFAULTS, timesteps=timesteps, regions=tuple(region or TRAIN_DEFAULTS.regions), first=first, last=last,
        windows_per_region=windows_per_region, forecaster=forecaster, carbon_price=carbon_price,
        train_credit=train_credit, n_envs=n_envs,
        seed=seed,
    )  # fmt: skip
    target = out_path or cache_dir() / "models" / "rl_clean_ppo.pt"
    check_writable(target)
    with progress_reporter("training", timesteps) as report:
        document = train(spec, target, lambda done, total, ret: report(done, f"mean episode return {ret:.2f}"))
    curve = document["learning_curve"]
    out.print(f"{timesteps} steps in {document['wall_s']:.0f} s; mean episode return {curve[0]['mean_return']:.2f} "
              f"after the first rollout, {curve[-1]['mean_return']:.2f} after the last")  # fmt: skip
    out.print(f"checkpoint written to {target} (spec in {target.with_suffix('.json')})")


def lamoo_check_command(
    benchmark: Annotated[str | None, typer.Option(help="Benchmark id.")] = None,
    runs: Annotated[int, typer.Option(help="Independent LaMOO runs.")] = 10,
    samples: Annotated[int, typer.Option(help="Trained uniform samples the tree is built from.")] = 100,
    compare: Annotated[int, typer.Option(help="Architectures drawn from the region and from the whole space.")] = 50,
    cp: Annotated[float, typer.Option(help="UCB exploration constant Cp.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the first run.")] = 0,
) -> None:
    """HotCarbon §4.2: mean accuracy and cost of architectures from the LaMOO-selected region vs the whole space."""
    from cenas.lamoo_check import CheckSpec, lamoo_check
    from harness.benchmarks import DEFAULT_BENCHMARK

    spec = CheckSpec(benchmark or DEFAULT_BENCHMARK, runs, samples, compare, cp, seed)
    with err.status("running LaMOO"):
        result = lamoo_check(spec)
    unit = result["cost_unit"]
    table = Table(title=f"LaMOO region vs whole space on {spec.benchmark} ({runs} runs, {compare} archs each)")
    for column in ("run", "leaf samples", "acc region", "acc space", f"cost region ({unit})", f"cost space ({unit})"):
        table.add_column(column, justify="right")
    for row in [*result["runs"], {"run": "mean", **result["mean"]}]:
        table.add_row(
            str(row["run"]), f"{row['leaf_samples']:.1f}", f"{row['region_acc']:.2f}", f"{row['space_acc']:.2f}",
            f"{row['region_cost']:.3f}", f"{row['space_cost']:.3f}",
        )  # fmt: skip
    out.print(table)
    mean = result["mean"]
    better_acc, better_cost = mean["region_acc"] > mean["space_acc"], mean["region_cost"] < mean["space_cost"]
    verdict = "better on both" if better_acc and better_cost else (
        "better cost, not better accuracy" if better_cost else "better accuracy, not better cost" if better_acc
        else "better on neither"
    )  # fmt: skip
    out.print(f"region is {verdict}; HotCarbon reported 72.12 vs 68.28 % and 16.59 vs 22.84 mJ on its own table")


def register(app: typer.Typer) -> None:
    """Add CE-NAS's commands to the `harness` app."""
    rl_app = typer.Typer(help="Train CE-NAS's clean RL allocation agent.", no_args_is_help=True)
    app.add_typer(rl_app, name="rl")
    rl_app.command("train")(rl_train)
    app.command("lamoo-check")(lamoo_check_command)
