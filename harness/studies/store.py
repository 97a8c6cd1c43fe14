"""The content-addressed record store of a study folder: cell keys, the store, the index, the folder rule.

Layout (`OUT/`): `records/KEY.json` (the full run record) and `records/KEY.sha256` (its checksum; `records/.lock`
is held by the one sweep writing the store, which first removes temp files a killed sweep left), where KEY is
the sha256 of the canonical JSON of the cell's resolved run spec (every method option, typed), the project version,
the hash of every data file the cell reads (from the verified tables) and of every trained model it runs. A cell whose
record and checksum exist and agree, and whose record's spec is the cell's, is done; every write is an atomic rename
and the checksum is written after the record. `study.json` indexes the cells (`write_index`), and a sweep or report
writes only into a folder that is its study's (`check_study_folder`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import RunSpec
from harness.errors import HarnessError, os_error
from harness.io import atomic_write_text, read_checked, write_checked
from harness.studies.analysis import AnalysisCell
from harness.studies.executors import Task
from harness.studies.spec import Cell, Study

RECORDS = "records"


# ------------------------------------------------------------------------------------------------------- keys
def resolved_spec(spec: RunSpec) -> dict[str, Any]:
    """The run spec with every method option resolved and typed (dotted keys): what a run's result depends on."""
    from harness.methods import resolve_options
    from harness.options import flatten, options_dict

    data = spec.to_dict()
    data["budget"] = {k: v for k, v in data["budget"].items() if v is not None}
    data["method_options"] = flatten(options_dict(resolve_options(spec.method, spec.method_options)))
    return data


def data_hashes(spec: RunSpec) -> dict[str, str]:
    """Hash of every data file the run reads (as the verified tables recorded them when built)."""
    from harness.benchmarks import get_benchmark
    from harness.carbon.traces import load_trace
    from harness.runner import data_hashes as hashes

    return hashes(get_benchmark(spec.benchmark), load_trace(spec.trace))


def model_hashes(spec: RunSpec) -> dict[str, str]:
    """Hash of every trained model the run reads (`Method.model_files`: RL weights, forecaster models)."""
    from harness.carbon.traces import load_trace
    from harness.methods import create_method

    return create_method(spec.method, spec.method_options).model_files(load_trace(spec.trace).region)


def cell_key(spec: RunSpec, data: dict[str, str] | None = None) -> str:
    """Content address of a cell: sha256 of its resolved spec, the project version, its data files' hashes (`data`,
    when the caller already has them for the cell's benchmark and trace) and its trained models' hashes."""
    document = {"spec": resolved_spec(spec), "version": __version__, "data": data or data_hashes(spec)}
    models = model_hashes(spec)
    if models:  # keys of runs that read no trained model are as before models were hashed
        document["models"] = models
    return hashlib.sha256(json.dumps(document, sort_keys=True, allow_nan=False).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------ store
@dataclass(frozen=True)
class Store:
    """Run records of one study, addressed by cell key."""

    root: Path

    @property
    def folder(self) -> Path:
        return self.root / RECORDS

    def record_path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def is_done(self, key: str, task: Task) -> bool:
        """The record and its checksum exist, agree, and the record is this cell's (run or analysis result)."""
        from harness.results import parse_record
        from harness.runner import spec_dict

        data = read_checked(self.record_path(key))
        if data is None:
            return False
        try:
            document = json.loads(data)
            if isinstance(task, AnalysisCell):
                return task.matches(document)
            record = parse_record(document)
        except (OSError, ValueError, KeyError, TypeError):
            return False
        expected = json.loads(json.dumps(spec_dict(task, _typed_options(task)), sort_keys=True))
        return record.spec == expected

    def put(self, key: str, text: str) -> None:
        """Write a record, then its checksum (each atomically)."""
        write_checked(self.record_path(key), text)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's lock (one sweep writes a store at a time) and clear temp files a killed sweep left."""
        from filelock import FileLock, Timeout

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.folder / ".lock"))
            lock.acquire(timeout=0)
        except Timeout:
            raise HarnessError(f"another sweep is writing to {self.root}; wait for it or use another --out") from None
        except OSError as exc:
            raise os_error(exc, f"cannot write to {self.root}") from None
        try:
            for stale in self.folder.glob(".*.part"):
                stale.unlink(missing_ok=True)
            yield
        finally:
            lock.release()

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.is_dir() else []


def _typed_options(spec: RunSpec) -> Any:
    from harness.methods import resolve_options

    return resolve_options(spec.method, spec.method_options)


def check_study_folder(folder: Path, name: str) -> None:
    """`folder` may receive study `name`'s results: it is absent, empty, holds only a records/ folder (a sweep cut
    before its index), or is that study's own folder (its study.json names it). Anything else is a folder this
    command did not make, or another study's: one error line, nothing written."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise HarnessError(f"{folder} is a file, not a folder")
    index = folder / "study.json"
    if index.is_file():
        try:
            owner = json.loads(index.read_text(encoding="utf-8"))["study"]["name"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HarnessError(f"{index} is not a study index ({exc}): refusing to write into {folder}") from None
        if owner != name:
            raise HarnessError(
                f"{folder} holds the results of study {owner!r}: write study {name!r} into its own folder"
            )
        return
    if {p.name for p in folder.iterdir()} - {"records"}:
        raise HarnessError(
            f"{folder} is not empty and holds no study.json: refusing to write study {name!r} into a "
            "folder this command did not make"
        )


def write_index(study: Study, out: Path, cells: list[tuple[Cell | AnalysisCell, str]]) -> Path:
    """`OUT/study.json`: the resolved study and every cell's key and spec (what `load_study` reads)."""
    document = {
        "study": study.to_dict(),
        "version": __version__,
        "cells": [
            {"key": key, "label": cell.label()}
            | ({"method": cell.name} if isinstance(cell, Cell) and cell.name != cell.spec.method else {})
            for cell, key in cells
        ],
    }
    path = out / "study.json"
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return path
