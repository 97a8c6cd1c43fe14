"""The committed form of a study: what `results/STUDY/` holds, what `harness study report` reads when a folder has no
run records, and the only input of the leaderboard.

Files (written by `write_published`, checked by `read_published`):
- `study.json`: the resolved study and every cell's key (written by the sweep);
- `runs.csv.gz`: one row per run, identity and summary numbers;
- `curves.parquet`: one row per run x allocation interval (hour, cumulative carbon, HV, intensity, GPUs per kind);
- `fronts.parquet`: the final Pareto front of every run, rebuilt from its record with the benchmark's true objectives
  (its HV equals the record's), and each benchmark's true front (key "");
- `provenance.json`, written last: schema, project versions and git commits, libraries, each benchmark's objectives,
  reference point and HV_max, power profiles, trace windows, the sha256 of every upstream data file the runs read, each
  method's resolved options, and the sha256 and size of the three data files above (checked on every read).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.audit import AUDIT_RULES, CREDITED
from harness.carbon.catalog import signal_of
from harness.errors import HarnessError, os_error
from harness.sim.accounting import PowerProfile
from harness.sim.jobs import TRAIN

if TYPE_CHECKING:
    from harness.results import RunRecord

SCHEMA = "cenas-bench/study-results/1"
DATA_FILES = ("runs.csv.gz", "curves.parquet", "fronts.parquet")
INDEX = "study.json"
PROVENANCE = "provenance.json"


@dataclass(frozen=True)
class StudyFrames:
    """Everything a study's reports and the leaderboard read, in the study's cell order.

    runs: one row per run (`RUN_COLUMNS` + `SUMMARY_COLUMNS`); curves: one row per run x allocation interval
    (`key`, `method`, `CURVE_COLUMNS`); fronts: the final Pareto front of every run and each benchmark's true front
    (`FRONT_COLUMNS`, key "" for the true front; accuracy in %, cost in the benchmark's cost unit, lower is better);
    provenance: see `provenance_from`.
    """

    runs: pd.DataFrame
    curves: pd.DataFrame
    fronts: pd.DataFrame
    provenance: dict[str, Any]


# ------------------------------------------------------------------------------------------------------ fronts
def front_rows(key: str, record: RunRecord) -> list[dict[str, Any]]:
    """The final Pareto front of one run: its paid, finished trainings (initial samples an accounting leaves free
    included), with true objectives. Raises HarnessError when its hypervolume differs from the record's."""
    from harness.benchmarks import get_benchmark
    from harness.metrics import hypervolume, pareto_mask

    bench = get_benchmark(record.spec["benchmark"])
    archs = sorted({int(e["arch"]) for e in record.evaluations if e["status"] in CREDITED and e["kind"] == TRAIN})
    points = bench.objectives(np.asarray(archs, dtype=np.int64)).reshape(-1, bench.n_objectives)
    hv = hypervolume(points, bench.ref_point)
    recorded = float(record.summary["hv"])
    if abs(hv - recorded) > 1e-9 * max(1.0, abs(recorded)):
        raise HarnessError(f"run {key}: the HV of its evaluations ({hv!r}) is not the record's ({recorded!r})")
    mask = pareto_mask(points) if len(archs) else np.zeros(0, dtype=bool)
    return [
        {
            "key": key,
            "benchmark": bench.id,
            "arch": bench.space.arch_id(a),
            "accuracy": float(p[0]),
            "cost": float(-p[1]),
        }
        for a, p, m in zip(archs, points, mask, strict=True)
        if m
    ]


def true_front_rows(benchmark_id: str) -> list[dict[str, Any]]:
    """The benchmark's true Pareto front (key "")."""
    from harness.benchmarks import get_benchmark

    bench = get_benchmark(benchmark_id)
    points = bench.objectives(bench.pareto_indices)
    return [
        {
            "key": "",
            "benchmark": bench.id,
            "arch": bench.space.arch_id(int(a)),
            "accuracy": float(p[0]),
            "cost": float(-p[1]),
        }
        for a, p in zip(bench.pareto_indices, points, strict=True)
    ]


# -------------------------------------------------------------------------------------------------- provenance
def _one(values: dict[str, Any], name: str, value: Any, what: str) -> None:
    if values.setdefault(name, value) != value:
        raise HarnessError(f"the runs of this study disagree on {what} {name!r}; sweep it again into a fresh folder")


def provenance_from(index: dict[str, Any], records: list[RunRecord], methods_as: list[str]) -> dict[str, Any]:
    """What the study's runs used, gathered from their records (each item must agree across runs); `methods_as`:
    the study's name for each record's method (its label)."""
    from harness.benchmarks import get_benchmark

    benchmarks: dict[str, Any] = {}
    accounting: dict[str, Any] = {}
    traces: dict[str, Any] = {}
    data_files: dict[str, str] = {}
    methods: dict[str, Any] = {}
    privileged: dict[str, Any] = {}
    versions, commits, pythons = set(), set(), set()
    libraries: dict[str, set[str]] = {}
    for record, method in zip(records, methods_as, strict=True):
        p = record.provenance
        bench = p["benchmark"]
        if bench["id"] not in benchmarks:
            made = get_benchmark(bench["id"])
            benchmarks[bench["id"]] = bench | {
                "description": made.description,
                "data_files": list(made.data_files),
                "enumerable": made.enumerable,
            }
        profile = asdict(PowerProfile(**p["accounting"]))  # records older than a profile field: its default
        _one(accounting, profile["name"], profile, "power profile")
        trace = {k: v for k, v in p["trace"].items() if k != "signal"}  # the signal: its source's, every record
        _one(traces, record.spec["trace"], trace | {"signal": asdict(signal_of(trace["region"]))}, "trace")
        for name, digest in p["data_files"].items():
            _one(data_files, name, digest, "data file")
        _one(methods, method, p["method"]["options"], "the options of method")
        _one(privileged, method, p["method"].get("privileged", []), "the privileged information of method")
        versions.add(p["package"]["version"])
        commits.add(p["package"]["git_commit"] or "unknown")
        pythons.add(p.get("python", "unknown"))
        for lib, version in p.get("libraries", {}).items():
            libraries.setdefault(lib, set()).add(version)
    from harness.results import SCHEMA as RECORD_SCHEMA

    return {
        "schema": SCHEMA,
        "record_schema": RECORD_SCHEMA,
        "study": index["study"]["name"],
        "package": {"versions": sorted(versions), "git_commits": sorted(commits)},
        "python": sorted(pythons),
        "libraries": {k: sorted(v) for k, v in sorted(libraries.items())},
        "benchmarks": benchmarks,
        "accounting": accounting,
        "traces": traces,
        "methods": methods,
        "privileged": {k: v for k, v in privileged.items() if v},
        "data_files": dict(sorted(data_files.items())),
        "audit": {"rules": AUDIT_RULES, "records": len(records), "clean": len(records)},
    }


# ----------------------------------------------------------------------------------------------- write / read
def _encode(frames: StudyFrames) -> dict[str, bytes]:
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=gz, mode="wb", mtime=0) as handle:
        handle.write(frames.runs.to_csv(index=False, lineterminator="\n").encode())
    parquets = {}
    for name, frame in (("curves.parquet", frames.curves), ("fronts.parquet", frames.fronts)):
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, compression="zstd")
        parquets[name] = buffer.getvalue()
    return {"runs.csv.gz": gz.getvalue(), **parquets}


def write_published(frames: StudyFrames, out: Path) -> list[Path]:
    """Write the committed form into `out`: atomic files, `provenance.json` (the others' checksums) last."""
    from harness.io import atomic_write_bytes, atomic_write_text

    blobs = _encode(frames)
    paths = []
    for name, data in blobs.items():
        atomic_write_bytes(out / name, data)
        paths.append(out / name)
    if (out / INDEX).is_file():  # the study and its cells, as published: pinned like the data (a changed description
        blobs[INDEX] = (out / INDEX).read_bytes()  # or cell key is refused on read)
    checksums = {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in blobs.items()}
    document = frames.provenance | {"files": checksums}
    atomic_write_text(out / PROVENANCE, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return [*paths, out / PROVENANCE]


def read_provenance(folder: Path) -> dict[str, Any]:
    """A study folder's `provenance.json`, its schema checked (one error line naming the folder otherwise)."""
    path = folder / PROVENANCE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if (folder / "runs.csv.gz").exists():
            raise HarnessError(
                f"{folder} holds study results of an older schema (no {PROVENANCE}); regenerate them "
                f"with `harness study report {folder}` from its run records"
            ) from None
        raise HarnessError(f"{folder} has neither run records nor committed study results") from None
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read {path} ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else None
        raise HarnessError(
            f"{path}: study results schema {found!r}, this harness reads {SCHEMA!r}; regenerate them "
            f"with `harness study report` from the run records"
        )
    from harness.results import SCHEMA as RECORD_SCHEMA

    if document.get("record_schema") != RECORD_SCHEMA:
        raise HarnessError(
            f"{path}: aggregated from run records of schema {document.get('record_schema')!r}, this "
            f"harness reads {RECORD_SCHEMA!r}; sweep the study again"
        )
    return document


def read_published(folder: Path) -> StudyFrames:
    """The committed form of a study folder, every data file checked against the checksums in `provenance.json`."""
    provenance = read_provenance(folder)
    blobs = {}
    for name in (*DATA_FILES, *((INDEX,) if (folder / INDEX).exists() else ())):
        try:
            data = (folder / name).read_bytes()
        except FileNotFoundError:
            raise HarnessError(f"{folder} lacks {name}; regenerate with `harness study report {folder}`") from None
        except OSError as exc:
            raise os_error(exc, f"cannot read {folder / name}") from None
        pin = provenance.get("files", {}).get(name, {})
        if hashlib.sha256(data).hexdigest() != pin.get("sha256") or len(data) != pin.get("size"):
            raise HarnessError(
                f"{folder / name} does not match the checksum in {folder / PROVENANCE}; it was changed "
                f"after the report was written"
            )
        blobs[name] = data
    runs = pd.read_csv(io.BytesIO(blobs["runs.csv.gz"]), compression="gzip")
    curves = pd.read_parquet(io.BytesIO(blobs["curves.parquet"]))
    fronts = pd.read_parquet(io.BytesIO(blobs["fronts.parquet"]))
    audit = provenance.get("audit") or {}
    if audit.get("rules") != AUDIT_RULES or audit.get("clean") != audit.get("records") or not audit.get("records"):
        raise HarnessError(
            f"{folder}: its runs were not all passed by the conservation audit ({AUDIT_RULES}); "
            f"sweep the study again and publish it with `harness study report`"
        )
    provenance = {k: v for k, v in provenance.items() if k != "files"}
    return StudyFrames(runs, curves, fronts, provenance)


def study_folders(results: Path) -> list[Path]:
    """Folders of search-run studies under `results` (each with a study.json; analysis studies have no boards),
    sorted by name; one error line when there are none."""
    if not results.is_dir():
        raise HarnessError(f"results folder {results} does not exist")
    folders = sorted(p for p in results.iterdir() if (p / "study.json").is_file() and not _is_analysis(p))
    if not folders:
        raise HarnessError(
            f"{results} holds no search-run study results (expected STUDY/study.json from `harness sweep`)"
        )
    return folders


def _is_analysis(folder: Path) -> bool:
    try:
        return bool(json.loads((folder / "study.json").read_text(encoding="utf-8"))["study"].get("analysis"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # unreadable: left to the board reader's one-line error
