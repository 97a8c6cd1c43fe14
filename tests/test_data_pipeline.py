"""Manifest, checksum-verified fetch, atomicity of the cache, and `harness data` commands."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.data.fetch import fetch, raw_path, require, verify
from harness.data.manifest import load_manifest
from harness.errors import DataIntegrityError, HarnessError
from tests.helpers import snapshot

SMALL = "help-latency-essential-ph-1"  # 31663 bytes


def test_manifest_pins_every_mirrored_file(mirror_dir: Path) -> None:
    manifest = load_manifest()
    mirrored = [f for f in manifest if not f.optional]
    upstream = {f["rel"]: f for f in json.loads((mirror_dir / "manifest.json").read_text())["files"]}
    assert len(mirrored) == len(upstream) == 104
    for entry in mirrored:
        assert re.fullmatch(r"[0-9a-f]{40}", entry.commit), entry.name
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256 or ""), entry.name
        assert entry.license and entry.citation, entry.name
        assert upstream[entry.rel]["sha256"] == entry.sha256
        assert upstream[entry.rel]["size"] == entry.size
    assert {f.group for f in manifest} == {"nb201", "carbon", "ecnas", "nb301", "hwnasbench"}


def test_hw_nas_bench_is_pinned_by_git_blob() -> None:
    entry = load_manifest()["hw-nas-bench"]
    assert entry.optional and entry.git_blob == "b0634cb7f6e7be07192c77833df9eafa4baf705e"
    assert entry.url.endswith("/393bb8a02554dcd28e091fbbdb4d7aefe590018a/HW-NAS-Bench-v1_0.pickle")


def test_fetch_verifies_and_then_uses_the_cache(tmp_path: Path) -> None:
    entry = load_manifest()[SMALL]
    [first] = fetch([entry], cache=tmp_path)
    assert first.action == "downloaded" and first.path == raw_path(entry, tmp_path)
    assert first.path.stat().st_size == entry.size
    [second] = fetch([entry], cache=tmp_path)
    assert second.action == "cached"


def test_wrong_sha256_fails_and_leaves_cache_as_it_was(tmp_path: Path) -> None:
    manifest = load_manifest()
    fetch([manifest["help-latency-pixel2"]], cache=tmp_path)  # something already cached
    before = snapshot(tmp_path)
    bad = dataclasses.replace(manifest[SMALL], sha256="0" * 64)
    with pytest.raises(DataIntegrityError) as info:
        fetch(manifest.replace(bad).select([SMALL]), cache=tmp_path)
    message = str(info.value)
    assert SMALL in message and "0" * 64 in message and manifest[SMALL].sha256 in message
    assert snapshot(tmp_path) == before


def test_truncated_download_fails_and_leaves_nothing(tmp_path: Path, mirror_dir: Path, monkeypatch) -> None:
    entry = load_manifest()[SMALL]
    bad_mirror = tmp_path / "mirror"
    copy = bad_mirror / entry.rel
    copy.parent.mkdir(parents=True)
    copy.write_bytes((mirror_dir / entry.rel).read_bytes()[:1000])
    monkeypatch.setenv("CENAS_BENCH_MIRROR", bad_mirror.as_uri())
    cache = tmp_path / "cache"
    with pytest.raises(DataIntegrityError, match=r"size 1000 bytes, expected 31663"):
        fetch([entry], cache=cache)
    assert snapshot(cache) == {}


def test_missing_mirror_file_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CENAS_BENCH_MIRROR", (tmp_path / "empty").as_uri())
    with pytest.raises(HarnessError, match=f"cannot fetch {SMALL}"):
        fetch([load_manifest()[SMALL]], cache=tmp_path / "cache")


def test_verify_names_a_flipped_byte(tmp_path: Path) -> None:
    manifest = load_manifest()
    fetch(manifest.select([SMALL, "help-latency-pixel2"]), cache=tmp_path)
    path = raw_path(manifest[SMALL], tmp_path)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    status = {r.entry.name: r for r in verify(manifest, tmp_path)}
    assert status[SMALL].status == "corrupt" and "sha256 mismatch" in status[SMALL].detail
    assert status["help-latency-pixel2"].status == "ok"


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(HarnessError, match="unknown data file 'nope'"):
        load_manifest().select(["nope"])
    assert {f.group for f in load_manifest().select(["carbon"])} == {"carbon"}


def test_optional_file_explains_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="harness data fetch hw-nas-bench"):
        require("hw-nas-bench", cache=tmp_path)


def test_cli_fetch_all_then_verify_then_corruption(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CENAS_BENCH_CACHE", str(tmp_path))
    runner = CliRunner()
    fetched = runner.invoke(app, ["data", "fetch", "--all"])
    assert fetched.exit_code == 0, fetched.output
    assert "104 files verified (104 downloaded" in fetched.output
    verified = runner.invoke(app, ["data", "verify"])
    assert verified.exit_code == 0 and "104 cached files ok" in verified.output
    again = runner.invoke(app, ["data", "fetch", "--all"])
    assert "0 downloaded" in again.output and "104 cached" in again.output
    victim = raw_path(load_manifest()["ci-sc-GB-2021"], tmp_path)
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0xFF
    victim.write_bytes(bytes(data))
    broken = runner.invoke(app, ["data", "verify"])
    assert broken.exit_code == 1
    assert "ci-sc-GB-2021" in broken.output and "corrupt" in broken.output
    shutil.rmtree(tmp_path)
