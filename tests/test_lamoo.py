"""LaMOO pieces on real objective vectors (CE-NAS artifact points, NB201 rows): dominance, labels, splits, UCB."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cenas.lamoo import boxqp
from cenas.lamoo import svm as svm_module
from cenas.lamoo.dominance import dominance_counts, label_good_bad, pick_least_dominated
from cenas.lamoo.samplers import QNEHVISampler, RegionSampler, _front_and_recent
from cenas.lamoo.svm import ACTIVE_SET_SPAN, IPMSplitSVM, SplitSVM, monomial_features, svc_gamma
from cenas.lamoo.tree import (
    Node,
    RebuildCache,
    SplitMemo,
    TreeConfig,
    _thin,
    build_tree,
    fit_split,
    in_region,
    leaf_select,
    leaves,
    mcts_select,
    path_to,
    uct,
)
from harness.benchmarks import DEFAULT_BENCHMARK, get_benchmark
from harness.errors import HarnessError
from harness.metrics import pareto_mask
from harness.spaces.nb201 import X_UPPER


@pytest.fixture(scope="module")
def artifact(upstream):
    data = torch.load(upstream("cenas-rl-0-T40"), weights_only=True)
    return data[1]["samples"].numpy(), data[1]["obj"].numpy().astype(np.float64)


def brute_force_counts(f: np.ndarray) -> list[int]:
    return [sum(1 for i in range(len(f)) if i != j and all(f[i] >= f[j])) for j in range(len(f))]


def _scored(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n uniform NB201 encodings (n, 6) and their real objectives (n, 2) from the default benchmark's table."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    x = np.random.default_rng(seed).uniform(0, X_UPPER, size=(n, 6))
    return x, bench.objectives(bench.space.decode(x))


def test_dominance_counts_weak_with_duplicates(artifact) -> None:
    _, f = artifact
    with_duplicate = np.vstack([f, f[[4]]])  # row 4 twice: each counts the other
    counts = dominance_counts(with_duplicate)
    assert counts.tolist() == brute_force_counts(with_duplicate)
    assert counts[4] == counts[15] == dominance_counts(f)[4] + 1


def test_growing_counts_equal_a_fresh_count(artifact) -> None:
    """Counts updated for appended rows (with duplicates, several rows at a time) are the integers a fresh count
    gives; a set that does not extend the last one is counted afresh."""
    from cenas.lamoo.dominance import GrowingCounts

    _, f = artifact
    points = np.vstack([f, f[[4, 9]], f[::-1]])  # duplicates of earlier rows among the appended ones
    counts = GrowingCounts()
    sizes = (5, 6, 6, 12, len(points) - 3, len(points))
    for n in sizes:
        np.testing.assert_array_equal(counts(points[:n]), dominance_counts(points[:n]))
    assert counts.updates == 4  # the first is counted, the repeated 6 is unchanged, the other four are updates
    np.testing.assert_array_equal(counts(points[3:25]), dominance_counts(points[3:25]))  # shorter: counted afresh
    np.testing.assert_array_equal(counts(points[:30]), dominance_counts(points[:30]))  # longer, other prefix: afresh
    assert counts.updates == 4


def test_least_dominated_ties_go_to_the_earliest(artifact) -> None:
    _, f = artifact
    counts = dominance_counts(f)
    tied = np.flatnonzero(counts == counts.min())
    assert pick_least_dominated(f) == tied[0]
    assert pick_least_dominated(np.vstack([f[[3]], f[[3]]])) == 0  # identical points: FIFO


def test_against_counts_observed_points_too(artifact) -> None:
    _, f = artifact
    extra = dominance_counts(f[:5], against=f[5:]) - dominance_counts(f[:5])
    assert extra.tolist() == [sum(all(g >= p) for g in f[5:]) for p in f[:5]]


@pytest.mark.parametrize(("n", "against"), [(600, 0), (1_000, 0), (2_000, 0), (120, 2_500), (400, 900)])
def test_sorted_two_objective_counts_equal_the_matrix(monkeypatch, n: int, against: int) -> None:
    """Above SORTED_FROM the counts come from the sorted Fenwick-block form: the same integers as the boolean matrix
    on real NB201 objectives, which repeat (uniform encodings land on the same architecture; costs tie)."""
    from cenas.lamoo import dominance

    _, f = _scored(n + against, seed=n)
    assert len(np.unique(f, axis=0)) < len(f)  # duplicates present: weak dominance counts them
    points, others = f[:n], f[n:] if against else None
    fast, fast_labels = dominance_counts(points, others), label_good_bad(points)
    assert n * max(n, against) > dominance.SORTED_FROM  # the sorted form ran
    monkeypatch.setattr(dominance, "SORTED_FROM", 10**12)  # the matrix only
    np.testing.assert_array_equal(fast, dominance_counts(points, others))
    np.testing.assert_array_equal(fast_labels, label_good_bad(points))


@pytest.mark.parametrize(
    ("solver", "kernel", "n"),
    [
        ("libsvm", "poly", 40),
        ("libsvm", "poly", 400),
        ("libsvm", "rbf", 150),
        ("libsvm", "rbf", 300),
        ("ipm", "poly", 40),
        ("ipm", "poly", 400),
        ("ipm", "linear", 200),
    ],
)
def test_split_check_witnesses_are_labelled_their_own_class(solver: str, kernel: str, n: int) -> None:
    """Each fit names a free support vector of each class (libsvm: 0 < alpha < C, where y f(x) = 1 within its
    tolerance; ipm: alpha nearest C/2), which the SVM labels as its own class, so the split check usually predicts two
    points; its answer is always that of predicting every sample."""
    from cenas.lamoo.tree import _predicts_both

    x, f = _scored(n, seed=n)
    labels = label_good_bad(f)
    svm = (SplitSVM if solver == "libsvm" else IPMSplitSVM)(kernel, 4, "scale").fit(x, labels)
    witnesses = svm.witnesses()
    assert labels[witnesses].tolist() == [0, 1] and svm.predict(x[witnesses]).tolist() == [0, 1]
    assert _predicts_both(svm, x) == (len(set(svm.predict(x).tolist())) == 2) is True
    same = np.repeat(x[:1], n, axis=0)  # one point repeated: one label for all, whatever the witnesses say
    assert _predicts_both(SplitSVM(kernel, 4, "scale").fit(same, labels), same) is False


@pytest.mark.parametrize("n", [10, 11, 15])
def test_label_split_sizes_and_stable_ties(artifact, n) -> None:
    _, f = artifact
    points = np.vstack([f, f])[:n]
    labels = label_good_bad(points)
    assert (labels == 0).sum() == int(0.5 * n)
    order = np.argsort(dominance_counts(points), kind="stable")
    assert set(np.flatnonzero(labels == 0)) == set(order[: int(0.5 * n)])


def test_svm_splittable_rule(artifact) -> None:
    x, f = artifact
    labels = label_good_bad(f)
    assert fit_split(x, labels, TreeConfig()) is not None  # both classes, SVM separates the training points
    assert fit_split(x, np.zeros(len(x), dtype=np.int8), TreeConfig()) is None  # one class
    same_x = np.repeat(x[:1], len(x), axis=0)  # one point repeated: the SVM can only predict one class
    assert fit_split(same_x, labels, TreeConfig()) is None


@pytest.mark.parametrize(
    ("kernel", "degree", "gamma"), [("poly", 4, "scale"), ("rbf", 3, "scale"), ("linear", 3, "auto"), ("poly", 3, 0.7)]
)
def test_split_svm_is_sklearns_svc(artifact, capfd, kernel: str, degree: int, gamma) -> None:
    """SplitSVM calls libsvm as SVC does without SVC's per-call checks: same support vectors, coefficients and labels,
    on CE-NAS's artifact samples and on NB201 samples, and on 10,000 probe points."""
    from sklearn.svm import SVC

    bench = get_benchmark(DEFAULT_BENCHMARK)
    rng = np.random.default_rng(5)
    x_nb = rng.uniform(0, X_UPPER, size=(400, 6))
    for x, f in (artifact, (x_nb, bench.objectives(bench.space.decode(x_nb)))):
        labels = label_good_bad(f)
        ours = SplitSVM(kernel, degree, gamma).fit(x, labels)
        theirs = SVC(kernel=kernel, degree=degree, gamma=gamma).fit(x, labels)
        np.testing.assert_array_equal(ours.support_, theirs.support_)
        np.testing.assert_array_equal(ours._dual_coef, -theirs.dual_coef_)  # libsvm's orientation: label 0 positive
        np.testing.assert_array_equal(ours._intercept, -theirs.intercept_)
        probes = np.vstack([x, rng.uniform(0, 1, size=(10_000, x.shape[1]))])
        np.testing.assert_array_equal(ours.predict(probes), theirs.predict(probes))
    assert capfd.readouterr().out == ""  # libsvm's progress dots stay off


def _libsvm_values(svm: SplitSVM, x: np.ndarray) -> np.ndarray:
    """libsvm's own decision values (n,) for a fitted SplitSVM (positive for label 0): `SVC.decision_function`, which
    libsvm computes, with sklearn's two-class sign flip undone."""
    return -svm._svc.decision_function(np.ascontiguousarray(x)).ravel()


@pytest.mark.parametrize(
    ("kernel", "degree", "gamma"), [("rbf", 3, "scale"), ("poly", 4, "scale"), ("linear", 1, "auto")]
)
def test_split_svm_predict_defers_to_libsvm_near_the_boundary(monkeypatch, kernel: str, degree: int, gamma) -> None:
    """`SplitSVM.predict` computes decision values with BLAS and hands every point within its rounding bound of zero
    to libsvm: on 10,000 probes the vectorised values stay far inside the bound of libsvm's, and points bisected onto
    the boundary (libsvm's value below 1e-9) are exactly the ones handed over, labelled as libsvm labels them."""
    x, f = _scored(300, seed=17)
    svm = SplitSVM(kernel, degree, gamma).fit(x, label_good_bad(f))
    probes = np.random.default_rng(18).uniform(0, X_UPPER, size=(10_000, 6))
    values, doubt = svm._values(probes)
    libsvm_values = _libsvm_values(svm, probes)
    assert (np.abs(values - libsvm_values) / doubt).max() <= 1e-2  # the bound holds with a wide margin
    assert (np.abs(values) > doubt).all()  # no random probe needs libsvm
    good, bad = probes[libsvm_values > 0][:20], probes[libsvm_values <= 0][:20]
    low, high = np.zeros(len(good)), np.ones(len(good))  # bisect each segment good -> bad on libsvm's sign
    for _ in range(60):
        mid = (low + high) / 2
        positive = _libsvm_values(svm, good + mid[:, None] * (bad - good)) > 0
        low, high = np.where(positive, mid, low), np.where(positive, high, mid)
    edge = np.vstack([good + low[:, None] * (bad - good), good + high[:, None] * (bad - good)])
    assert np.abs(_libsvm_values(svm, edge)).max() < 1e-9
    handed: list[int] = []
    original = SplitSVM._libsvm_predict
    monkeypatch.setattr(SplitSVM, "_libsvm_predict", lambda self, pts: handed.append(len(pts)) or original(self, pts))
    labels = svm.predict(np.vstack([probes, edge]))
    assert handed == [len(edge)]
    np.testing.assert_array_equal(labels, original(svm, np.vstack([probes, edge])))
    assert set(labels[len(probes) :].tolist()) == {0, 1}  # both sides of the boundary


def test_split_svm_predicts_in_blocks(monkeypatch) -> None:
    """Batches larger than one block of kernel values are labelled block by block with the same labels."""
    x, f = _scored(300, seed=19)
    svm = SplitSVM("rbf", 3, "scale").fit(x, label_good_bad(f))
    probes = np.random.default_rng(20).uniform(0, X_UPPER, size=(3_000, 6))
    whole = svm.predict(probes)
    monkeypatch.setattr(svm, "_chunk", 7)
    np.testing.assert_array_equal(svm.predict(probes), whole)
    np.testing.assert_array_equal(whole, svm._libsvm_predict(probes))


def test_monomial_features_reproduce_the_poly_kernel(artifact) -> None:
    """phi(x).phi(z) = (gamma x.z)^4: the interior-point solver's feature space is the poly-4 kernel's."""
    x = artifact[0]
    gamma = svc_gamma(x, "scale")
    phi = monomial_features(x, 4, gamma)
    assert phi.shape == (len(x), 126)  # C(6 + 3, 4) monomials of degree 4 in six coordinates
    kernel = (gamma * (x @ x.T)) ** 4
    np.testing.assert_allclose(phi @ phi.T, kernel, rtol=1e-12, atol=1e-12 * kernel.max())


def _primal_objective(w: np.ndarray, b: float, phi: np.ndarray, labels: np.ndarray) -> float:
    """1/2 |w|^2 + C sum_i hinge(y_i (w.phi_i + b)), C = 1, y = +1 for label 0 (the problem both solvers solve)."""
    y = np.where(labels == 0, 1.0, -1.0)
    return float(0.5 * w @ w + np.maximum(0.0, 1.0 - y * (phi @ w + b)).sum())


@pytest.mark.parametrize("n_uniform", [0, 100, 160, 400])
def test_interior_point_reaches_libsvms_optimum(artifact, n_uniform: int) -> None:
    """The exact solver (`tree.solver=ipm`) solves libsvm's problem to optimality: its primal objective is no worse
    than libsvm's (which stops at a KKT tolerance), and it labels the samples and 10,000 probes as libsvm does but for
    points on the boundary. CE-NAS's 15 artifact samples (n_uniform = 0) and 100 uniform NB201 encodings (fewer
    samples than the 126 features) are solved by the active-set method on the n x n kernel problem, 160 by it with
    proximal steps (H singular), 400 by the interior point in feature space."""
    x, f = _scored(n_uniform, 8) if n_uniform else artifact
    labels = label_good_bad(f)
    ours = IPMSplitSVM("poly", 4, "scale").fit(x, labels)
    ref = SplitSVM("poly", 4, "scale").fit(x, labels)
    assert ours._fallback is None and ours._primal == (len(x) > 126)
    assert ours.method_ == ("interior-point" if len(x) > ACTIVE_SET_SPAN * 126 else "active-set")
    assert ours.method_ == "active-set" or ours.iterations_ < 40
    phi = monomial_features(x, 4, ref._gamma)
    w_ours = ours._w if ours._primal else phi.T @ ours._coef
    w_ref = monomial_features(ref.support_vectors_, 4, ref._gamma).T @ ref._dual_coef[0]
    ours_obj = _primal_objective(w_ours, ours._b, phi, labels)
    ref_obj = _primal_objective(w_ref, float(ref._intercept[0]), phi, labels)
    assert ours_obj <= ref_obj * (1 + 1e-9), (ours_obj, ref_obj)
    assert ours_obj >= ref_obj * (1 - 1e-2)  # libsvm stops near the same optimum
    probes = np.vstack([x, np.random.default_rng(9).uniform(0, X_UPPER, size=(10_000, 6))])
    assert (ours.predict(probes) == ref.predict(probes)).mean() >= 0.999
    np.testing.assert_array_equal(ours.predict(probes), IPMSplitSVM("poly", 4, "scale").fit(x, labels).predict(probes))


@pytest.mark.parametrize("n_uniform", [0, 100, 160])
def test_active_set_and_interior_point_reach_the_same_optimum(artifact, n_uniform: int, monkeypatch) -> None:
    """Where the active-set method answers, the interior point (what answers where it finds no optimum) reaches the
    same optimum: objectives within 1e-7 (relative), the same labels on the samples and on >= 99.99 % of 10,000
    probes."""
    x, f = _scored(n_uniform, 8) if n_uniform else artifact
    labels = label_good_bad(f)
    active = IPMSplitSVM("poly", 4, "scale").fit(x, labels)
    monkeypatch.setattr(svm_module, "solve_box_qp_active_set", lambda *args, **kwargs: None)
    interior = IPMSplitSVM("poly", 4, "scale").fit(x, labels)
    assert (active.method_, interior.method_) == ("active-set", "interior-point")
    phi = monomial_features(x, 4, svc_gamma(x, "scale"))
    objectives = [
        _primal_objective(s._w if s._primal else phi.T @ s._coef, s._b, phi, labels) for s in (active, interior)
    ]
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-7)
    np.testing.assert_array_equal(active.predict(x), interior.predict(x))
    probes = np.random.default_rng(10).uniform(0, X_UPPER, size=(10_000, 6))
    assert (active.predict(probes) == interior.predict(probes)).mean() >= 0.9999


def test_the_active_set_takes_only_small_problems(monkeypatch) -> None:
    """Above `ACTIVE_SET_MAX_N` samples (where DAQP's O(n^2)-per-step updates lose to the interior point's
    factorisations) the interior point answers, even with more features than samples."""
    x, f = _scored(100, 8)
    labels = label_good_bad(f)
    assert IPMSplitSVM("poly", 4, "scale").fit(x, labels).method_ == "active-set"
    monkeypatch.setattr(svm_module, "ACTIVE_SET_MAX_N", 99)
    svm = IPMSplitSVM("poly", 4, "scale").fit(x, labels)
    assert svm.method_ == "interior-point" and not svm._primal


def test_interior_point_degenerate_inputs(artifact) -> None:
    """Identical points with both labels (the optimum predicts one class; the kernel matrix is singular, where the
    active-set method finds no optimum and the interior point answers); the linear kernel, other degrees, a numeric
    gamma and 'auto'."""
    x, f = artifact
    labels = label_good_bad(f)
    same = IPMSplitSVM("poly", 4, "scale").fit(np.repeat(x[:1], len(x), axis=0), labels)
    assert same._fallback is None and same.method_ == "interior-point" and len(np.unique(same.predict(x))) == 1
    assert fit_split(np.repeat(x[:1], len(x), axis=0), labels, TreeConfig(solver="ipm")) is None
    probes = np.random.default_rng(3).uniform(0, X_UPPER, size=(10_000, 6))
    for kernel, degree, gamma in (("linear", 4, "scale"), ("poly", 3, 0.7), ("poly", 2, "auto")):
        ours = IPMSplitSVM(kernel, degree, gamma).fit(x, labels)
        ref = SplitSVM(kernel, degree, gamma).fit(x, labels)
        assert ours._fallback is None
        assert (ours.predict(probes) == ref.predict(probes)).mean() >= 0.999, (kernel, degree, gamma)
    with pytest.raises(ValueError, match="no finite feature map"):
        IPMSplitSVM("rbf", 3, "scale")


@pytest.mark.parametrize("fault", ["iteration limit", "no positive pivot"])
def test_interior_point_falls_back_to_libsvm_when_it_does_not_converge(artifact, monkeypatch, fault: str) -> None:
    """Neither exact method answers (the active set finds no optimum; the interior point stops at its limit, or its
    Cholesky factorisation finds no positive pivot): libsvm."""
    x, f = artifact
    labels = label_good_bad(f)
    monkeypatch.setattr(svm_module, "solve_box_qp_active_set", lambda *args, **kwargs: None)
    if fault == "iteration limit":
        monkeypatch.setattr(IPMSplitSVM, "MAX_ITER", 2)
    else:  # LAPACK's answer for a matrix that is not numerically positive definite
        monkeypatch.setattr(boxqp.lapack, "dpotrf", lambda matrix, clean: (matrix, 1))
    svm = IPMSplitSVM("poly", 4, "scale").fit(x, labels)
    assert svm.iterations_ == IPMSplitSVM.MAX_ITER and svm._fallback is not None and svm.method_ == "libsvm"
    probes = np.random.default_rng(4).uniform(0, X_UPPER, size=(2_000, 6))
    np.testing.assert_array_equal(svm.predict(probes), SplitSVM("poly", 4, "scale").fit(x, labels).predict(probes))


def _leaf_of(root: Node, x: np.ndarray) -> np.ndarray:
    """Each point's leaf (n,): its index in `leaves(root)`, from the regions the sampler uses (`in_region`)."""
    inside = np.array([in_region(x, path_to(leaf)) for leaf in leaves(root)])
    assert (inside.sum(axis=0) == 1).all()  # the leaves' regions partition the space
    return inside.argmax(axis=0)


@pytest.mark.parametrize("n", [300, 1500])
def test_tree_agreement_interior_point_vs_libsvm(artifact, n: int) -> None:
    """Issue 16's agreement test: the faithful tree (poly-4 SVMs on every sample, depth 3) built with libsvm and with
    the interior-point solver puts the samples and 10,000 uniform probes in the same leaf (>= 99.9 %; measured
    100 % / 99.97 % at both n = 300 and n = 1500: uniform NB201 samples, real objectives)."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    x, f = _scored(n, 11)
    libsvm_tree = build_tree(x, f, bench.ref_point, TreeConfig())
    ipm_tree = build_tree(x, f, bench.ref_point, TreeConfig(solver="ipm"))
    assert [leaf.n for leaf in leaves(libsvm_tree)] == [leaf.n for leaf in leaves(ipm_tree)]
    probes = np.random.default_rng(12).uniform(0, X_UPPER, size=(10_000, 6))
    on_samples = (_leaf_of(libsvm_tree, x) == _leaf_of(ipm_tree, x)).mean()
    on_probes = (_leaf_of(libsvm_tree, probes) == _leaf_of(ipm_tree, probes)).mean()
    print(f"leaf agreement n={n}: samples {on_samples:.5f}, probes {on_probes:.5f}")
    assert on_samples >= 0.999 and on_probes >= 0.999


def test_rebuild_cache_gives_the_same_tree_with_fewer_fits() -> None:
    """`cenas`'s rebuild after each new sample, with a `RebuildCache`: every tree equals the one built without it (same
    leaves, same samples in them, the same leaf for 2,000 probes), nodes whose samples and labels did not change reuse
    the previous tree's SVM object, the root's counts are updated rather than recounted, and a cache from other
    samples is never hit."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    x, f = _scored(212, 21)
    config = TreeConfig(kernel="rbf", svm_max_samples=300)
    probes = np.random.default_rng(22).uniform(0, X_UPPER, size=(2_000, 6))
    cache, previous, reused = RebuildCache(), set(), 0
    for n in range(200, 213):
        cached = build_tree(x[:n], f[:n], bench.ref_point, config, cache)
        fresh = build_tree(x[:n], f[:n], bench.ref_point, config)
        assert [leaf.rows.tolist() for leaf in leaves(cached)] == [leaf.rows.tolist() for leaf in leaves(fresh)]
        np.testing.assert_array_equal(_leaf_of(cached, probes), _leaf_of(fresh, probes))
        svms = {id(node.svm) for node in _nodes(cached) if node.svm is not None}  # the last tree's SVMs are alive
        reused, previous = reused + len(svms & previous), svms
    assert 0 < reused <= cache.hits  # hits also return "not splittable" answers
    assert cache.root_counts.updates == 12  # every rebuild after the first updated the root's counts
    print(f"rebuild cache: {cache.hits} splits of 13 rebuilds reused, {reused} of them SVMs")
    other = RebuildCache()
    build_tree(x[12:], f[12:], bench.ref_point, config, other)
    build_tree(x[:200], f[:200], bench.ref_point, config, other)
    assert other.hits == 0


def test_a_split_memo_serves_another_run_the_same_trees_and_stays_within_its_bytes() -> None:
    """A `SplitMemo` shared by two rebuild sequences over the same samples (two runs of a sweep bundle): the second
    builds the same trees as without it, fitting nothing; another solver's or setting's answers are never served; a
    full memo stops adding and still serves what it holds."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    x, f = _scored(140, 23)
    config = TreeConfig(solver="ipm")
    memo = SplitMemo()
    first = [build_tree(x[:n], f[:n], bench.ref_point, config, RebuildCache(memo)) for n in (120, 130, 140)]
    stored = len(memo.answers)
    assert stored > 0 and memo.hits == 0
    second = [build_tree(x[:n], f[:n], bench.ref_point, config, RebuildCache(memo)) for n in (120, 130, 140)]
    assert memo.hits == stored and len(memo.answers) == stored  # every split served, none fitted
    probes = np.random.default_rng(24).uniform(0, X_UPPER, size=(2_000, 6))
    for a, b in zip(first, second, strict=True):
        fresh = build_tree(x[: a.n], f[: a.n], bench.ref_point, config)
        assert [leaf.rows.tolist() for leaf in leaves(b)] == [leaf.rows.tolist() for leaf in leaves(fresh)]
        np.testing.assert_array_equal(_leaf_of(b, probes), _leaf_of(fresh, probes))
    build_tree(x, f, bench.ref_point, TreeConfig(solver="libsvm"), RebuildCache(memo))
    assert memo.hits == stored and len(memo.answers) > stored  # libsvm's answers are its own
    small = SplitMemo(max_bytes=memo.bytes // 4)
    build_tree(x, f, bench.ref_point, config, RebuildCache(small))
    assert 0 < len(small.answers) < stored and small.bytes <= small.max_bytes
    build_tree(x, f, bench.ref_point, config, RebuildCache(small))
    assert small.hits == len(small.answers)


def _nodes(root: Node) -> list[Node]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.kids)
    return out


def test_tree_rules_on_real_samples() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, X_UPPER, size=(120, 6))
    f = bench.objectives(bench.space.decode(x))
    assert build_tree(x[:10], f[:10], bench.ref_point, TreeConfig()).is_leaf  # 10 samples: no split (strict >)
    root = build_tree(x, f, bench.ref_point, TreeConfig())
    all_leaves = leaves(root)
    assert 2 <= len(all_leaves) <= 8 and max(leaf.height for leaf in all_leaves) <= 3
    assert sorted(np.concatenate([leaf.rows for leaf in all_leaves]).tolist()) == list(range(120))
    good, bad = root.kids
    assert good.n == int(0.5 * 120) and set(good.rows) == set(np.flatnonzero(label_good_bad(f) == 0))
    assert bad.n == 120 - good.n
    assert uct(root, 30.0) == math.inf
    expected = good.value + 2 * 30.0 * math.sqrt(2 * math.log(120) / good.n)
    assert uct(good, 30.0) == pytest.approx(expected)
    leaf, path = leaf_select(root, 30.0, rng)
    assert leaf.is_leaf and len(path) == leaf.height
    assert mcts_select(root, 30.0, rng)[0].is_leaf
    members = in_region(x[leaf.rows], path)
    assert members.mean() > 0.5  # the SVM boundaries hold most of the leaf's own samples


def test_region_sampler_stays_inside_and_falls_back() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, X_UPPER, size=(60, 6))
    root = build_tree(x, bench.objectives(bench.space.decode(x)), bench.ref_point, TreeConfig())
    _, path = leaf_select(root, 30.0, rng)
    sampler = RegionSampler(np.random.default_rng(2), 6)
    sampler.reset(path)
    points = np.array([sampler.sample() for _ in range(200)])
    assert in_region(points, path).all() and ((points >= 0) & (points <= X_UPPER)).all()
    contradiction = [(root, 0), (root, 1)]  # the same boundary both ways: an empty region
    sampler = RegionSampler(np.random.default_rng(3), 6, batch=256, max_empty=3)
    sampler.reset(contradiction)
    point = sampler.sample()
    assert sampler.shrinks == 1 and in_region(point, contradiction[:1]).all()


def test_svm_thinning_keeps_class_shares_and_still_splits() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    x, f = _scored(900, 4)
    labels = label_good_bad(f)
    thin_x, thin_labels = _thin(x, labels, 300)
    assert len(thin_x) == 300 and thin_labels.sum() == 150  # half good, half bad, as in the node
    where = {tuple(row): i for i, row in enumerate(x)}
    kept = np.array([where[tuple(row)] for row in thin_x])
    assert (np.diff(kept) > 0).all()  # sample order
    for label in (0, 1):  # evenly spaced: each class keeps its first and last sample
        rows = np.flatnonzero(labels == label)
        assert {rows[0], rows[-1]} <= set(kept[thin_labels == label])
    capped = fit_split(x, labels, TreeConfig(kernel="rbf", svm_max_samples=300))
    assert capped is not None and capped.support_vectors_.shape[0] <= 300
    full = build_tree(x, f, bench.ref_point, TreeConfig(kernel="rbf"))
    fast = build_tree(x, f, bench.ref_point, TreeConfig(kernel="rbf", svm_max_samples=300))
    assert [leaf.n for leaf in leaves(full)] == [leaf.n for leaf in leaves(fast)]  # labels, not SVMs, split samples


def test_qnehvi_training_set_keeps_the_front_and_the_most_recent() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    f = bench.objectives(np.random.default_rng(5).integers(bench.n_archs, size=400))
    keep = _front_and_recent(f, 50)
    front = np.flatnonzero(pareto_mask(f))
    assert len(keep) == 50 and set(front) <= set(keep)
    assert set(keep) - set(front) == set(np.setdiff1d(np.arange(400), front)[-(50 - len(front)) :])


def test_qnehvi_hyperparameters_are_refitted_on_schedule_and_carried_between() -> None:
    """Real NB201 rows; refit_every=3: fits at resets 1 and 4, carried hyperparameters at resets 2-3; botorch state
    (fused-kernel switch, torch threads) is restored after each optimisation."""
    import botorch.acquisition.multi_objective.logei as logei

    bench = get_benchmark(DEFAULT_BENCHMARK)
    rng = np.random.default_rng(11)
    archs = rng.choice(bench.n_archs, size=40, replace=False)
    x, f = bench.space.encode(archs), bench.objectives(archs)
    sampler = QNEHVISampler(
        np.random.default_rng(0),
        bench.space.dim,
        bench.ref_point,
        q=3,
        raw_samples=16,
        num_restarts=3,
        maxiter=5,
        mc_samples=8,
        refit_every=3,
    )
    threads, kernel_state = torch.get_num_threads(), (logei._C, logei._load_attempted)
    fitted = []
    for reset, n in enumerate((20, 24, 28, 32, 36), start=1):
        sampler.reset([], x[:n], f[:n])
        batch = [sampler.sample() for _ in range(3)]
        assert np.all((np.asarray(batch) >= 0) & (np.asarray(batch) <= X_UPPER)) and len(sampler.pending) == 3
        fitted.append(sampler.fits)
        noise = sampler.model.likelihood.noise_covar.raw_noise.detach().clone()
        assert torch.equal(noise, sampler.hyperparameters["likelihood.noise_covar.raw_noise"]), reset
        assert sampler.model.train_inputs[0].shape[-2] == n
        assert (torch.get_num_threads(), (logei._C, logei._load_attempted)) == (threads, kernel_state)
    assert fitted == [1, 1, 1, 2, 2]


def test_qnehvi_candidates_are_reproducible_for_a_seed() -> None:
    bench = get_benchmark(DEFAULT_BENCHMARK)
    archs = np.random.default_rng(12).choice(bench.n_archs, size=24, replace=False)
    runs = []
    for _ in range(2):
        sampler = QNEHVISampler(
            np.random.default_rng(3),
            bench.space.dim,
            bench.ref_point,
            q=4,
            raw_samples=16,
            num_restarts=2,
            maxiter=5,
            mc_samples=8,
        )
        sampler.reset([], bench.space.encode(archs), bench.objectives(archs))
        runs.append(np.asarray([sampler.sample() for _ in range(4)]))  # 4 of q=4 from max(q, restarts) starts
    assert runs[0].shape == (4, bench.space.dim) and np.array_equal(runs[0], runs[1])
    assert len({tuple(row) for row in runs[0]}) > 1


@pytest.mark.parametrize("optimizer", ["lbfgs", "discrete", "ranked"])
def test_qnehvi_serves_the_candidates_it_optimised(optimizer: str) -> None:
    """What `sample` serves is the optimiser's candidates, in order, and nothing else (the raw region points that
    seed the optimiser once stayed in the pool and were served instead); once a batch is served, the next
    optimisation counts it as pending. Real NB201 rows."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    archs = np.random.default_rng(14).choice(bench.n_archs, size=30, replace=False)
    sampler = QNEHVISampler(
        np.random.default_rng(2),
        bench.space.dim,
        bench.ref_point,
        q=3,
        raw_samples=24,
        num_restarts=2,
        maxiter=5,
        mc_samples=8,
        optimizer=optimizer,
    )
    sampler.reset([], bench.space.encode(archs), bench.objectives(archs))
    first = [sampler.sample() for _ in range(3)]
    assert len(sampler.pool) == 0 and np.array_equal(first, sampler.pending)
    assert len({tuple(point) for point in first}) == 3
    fourth = sampler.sample()
    assert len(sampler.pending) == 6 and np.array_equal(fourth, sampler.pending[3])
    assert list(sampler.pool) and np.array_equal(list(sampler.pool), sampler.pending[4:])


@pytest.mark.parametrize("optimizer", ["lbfgs", "discrete", "ranked"])
def test_qnehvi_constrained_to_a_region_serves_points_of_the_region(optimizer: str) -> None:
    """`constrain_to_region`: every served point lies in the selected leaf's region (L-BFGS-B candidates that leave
    it are re-drawn there; the discrete choices are region points already). Real NB201 rows, a poly-4 tree."""
    bench = get_benchmark(DEFAULT_BENCHMARK)
    x, f = _scored(60, 21)
    _, path = leaf_select(build_tree(x, f, bench.ref_point, TreeConfig()), 30.0, np.random.default_rng(0))
    assert path
    sampler = QNEHVISampler(
        np.random.default_rng(4),
        bench.space.dim,
        bench.ref_point,
        q=3,
        raw_samples=24,
        num_restarts=2,
        maxiter=5,
        mc_samples=8,
        constrain_to_region=True,
        optimizer=optimizer,
    )
    sampler.reset(path, x, f)
    served = np.asarray([sampler.sample() for _ in range(3)])
    assert in_region(served, path).all() and np.array_equal(served, sampler.pending)


def test_qnehvi_rejects_an_unknown_optimizer() -> None:
    with pytest.raises(HarnessError, match="optimizer must be one of"):
        QNEHVISampler(np.random.default_rng(0), 6, [0.0, -50.0], optimizer="adam")  # type: ignore[arg-type]


def test_qnehvi_rejects_non_positive_settings() -> None:
    with pytest.raises(HarnessError, match="refit_every"):
        QNEHVISampler(np.random.default_rng(0), 6, [0.0, -50.0], refit_every=0)


def test_observations_grow_and_keep_earlier_views(artifact) -> None:
    """Rows appended past the buffer's capacity keep their order and values, and a view taken before the buffer grew
    still holds the rows it had (the sampler and the tree keep views across appends)."""
    from cenas.observations import Observations

    x, f = artifact
    observed = Observations(x.shape[1], f.shape[1], capacity=3)
    early = None
    for i, (row_x, row_f) in enumerate(zip(x, f, strict=True)):
        observed.append(row_x, row_f)
        early = observed.f if i == 2 else early
    assert len(observed) == len(x)
    np.testing.assert_array_equal(observed.x, x)
    np.testing.assert_array_equal(observed.f, f)
    assert early is not None
    np.testing.assert_array_equal(early, f[:3])
