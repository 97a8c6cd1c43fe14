"""Test configuration: every test reads the real upstream files through the mirror; no test uses the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = REPO.parent / "shared" / "data" / "upstream"


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("CENAS_BENCH_MIRROR"):
        if not DEFAULT_MIRROR.is_dir():
            raise pytest.UsageError(
                "set CENAS_BENCH_MIRROR=file:///abs/path/to/upstream (the tests never use the network)"
            )
        os.environ["CENAS_BENCH_MIRROR"] = DEFAULT_MIRROR.as_uri()
    if not os.environ.get("CENAS_BENCH_CACHE"):
        os.environ["CENAS_BENCH_CACHE"] = str(REPO / ".pytest_cache" / "cenas-bench-cache")


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """Local folder of the mirror (file:// URL), for tests that read an upstream file directly."""
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    return Path(url2pathname(urlparse(os.environ["CENAS_BENCH_MIRROR"]).path))


@pytest.fixture(scope="session")
def upstream(mirror_dir: Path):
    """`upstream(name)` -> path of the named manifest file inside the mirror."""
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    return lambda name: mirror_dir / manifest[name].rel


@pytest.fixture(scope="session")
def nb201_table():
    from harness.data.build_nb201 import load_nb201

    return load_nb201()


SLOW = (
    "tests/test_optional.py::test_the_default_method_runs_without_torch",
    # whole modules of end-to-end checks (subprocess CLIs, headless Chromium, kills, real training)
    "tests/test_faults.py",
    "tests/test_fault_inputs.py",
    "tests/test_leaderboard.py",
    # small sweeps under two accounting profiles (a module fixture), then hindsight, sensitivity and the site
    "tests/test_sensitivity.py::test_the_hindsight",
    "tests/test_sensitivity.py::test_the_sensitivity_board",
    "tests/test_sensitivity.py::test_a_sensitivity_board_refuses",
    "tests/test_sensitivity.py::test_the_site_renders",
    "tests/test_submissions.py",
    "tests/test_spotcheck.py",
    "tests/test_quality_gate.py",
    # single tests or classes over a second each on the 2-core machine (`pytest --durations=150`, 2026-12-06)
    "tests/test_allocation.py::test_a_reference_run_with_the_interior_point_tree_skips_dynamo_and_sklearn",
    "tests/test_allocation.py::test_the_agents_rmsprop_takes_torchs_steps",
    "tests/test_audit.py::test_every_method_conserves_work_energy_and_carbon",
    "tests/test_audit.py::test_the_leaderboard_refuses_a_study_published_without_a_clean_audit",
    "tests/test_baselines.py::TestQNEHVIContract",
    "tests/test_baselines.py::test_busy_oneshot_lamoo_estimates_each_architecture_once_and_idles_when_none_is_left",
    "tests/test_baselines.py::test_hotcarbon_table_and_byte_identical_regeneration",
    "tests/test_baselines.py::test_interior_point_records_do_not_depend_on_blas_threads",
    "tests/test_benchmarks.py::test_cli_show_on_a_surrogate_samples_and_names_the_reference_front",
    "tests/test_carbon_view.py::test_decisions_up_to_an_hour_do_not_depend_on_the_future",
    "tests/test_doc_examples.py::test_every_python_example_runs",
    "tests/test_goldens.py::test_golden_run_is_unchanged",
    "tests/test_hwnasbench_reader.py::test_pickle_in_cache_adds_columns_to_nb201_table",
    "tests/test_inference.py::test_a_checkpoint_without_export_is_one_error_line_and_rl_export_mends_it",
    "tests/test_lamoo.py::test_qnehvi_",
    "tests/test_lamoo.py::test_tree_agreement_interior_point_vs_libsvm",
    "tests/test_new_benchmarks_methods.py::TestQNEHVIThreeObjectives",
    "tests/test_rl_clean.py::test_reward_parts_price_every_policy_from_one_set_of_episodes",
    "tests/test_saturation.py::test_benchmarks_show_prints_the_saturation_table",
    "tests/test_semoa.py::test_ecnas_points_study_writes_both_rows",
    "tests/test_studies.py::test_a_scheduler_without_workers_is_warned_about_and_the_heartbeat_says_so",
    "tests/test_studies.py::test_a_sweep_killed_with_sigkill_resumes_to_the_same_bytes",
    "tests/test_studies.py::test_an_interrupted_sweep_stops_cleanly_with_no_orphan_workers",
    "tests/test_studies.py::test_records_do_not_depend_on_the_executor",
    "tests/test_studies.py::test_report_writes_tables_and_plots",
    "tests/test_studies.py::test_sweep_bad_input_is_one_line_and_writes_nothing",
    "tests/test_studies.py::test_version_and_study_show_json_are_machine_readable",
)
"""Tests left out of the README's quick check (`pytest -m "not slow"`); the full suite (`.ci/run`) runs them all."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the `SLOW` tests `slow` (a prefix of their node id: a module, class, test or test-name stem)."""
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
