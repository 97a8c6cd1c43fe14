"""Submissions: a method from outside the repository enters a study's boards as a bundle that anyone can verify.

`submit` sweeps one method on a study's grid (its benchmarks, traces, budgets, GPUs, seeds, accounting and shared
options: the *suite*, identified by `suite_digest`) into a bundle folder:

    BUNDLE/submission.json   what was run and with what: study, suite digest, method and label, the method's package
                             (distribution, version, sha256 of every file of its top-level package), harness version and
                             git commit, Python, the installed distributions (name==version)
    BUNDLE/study/            the sweep: study.json, records/KEY.json + KEY.sha256, and the committed form
                             (runs.csv.gz, curves.parquet, fronts.parquet, provenance.json; harness.studies.published)
    BUNDLE/MANIFEST.json     the sha256 of every file above, written last

`verify` installs nothing: it checks the manifest, that the installed method package is byte for byte the one
submitted, every record (checksum, cell key, conservation audit, front HV), that the committed form is what the
records give, and reruns a seeded sample of cells, whose records must be byte-identical; it then writes
`BUNDLE/verification.json`. The leaderboard shows a bundle's rows as "verified" when that report is clean and names
the bundle's manifest, else as "self-reported" (docs/submissions.md).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import platform
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import HarnessError, os_error
from harness.io import atomic_write_text

SCHEMA = "cenas-bench/submission/1"
MANIFEST_SCHEMA = "cenas-bench/submission-manifest/1"
VERIFICATION_SCHEMA = "cenas-bench/verification/1"
MANIFEST, SUBMISSION, VERIFICATION, STUDY = "MANIFEST.json", "submission.json", "verification.json", "study"
SUITE_KEYS = (
    "benchmarks",
    "traces",
    "budgets",
    "gpus",
    "seeds",
    "accounting",
    "interval_hours",
    "shared_options",
    "tree_varies",
)
"""What makes two studies the same suite: every setting a method is compared under (not its methods or texts)."""


def suite_settings(study: dict[str, Any]) -> dict[str, Any]:
    """A study's suite settings (`SUITE_KEYS`, as `Study.to_dict` writes them)."""
    suite = {key: study.get(key) for key in SUITE_KEYS}
    suite["tree_varies"] = suite["tree_varies"] or []
    return suite


def suite_digest(study: dict[str, Any]) -> str:
    """sha256 of a study's suite settings: the suite's version."""
    return hashlib.sha256(json.dumps(suite_settings(study), sort_keys=True).encode()).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------------ method package
def method_package(method: str) -> dict[str, Any]:
    """The installed code of a registered method: its top-level package's distribution, version and the sha256 of
    every file under it (sources and package data; caches left out), keyed by path relative to its parent folder."""
    from harness.methods import METHODS

    target = METHODS.entry(method).load().target
    top = target.split(":")[0].split(".")[0]
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        raise HarnessError(f"method {method}: its module {top} is not importable")
    origin = Path(spec.origin)
    root = origin.parent if origin.name == "__init__.py" else origin
    paths = sorted(
        p
        for p in ([root] if root.is_file() else root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    )
    dists = importlib.metadata.packages_distributions().get(top, [])
    dist = dists[0] if dists else top
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    files = {p.relative_to(root.parent).as_posix(): _sha256(p) for p in paths}
    return {"module": top, "distribution": dist, "version": version, "target": target, "files": files}


def _method_text(method: str) -> dict[str, str | None]:
    """The method's description (its class docstring's first paragraph) and `paper` attribute, for its card."""
    from harness.methods import METHODS, first_paragraph
    from harness.registry import import_target

    entry = METHODS.entry(method).load()
    cls = import_target(entry.target)
    return {
        "description": first_paragraph(cls) or entry.description,
        "paper": entry.paper or getattr(cls, "paper", None),
    }


def _environment() -> list[str]:
    """Every installed distribution as name==version, sorted: the lock the submission ran in."""
    names = {(d.metadata["Name"] or "").lower(): d.version for d in importlib.metadata.distributions()}
    return sorted(f"{name}=={version}" for name, version in names.items() if name)


def _git_commit() -> str | None:
    from harness.runner import git_commit

    return git_commit()


# --------------------------------------------------------------------------------------------------------- submit
def submission_study(study: str, method: str, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """(the study's suite with one method in place of its own, the suite's settings). The method gets `options` on
    top of the shared options it declares (the others are for the suite's other methods)."""
    import tomllib

    from harness.methods import METHODS, method_class
    from harness.options import flatten, option_specs
    from harness.studies.spec import load_study_spec, parse_study, study_path

    suite = load_study_spec(study)
    if suite.analysis:
        raise HarnessError(f"study {study} is an analysis study: a submission needs a study of search runs")
    if method not in METHODS:
        raise HarnessError(f"unknown method '{method}' (see `harness methods list`)")
    path = study_path(study)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise os_error(exc, f"cannot read study {path}") from None
    declared = {s.key for s in option_specs(method_class(method).Options)}
    raw = {k: v for k, v in raw.items() if k not in ("reference_method", "report")}
    raw["shared_options"] = {k: v for k, v in flatten(raw.get("shared_options", {})).items() if k in declared}
    raw["methods"] = [{"name": method, "options": dict(options or {})}]
    return parse_study(raw, suite.name, str(path)), suite_settings(suite.to_dict())


def submit(
    study: str,
    method: str,
    out: Path,
    executor: Any,
    options: dict[str, Any] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Sweep `method` on the study's suite into the bundle folder `out` (resumable: done cells are kept) and write
    its committed form, `submission.json` and the manifest; returns `out`."""
    from harness.studies import sweep as sw
    from harness.studies.aggregate import frames_from_records
    from harness.studies.published import write_published

    spec, suite = submission_study(study, method, options)
    if out.exists() and any(out.iterdir()) and not (out / SUBMISSION).is_file() and not (out / STUDY).is_dir():
        raise HarnessError(f"{out} is not empty and is not a submission bundle: refusing to write into it")
    package = method_package(method)  # before any work: the method must be importable
    folder = out / STUDY
    sw.sweep(spec, folder, executor, progress=progress)
    write_published(frames_from_records(folder), folder)
    document = {
        "schema": SCHEMA,
        "study": spec.name,
        "suite": suite_digest(suite),
        "suite_settings": suite,
        "method": method,
        "label": spec.methods[0].display,
        "options": dict(options or {}),
        "text": _method_text(method),
        "package": package,
        "harness": {"version": __version__, "git_commit": _git_commit()},
        "python": platform.python_version(),
        "environment": _environment(),
    }
    atomic_write_text(out / SUBMISSION, json.dumps(document, indent=1, sort_keys=True) + "\n")
    (out / VERIFICATION).unlink(missing_ok=True)  # a new bundle has not been verified
    write_manifest(out)
    return out


def write_manifest(bundle: Path) -> Path:
    """`MANIFEST.json`: the sha256 of every file of the bundle but the manifest and the verification report."""
    own = {bundle / MANIFEST, bundle / VERIFICATION}
    files = {
        p.relative_to(bundle).as_posix(): _sha256(p) for p in sorted(bundle.rglob("*")) if p.is_file() and p not in own
    }
    document = {"schema": MANIFEST_SCHEMA, "files": files}
    atomic_write_text(bundle / MANIFEST, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return bundle / MANIFEST


# --------------------------------------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class Bundle:
    """A submission bundle whose files match its manifest."""

    path: Path
    submission: dict[str, Any]
    manifest_sha256: str

    @property
    def study(self) -> Path:
        return self.path / STUDY

    @property
    def verified(self) -> bool:
        """A clean verification report written for exactly this manifest."""
        try:
            report = json.loads((self.path / VERIFICATION).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        expected = {"schema": VERIFICATION_SCHEMA, "manifest_sha256": self.manifest_sha256, "result": "clean"}
        return isinstance(report, dict) and all(report.get(k) == v for k, v in expected.items())


def open_bundle(path: Path) -> Bundle:
    """The bundle at `path`, every file checked against its manifest (and no file missing from it); one error line
    naming the first file that differs."""
    try:
        manifest_bytes = (path / MANIFEST).read_bytes()
        manifest = json.loads(manifest_bytes)
        submission = json.loads((path / SUBMISSION).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise HarnessError(f"{path} is not a submission bundle (no {Path(str(exc.filename)).name})") from None
    except ValueError as exc:
        raise HarnessError(f"{path}: unreadable manifest or submission ({exc})") from None
    except OSError as exc:
        raise os_error(exc, f"cannot read the bundle {path}") from None
    if manifest.get("schema") != MANIFEST_SCHEMA or submission.get("schema") != SCHEMA:
        raise HarnessError(f"{path}: not a {SCHEMA} bundle")
    listed = manifest.get("files", {})
    present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {MANIFEST, VERIFICATION}
    for name in sorted(present | set(listed)):
        if name not in listed:
            raise HarnessError(f"{path}: {name} is not in the manifest")
        if name not in present:
            raise HarnessError(f"{path}: {name} is in the manifest but missing")
        if _sha256(path / name) != listed[name]:
            raise HarnessError(f"{path}: {name} differs from its manifest entry (edited after submitting)")
    return Bundle(path, submission, hashlib.sha256(manifest_bytes).hexdigest())


def verify(path: Path, sample: int = 3, seed: int = 0) -> dict[str, Any]:
    """Check a bundle and rerun `sample` cells drawn with `seed`; writes and returns the verification report. Any
    failure is one HarnessError line naming the file or cell."""
    import numpy as np

    from harness.studies.aggregate import frames_from_records
    from harness.studies.executors import run_cell
    from harness.studies.published import DATA_FILES, PROVENANCE, write_published
    from harness.studies.spec import parse_study
    from harness.studies.sweep import task_of

    (path / VERIFICATION).unlink(missing_ok=True)  # an earlier report stands only if this check passes again
    bundle = open_bundle(path)
    sub = bundle.submission
    if sub["harness"]["version"] != __version__:
        raise HarnessError(
            f"{path} was made by cenas-bench {sub['harness']['version']}; this is {__version__}: "
            "verify it with the version that made it"
        )
    installed = method_package(sub["method"])
    for name in sorted(set(installed["files"]) | set(sub["package"]["files"])):
        if installed["files"].get(name) != sub["package"]["files"].get(name):
            raise HarnessError(
                f"{path}: the installed method package ({installed['distribution']} "
                f"{installed['version']}) differs from the submitted one: {name}"
            )
    index = json.loads((bundle.study / "study.json").read_text(encoding="utf-8"))
    raw = {k: v for k, v in index["study"].items() if v is not None}
    shared = raw.get("shared_options", {})
    raw["methods"] = [
        m | {"options": {k: v for k, v in m["options"].items() if shared.get(k, object()) != v}} for m in raw["methods"]
    ]  # as written: shared options apart from the method's own
    study = parse_study(raw, raw["name"])
    ran, suite = suite_settings(study.to_dict()), sub["suite_settings"]
    same = all(ran[k] == suite[k] for k in SUITE_KEYS if k != "shared_options") and all(
        suite["shared_options"].get(k, object()) == v for k, v in ran["shared_options"].items()
    )
    if suite_digest(suite) != sub["suite"] or not same:
        raise HarnessError(f"{path}: its study.json is not the suite its submission names")
    frames = frames_from_records(bundle.study)  # every record: checksum, cell key, audit, front HV
    with _scratch(path) as scratch:
        shutil.copyfile(bundle.study / "study.json", scratch / "study.json")  # pinned in provenance.json too
        write_published(frames, scratch)
        for name in (*DATA_FILES, PROVENANCE):
            if (scratch / name).read_bytes() != (bundle.study / name).read_bytes():
                raise HarnessError(f"{path}: {STUDY}/{name} is not what the bundle's records give")
    cells = study.cells()
    keys = {c["label"]: c["key"] for c in index["cells"]}
    draw = sorted(np.random.default_rng(seed).choice(len(cells), size=min(sample, len(cells)), replace=False))
    rerun = []
    for i in draw:
        cell = cells[int(i)]
        stored = (bundle.study / "records" / f"{keys[cell.label()]}.json").read_text(encoding="utf-8")
        if run_cell(task_of(cell)) != stored:
            raise HarnessError(f"{path}: cell {cell.label()} reran to a different record than the one submitted")
        rerun.append(cell.label())
    report = {
        "schema": VERIFICATION_SCHEMA,
        "result": "clean",
        "manifest_sha256": bundle.manifest_sha256,
        "sample": sample,
        "seed": seed,
        "cells_rerun": rerun,
        "cells_total": len(cells),
        "records_audited": len(cells),
        "environment": {
            "harness": __version__,
            "python": platform.python_version(),
            "platform": sys.platform,
            "package": f"{installed['distribution']} {installed['version']}",
        },
    }
    atomic_write_text(path / VERIFICATION, json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


class _scratch:
    """A temporary folder beside `near` (same file system), removed on exit."""

    def __init__(self, near: Path) -> None:
        import tempfile

        self.path = Path(tempfile.mkdtemp(prefix=".verify-", dir=near.parent if near.parent.exists() else None))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ for the boards
def bundles_in(folder: Path) -> list[Bundle]:
    """Every bundle under `folder` (a folder holding MANIFEST.json), checked against its manifest, sorted by path."""
    if not folder.is_dir():
        raise HarnessError(f"submissions folder {folder} does not exist")
    found = [open_bundle(p.parent) for p in sorted(folder.glob(f"*/{MANIFEST}"))]
    if not found:
        raise HarnessError(f"{folder} holds no submission bundle (FOLDER/NAME/{MANIFEST} from `harness submit`)")
    return found


def with_submissions(study: dict[str, Any], frames: Any, bundles: list[Bundle]) -> Any:
    """A committed study's frames with the rows of the bundles made for its suite (`StudyFrames`); provenance gains
    `submissions` (per label: track, bundle, package, harness). A bundle for another version of the suite, or whose
    method is already on the study's boards, is refused with one line."""
    import pandas as pd

    from harness.studies.published import StudyFrames, read_published

    mine = [b for b in bundles if b.submission["study"] == study["name"]]
    if not mine:
        return frames
    digest = suite_digest(study)
    runs, curves, fronts = [frames.runs], [frames.curves], [frames.fronts]
    provenance = dict(frames.provenance)
    provenance["methods"] = dict(provenance.get("methods", {}))
    provenance["privileged"] = dict(provenance.get("privileged", {}))
    provenance["submissions"] = dict(provenance.get("submissions", {}))
    for bundle in mine:
        sub = bundle.submission
        if sub["suite"] != digest:
            raise HarnessError(
                f"{bundle.path} was made for another version of suite {study['name']} (suite "
                f"{sub['suite'][:12]}, the leaderboard's is {digest[:12]}): submit it again against "
                "the current study"
            )
        label = sub["label"]
        if label in provenance["methods"]:
            raise HarnessError(f"{bundle.path}: method {label} is already on the boards of study {study['name']}")
        theirs = read_published(bundle.study)
        for name, info in theirs.provenance["benchmarks"].items():
            ours = provenance["benchmarks"].get(name, {})
            clash = sorted(k for k in set(ours) & set(info) if ours[k] != info[k])
            if clash:
                raise HarnessError(
                    f"{bundle.path} disagrees with study {study['name']} on benchmark {name} ({', '.join(clash)})"
                )
        runs.append(theirs.runs)
        curves.append(theirs.curves)
        fronts.append(theirs.fronts[theirs.fronts["key"] != ""])
        provenance["methods"] |= theirs.provenance["methods"]
        provenance["privileged"] |= theirs.provenance.get("privileged", {})
        provenance["submissions"][label] = {
            "track": "verified" if bundle.verified else "self-reported",
            "bundle": bundle.path.name,
            "manifest_sha256": bundle.manifest_sha256,
            "package": {k: sub["package"][k] for k in ("distribution", "version", "target")},
            "harness": sub["harness"],
            "python": sub["python"],
            "text": sub["text"],
            "method": sub["method"],
        }
    return StudyFrames(
        pd.concat(runs, ignore_index=True),
        pd.concat(curves, ignore_index=True),
        pd.concat(fronts, ignore_index=True),
        provenance,
    )
