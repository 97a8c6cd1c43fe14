"""Hypervolume and derived metrics; the CE-NAS reference artifact fixtures (spec Appendix A)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pymoo.indicators.hv import HV

from harness.metrics import carbon_to_target, hypervolume, log_hv_difference, pareto_mask

CENAS_REF = (0.0, -50.0)


@pytest.fixture(scope="module")
def artifact(upstream):
    return torch.load(upstream("cenas-rl-0-T40"), weights_only=True)


def test_reference_fixture_hv_of_initial_samples(artifact) -> None:
    f0 = artifact[0]["obj"].numpy().astype(np.float64)
    assert f0.shape == (10, 2)
    assert hypervolume(f0, CENAS_REF) == pytest.approx(2821.2585, abs=1e-4)
    assert hypervolume(f0, CENAS_REF) == pytest.approx(artifact[0]["hv"], abs=1e-3)  # stored in float32


def test_reference_fixture_hv_after_hour_one(artifact) -> None:
    f1 = artifact[1]["obj"].numpy().astype(np.float64)
    assert f1.shape == (15, 2)
    assert hypervolume(f1, CENAS_REF) == pytest.approx(2976.0051, abs=1e-4)
    assert artifact[1]["cost"] == pytest.approx(2386.51)


def test_hypervolume_agrees_with_pymoo_on_real_points(nb201_table) -> None:
    rng = np.random.default_rng(7)
    points = nb201_table[["cifar10_acc", "lat_pixel3_ms"]].to_numpy() * [1, -1]
    for size in (1, 5, 50, 500):
        sample = points[rng.choice(len(points), size, replace=False)]
        expected = HV(ref_point=np.array([0.0, 41.0]))(-sample)
        assert hypervolume(sample, (0.0, -41.0)) == pytest.approx(expected, rel=1e-12)


def test_hypervolume_edge_cases() -> None:
    assert hypervolume(np.empty((0, 2)), CENAS_REF) == 0.0
    assert hypervolume([[10.0, -60.0]], CENAS_REF) == 0.0  # outside the reference box
    assert hypervolume([[10.0, -40.0]], CENAS_REF) == pytest.approx(100.0)


def test_pareto_mask_keeps_duplicates() -> None:
    f = np.array([[1.0, -1.0], [1.0, -1.0], [0.5, -2.0], [2.0, -3.0]])
    np.testing.assert_array_equal(pareto_mask(f), [True, True, False, True])


def test_log_hv_difference_and_carbon_to_target() -> None:
    assert log_hv_difference(4050.7236328125, 4150.7236328125) == pytest.approx(2.0)
    assert log_hv_difference(5.0, 5.0) == -math.inf
    assert log_hv_difference(90.0, 100.0, base=math.e) == pytest.approx(math.log(10))
    carbon = [0.0, 10.0, 25.0, 40.0]
    hv = [1.0, 5.0, 9.0, 9.5]
    assert carbon_to_target(carbon, hv, 9.0) == 25.0
    assert carbon_to_target(carbon, hv, 10.0) is None
