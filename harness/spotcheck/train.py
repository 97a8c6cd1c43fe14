"""Training an NB201 network as NAS-Bench-201 did, for timing, energy and short accuracy checks.

Recipe (NAS-Bench-201 §3): SGD with Nesterov momentum 0.9, learning rate 0.1 with cosine decay over the run, weight
decay 5e-4, batch 256, cross-entropy; random crop (padding 4) and horizontal flip for training images.

Data: CIFAR-10's binary version (`cifar-10-batches-bin/`, read with numpy; the python version is pickles and is not
read), scikit-learn's digits (real 8x8 handwritten digits shipped with scikit-learn; for offline accuracy checks,
labelled as such), or, for timing only, random tensors of the dataset's shape (the record says so).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from harness.errors import HarnessError
from harness.spotcheck.energy import MIN_WINDOW_S, EnergyMeter
from harness.spotcheck.nb201_net import NB201Network

BATCH = 256
SHAPES = {  # NB201 dataset -> (channels, height, width, classes, training images per epoch)
    "cifar10": (3, 32, 32, 10, 50_000),
    "cifar100": (3, 32, 32, 100, 50_000),
    "imagenet16": (3, 16, 16, 120, 151_700),
}
CIFAR_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)  # NAS-Bench-201's normalisation
CIFAR_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
RECORD_BYTES = 1 + 3 * 32 * 32  # CIFAR-10 binary: a label byte, then 1024 red, 1024 green, 1024 blue bytes


@dataclass(frozen=True)
class ImageSet:
    """Images (n, c, h, w) float32, normalised; labels (n,) int64; what they are, for the record."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    description: str
    flip: bool = True  # horizontal flips are label-preserving (photos, not digits)

    @property
    def classes(self) -> int:
        return int(self.y_train.max()) + 1

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[1])


def _read_cifar_bin(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = path.read_bytes()
    if len(data) != 10_000 * RECORD_BYTES:
        expected = 10_000 * RECORD_BYTES
        raise HarnessError(f"{path} is not a CIFAR-10 binary batch ({len(data)} bytes, expected {expected})")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(10_000, RECORD_BYTES)
    labels = rows[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise HarnessError(f"{path}: labels above 9; not CIFAR-10's binary version")
    return rows[:, 1:].reshape(10_000, 3, 32, 32), labels


def cifar10(data_dir: Path) -> ImageSet:
    """CIFAR-10 from its binary version under `data_dir` (the folder `cifar-10-batches-bin`, or one holding it)."""
    folder = data_dir / "cifar-10-batches-bin" if (data_dir / "cifar-10-batches-bin").is_dir() else data_dir
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise HarnessError(
            f"{data_dir}: no CIFAR-10 binary version ({', '.join(missing)} missing; extract cifar-10-binary.tar.gz "
            "from https://www.cs.toronto.edu/~kriz/cifar.html there)"
        )
    try:
        parts = [_read_cifar_bin(folder / n) for n in names]
    except OSError as exc:
        raise HarnessError(f"cannot read CIFAR-10 from {folder} ({exc})") from None
    mean = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD).view(1, 3, 1, 1)

    def tensor(images: list[np.ndarray]) -> torch.Tensor:
        return (torch.from_numpy(np.concatenate(images)).float() / 255.0 - mean) / std

    return ImageSet(
        tensor([p[0] for p in parts[:5]]),
        torch.from_numpy(np.concatenate([p[1] for p in parts[:5]])),
        tensor([parts[5][0]]),
        torch.from_numpy(parts[5][1]),
        f"CIFAR-10 (binary version) from {folder}",
    )


def digits(seed: int = 0) -> ImageSet:
    """scikit-learn's digits (1,797 real 8x8 grey images of handwritten digits): a stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = torch.from_numpy(data.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = (x - x.mean()) / x.std()
    y = torch.from_numpy(data.target.astype(np.int64))
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=seed, stratify=data.target)
    return ImageSet(
        x[train],
        y[train],
        x[test],
        y[test],
        "scikit-learn digits (8x8 handwritten digits; not CIFAR-10: an offline stand-in for the ranking check)",
        flip=False,
    )


def augment(x: torch.Tensor, generator: torch.Generator, flip: bool = True) -> torch.Tensor:
    """Random crop with zero padding of h/8 pixels (NAS-Bench-201's 4 on 32x32 images) and, with `flip`, random
    horizontal flips, per image (batch, c, h, w)."""
    n, _, h, w = x.shape
    pad = max(h // 8, 1)
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
    cropped = torch.stack([padded[i, :, a : a + h, b : b + w] for i, (a, b) in enumerate(zip(dy, dx, strict=True))])
    if flip:
        flipped = torch.rand(n, generator=generator) < 0.5
        cropped[flipped] = cropped[flipped].flip(3)
    return cropped


def batches(data: ImageSet | None, shape: tuple[int, ...], seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless training batches of `BATCH`: shuffled, augmented images of `data`, or (data None) random tensors of
    the dataset's `shape` (channels, height, width, classes) for timing only."""
    generator = torch.Generator().manual_seed(seed)
    if data is None:
        c, h, w, classes = shape[:4]
        while True:
            labels = torch.randint(0, classes, (BATCH,), generator=generator)
            yield torch.randn(BATCH, c, h, w, generator=generator), labels
    while True:
        order = torch.randperm(len(data.y_train), generator=generator)
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            yield augment(data.x_train[rows], generator, data.flip), data.y_train[rows]


def recipe(model: nn.Module, total_steps: int) -> tuple[torch.optim.Optimizer, Any]:
    """NAS-Bench-201's optimiser and cosine schedule over `total_steps`."""
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    return optimiser, torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(total_steps, 1))


@dataclass(frozen=True)
class Timing:
    """Timed training steps after warm-up: per-step seconds (median and mean), the window, and its energy (J; None
    when not measured)."""

    steps: int
    warmup: int
    step_s_median: float
    step_s_mean: float
    window_s: float
    energy_j: float | None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_training(
    arch: str,
    shape: tuple[int, ...],
    device: str,
    steps: int,
    warmup: int,
    data: ImageSet | None,
    meter: EnergyMeter | None,
    seed: int = 0,
) -> Timing:
    """Train `arch` for `warmup` + at least `steps` steps (more while the timed window is shorter than
    `MIN_WINDOW_S` and an energy meter is read) and time every step after the warm-up."""
    torch.manual_seed(seed)
    dev = torch.device(device)
    classes, channels = (data.classes, data.channels) if data is not None else (shape[3], shape[0])
    model = NB201Network(arch, classes=classes, in_channels=channels).to(dev)
    optimiser, schedule = recipe(model, warmup + steps)
    loss_fn = nn.CrossEntropyLoss()
    stream = batches(data, shape, seed)
    times: list[float] = []
    start_j = start_s = 0.0
    for i in range(10**9):
        if i == warmup:
            _sync(dev)
            start_s, start_j = time.perf_counter(), (meter.read_j() if meter else 0.0)
        if i >= warmup + steps and (meter is None or time.perf_counter() - start_s >= MIN_WINDOW_S):
            break
        x, y = next(stream)
        began = time.perf_counter()
        loss = loss_fn(model(x.to(dev, non_blocking=True)), y.to(dev, non_blocking=True))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        _sync(dev)
        if i >= warmup:
            times.append(time.perf_counter() - began)
    window = time.perf_counter() - start_s
    energy = meter.read_j() - start_j if meter else None
    return Timing(len(times), warmup, float(np.median(times)), float(np.mean(times)), window, energy)


def train_and_test(arch: str, data: ImageSet, epochs: int, device: str, seed: int = 0) -> float:
    """Test accuracy (%) of `arch` trained `epochs` epochs on `data` with the recipe."""
    torch.manual_seed(seed)
    dev = torch.device(device)
    model = NB201Network(arch, classes=data.classes, in_channels=data.channels).to(dev)
    per_epoch = math.ceil(len(data.y_train) / BATCH)
    optimiser, schedule = recipe(model, epochs * per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    stream = batches(data, (), seed)
    model.train()
    for _ in range(epochs * per_epoch):
        x, y = next(stream)
        loss = loss_fn(model(x.to(dev)), y.to(dev))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(data.y_test), 1024):
            logits = model(data.x_test[start : start + 1024].to(dev))
            correct += int((logits.argmax(1).cpu() == data.y_test[start : start + 1024]).sum())
    return 100.0 * correct / len(data.y_test)
