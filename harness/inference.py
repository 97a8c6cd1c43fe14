"""Torch-free inference of the project's trained networks (the carbon forecaster, the clean RL agent).

Training needs torch; running a trained network does not. Each checkpoint's weights (`NAME.pt`, a torch state dict)
are exported once to ONNX (`NAME.onnx`, `export_onnx`: the same weights, deterministic bytes) and its JSON document
pins the export by `onnx_entry` (sha256, size, and the sha256 of the weights it was exported from). A run verifies
both files against that entry before onnxruntime sees a byte (`OnnxModel`), then runs it on one thread. A run of
`cenas` therefore imports neither torch nor Stable-Baselines3 (~300 MB and ~3 s of start-up less); its records are
those of the torch forward passes (every golden, and 19 `cenas` runs compared field by field: docs/cenas.md).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import DataIntegrityError, HarnessError, os_error

OPSET = 17  # ONNX opset of the exports (onnxruntime >= 1.17 runs it)


def single_thread_session(model: bytes, what: str) -> Any:
    """An onnxruntime CPU session over `model`'s verified bytes, one thread (reproducible, and fastest at these
    sizes); an unreadable model is one DataIntegrityError naming `what`."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
        raise DataIntegrityError(f"{what} cannot be loaded by onnxruntime: {exc}") from None


def export_onnx(module: Any, input_shape: tuple[int, ...], input_name: str, output_name: str) -> bytes:
    """ONNX bytes of a torch module in eval mode (float32 input of `input_shape`, first axis dynamic). Needs torch
    and the `onnx` package; the same weights give the same bytes."""
    import tempfile

    import torch

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice; it handles these modules
        path = Path(folder) / "model.onnx"
        torch.onnx.export(  # not under no_grad: that takes torch's fused encoder path, which has no ONNX op
            module.eval(),
            (torch.zeros(input_shape),),
            path,
            dynamo=False,
            opset_version=OPSET,
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes={input_name: {0: "n"}, output_name: {0: "n"}},
        )
        return path.read_bytes()


def save_export(
    module: Any,
    input_shape: tuple[int, ...],
    names: tuple[str, str],
    weights_path: Path,
    weights: bytes,
    document: dict[str, Any],
) -> dict[str, Any]:
    """Export `module` (`export_onnx`, input and output `names`) beside its weights (`weights_path`, whose bytes are
    `weights`) as `.onnx`, and write `document` plus the export's `onnx` entry as the `.json` beside them, each
    atomically (the export first: a JSON never pins a file not yet written). Returns that JSON document."""
    from harness.io import atomic_write_bytes, atomic_write_text

    exported = export_onnx(module, input_shape, *names)
    document = {**document, "onnx": onnx_entry(exported, weights)}
    atomic_write_bytes(weights_path.with_suffix(".onnx"), exported)
    atomic_write_text(weights_path.with_suffix(".json"), json.dumps(document, indent=1, sort_keys=True) + "\n")
    return document


def onnx_entry(model: bytes, weights: bytes) -> dict[str, Any]:
    """The JSON entry that pins an export: its sha256 and size, the sha256 of the weights it came from, the opset."""
    return {
        "sha256": hashlib.sha256(model).hexdigest(),
        "size": len(model),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "opset": OPSET,
    }


def verified_export(
    weights: Path, weights_sha256: str, entry: Mapping[str, Any] | None, remedy: str, pin: str | None = None
) -> tuple[Path, bytes, str]:
    """(path, bytes, sha256) of the ONNX export beside `weights`, checked as `OnnxModel` checks it (its JSON entry,
    the code's pin for a shipped export, the weights it came from); one HarnessError line otherwise. The sha256 is of
    the bytes that run: what records and cell keys name."""
    path = weights.with_suffix(".onnx")
    if not entry or not path.exists():
        raise HarnessError(f"{weights.name} has no ONNX export beside it; {remedy}")
    try:
        model = path.read_bytes()
    except OSError as exc:
        raise os_error(exc, f"cannot read {path}") from None
    digest = hashlib.sha256(model).hexdigest()
    if pin is not None and digest != pin:  # a shipped export: its JSON beside it is editable, the code pin is not
        raise DataIntegrityError(
            f"{path} is not the export this package ships (sha256 {digest[:12]}, the code "
            f"pins {pin[:12]}); nothing was loaded; reinstall the package"
        )
    if len(model) != entry.get("size") or digest != entry.get("sha256"):
        raise DataIntegrityError(
            f"{path} fails its checksum ({digest[:12]} != {str(entry.get('sha256'))[:12]}); nothing was loaded"
        )
    if weights_sha256 != entry.get("weights_sha256"):
        raise DataIntegrityError(f"{path} was exported from other weights than {weights.name}; {remedy}")
    return path, model, digest


class OnnxModel:
    """A verified export run by onnxruntime: `model(x)` maps float32 inputs (n, ...) to float32 outputs (n, ...).

    `weights` is the checkpoint (`.pt`) the export must come from, `weights_sha256` the sha256 of its bytes as the
    caller read them, and `entry` its JSON `onnx` entry; a missing entry or file, or bytes that do not match, is one
    HarnessError before anything is loaded (`remedy` says what fixes it). `pin`: for an export shipped with the
    package, the sha256 its code pins (an export replaced together with its JSON entry is refused).
    """

    def __init__(
        self, weights: Path, weights_sha256: str, entry: Mapping[str, Any] | None, remedy: str, pin: str | None = None
    ) -> None:
        path, model, self.sha256 = verified_export(weights, weights_sha256, entry, remedy, pin)
        self.session = single_thread_session(model, str(path))
        self.input = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input: np.ascontiguousarray(x, dtype=np.float32)})[0]


__all__ = ["OPSET", "OnnxModel", "export_onnx", "onnx_entry", "save_export", "single_thread_session", "verified_export"]
