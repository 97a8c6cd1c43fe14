"""The box-QP solvers (`cenas.lamoo.boxqp`) on the dual problems LaMOO's splits pose: NB201 encodings with their real
objectives, labelled good/bad as the tree labels them, under the degree-4 polynomial kernel's feature map."""

from __future__ import annotations

import numpy as np
import pytest

from cenas.lamoo.boxqp import solve_box_qp, solve_box_qp_active_set
from cenas.lamoo.dominance import label_good_bad
from cenas.lamoo.svm import monomial_features, svc_gamma
from harness.benchmarks import DEFAULT_BENCHMARK, get_benchmark
from harness.spaces.nb201 import X_UPPER


def split_problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, v) of a split's dual: a = y (n,), +1 for the good half, and v (n, p) the scaled samples' features
    (H = diag(y) K diag(y) = v v')."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    x = np.random.default_rng(seed).uniform(0, X_UPPER, size=(n, 6))
    y = np.where(label_good_bad(bench.objectives(bench.space.decode(x))) == 0, 1.0, -1.0)
    return y, monomial_features(x, 4, svc_gamma(x, "scale")) * y[:, None]


def objective(alpha: np.ndarray, v: np.ndarray) -> float:
    return 0.5 * float(np.sum((v.T @ alpha) ** 2)) - float(alpha.sum())


@pytest.mark.parametrize(("n", "seed"), [(60, 1), (150, 2), (400, 3)])
def test_the_interior_point_reaches_the_optimum(n: int, seed: int) -> None:
    """Converged, feasible, and at the optimum DAQP's active set certifies (stationarity within 1e-6)."""
    a, v = split_problem(n, seed)
    alpha, _, iterations = solve_box_qp(a, v=v)
    assert iterations < 50  # converged
    assert alpha.min() >= -1e-9 and alpha.max() <= 1 + 1e-9 and abs(float(a @ alpha)) < 1e-9
    certified = solve_box_qp_active_set(a, v @ v.T, proximal=n > v.shape[1])
    assert certified is not None
    assert abs(objective(alpha, v) - objective(certified[0], v)) <= 1e-7 * abs(objective(certified[0], v))


@pytest.mark.parametrize(("n", "seed"), [(60, 1), (150, 2)])
def test_woodbury_dense_and_active_set_agree(n: int, seed: int) -> None:
    """The same problem in feature space (Woodbury), as an n x n matrix, and by DAQP's active set: one optimum."""
    a, v = split_problem(n, seed)
    h = v @ v.T
    feature = solve_box_qp(a, v=v)
    dense = solve_box_qp(a, h=h)
    active = solve_box_qp_active_set(a, h, proximal=n > v.shape[1])
    values = [objective(x[0], v) for x in (feature, dense)]
    assert active is not None
    values.append(objective(active[0], v))
    assert max(values) - min(values) <= 1e-7 * max(1.0, abs(min(values)))


def test_an_active_set_answer_that_is_not_optimal_is_refused() -> None:
    """Without the proximal term DAQP cannot solve a singular H (more samples than features): None, not a guess."""
    a, v = split_problem(400, 3)
    assert v.shape[0] > v.shape[1]
    assert solve_box_qp_active_set(a, v @ v.T, proximal=False) is None
