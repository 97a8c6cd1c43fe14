"""Submissions (issue 36): the example plugin, installed like any outside package, is submitted as a bundle, verified
by rerunning, and published as a verified row; edited bundles and changed plugin code fail verification with one line.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import cli, one_error_line

PLUGIN = REPO / "examples" / "plugin-method"
TINY = """
schema = "cenas-bench/study/1"
name = "tiny"
description = "two methods, one trace, two seeds, 6 h on 4 GPUs"
traces = ["hotcarbon-1"]
budgets = ["6h"]
gpus = [4]
seeds = 2

[shared_options]                       # the suite's: the plugin declares n_init only, which applies to it
n_init = 8
queue_capacity = 300
"tree.kernel" = "poly"

[[methods]]
name = "random-search"

[[methods]]
name = "cenas-heuristic"
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """The plugin installed into a folder of its own (`pip install --target`, as into a fresh environment), a
    committed one-study results folder, and the plugin's submission bundle for that study's suite."""
    from harness.studies import executors as ex
    from harness.studies import sweep as sw
    from harness.studies.report import report
    from harness.studies.spec import load_study_spec

    root = tmp_path_factory.mktemp("submissions")
    target = root / "site-packages"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr
    spec_file = root / "tiny.toml"
    spec_file.write_text(TINY)
    folder = root / "results" / "tiny"
    sw.sweep(load_study_spec(str(spec_file)), folder, ex.SerialExecutor())
    report(folder, plots=False)
    shutil.rmtree(folder / "records")  # the leaderboard reads the committed form only
    bundle = root / "bundles" / "mutation-search"
    made = cli(
        "submit",
        str(spec_file),
        "--method",
        "mutation-search",
        "--out",
        str(bundle),
        "--workers",
        "1",
        PYTHONPATH=str(target),
    )
    assert made.returncode == 0, made.stderr
    return {"root": root, "target": target, "study": spec_file, "bundle": bundle}


def _copy(world: dict[str, Path], name: str) -> Path:
    copy = world["root"] / "copies" / name
    shutil.copytree(world["bundle"], copy)
    (copy / "verification.json").unlink(missing_ok=True)
    return copy


def test_the_plugin_runs_and_passes_the_method_contract_from_its_own_tests(world) -> None:
    shown = cli("methods", "show", "mutation-search", PYTHONPATH=str(world["target"]))
    assert shown.returncode == 0 and "explore" in shown.stdout, shown.stderr
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN / "tests")],
        capture_output=True,
        text=True,
        cwd=world["root"],
        env={**__import__("os").environ, "PYTHONPATH": str(world["target"])},
    )
    assert tests.returncode == 0 and "7 passed" in tests.stdout, tests.stdout + tests.stderr


def test_a_bundle_holds_what_it_ran_and_a_manifest_of_every_file(world) -> None:
    bundle = world["bundle"]
    submission = json.loads((bundle / "submission.json").read_text())
    assert submission["method"] == "mutation-search" and submission["study"] == "tiny"
    assert (
        submission["package"]["distribution"] == "cenas-bench-mutation" and submission["package"]["version"] == "0.1.0"
    )
    source = world["target"] / "cenas_bench_mutation" / "__init__.py"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert submission["package"]["files"]["cenas_bench_mutation/__init__.py"] == digest
    assert "cenas-bench-mutation==0.1.0" in submission["environment"]
    ran = json.loads((bundle / "study" / "study.json").read_text())["study"]
    assert ran["methods"][0]["options"]["n_init"] == 8  # the suite's shared option it declares
    assert ran["shared_options"] == {"n_init": 8} and submission["suite_settings"]["shared_options"]["queue_capacity"]
    manifest = json.loads((bundle / "MANIFEST.json").read_text())["files"]
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert set(manifest) == on_disk - {"MANIFEST.json", "verification.json"}
    assert len([f for f in manifest if f.startswith("study/records/") and f.endswith(".json")]) == 2


def test_verify_reruns_cells_and_the_site_shows_a_verified_row(world, tmp_path: Path) -> None:
    from tests.test_leaderboard import CHROMIUM

    bundle = world["bundle"]
    checked = cli("verify", str(bundle), "--sample", "2", "--seed", "3", PYTHONPATH=str(world["target"]))
    assert checked.returncode == 0, checked.stderr
    report = json.loads((bundle / "verification.json").read_text())
    assert report["result"] == "clean" and len(report["cells_rerun"]) == 2 and report["records_audited"] == 2
    assert report["manifest_sha256"] == hashlib.sha256((bundle / "MANIFEST.json").read_bytes()).hexdigest()
    site = tmp_path / "site"
    built = cli(
        "leaderboard",
        "build",
        "--results",
        str(world["root"] / "results"),
        "--submissions",
        str(bundle.parent),
        "--out",
        str(site),
        PYTHONPATH=str(world["target"]),
    )
    assert built.returncode == 0, built.stderr
    if CHROMIUM is None:
        pytest.fail("needs headless Chromium: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    (page_file,) = [p for p in site.glob("tiny--*.html")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(page_file.as_uri())
        rows = page.eval_on_selector_all(
            "table.ranking tbody th",
            "ths => ths.map(t => [t.querySelector('a.method').textContent.trim(),"
            " Array.from(t.querySelectorAll('.badge')).map(b => b.textContent.trim())])",
        )
        assert ["mutation-search", ["verified"]] in rows
        assert all(badges == [] for method, badges in rows if method != "mutation-search")
        assert "harness verify" in page.inner_text("#tracks")
        page.click("table.ranking a.method:has-text('mutation-search')")
        card = page.inner_text("main")
        assert "Regularized Evolution" in card and "cenas-bench-mutation 0.1.0" in card and "verified" in card
        page.goto((site / "methodology.html").as_uri())
        assert "cenas_bench_mutation:MutationSearch" in page.inner_text("#submissions + p + table")
        browser.close()
    # an unverified copy of the bundle is published as self-reported
    (bundle / "verification.json").unlink()
    again = cli(
        "leaderboard",
        "build",
        "--results",
        str(world["root"] / "results"),
        "--submissions",
        str(bundle.parent),
        "--out",
        str(site),
        PYTHONPATH=str(world["target"]),
    )
    assert again.returncode == 0, again.stderr
    assert 'class="badge self-reported"' in page_file.read_text()


def test_an_edited_hv_fails_verification_naming_the_file_or_the_cell(world) -> None:
    from harness.submissions import write_manifest

    plain = _copy(world, "edited-table")  # an HV edited in the committed table: the manifest says so
    runs = plain / "study" / "runs.csv.gz"
    text = gzip.decompress(runs.read_bytes()).decode().splitlines()
    head, first = text[0].split(","), text[1].split(",")
    first[head.index("hv")] = str(float(first[head.index("hv")]) + 1.0)
    runs.write_bytes(gzip.compress("\n".join([text[0], ",".join(first), *text[2:]]).encode() + b"\n"))
    one_error_line(
        cli("verify", str(plain), PYTHONPATH=str(world["target"])), "study/runs.csv.gz differs from its manifest entry"
    )
    sneaky = _copy(world, "edited-record")  # an HV edited in a record, its checksum and the manifest redone
    record = sorted((sneaky / "study" / "records").glob("*.json"))[0]
    document = json.loads(record.read_text())
    document["summary"]["hv"] += 1.0
    record.write_text(json.dumps(document))
    record.with_suffix(".sha256").write_text(hashlib.sha256(record.read_bytes()).hexdigest() + "\n")
    write_manifest(sneaky)
    line = one_error_line(cli("verify", str(sneaky), PYTHONPATH=str(world["target"])), "fails the conservation audit")
    assert "mutation-search | nb201/cifar10/pi5-energy | hotcarbon-1" in line and record.name in line
    assert not (sneaky / "verification.json").exists()


def test_changed_plugin_code_fails_verification_naming_the_file(world) -> None:
    changed = world["root"] / "changed-site-packages"
    shutil.copytree(world["target"], changed)
    source = changed / "cenas_bench_mutation" / "__init__.py"
    source.write_text(source.read_text() + "\n# tuned after submitting\n")
    one_error_line(
        cli("verify", str(world["bundle"]), PYTHONPATH=str(changed)),
        "differs from the submitted one: cenas_bench_mutation/__init__.py",
    )


def test_a_bundle_for_another_suite_or_study_is_refused_by_the_build(world, tmp_path: Path) -> None:
    from harness.submissions import write_manifest

    other = _copy(world, "other-suite")
    submission = json.loads((other / "submission.json").read_text())
    submission["suite"] = "0" * 64
    (other / "submission.json").write_text(json.dumps(submission))
    write_manifest(other)
    folder = tmp_path / "bundles"
    shutil.copytree(other, folder / "other")
    one_error_line(
        cli(
            "leaderboard",
            "build",
            "--results",
            str(world["root"] / "results"),
            "--submissions",
            str(folder),
            "--out",
            str(tmp_path / "site"),
            PYTHONPATH=str(world["target"]),
        ),
        "was made for another version of suite tiny",
    )
    assert not (tmp_path / "site").exists()
    one_error_line(
        cli("submit", "hotcarbon", "--method", "no-such-method", "--out", str(tmp_path / "b")),
        "unknown method 'no-such-method'",
    )
    assert not (tmp_path / "b").exists()
