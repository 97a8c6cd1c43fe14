"""A small encoder-only transformer forecaster of hourly carbon intensity.

Input: the past 168 h, cut into 7 daily patches of 24 values, each z-scored with that window's own mean and std
(instance normalisation, so seasonal level shifts do not break it); each patch token also carries sin/cos of its
start hour-of-day and day-of-week. Two encoder layers (d=32, 4 heads), then a zero-initialised linear head that
predicts a correction to persistence for the next 72 hours directly (any horizon up to 72 is a prefix), so training
starts from the persistence forecast. Trained with MSE on the hourly origins before the split time (default
2021-07-01 00:00 UTC), the last 15 % of them held out chronologically for early stopping, single-threaded from a
private generator, so a training run is reproducible. `harness forecast train` writes the weights (torch), their ONNX
export and the JSON spec pinning it (`harness.inference`); forecasts in runs, the environment and `evaluate` (MAPE per
horizon against persistence on the origins after the split: the `forecast-accuracy` study) come from the verified
export through onnxruntime, without torch. `harness forecast export` re-exports a checkpoint trained before that.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.carbon.forecast import Forecaster, persistence
from harness.carbon.traces import Trace, load_trace
from harness.errors import HarnessError
from harness.inference import OnnxModel, save_export
from harness.io import atomic_write_bytes

LOOKBACK, PATCH, MAX_HORIZON = 168, 24, 72
SHIPPED = Path(__file__).with_name("models")


@dataclass(frozen=True)
class TrainSpec:
    region: str
    split: str = "2021-07-01T00:00"
    epochs: int = 20
    batch: int = 128
    lr: float = 1e-3
    d_model: int = 32
    heads: int = 4
    layers: int = 2
    seed: int = 0


NS_PER_HOUR = 3_600_000_000_000


def _epoch_hours(times: pd.DatetimeIndex) -> np.ndarray:
    """UTC hours since the epoch (n,) of timestamps, whatever unit the index stores."""
    return times.as_unit("ns").asi8 // NS_PER_HOUR


def _calendar(hours: np.ndarray) -> np.ndarray:
    """(n, 4) sin/cos of the hour of day and of the day of week (Monday 0) of UTC hours since the epoch (n,) (the
    epoch was a Thursday); the same numbers as reading them from a DatetimeIndex, ten times faster."""
    hour = 2 * np.pi * (hours % 24) / 24
    day = 2 * np.pi * ((hours // 24 + 3) % 7) / 7
    return np.stack([np.sin(hour), np.cos(hour), np.sin(day), np.cos(day)], axis=-1)


def make_windows(trace: Trace, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (n, 7, 28), targets (n, 72) and per-window (mean, std) (n, 2) for origins (index of the current hour).

    Inputs and targets are z-scored with the statistics of each window's own 168-h look-back.
    """
    hours = _epoch_hours(trace.times)
    x = np.empty((len(origins), LOOKBACK // PATCH, PATCH + 4))
    y = np.full((len(origins), MAX_HORIZON), np.nan)
    stats = np.empty((len(origins), 2))
    for row, t in enumerate(origins):
        past = trace.values[t + 1 - LOOKBACK : t + 1]
        mean, std = float(past.mean()), float(past.std()) or 1.0
        stats[row] = mean, std
        starts = hours[t + 1 - LOOKBACK : t + 1 : PATCH]
        x[row] = np.concatenate([((past - mean) / std).reshape(-1, PATCH), _calendar(starts)], axis=1)
        future = trace.values[t + 1 : t + 1 + MAX_HORIZON]
        y[row, : len(future)] = (future - mean) / std
    return x, y, stats


def _valid_origins(trace: Trace, first: int, last: int) -> np.ndarray:
    """Origins whose look-back and 72-h target are free of gaps."""
    ok = ~np.isnan(trace.values)
    window = np.convolve(ok.astype(int), np.ones(LOOKBACK + MAX_HORIZON, dtype=int), mode="valid")
    origins = np.arange(max(first, LOOKBACK - 1), min(last, trace.hours - MAX_HORIZON - 1) + 1)
    return origins[window[origins + 1 - LOOKBACK] == LOOKBACK + MAX_HORIZON]


def _model(spec: TrainSpec) -> Any:
    import torch
    from torch import nn

    class PatchTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            n_tokens = LOOKBACK // PATCH
            self.embed = nn.Linear(PATCH + 4, spec.d_model)
            self.position = nn.Parameter(torch.zeros(n_tokens, spec.d_model))
            layer = nn.TransformerEncoderLayer(
                spec.d_model, spec.heads, 2 * spec.d_model, dropout=0.0, batch_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, spec.layers, enable_nested_tensor=False)
            self.head = nn.Linear(n_tokens * spec.d_model, MAX_HORIZON)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            last_day = x[:, -1, :PATCH]  # persistence in normalised units, repeated over 3 days
            base = last_day.repeat(1, MAX_HORIZON // PATCH)
            h = self.encoder(self.embed(x) + self.position)
            return base + self.head(h.flatten(1))

    return PatchTransformer()


def _single_thread() -> Any:
    import contextlib

    import torch

    @contextlib.contextmanager
    def scope():  # type: ignore[no-untyped-def]
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    return scope()


def train(spec: TrainSpec, progress: Any = None) -> tuple[Any, dict[str, Any]]:
    """Train on every origin before `spec.split`; returns (model, metadata with normalisation)."""
    import torch

    trace = load_trace(spec.region)
    split = int((pd.Timestamp(spec.split, tz="UTC") - trace.start) / pd.Timedelta(hours=1))
    if split <= LOOKBACK + MAX_HORIZON:
        raise HarnessError(f"{trace.region} has too little history before {spec.split} to train a forecaster")
    origins = _valid_origins(trace, 0, split - MAX_HORIZON - 1)
    x, y, _ = make_windows(trace, origins)
    n_fit = int(0.85 * len(origins))
    generator = torch.Generator().manual_seed(spec.seed)
    with _single_thread():
        torch_x, torch_y = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(spec.seed)
            model = _model(spec)
        optimiser = torch.optim.Adam(model.parameters(), lr=spec.lr)
        best = (math.inf, copy.deepcopy(model.state_dict()), 0)
        for epoch in range(spec.epochs):
            model.train()
            order = torch.randperm(n_fit, generator=generator)
            for start in range(0, n_fit, spec.batch):
                batch = order[start : start + spec.batch]
                loss = torch.mean((model(torch_x[batch]) - torch_y[batch]) ** 2)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            model.eval()
            with torch.no_grad():
                held_out = float(torch.mean((model(torch_x[n_fit:]) - torch_y[n_fit:]) ** 2))
            if held_out < best[0]:
                best = (held_out, copy.deepcopy(model.state_dict()), epoch + 1)
            if progress:
                progress(epoch + 1, spec.epochs, held_out)
        model.load_state_dict(best[1])
    meta = {
        "spec": asdict(spec),
        "region": trace.region,
        "train_origins": n_fit,
        "holdout_origins": len(origins) - n_fit,
        "best_epoch": best[2],
        "holdout_mse": best[0],
    }
    return model, meta


def save(model: Any, meta: dict[str, Any], path: Path) -> None:
    """Write the weights (`path`, a torch state dict), their ONNX export (`.onnx`, what runs use) and the JSON
    document pinning the export (`meta` plus its `onnx` entry), each atomically."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    atomic_write_bytes(path, buffer.getvalue())
    _export_beside(model, meta, path, buffer.getvalue())


def export(path: Path) -> dict[str, Any]:
    """(Re-)export a checkpoint's weights to ONNX beside them and pin the export in its JSON (the weights file is
    left as it is); returns the `onnx` entry."""
    model, meta = load_torch(path)
    return _export_beside(model, meta, path, path.read_bytes())


def _export_beside(model: Any, meta: dict[str, Any], path: Path, weights: bytes) -> dict[str, Any]:
    document = save_export(model, (1, LOOKBACK // PATCH, PATCH + 4), ("x", "z"), path, weights, meta)
    return dict(document["onnx"])


def checkpoint_name(region: str) -> str:
    return f"forecast_{region.replace(':', '_')}.pt"


def load_torch(path: Path) -> tuple[Any, dict[str, Any]]:
    """The torch model of a checkpoint (eval mode) and its JSON document (training and `export` only)."""
    import torch

    meta = json.loads(path.with_suffix(".json").read_text())
    model = _model(TrainSpec(**meta["spec"]))
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    return model, meta


def model_hashes(path: Path) -> dict[str, str]:
    """sha256 of a checkpoint's weights and of its verified ONNX export (the bytes that run), by file name: what a
    run's provenance and its cell key name."""
    from harness.inference import verified_export

    meta, digest, remedy, pin = _export_args(path)
    _, _, export = verified_export(path, digest, meta.get("onnx"), remedy, pin)
    return {path.name: digest, path.with_suffix(".onnx").name: export}


@functools.cache
def load(path: Path) -> tuple[OnnxModel, dict[str, Any]]:
    """A checkpoint's verified ONNX export (what runs and `evaluate` use; torch is not imported) and its JSON."""
    meta, digest, remedy, pin = _export_args(path)
    return OnnxModel(path, digest, meta.get("onnx"), remedy, pin), meta


def _export_args(path: Path) -> tuple[dict[str, Any], str, str, str | None]:
    """(JSON document, sha256 of the weights' bytes, remedy, code pin) of a checkpoint, for checking its export."""
    try:
        meta, weights = json.loads(path.with_suffix(".json").read_text()), path.read_bytes()
    except (OSError, ValueError) as exc:
        raise HarnessError(
            f"forecaster {path}: cannot read it or its spec {path.with_suffix('.json').name} ({exc})"
        ) from None
    region = meta.get("region", path.stem)
    digest = hashlib.sha256(weights).hexdigest()
    pin = SHIPPED_EXPORTS.get(path.with_suffix(".onnx").name) if path.resolve().parent == SHIPPED.resolve() else None
    return meta, digest, f"run `harness forecast export {region}`", pin


def predict(model: OnnxModel, x: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """Forecasts in g/kWh, shape (n, 72), from windows and their (mean, std) from `make_windows`."""
    z = model(x).astype(np.float64)
    return z * stats[:, 1:2] + stats[:, 0:1]


SHIPPED_EXPORTS = {
    "forecast_sc_DE.onnx": "0498badc8efe5c3f62a27239c827ca43699e870957926d154a985e7b71b637fb",
    "forecast_sc_US-CAL-CISO.onnx": "1b2dc5ec9232cc9dc80318049a4c47c5842c247df55ce20839a1e756b8d21443",
    "forecast_sc_US-MIDA-PJM.onnx": "095f2943124c6c41798554dc367547db3b769da27252f5fada7937263c8356df",
}
"""sha256 of each forecaster export shipped in harness/carbon/models/, pinned in code (issue 38): the JSON beside an
export is editable, so it cannot be the only pin of the bytes that run. Update together with a reshipped model."""


def find_checkpoint(region: str) -> Path:
    """The shipped model for `region` (e.g. `sc:US-CAL-CISO`), else one trained earlier into the cache."""
    from harness.data.fetch import cache_dir

    name = checkpoint_name(region)
    for folder in (SHIPPED, cache_dir() / "models"):
        if (folder / name).exists():
            return folder / name
    raise HarnessError(
        f"no transformer forecaster for {region}; train one with `harness forecast train {region}` "
        "(or use --set forecaster=persistence)"
    )


class TransformerForecaster(Forecaster):
    name = "transformer"

    def __init__(self, path: Path) -> None:
        self.model, self.meta = load(path)

    @classmethod
    def for_region(cls, region: str | None) -> TransformerForecaster:
        return cls(find_checkpoint(region or ""))

    def forecast(self, view: Any, now_s: float, horizon: int) -> np.ndarray:
        if horizon > MAX_HORIZON:
            raise HarnessError(f"the transformer forecasts at most {MAX_HORIZON} h ahead")
        past, now = self.past(view, now_s, LOOKBACK)
        if len(past) < LOOKBACK or np.isnan(past).any():
            return persistence(past[~np.isnan(past)], horizon)  # not enough clean history yet
        mean, std = float(past.mean()), float(past.std()) or 1.0
        starts = now.value // NS_PER_HOUR - (LOOKBACK - 1) + PATCH * np.arange(LOOKBACK // PATCH)
        x = np.concatenate([((past - mean) / std).reshape(-1, PATCH), _calendar(starts)], axis=1)[None]
        return predict(self.model, x, np.array([[mean, std]]))[0, :horizon]


def forecaster_for(region: str | None) -> TransformerForecaster:
    """The shipped (or cached) transformer forecaster of `region` (the `transformer` entry of the forecaster
    registry)."""
    return TransformerForecaster.for_region(region)


def evaluate(path: Path, horizons: tuple[int, ...] = (24, 48, 72)) -> dict[str, Any]:
    """MAPE (%) of the model and of persistence over every hourly origin after the training split."""
    model, meta = load(path)
    trace = load_trace(meta["region"])
    split = int((pd.Timestamp(meta["spec"]["split"], tz="UTC") - trace.start) / pd.Timedelta(hours=1))
    origins = _valid_origins(trace, split - 1, trace.hours)
    x, _, stats = make_windows(trace, origins)
    predicted = predict(model, x, stats)
    truth = np.stack([trace.values[t + 1 : t + 1 + MAX_HORIZON] for t in origins])
    naive = np.stack([persistence(trace.values[t - 23 : t + 1], MAX_HORIZON) for t in origins])
    out: dict[str, Any] = {"region": meta["region"], "test_origins": len(origins), "split": meta["spec"]["split"]}
    for h in horizons:
        out[f"transformer_{h}h"] = float(100 * np.mean(np.abs(predicted[:, :h] - truth[:, :h]) / truth[:, :h]))
        out[f"persistence_{h}h"] = float(100 * np.mean(np.abs(naive[:, :h] - truth[:, :h]) / truth[:, :h]))
    return out


__all__ = ["TrainSpec", "TransformerForecaster", "evaluate", "export", "save", "train"]
