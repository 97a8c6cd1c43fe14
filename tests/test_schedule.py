"""Carbon-aware schedules around carbon-blind searches: what each policy decides on a real trace, the contract of
every scheduled method, and how the oracle bound is declared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.carbon.forecast import persistence
from harness.carbon.traces import load_trace
from harness.carbon.view import CarbonView
from harness.config import RunSpec, parse_budget
from harness.methods import create_method
from harness.runner import execute
from harness.sim.schedule import ScheduleOptions, make_schedule
from harness.testing import MethodContract

TRACE = "US-CAL-CISO@2021-07-02T00:00"
BENCH = "nb201/cifar10/pi5-energy"


class TestRandomSearchThresholdContract(MethodContract):
    method = "random-search-threshold"
    budget = "30h"


class TestRandomSearchCarbonScalerContract(MethodContract):
    method = "random-search-carbonscaler"
    budget = "30h"


class TestVanillaLaMOOThresholdContract(MethodContract):
    method = "vanilla-lamoo-threshold"
    budget = "30h"


class TestVanillaLaMOOCarbonScalerContract(MethodContract):
    method = "vanilla-lamoo-carbonscaler"
    budget = "30h"


@pytest.fixture(scope="module")
def view() -> CarbonView:
    window = load_trace(TRACE).window(hours=96)
    return CarbonView(window, load_trace(window.region))


def test_threshold_trains_every_gpu_exactly_in_the_cleaner_hours_of_its_window(view: CarbonView) -> None:
    """Against its definition recomputed from the trace: train (all G) iff the hour's intensity is at or below the
    median of itself and the persistence forecast of the next 23 hours."""
    schedule = make_schedule(ScheduleOptions(policy="threshold"), view, 8)
    decided, expected = [], []
    for hour in range(96):
        now = hour * 3600.0
        ci = view.current(now)
        window = np.concatenate([[ci], persistence(view.history(now, 24), 23)])
        expected.append(8 if ci <= np.quantile(window, 0.5) else 0)
        decided.append(schedule.train_gpus(now))
    assert decided == expected
    assert 0 < decided.count(8) < 96  # it does suspend, and it does train


def test_carbonscaler_keeps_its_average_utilisation_where_the_threshold_drifts(view: CarbonView) -> None:
    """CarbonScaler's plan delivers `utilisation` x G GPU-hours per hour on average (its deficit is carried), and it
    trains in cleaner hours than it suspends; the threshold keeps no account."""
    scaler = make_schedule(ScheduleOptions(policy="carbonscaler", utilisation=0.25), view, 8)
    hours = range(96)
    train = np.asarray([scaler.train_gpus(h * 3600.0) for h in hours])
    ci = np.asarray([view.current(h * 3600.0) for h in hours])
    assert abs(train.mean() - 0.25 * 8) <= 8 / 24  # within one hour's worth of GPUs of its target
    assert ci[train > 0].mean() < ci[train == 0].mean()
    assert set(np.unique(train)) - {0, 8}  # elastic: some hours get a partial allocation


def test_fixed_and_always_ignore_the_carbon(view: CarbonView) -> None:
    fixed = make_schedule(ScheduleOptions(policy="fixed", train_gpus=3), view, 8)
    always = make_schedule(ScheduleOptions(), view, 8)
    capped = make_schedule(ScheduleOptions(policy="fixed", train_gpus=12), view, 8)
    assert {fixed.train_gpus(h * 3600.0) for h in range(48)} == {3}
    assert {always.train_gpus(h * 3600.0) for h in range(48)} == {8}
    assert capped.train_gpus(0.0) == 8  # never more than the cluster has


def test_only_an_oracle_forecast_is_privileged_and_a_transformer_is_hashed() -> None:
    assert create_method("random-search-threshold", {"schedule.forecaster": "oracle"}).privileged() == (
        "oracle forecast: the true future intensity (schedule)",
    )
    assert create_method("random-search-threshold").privileged() == ()
    assert create_method("random-search", {"schedule.forecaster": "oracle"}).privileged() == ()  # `always` reads none
    models = create_method("vanilla-lamoo-threshold", {"schedule.forecaster": "transformer"}).model_files(
        "sc:US-CAL-CISO"
    )
    assert set(models) == {"forecaster/forecast_sc_US-CAL-CISO.pt", "forecaster/forecast_sc_US-CAL-CISO.onnx"}


def test_a_suspended_search_idles_its_gpus_and_pays_for_it() -> None:
    """Suspended hours: no training, every GPU idle (idle watts charged as the idle term); training happens only in
    the hours the schedule allows; the default schedule keeps every GPU training."""
    spec = RunSpec("random-search-threshold", BENCH, TRACE, parse_budget("48h"), seed=3)
    record = execute(spec)
    suspended = [r for r in record.intervals if r["train_gpus"] == 0]
    assert suspended and all(r["busy_train_gpu_h"] == 0 for r in suspended)
    assert all(r["idle_gpu_h"] == pytest.approx(8 * (r["end_h"] - r["start_h"])) for r in suspended)
    assert all(r["idle_g"] > 0 and r["dynamic_g"] == 0 for r in suspended)
    always = execute(RunSpec("random-search", BENCH, TRACE, parse_budget("48h"), seed=3))
    assert {r["train_gpus"] for r in always.intervals} == {8}
    assert record.summary["n_trained"] < always.summary["n_trained"]


def test_a_published_curve_drops_an_idle_tail_and_keeps_every_value() -> None:
    """CE-NAS sampling on all 8 GPUs under the operational profile fills its queue in the first hour, then can neither
    train nor spend: its published curve keeps that hour and the run's last, the same HV at every carbon and the same
    end; a run that works to its end keeps every hour."""
    from harness.studies.aggregate import CURVE_COLUMNS, hv_at, without_idle_tail

    def curve(method: str, options: dict[str, object]) -> pd.DataFrame:
        spec = RunSpec(
            method,
            f"{BENCH}@floor25",
            TRACE,
            parse_budget("72h"),
            seed=1,
            accounting="operational",
            method_options=options,
        )
        frame = pd.DataFrame(execute(spec).intervals)
        return frame.assign(hour=frame["end_h"])[list(CURVE_COLUMNS)]

    idle = curve("random-allocation", {"policy": "fixed", "fixed_train": 0})
    kept = without_idle_tail(idle)
    assert len(idle) == 72 and idle["cum_carbon_g"].iloc[0] > 0 and idle["cum_carbon_g"].nunique() == 1
    assert kept["hour"].tolist() == [1.0, 72.0]
    pd.testing.assert_frame_equal(kept.iloc[[0, -1]].reset_index(drop=True), idle.iloc[[0, -1]].reset_index(drop=True))
    grid = np.linspace(0.0, 2 * idle["cum_carbon_g"].iloc[-1], 9)
    np.testing.assert_array_equal(hv_at(kept, grid), hv_at(idle, grid))
    working = curve("random-search", {})
    pd.testing.assert_frame_equal(without_idle_tail(working), working)
