"""CE-NAS's clean allocation agent: the shipped PPO checkpoint (integrity, fidelity to the environment, its weights in
cell keys), its training (windows, determinism) and `harness rl train`'s errors. How it allocates against intensity
is measured by the held-out study (`results/allocation-heldout/allocation.md`), not asserted here."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cenas.allocation.ppo import RULES, PPOPolicy, checkpoint_path
from cenas.allocation.ppo_train import load_policy, train, training_windows
from cenas.allocation.spec import TrainSpec
from harness.carbon.traces import load_trace, parse_time
from harness.config import RunSpec, parse_budget
from harness.envs import CarbonAllocationEnv
from harness.errors import HarnessError
from harness.runner import execute
from tests.helpers import cli, one_error_line

HELD_OUT = "US-MIDA-PJM@2022-08-20T00:00"  # a region and a year the agent never trained on


def test_the_shipped_checkpoint_verifies_and_loads() -> None:
    path = checkpoint_path(None)
    document = json.loads(path.with_suffix(".json").read_text())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == document["sha256"]
    assert document["command"].startswith("harness rl train") and document["wall_s"] > 0
    assert document["spec"]["timesteps"] == TrainSpec().timesteps  # the shipped agent is the default training
    policy, _ = load_policy(None)
    assert policy.action_space.n == document["spec"]["gpus"] + 1


def test_a_tampered_or_missing_checkpoint_is_refused(tmp_path: Path) -> None:
    shipped = checkpoint_path(None)
    copy = tmp_path / "agent.pt"
    data = bytearray(shipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    shutil.copy(shipped.with_suffix(".json"), copy.with_suffix(".json"))
    with pytest.raises(HarnessError, match="fails its checksum"):
        load_policy(str(copy))
    with pytest.raises(HarnessError, match="harness rl train"):
        checkpoint_path("no-such-agent.pt")


def test_a_cenas_run_is_the_environment_episode_with_the_same_agent() -> None:
    """The run's policy sees exactly the environment's observation: acting greedily in the environment with the
    loaded agent reproduces the `cenas` run (same splits, HV and carbon to the bit)."""
    env = CarbonAllocationEnv(traces=(HELD_OUT,), hours=12, forecaster="transformer")
    agent = PPOPolicy()
    obs, info = env.reset(seed=3)
    done, actions = False, []
    while not done:
        actions.append(int(np.argmax(agent.probabilities(obs))))
        obs, _, done, _, _ = env.step(actions[-1])
    spec = RunSpec("cenas", "nb201/cifar10/pi5-energy", HELD_OUT, parse_budget("12h"), info["seed"], 8)
    record = execute(spec)
    assert [r["train_gpus"] for r in record.intervals] == actions
    assert record.summary["hv"] == env.result.hv and record.summary["carbon_g"] == env.result.totals.carbon_g


def test_training_windows_avoid_every_evaluated_window() -> None:
    spec = TrainSpec()
    windows = training_windows(spec)
    assert len(windows) == len(spec.regions) * spec.windows_per_region == len(set(windows))
    assert training_windows(spec) == windows  # seeded
    study_start = parse_time("2021-11-15T00:00")  # leaderboard-nb201's DE window
    for text in windows:
        trace = load_trace(text)
        assert parse_time(spec.first) <= trace.start <= parse_time(spec.last)
        if trace.region.endswith("DE"):
            assert not (study_start - np.timedelta64(48, "h") < trace.start < study_start + np.timedelta64(14, "D"))
    with pytest.raises(HarnessError, match="no 48-h window fits"):
        training_windows(replace(spec, last="2021-07-02T00:00"))


def test_training_is_deterministic(tmp_path: Path) -> None:
    """A tiny training twice from the same seed: byte-identical weights (one process, one environment)."""
    spec = TrainSpec(
        windows_per_region=2,
        episode_hours=6,
        timesteps=24,
        n_envs=1,
        n_steps=12,
        batch_size=12,
        n_epochs=2,
        imitation_episodes=2,
        imitation_epochs=2,
    )
    first = train(spec, tmp_path / "a.pt")
    second = train(spec, tmp_path / "b.pt")
    assert first["sha256"] == second["sha256"] and (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert first["learning_curve"][-1]["timesteps"] == 24
    policy, document = load_policy(str(tmp_path / "a.pt"))
    assert document["spec"]["episode_hours"] == 6 and policy.action_space.n == 9


def test_the_warm_start_clones_the_rule(tmp_path: Path) -> None:
    """Behaviour cloning makes the policy play the rule on the observations it was cloned from; the rule trains on
    6 of 8 GPUs exactly when the hour is cleaner than half of the surrounding 48 h."""
    spec = TrainSpec(
        windows_per_region=2,
        episode_hours=12,
        timesteps=12,
        n_envs=1,
        n_steps=12,
        batch_size=12,
        n_epochs=1,
        learning_rate=1e-9,
        imitation_episodes=4,
        imitation_epochs=60,
    )
    document = train(spec, tmp_path / "a.pt")
    assert document["imitation"]["steps"] == 48 and document["imitation"]["agreement"] >= 0.9
    env = CarbonAllocationEnv(traces=(HELD_OUT,), hours=12, forecaster="transformer")
    obs, _ = env.reset(seed=0)
    actions, ranks = [], []
    for _ in range(12):
        ranks.append(float(obs[7]))
        actions.append(int(RULES["rank-half"](obs[None, :], 8)[0]))
        obs, *_ = env.step(actions[-1])
    assert actions == [6 if r < 0.5 else 1 for r in ranks] and {1, 6} == set(actions)
    with pytest.raises(HarnessError, match="unknown imitation rule"):
        train(replace(spec, imitate="nope"), tmp_path / "b.pt")


def test_the_rank_half_policy_is_the_rule_in_a_cenas_run() -> None:
    """`policy=rank-half` plays the rule on the run's own observation: negative rank correlation by construction."""
    from scipy.stats import spearmanr

    options = {"policy": "rank-half", "forecaster": "transformer"}
    spec = RunSpec("cenas", "nb201/cifar10/pi5-energy", HELD_OUT, parse_budget("24h"), 0, 8, method_options=options)
    record = execute(spec)
    gpus = [r["train_gpus"] for r in record.intervals]
    assert set(gpus) == {1, 6}
    assert spearmanr([r["ci"] for r in record.intervals], gpus).statistic < -0.5


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--timesteps", "0"], ["--timesteps must be at least 1"]),
        (["--n-envs", "0"], ["--n-envs must be at least 1"]),
        (["--carbon-price", "-1"], ["--carbon-price must be >= 0"]),
        (["--out", str(Path(__file__) / "agent.pt")], ["is a file, not a folder"]),
        (["--spec", "no-such-spec.json"], ["cannot read a training spec from no-such-spec.json"]),
        (["--spec", str(Path(__file__)), "--timesteps", "5"], ["give --spec or the training flags, not both"]),
        (["--spec", str(__import__("harness.goldens", fromlist=["x"]).GOLDEN_FILE)], ["is not a training spec"]),
    ],
)
def test_bad_training_input_is_one_error_line(args: list[str], fragments: list[str]) -> None:
    one_error_line(cli("rl", "train", *args), *fragments)


def test_the_recorded_command_reproduces_the_spec(tmp_path: Path) -> None:
    out = tmp_path / "agent.pt"
    assert TrainSpec().command(out) == f"harness rl train --out {out}"
    flags = replace(TrainSpec(), regions=("DE", "FR"), timesteps=960).command(out)
    assert flags == f"harness rl train --region DE --region FR --timesteps 960 --out {out}"
    spec_file = out.with_suffix(".json")
    assert replace(TrainSpec(), gamma=0.9).command(out) == f"harness rl train --spec {spec_file} --out {out}"
    shipped = checkpoint_path(None).with_suffix(".json")
    assert TrainSpec.from_json(shipped) == TrainSpec()  # the shipped agent is the default spec, read back exactly


def test_reward_parts_price_every_policy_from_one_set_of_episodes() -> None:
    """The parts of the reward, summed per episode, give the return at any price: an episode played again with
    carbon_price = train_credit = p returns exactly decades - p * (carbon - train)."""
    from cenas.allocation.ppo_train import _episode_parts, returns_at, reward_parts

    spec = TrainSpec(windows_per_region=2, episode_hours=6, gpus=2, n_envs=2)
    parts = reward_parts(spec, windows_per_region=1, seeds=(0,))
    assert sorted(set(parts["policy"])) == ["0", "1", "2", "rank-half"] and len(parts) == 2 * 4
    assert (parts.loc[parts["policy"] == "0", "train"] == 0).all()
    assert (parts.loc[parts["policy"] == "2", "train"] <= 6 + 1e-9).all() and (parts["carbon"] > 0).all()
    table = returns_at(parts, [0.25])
    mean = parts.groupby("policy")[["decades", "carbon", "train"]].mean()
    assert np.allclose(table["p=0.25"], (mean["decades"] - 0.25 * (mean["carbon"] - mean["train"]))[table.index])
    row = parts.iloc[5]
    env = CarbonAllocationEnv(
        traces=(row["window"],), hours=6, gpus=2, forecaster="transformer", carbon_price=0.25, train_credit=0.25
    )
    obs, _ = env.reset(seed=int(row["seed"]))
    total, done = 0.0, False
    while not done:
        action = int(RULES[row["policy"]](obs[None, :], 2)[0]) if row["policy"] in RULES else int(row["policy"])
        obs, reward, done, _, _ = env.step(action)
        total += reward
    again = _episode_parts((spec, row["window"], int(row["seed"]), row["policy"]))
    assert again == row.to_dict()
    assert total == pytest.approx(row["decades"] - 0.25 * (row["carbon"] - row["train"]), abs=1e-9)


def test_online_updates_are_refused_for_the_frozen_agent() -> None:
    spec = RunSpec(
        "cenas",
        "nb201/cifar10/pi5-energy",
        HELD_OUT,
        parse_budget("2h"),
        0,
        8,
        method_options={"rl.online_updates": True},
    )
    with pytest.raises(HarnessError, match=r"rl\.mode=reference"):
        execute(spec)


def test_the_agents_weights_are_part_of_a_cells_key(tmp_path: Path) -> None:
    """New weights mean new runs: the checkpoint's sha256 enters the study cell's key and the record's provenance;
    runs that read no trained model keep their keys."""
    from harness.studies.store import cell_key, model_hashes

    shipped = checkpoint_path(None)
    other = tmp_path / shipped.name
    data = bytearray(shipped.read_bytes())
    data[-1] ^= 0x01  # the zip's last byte: a different file that still verifies against its own document
    other.write_bytes(bytes(data))
    document = json.loads(shipped.with_suffix(".json").read_text()) | {"sha256": hashlib.sha256(data).hexdigest()}
    document["onnx"] = document["onnx"] | {"weights_sha256": document["sha256"]}  # its export, said to come from it
    other.with_suffix(".json").write_text(json.dumps(document))
    other.with_suffix(".onnx").write_bytes(shipped.with_suffix(".onnx").read_bytes())

    def key(method: str, options: dict) -> str:
        return cell_key(
            RunSpec(method, "nb201/cifar10/pi5-energy", HELD_OUT, parse_budget("2h"), 0, 8, method_options=options)
        )

    assert key("cenas", {}) != key("cenas", {"rl.checkpoint": str(other)})
    same = RunSpec(
        "cenas",
        "nb201/cifar10/pi5-energy",
        HELD_OUT,
        parse_budget("2h"),
        0,
        8,
        method_options={"rl.checkpoint": str(shipped)},
    )
    assert model_hashes(same) == model_hashes(replace(same, method_options={}))  # the content, not the path
    blind = RunSpec(
        "random-allocation",
        "nb201/cifar10/pi5-energy",
        HELD_OUT,
        parse_budget("2h"),
        0,
        8,
        method_options={"rl.checkpoint": str(other)},
    )
    assert model_hashes(blind) == {}  # its policy reads no weights and its persistence forecast no model
    spec = RunSpec("cenas", "nb201/cifar10/pi5-energy", HELD_OUT, parse_budget("1h"), 0, 8)
    models = execute(spec).provenance["models"]
    assert models[f"rl/{shipped.name}"] == json.loads(shipped.with_suffix(".json").read_text())["sha256"]
    forecaster = "forecaster/forecast_sc_US-MIDA-PJM"
    assert set(models) == {
        f"rl/{shipped.name}",
        f"rl/{shipped.with_suffix('.onnx').name}",
        f"{forecaster}.pt",
        f"{forecaster}.onnx",
    }
    assert (
        models[f"rl/{shipped.with_suffix('.onnx').name}"]
        == hashlib.sha256(shipped.with_suffix(".onnx").read_bytes()).hexdigest()
    )
