"""Fault injection: corrupt copies of real files, OS faults, concurrency, kill -9, bad options and malformed records.

Every scenario must end in "clear error, nothing used, nothing lost": one `error:` line and exit status 2 from the CLI
(or a DataIntegrityError/HarnessError from the API), no corrupt byte parsed into a table or a record, and the cache
and output folders as they were (or repaired from verified files). The table in docs/faults.md lists the scenarios.

Caches here are built in tmp folders: raw files are hard links into the session cache (never modified in place: a
corrupted file is first copied, breaking the link), tables are copies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from harness.carbon.traces import load_trace_table
from harness.data.build_ecnas import load_ecnas
from harness.data.build_nb201 import load_nb201
from harness.data.fetch import cache_dir, fetch, raw_path, read_verified
from harness.data.manifest import DataFile, load_manifest
from harness.data.safe_pickle import PANDAS_FRAME, PLAIN_DATA, restricted_loads
from harness.data.tables import check_table, table_path
from harness.errors import DataIntegrityError, HarnessError
from tests.helpers import cli, one_error_line, snapshot

LOADERS = {"nb201": load_nb201, "ecnas": load_ecnas, "traces": load_trace_table}
RAW_KINDS = {  # one real file of every raw format, with the table it feeds
    "pandas-pickle": ("nb201-acc12", "nb201"),
    "numpy-savetxt": ("nb201-cifar10-perf200", "nb201"),
    "torch-zip": ("help-latency-raspi4", "nb201"),
    "json": ("nebulos-nats-index", "nb201"),
    "parquet": ("hwnasbench360", "nb201"),
    "csv": ("ci-sc-US-CAL-CISO-2021", "traces"),
    "tfrecord": ("ecnas-4v9e", "ecnas"),
}
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# ------------------------------------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def session_cache() -> Path:
    """The session cache with every mirrored file fetched and every table built."""
    fetch([f for f in load_manifest() if not f.optional])
    for load in LOADERS.values():
        load()
    return cache_dir()


def make_cache(source: Path, target: Path, tables: bool = True) -> Path:
    """A cache at `target` whose raw files are hard links into `source` (and, optionally, copies of its tables)."""
    shutil.copytree(source / "raw", target / "raw", copy_function=os.link)
    if tables:
        shutil.copytree(source / "tables", target / "tables", ignore=shutil.ignore_patterns(".*"))
    return target


def flip(path: Path, offset: int | None = None) -> None:
    """Flip one bit of a private copy of `path` (a hard link is broken first, so its other names stay intact)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if offset is None else offset] ^= 0x01
    path.unlink()
    path.write_bytes(bytes(data))


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` made read-only for this process: a read-only bind mount over it as root, else mode bits."""
    if IS_ROOT:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
            yield folder
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if p.is_dir()}
        for p in modes:
            p.chmod(0o555)
        try:
            yield folder
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


# ------------------------------------------------------------------------------------------- raw files: poisoned
@pytest.mark.parametrize("kind", sorted(RAW_KINDS))
@pytest.mark.parametrize("fault", ["bit-flip", "truncation"])
def test_poisoned_raw_file_without_tables_is_refused_and_nothing_is_built(
    session_cache: Path, tmp_path: Path, kind: str, fault: str
) -> None:
    name, table = RAW_KINDS[kind]
    cache = make_cache(session_cache, tmp_path / "cache", tables=False)
    victim = raw_path(load_manifest()[name], cache)
    if fault == "bit-flip":
        flip(victim)
    else:
        data = victim.read_bytes()
        victim.unlink()
        victim.write_bytes(data[: len(data) - 1])
    poisoned = victim.read_bytes()
    with pytest.raises(DataIntegrityError, match=rf"cached {name} .* fails its pin: .*nothing was used"):
        LOADERS[table](cache=cache)
    assert not table_path(table, cache).exists()
    assert victim.read_bytes() == poisoned  # nothing repaired behind the user's back, nothing deleted


def test_poisoned_raw_file_with_tables_built_is_reported_and_never_used(session_cache: Path, tmp_path: Path) -> None:
    """The audit's worst case: a flipped byte in a trace CSV changed a run's carbon (7,338 g -> 9,993 g, exit 0)."""
    cache = make_cache(session_cache, tmp_path / "cache")
    manifest = load_manifest()
    clean = cli(
        "run", "--method", "random-search", "--budget", "4h", "--out", str(tmp_path / "clean.json"), cache=cache
    )
    assert clean.returncode == 0, clean.stderr
    flip(raw_path(manifest["ci-sc-US-CAL-CISO-2021"], cache))
    verify = cli("data", "verify", cache=cache)
    assert verify.returncode == 1 and "ci-sc-US-CAL-CISO-2021" in verify.stdout + verify.stderr
    # the verified table still serves runs: same carbon, and the record names the hashes of the bytes it was built from
    again = cli(
        "run", "--method", "random-search", "--budget", "4h", "--out", str(tmp_path / "again.json"), cache=cache
    )
    assert again.returncode == 0, again.stderr
    first, second = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("clean", "again"))
    assert first["summary"] == second["summary"]
    assert second["provenance"]["data_files"]["ci-sc-US-CAL-CISO-2021"] == manifest["ci-sc-US-CAL-CISO-2021"].sha256
    # once the table must be rebuilt, the poisoned file is refused, and nothing is written
    for suffix in (".parquet", ".json"):
        table_path("traces", cache).with_suffix(suffix).unlink()
    rebuilt = cli("run", "--method", "random-search", "--budget", "4h", "--out", str(tmp_path / "x.json"), cache=cache)
    one_error_line(rebuilt, "ci-sc-US-CAL-CISO-2021", "fails its pin", "harness data fetch ci-sc-US-CAL-CISO-2021")
    assert not (tmp_path / "x.json").exists() and not table_path("traces", cache).exists()


def test_a_raw_file_replaced_by_a_folder_is_a_clear_error(session_cache: Path, tmp_path: Path) -> None:
    cache = make_cache(session_cache, tmp_path / "cache", tables=False)
    victim = raw_path(load_manifest()["nebulos-nats-index"], cache)
    victim.unlink()
    victim.mkdir()
    with pytest.raises(HarnessError, match="is a folder where the cache expects the file nebulos-nats-index"):
        read_verified("nebulos-nats-index", cache=cache)
    with pytest.raises(HarnessError, match="cannot fetch nebulos-nats-index into the cache: is a folder"):
        fetch([load_manifest()["nebulos-nats-index"]], cache=cache)
    assert victim.is_dir()


# ----------------------------------------------------------------------------------------------- tables: bit flips
@pytest.mark.parametrize("table", sorted(LOADERS))
def test_table_bit_flip_is_caught_by_verify_and_rebuilt_on_load(
    session_cache: Path, tmp_path: Path, table: str
) -> None:
    cache = make_cache(session_cache, tmp_path / "cache")
    original = LOADERS[table](cache=session_cache)
    flip(table_path(table, cache))
    assert check_table(table, cache=cache).status == "corrupt"
    verify = cli("data", "verify", cache=cache)
    assert verify.returncode == 1 and f"table {table}" in verify.stdout and "corrupt" in verify.stdout
    pd.testing.assert_frame_equal(LOADERS[table](cache=cache), original)  # rebuilt from verified raw files
    assert check_table(table, cache=cache).status == "ok"
    assert table_path(table, cache).read_bytes() == table_path(table, session_cache).read_bytes()


def test_table_bit_flip_in_a_read_only_cache_is_refused(session_cache: Path, tmp_path: Path) -> None:
    cache = make_cache(session_cache, tmp_path / "cache")
    flip(table_path("nb201", cache))
    before = snapshot(cache / "tables")
    with read_only(cache):
        with pytest.raises(HarnessError, match=r"cached table nb201 fails its checksum .* cannot be rebuilt"):
            load_nb201(cache=cache)
        result = cli(
            "run", "--method", "random-search", "--budget", "2h", "--out", str(tmp_path / "r.json"), cache=cache
        )
        one_error_line(result, "nb201", "cannot be rebuilt")
    assert snapshot(cache / "tables") == before and not (tmp_path / "r.json").exists()


def test_a_verified_read_only_cache_serves_runs(session_cache: Path, tmp_path: Path) -> None:
    cache = make_cache(session_cache, tmp_path / "cache")
    with read_only(cache):
        result = cli(
            "run", "--method", "random-search", "--budget", "2h", "--out", str(tmp_path / "r.json"), cache=cache
        )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["n_trained"] > 0


def test_a_missing_table_in_a_read_only_cache_is_one_clear_error(session_cache: Path, tmp_path: Path) -> None:
    cache = make_cache(session_cache, tmp_path / "cache")
    for suffix in (".parquet", ".json"):
        table_path("ecnas", cache).with_suffix(suffix).unlink()
    with read_only(cache):
        result = cli("run", "--method", "semoa", "--budget", "2h", "--out", str(tmp_path / "r.json"), cache=cache)
    one_error_line(result, "cannot write to the cache", "read-only file system" if IS_ROOT else "permission denied")


# ---------------------------------------------------------------------------------------------------- pickles
class Payload:
    """A pickle that, when loaded by an unrestricted unpickler, creates a marker file (stands for arbitrary code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("allowed", [PANDAS_FRAME, PLAIN_DATA], ids=["pandas-frame", "plain-data"])
def test_restricted_unpickler_refuses_code(tmp_path: Path, allowed) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(DataIntegrityError, match=r"names pathlib\.Path\.touch|names pathlib\.Path"):
        restricted_loads(pickle.dumps({"nasbench201": Payload(marker)}), allowed, "test")
    assert not marker.exists()


def test_tampered_mini_nb201_pickle_is_refused_by_its_pin_before_unpickling(
    session_cache: Path, tmp_path: Path
) -> None:
    cache = make_cache(session_cache, tmp_path / "cache", tables=False)
    marker = tmp_path / "pwned"
    victim = raw_path(load_manifest()["nb201-acc12"], cache)
    victim.unlink()
    victim.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(DataIntegrityError, match=r"cached nb201-acc12 .* fails its pin"):
        load_nb201(cache=cache)
    assert not marker.exists() and not table_path("nb201", cache).exists()


def test_user_placed_hw_nas_bench_pickle_is_checked_by_git_blob_before_it_is_read(
    session_cache: Path, tmp_path: Path
) -> None:
    cache = make_cache(session_cache, tmp_path / "cache")
    marker = tmp_path / "pwned"
    entry = load_manifest()["hw-nas-bench"]
    target = raw_path(entry, cache)
    target.parent.mkdir(parents=True)
    target.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(DataIntegrityError, match=rf"git blob mismatch: expected {entry.git_blob}.*{entry.url}"):
        load_nb201(cache=cache)
    result = cli("run", "--method", "random-search", "--budget", "2h", "--out", str(tmp_path / "r.json"), cache=cache)
    one_error_line(result, "hw-nas-bench", "git blob mismatch", entry.url)
    assert not marker.exists() and not (tmp_path / "r.json").exists()


# ------------------------------------------------------------------------------------------------ downloads
def test_download_over_its_size_cap_is_refused(tmp_path: Path, mirror_dir: Path, monkeypatch) -> None:
    entry = load_manifest()["help-latency-essential-ph-1"]
    mirror = tmp_path / "mirror"
    (mirror / entry.rel).parent.mkdir(parents=True)
    (mirror / entry.rel).write_bytes((mirror_dir / entry.rel).read_bytes() * 3)
    monkeypatch.setenv("CENAS_BENCH_MIRROR", mirror.as_uri())
    with pytest.raises(DataIntegrityError, match=f"exceeds its {entry.size}-byte cap"):
        fetch([entry], cache=tmp_path / "cache")
    assert snapshot(tmp_path / "cache") == {}


@pytest.mark.parametrize(
    "path",
    ["o/r/0123456789012345678901234567890123456789/../../../../../etc/passwd", "o/r/main/file.csv", "o/r/" + "a" * 40],
)
def test_manifest_paths_may_not_leave_the_cache(path: str) -> None:
    entry = load_manifest()["help-latency-essential-ph-1"]
    with pytest.raises(HarnessError, match="not OWNER/REPO/COMMIT40/PATH"):
        dataclasses.replace(entry, url=f"https://raw.githubusercontent.com/{path}")


def test_manifest_entry_needs_a_pin_and_a_cap() -> None:
    entry = load_manifest()["hw-nas-bench"]
    with pytest.raises(HarnessError, match="needs a size or a max_size"):
        dataclasses.replace(entry, max_size=None)
    with pytest.raises(HarnessError, match="pinned by neither"):
        DataFile(**{**dataclasses.asdict(entry), "git_blob": None})


@pytest.mark.skipif(not IS_ROOT, reason="a full disk is simulated with a small tmpfs mount, which needs root")
def test_full_disk_during_fetch_is_one_clear_error(tmp_path: Path) -> None:
    cache = tmp_path / "small"
    cache.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(cache)], check=True)
    try:
        result = cli("data", "fetch", "nb201-acc12", cache=cache)  # 2.3 MB into 1 MiB
        one_error_line(result, "cannot fetch nb201-acc12 into the cache: no space left on device")
        leftovers = [p for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
        assert leftovers == []
    finally:
        subprocess.run(["umount", str(cache)], check=True)


# ------------------------------------------------------------------------------------ concurrency and kill -9
def test_two_concurrent_fetches_and_builds_into_one_cache_both_succeed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = os.environ | {"CENAS_BENCH_CACHE": str(cache)}
    command = [sys.executable, "-c", "from harness.cli import main; main()"]
    for args in (["data", "fetch", "--all"], ["data", "build"]):
        procs = [
            subprocess.Popen([*command, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err.decode()
    verify = cli("data", "verify", cache=cache)
    assert verify.returncode == 0 and "104 cached files ok" in verify.stdout and "3 tables ok" in verify.stdout
    assert not [p for p in cache.rglob("*.part")]


def _kill_after(args: list[str], cache: Path, delay_s: float, cwd: Path | None = None) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        env=os.environ | {"CENAS_BENCH_CACHE": str(cache)},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay_s)
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


@pytest.mark.parametrize("delay_s", [0.6, 1.2])
def test_kill_9_during_fetch_leaves_only_verified_files(tmp_path: Path, delay_s: float) -> None:
    cache = tmp_path / "cache"
    _kill_after(["data", "fetch", "--all"], cache, delay_s)
    manifest = load_manifest()
    present = [f for f in manifest if raw_path(f, cache).exists()]
    assert all(read_verified(f.name, manifest, cache) for f in present)  # never a partial file under a real name
    assert cli("data", "fetch", "--all", cache=cache).returncode == 0
    assert cli("data", "verify", cache=cache).returncode == 0


@pytest.mark.parametrize("delay_s", [1.5, 3.0])
def test_kill_9_during_build_leaves_no_table_that_is_trusted(
    session_cache: Path, tmp_path: Path, delay_s: float
) -> None:
    cache = make_cache(session_cache, tmp_path / "cache", tables=False)
    _kill_after(["data", "build"], cache, delay_s)
    for name in LOADERS:
        assert check_table(name, cache=cache).status in ("ok", "missing", "corrupt")  # corrupt: parquet without stamp
    assert cli("data", "build", cache=cache).returncode == 0
    assert all(check_table(name, cache=cache).status == "ok" for name in LOADERS)


@pytest.mark.parametrize("delay_s", [1.0, 2.5, 4.0])
def test_kill_9_during_a_run_leaves_its_record_absent_or_complete(session_cache: Path, tmp_path: Path, delay_s) -> None:
    from harness.results import load_record

    target = tmp_path / "out" / "record.json"
    _kill_after(["run", "--method", "random-search", "--budget", "30h", "--out", str(target)], session_cache, delay_s)
    if target.exists():
        assert load_record(target).summary["simulated_hours"] == 30.0
    assert not [p for p in target.parent.glob("*") if p.name != target.name] if target.parent.exists() else True


# ------------------------------------------------------------------------------------------------- bad input
BAD_OPTIONS = [
    ("nsga2", "population=10", "unknown option 'population' for nsga2"),
    ("random-search", "seed_offset=1", "unknown option 'seed_offset' for random-search; known: schedule.policy"),
    ("cenas", "kernel=rbf", "did you mean tree.kernel"),
    ("cenas", "qnehvi_q=3", "did you mean qnehvi.q"),
    ("cenas", "queue_capacity=ten", "bad option queue_capacity='ten' for cenas: expected an integer"),
    ("cenas", "queue_capacity=2.5", "expected an integer"),
    ("cenas", "queue_capacity=0", "must be >= 1"),
    ("cenas", "tree.cp=nan", "expected a finite number"),
    ("cenas", "tree.cp=-1", "must be >= 0"),
    ("cenas", "tree.gamma=-0.5", "must be > 0"),
    ("cenas", "tree.kernel=sigmoid", "expected one of 'poly', 'rbf', 'linear'"),
    ("cenas", "dedup=maybe", "expected true or false"),
    ("cenas", "tree.svm_max_samples=1", "must be >= 2"),
    ("cenas", "tree.solver=ipm", "tree.solver=ipm needs tree.kernel=poly or linear"),
    ("vanilla-lamoo", "tree.solver=smo", "expected one of 'auto', 'libsvm', 'ipm'"),
    ("semoa", "min_budget=5", "expected one of 4, 12, 36, 108"),
    ("semoa", "gate.mode=always", "expected one of 'none', 'heuristic'"),
    ("semoa", "min_budget=36 max_budget=12", "min_budget must not exceed max_budget"),
    ("oneshot-lamoo", "max_samples=-3", "must be >= 1"),
]


@pytest.mark.parametrize(("method", "setting", "message"), BAD_OPTIONS)
def test_bad_option_is_one_line_before_any_work(tmp_path: Path, method: str, setting: str, message: str) -> None:
    sets = [arg for item in setting.split() for arg in ("--set", item)]
    result = cli("run", "--method", method, "--budget", "1h", *sets, cwd=tmp_path)
    one_error_line(result, message)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "0"], "at least one minute"),
        (["--interval", "0.001"], "at least one minute"),
        (["--interval", "nan"], "finite number"),
        (["--interval", "inf"], "finite number"),
        (["--gpus", "100000"], "at most 4096"),
        (["--set", "novalue"], "use KEY=VALUE"),
        (["--set", "pop_size=4", "--set", "pop_size=5"], "given twice"),
    ],
)
def test_bad_run_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    one_error_line(cli("run", "--method", "nsga2", "--budget", "1h", *args, cwd=tmp_path), message)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_out_fails_before_simulating(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    start = time.monotonic()
    one_error_line(cli("run", "--budget", "500lbs", "--out", str(tmp_path / "a-file" / "r.json")), "is a file")
    one_error_line(cli("run", "--budget", "500lbs", "--out", str(tmp_path)), "is a folder")
    assert time.monotonic() - start < 60  # a 500-lbs cenas run takes about a minute: it was never started
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked):
        one_error_line(
            cli("run", "--budget", "500lbs", "--out", str(locked / "r.json")),
            "cannot write",
            "read-only file system" if IS_ROOT else "permission denied",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "locked"] and not list(locked.iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "hotcarbon", "--workers", "0"],
        ["sweep", "hotcarbon", "--dask-local", "0"],
    ],
)
def test_multi_run_commands_reject_non_positive_counts(tmp_path: Path, args: list[str]) -> None:
    one_error_line(cli(*args, "--out", str(tmp_path / "out")), "must be at least 1")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------- malformed records
@pytest.fixture(scope="module")
def real_record(session_cache: Path, tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("record") / "r.json"
    assert cli("run", "--method", "random-search", "--budget", "2h", "--out", str(target)).returncode == 0
    return json.loads(target.read_text())


def _without(document: dict, *keys: str) -> dict:
    copy = json.loads(json.dumps(document))
    node = copy
    for key in keys[:-1]:
        node = node[key]
    del node[keys[-1]]
    return copy


def _with(document: dict, value, *keys: str) -> dict:
    copy = json.loads(json.dumps(document))
    node = copy
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return copy


MALFORMED = {
    "missing summary": (lambda d: _without(d, "summary"), "summary is not an object"),
    "missing summary.hv": (lambda d: _without(d, "summary", "hv"), "summary lacks 'hv'"),
    "missing provenance.trace": (lambda d: _without(d, "provenance", "trace"), "provenance lacks 'trace'"),
    "hv is text": (lambda d: _with(d, "high", "summary", "hv"), "summary.hv has the wrong type (str)"),
    "n_trained is true": (lambda d: _with(d, True, "summary", "n_trained"), "summary.n_trained has the wrong type"),
    "spec is a list": (lambda d: _with(d, [1, 2], "spec"), "spec is not an object"),
    "short row": (lambda d: _with(d, {"columns": ["a", "b"], "rows": [[1]]}, "intervals"), "row of the wrong length"),
    "other schema": (lambda d: _with(d, "cenas-bench/run-record/99", "schema"), "schema 'cenas-bench/run-record/99'"),
    "not an object": (lambda d: [d], "not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_show_refuses_a_malformed_record_in_one_line(real_record: dict, tmp_path: Path, case: str) -> None:
    mutate, message = MALFORMED[case]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(mutate(real_record)))
    one_error_line(cli("show", str(path)), "is not a cenas-bench run record", message)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"{ not json", "is not a cenas-bench run record"),
        (b"", "is not a cenas-bench run record"),
    ],
)
def test_show_refuses_unreadable_files_in_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    one_error_line(cli("show", str(path)), message)
    one_error_line(cli("show", str(tmp_path)), "is a folder")
    one_error_line(cli("show", str(tmp_path / "absent.json")), "no run record at")


def test_show_prints_markup_characters_literally(real_record: dict, tmp_path: Path) -> None:
    name = "[bold red]evil[/] [link=http://x]y"
    path = tmp_path / "markup.json"
    path.write_text(json.dumps(_with(_with(real_record, name, "spec", "method"), "stop[/]", "summary", "stop_reason")))
    result = cli("show", str(path))
    assert result.returncode == 0, result.stderr
    assert name in result.stdout.replace("\n", "") or "[bold red]evil[/]" in result.stdout
    assert "stop[/]" in result.stdout


# --------------------------------------------------------------------------------------- cross-process determinism
@pytest.mark.parametrize("method", ["cenas", "nsga2"])
def test_records_are_identical_across_processes_with_different_hash_seeds(
    session_cache: Path, tmp_path: Path, method: str
) -> None:
    paths = []
    for hash_seed in ("0", "4242"):
        target = tmp_path / f"{method}-{hash_seed}.json"
        result = cli(
            "run", "--method", method, "--budget", "3h", "--seed", "5", "--out", str(target), PYTHONHASHSEED=hash_seed
        )
        assert result.returncode == 0, result.stderr
        paths.append(target)
    assert paths[0].read_bytes() == paths[1].read_bytes()


# ------------------------------------------------------------- tables: rewritten with their stamps (issue 38, gap 2)
def test_a_table_rewritten_with_its_stamp_is_caught_by_verify_rebuild(session_cache: Path, tmp_path: Path) -> None:
    """Was: halve every intensity in tables/traces.parquet, update the stamp's sha256 and size, and `data verify`
    said ok while runs used half the real intensity. The stamp still vouches for the bytes; only a rebuild from the
    verified raw files shows that they are not what those files give."""
    import hashlib
    import io

    import pyarrow.parquet as pq

    from harness.data.tables import encode_table, stamp_path

    cache = make_cache(session_cache, tmp_path / "cache")
    frame = pq.read_table(io.BytesIO(table_path("traces", cache).read_bytes())).to_pandas()
    frame["ci"] = frame["ci"] / 2
    data = encode_table(frame)
    table_path("traces", cache).write_bytes(data)
    stamp = json.loads(stamp_path("traces", cache).read_text())
    stamp |= {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    stamp_path("traces", cache).write_text(json.dumps(stamp, sort_keys=True, indent=1) + "\n")
    assert cli("data", "verify", cache=cache).returncode == 0  # the stamp alone cannot tell
    checked = cli("data", "verify", "--rebuild", cache=cache)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "table traces (rebuilt)" in checked.stdout and "differs from its rebuild" in " ".join(checked.stdout.split())
    clean = cli("data", "verify", "--rebuild", cache=make_cache(session_cache, tmp_path / "clean"))
    assert clean.returncode == 0 and clean.stdout.count("identical to its rebuild") >= 3, clean.stdout


def test_a_stamp_claiming_unpinned_inputs_is_not_trusted(session_cache: Path, tmp_path: Path) -> None:
    """Was: the stamp's `read` hashes were never compared with the manifest's pins, so editing them put any hash into
    every record and cell key. Now such a table fails its check and is rebuilt from verified raw files."""
    from harness.data.tables import read_hashes, stamp_path

    cache = make_cache(session_cache, tmp_path / "cache")
    stamp = json.loads(stamp_path("traces", cache).read_text())
    name = sorted(stamp["read"])[0]
    stamp["read"][name] = "0" * 64
    stamp_path("traces", cache).write_text(json.dumps(stamp, sort_keys=True, indent=1) + "\n")
    check = check_table("traces", cache=cache)
    assert check.status == "corrupt" and f"claims {name} was read with sha256 000000000000" in check.detail
    LOADERS["traces"](cache=cache)  # rebuilt, with the hashes of the bytes it really read
    assert read_hashes(("traces",), cache=cache)[name] == load_manifest()[name].sha256
