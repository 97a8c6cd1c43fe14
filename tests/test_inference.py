"""Torch-free inference (`harness.inference`): the shipped forecasters' and RL agent's ONNX exports are their torch
networks (same bytes when re-exported; same outputs to float32 rounding on real inputs; same greedy actions), they are
verified before onnxruntime sees them, and a `cenas` run imports neither torch nor Stable-Baselines3."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cenas.allocation.ppo import PPOPolicy, checkpoint_path
from cenas.allocation.ppo_train import export, load_policy
from harness.carbon import transformer as tf
from harness.carbon.traces import load_trace
from harness.errors import DataIntegrityError, HarnessError
from harness.inference import OnnxModel
from tests.helpers import cli, modules_after_run, one_error_line

REGIONS = ("sc:US-CAL-CISO", "sc:DE", "sc:US-MIDA-PJM")


def _copy(weights: Path, folder: Path, name: str) -> Path:
    """A checkpoint's weights, JSON and export copied into `folder` as `name` (.pt/.json/.onnx)."""
    target = folder / name
    for suffix in (".pt", ".json", ".onnx"):
        shutil.copyfile(weights.with_suffix(suffix), target.with_suffix(suffix))
    return target


@pytest.mark.parametrize("region", REGIONS)
def test_shipped_forecaster_export_is_its_weights(region: str) -> None:
    """Re-exporting the shipped weights gives the shipped bytes, and onnxruntime's forecasts on 2,000 real windows
    after the training split equal torch's to float32 rounding (normalised units)."""
    import torch

    from harness.inference import export_onnx

    path = tf.find_checkpoint(region)
    document = json.loads(path.with_suffix(".json").read_text())
    model, _ = tf.load_torch(path)
    exported = export_onnx(model, (1, 7, 28), "x", "z")
    assert hashlib.sha256(exported).hexdigest() == document["onnx"]["sha256"], "re-export: harness forecast export"
    assert document["onnx"]["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    trace = load_trace(region)
    origins = tf._valid_origins(trace, trace.hours - 8_000, trace.hours)[::4][:2_000]
    x, _, _ = tf.make_windows(trace, origins)
    onnx_model, _ = tf.load(path)
    with torch.no_grad():
        expected = model(torch.as_tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(onnx_model(x), expected, rtol=0, atol=1e-5)


def test_shipped_agent_export_acts_as_the_torch_policy(tmp_path: Path) -> None:
    """The agent's export (re-exported from its weights: the shipped bytes) picks the torch policy's greedy action on
    every observation of real environment episodes, with the same probabilities to float32 rounding."""
    import torch

    from harness.envs import CarbonAllocationEnv

    copy = _copy(checkpoint_path(None), tmp_path, "agent")
    shipped = json.loads(copy.with_suffix(".json").read_text())["onnx"]
    assert export(str(copy.with_suffix(".pt")))["sha256"] == shipped["sha256"]
    assert copy.with_suffix(".onnx").read_bytes() == checkpoint_path(None).with_suffix(".onnx").read_bytes()
    policy, _ = load_policy(None)
    agent = PPOPolicy()
    observations = []
    for trace in ("US-MIDA-PJM@2022-08-20T00:00", "DE@2022-03-01T00:00"):
        env = CarbonAllocationEnv(traces=(trace,), hours=24, forecaster="transformer")
        obs, _ = env.reset(seed=0)
        done = False
        while not done:
            observations.append(obs)
            obs, _, done, _, _ = env.step(int(np.argmax(agent.probabilities(obs))))
    batch = np.stack(observations)
    with torch.no_grad():
        expected = policy.get_distribution(torch.as_tensor(batch)).distribution.probs.numpy()
    ours = np.stack([agent.probabilities(o) for o in observations])
    assert (ours.argmax(axis=1) == expected.argmax(axis=1)).all()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)


def test_a_tampered_stale_or_missing_export_is_refused(tmp_path: Path) -> None:
    copy = _copy(checkpoint_path(None), tmp_path, "agent")
    entry = json.loads(copy.with_suffix(".json").read_text())["onnx"]
    weights = hashlib.sha256(copy.with_suffix(".pt").read_bytes()).hexdigest()
    OnnxModel(copy.with_suffix(".pt"), weights, entry, "remedy")  # the intact copy loads
    data = bytearray(copy.with_suffix(".onnx").read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.with_suffix(".onnx").write_bytes(bytes(data))
    with pytest.raises(DataIntegrityError, match="fails its checksum"):
        OnnxModel(copy.with_suffix(".pt"), weights, entry, "remedy")
    forecaster = tf.find_checkpoint("sc:DE")
    shutil.copyfile(forecaster.with_suffix(".onnx"), copy.with_suffix(".onnx"))  # another network's export
    other = json.loads(forecaster.with_suffix(".json").read_text())["onnx"]
    with pytest.raises(DataIntegrityError, match="exported from other weights"):
        OnnxModel(copy.with_suffix(".pt"), weights, other, "run the export")
    copy.with_suffix(".onnx").unlink()
    with pytest.raises(HarnessError, match="no ONNX export beside it; run the export"):
        OnnxModel(copy.with_suffix(".pt"), weights, entry, "run the export")


def test_a_checkpoint_without_export_is_one_error_line_and_rl_export_mends_it(tmp_path: Path) -> None:
    copy = _copy(checkpoint_path(None), tmp_path, "agent").with_suffix(".pt")
    document = json.loads(copy.with_suffix(".json").read_text())
    pinned = document.pop("onnx")
    copy.with_suffix(".json").write_text(json.dumps(document))
    copy.with_suffix(".onnx").unlink()
    run = ["run", "--budget", "2h", "--set", f"rl.checkpoint={copy}", "--out", str(tmp_path / "r.json")]
    one_error_line(cli(*run), "agent.pt has no ONNX export", f"harness rl export --checkpoint {copy}")
    assert not (tmp_path / "r.json").exists()
    exported = cli("rl", "export", "--checkpoint", str(copy))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(copy.with_suffix(".json").read_text())["onnx"] == pinned
    assert cli(*run).returncode == 0


def test_a_cenas_run_imports_neither_torch_nor_stable_baselines3() -> None:
    assert modules_after_run("cenas", ("torch", "stable_baselines3", "onnxruntime")) == ["onnxruntime"]


def test_calendar_features_match_pandas_on_the_trace_times() -> None:
    """The forecaster's calendar inputs from UTC hours since the epoch are the numbers pandas' hour and day-of-week
    give for the real trace's timestamps (whatever unit the index stores)."""
    times = load_trace("sc:US-CAL-CISO").times
    hour = 2 * np.pi * times.hour.to_numpy() / 24
    day = 2 * np.pi * times.day_of_week.to_numpy() / 7
    expected = np.stack([np.sin(hour), np.cos(hour), np.sin(day), np.cos(day)], axis=-1)
    np.testing.assert_array_equal(tf._calendar(tf._epoch_hours(times)), expected)


def test_shipped_exports_are_pinned_in_code_not_only_in_their_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 38, gap 3 (in part): replacing a shipped `.onnx` and updating the JSON beside it changed results while
    every pin agreed. The code now pins each shipped export; a mismatch is refused before anything is loaded."""
    import hashlib

    from cenas.allocation import ppo
    from harness.carbon import transformer
    from harness.errors import DataIntegrityError

    shipped = {**transformer.SHIPPED_EXPORTS, **ppo.SHIPPED_EXPORTS}
    exports = [*transformer.SHIPPED.glob("*.onnx"), *ppo.checkpoint_path(None).parent.glob("*.onnx")]
    on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in exports}
    assert shipped == on_disk  # a reshipped model must update its pin
    ppo.PPOPolicy()  # the shipped agent loads
    monkeypatch.setitem(ppo.SHIPPED_EXPORTS, "rl_clean_ppo.onnx", "0" * 64)  # as if the file had been replaced
    with pytest.raises(DataIntegrityError, match="is not the export this package ships"):
        ppo.PPOPolicy()
    transformer.load.cache_clear()
    name = next(iter(transformer.SHIPPED_EXPORTS))
    monkeypatch.setitem(transformer.SHIPPED_EXPORTS, name, "0" * 64)
    with pytest.raises(DataIntegrityError, match="is not the export this package ships"):
        transformer.load(transformer.SHIPPED / name.replace(".onnx", ".pt"))
    transformer.load.cache_clear()


def test_the_export_that_runs_is_in_the_cell_key_and_the_provenance(tmp_path: Path, monkeypatch) -> None:
    """Issue 38, gap 3: for a checkpoint outside the package (trained into the cache, not pinned in code), replacing
    its `.onnx` and updating the JSON beside it changed results while `provenance.models` and the cell key hashed only
    the `.pt`. Both now name the sha256 of the export's bytes, so a replaced export is a new cell and a new record."""
    from harness.config import RunSpec, parse_budget
    from harness.runner import execute
    from harness.studies.store import cell_key

    weights = _copy(tf.find_checkpoint("sc:DE"), tmp_path, "forecast_sc_DE").with_suffix(".pt")
    monkeypatch.setattr(tf, "find_checkpoint", lambda region: weights)
    spec = RunSpec("cenas-heuristic", "nb201/cifar10/pi5-energy", "DE@2021-11-15T00:00", parse_budget("2h"), 0, 8)
    key = cell_key(spec)
    record = execute(spec)
    export = weights.with_suffix(".onnx")
    assert record.provenance["models"] == {
        "forecaster/forecast_sc_DE.pt": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "forecaster/forecast_sc_DE.onnx": hashlib.sha256(export.read_bytes()).hexdigest(),
    }
    replaced = export.read_bytes() + b"\0"  # other bytes, its JSON entry updated to match (what the audit did)
    export.write_bytes(replaced)
    document = json.loads(weights.with_suffix(".json").read_text())
    document["onnx"] |= {"sha256": hashlib.sha256(replaced).hexdigest(), "size": len(replaced)}
    weights.with_suffix(".json").write_text(json.dumps(document))
    assert cell_key(spec) != key
    assert tf.model_hashes(weights)["forecast_sc_DE.onnx"] == hashlib.sha256(replaced).hexdigest()
