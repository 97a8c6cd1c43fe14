"""CE-NAS's own commands, plugged into `harness` through the command registry (`harness.methods.command_plugins`):
`harness rl pretrain` and `harness lamoo-check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from harness.cli.common import err, out


def rl_pretrain(
    episodes: Annotated[int, typer.Option(help="Episodes (80-h windows, cycled).")] = 24,
    region: Annotated[str, typer.Option(help="Trace region of the pretraining windows.")] = "US-CAL-CISO",
    first: Annotated[str, typer.Option(help="First hour of the pretraining period (UTC).")] = "2021-01-05T00:00",
    last: Annotated[str, typer.Option(help="Last hour of the pretraining period (UTC).")] = "2021-06-30T23:00",
    forecaster: Annotated[str, typer.Option(help="Forecaster the agent sees: transformer, persistence, oracle.")] = (
        "transformer"
    ),
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Checkpoint path (default: CACHE/models/rl.pt).")
    ] = None,
) -> None:
    """Pretrain the clean-mode actor-critic over non-overlapping historical windows; writes .pt + .json spec."""
    from cenas.allocation.pretrain import PretrainSpec, pretrain
    from harness.data.fetch import cache_dir

    spec = PretrainSpec(region=region, first=first, last=last, episodes=episodes, forecaster=forecaster, seed=seed)
    target = out_path or cache_dir() / "models" / "rl_clean.pt"
    with err.status("pretraining") as status:
        log = pretrain(spec, target, lambda e, n, r: status.update(f"episode {e}/{n}: return {r:.3f}"))
    returns = log["episode_returns"]
    out.print(f"{len(returns)} episodes; mean return first quarter {np.mean(returns[: len(returns) // 4 or 1]):.3f}, "
              f"last quarter {np.mean(returns[-(len(returns) // 4 or 1) :]):.3f}")  # fmt: skip
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
    rl_app = typer.Typer(help="Pretrain CE-NAS's clean-mode RL allocation agent.", no_args_is_help=True)
    app.add_typer(rl_app, name="rl")
    rl_app.command("pretrain")(rl_pretrain)
    app.command("lamoo-check")(lamoo_check_command)
