"""Build the EC-NAS tables (energy-aware NAS-Bench-101 subsets) from the original TFRecord files.

Format (SOURCES.md T1): records framed as uint64 LE length, masked CRC32C of the length, payload, masked CRC32C of the
payload; the payload is a JSON array [module hash, epoch budget, adjacency (n*n '0'/'1'), ops (comma-separated),
base64 protobuf ModelMetricsEnergy]. Both CRCs of every record are checked. One output row per record:
cell, budget, repeat, parameters, and the final checkpoint's training time (s), energy (kWh), CO2 (g) and
train/validation/test accuracy (fractions), the middle checkpoint's epoch, training time (s) and validation accuracy
(an early-stopping proxy), plus the mean measured GPU power (W).
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.data.fetch import InputReader, VerifiedFile
from harness.data.manifest import Manifest, load_manifest
from harness.data.tables import cached_table
from harness.errors import DataIntegrityError

BUILDER_VERSION = 2
VARIANTS: dict[str, str] = {  # table variant -> manifest name
    "4v": "ecnas-4v9e",
    "4v-linscale": "ecnas-4v9e-estimate",
    "5v": "ecnas-5v9e",
    "4v-quadrortx6000": "ecnas-4v9e-quadrortx6000",
    "4v-rtx3060": "ecnas-4v9e-rtx3060",
    "4v-rtx3090": "ecnas-4v9e-rtx3090",
    "4v-titanxp": "ecnas-4v9e-titanxp",
}


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_tfrecord(data: bytes, path: str) -> Iterator[bytes]:
    """Payloads of a TFRecord file's bytes (`path` names it in errors), every length and payload CRC verified."""
    offset = 0
    while offset < len(data):
        if offset + 12 > len(data):
            raise DataIntegrityError(f"{path}: truncated record header at byte {offset}")
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        if masked_crc(header) != length_crc:
            raise DataIntegrityError(f"{path}: bad length CRC at byte {offset}")
        payload = data[offset + 12 : offset + 12 + length]
        end = offset + 12 + length + 4
        if end > len(data):
            raise DataIntegrityError(f"{path}: truncated record at byte {offset}")
        (payload_crc,) = struct.unpack("<I", data[end - 4 : end])
        if masked_crc(payload) != payload_crc:
            raise DataIntegrityError(f"{path}: bad payload CRC at byte {offset}")
        yield payload
        offset = end


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7


def parse_message(buf: bytes) -> dict[int, list[Any]]:
    """Protobuf wire format -> {field number: [values]}; doubles decoded, sub-messages left as bytes."""
    fields: dict[int, list[Any]] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            (value,) = struct.unpack("<d", buf[pos : pos + 8])
            pos += 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            (value,) = struct.unpack("<f", buf[pos : pos + 4])
            pos += 4
        else:
            raise DataIntegrityError(f"unsupported protobuf wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


FINAL_FIELDS = {  # EvaluationDataEnergy field numbers of the final checkpoint kept per record (SOURCES T1)
    "epoch": 1,
    "train_time_s": 2,
    "train_acc": 3,
    "val_acc": 4,
    "test_acc": 5,
    "energy_kwh": 6,
    "co2_g": 7,
}
MIDDLE_FIELDS = {"mid_epoch": 1, "mid_train_time_s": 2, "mid_val_acc": 4}  # the middle checkpoint's


def parse_record(payload: bytes) -> dict[str, Any]:
    module_hash, budget, adjacency, ops, metrics = json.loads(payload)
    top = parse_message(base64.b64decode(metrics))
    evaluations = [parse_message(e) for e in top[1]]
    if len(evaluations) != 3:
        raise DataIntegrityError(f"EC-NAS record {module_hash}: {len(evaluations)} evaluations, expected 3")
    _, middle, final = sorted(evaluations, key=lambda e: e[1][0])  # epochs 0, mid, budget
    power = parse_message(top[9][0]) if 9 in top else {}
    gpu = parse_message(power[1][0]) if 1 in power else {}
    gpu_watts = [parse_message(m)[1][0] for m in gpu.get(1, [])]
    return {
        "hash": module_hash,
        "budget": int(budget),
        "adjacency": adjacency,
        "ops": ops,
        "vertices": round(len(adjacency) ** 0.5),
        "params": int(top[2][0]),
        "total_time_s": float(top[3][0]),
        "total_energy_kwh": float(top[4][0]),
        **{column: float(final[number][0]) for column, number in FINAL_FIELDS.items()},
        **{column: float(middle[number][0]) for column, number in MIDDLE_FIELDS.items()},
        "gpu_power_w": float(np.mean(gpu_watts)) if gpu_watts else float("nan"),
    }


def build_ecnas(fetch: Callable[[str], VerifiedFile]) -> pd.DataFrame:
    """One row per record of every variant's TFRecord file (`fetch(name)` returns its verified bytes)."""
    rows = []
    for variant, name in VARIANTS.items():
        seen: dict[tuple[str, int], int] = {}
        for payload in read_tfrecord(fetch(name).data, name):
            row = parse_record(payload)
            key = (str(row["hash"]), int(row["budget"]))
            row["repeat"] = seen.get(key, 0)
            seen[key] = row["repeat"] + 1
            rows.append({"variant": variant, **row})
    return pd.DataFrame(rows)


def load_ecnas(manifest: Manifest | None = None, cache: Path | None = None) -> pd.DataFrame:
    """All EC-NAS tables (one row per record) from the cache, built on first use."""
    manifest = manifest or load_manifest()
    stamp = {
        "builder": "ecnas",
        "version": BUILDER_VERSION,
        "inputs": {n: manifest[n].sha256 for n in VARIANTS.values()},
    }

    def build() -> tuple[pd.DataFrame, dict[str, str]]:
        reader = InputReader(manifest, cache)
        return build_ecnas(reader), reader.read

    return cached_table("ecnas", stamp, build, cache)
