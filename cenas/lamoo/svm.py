"""The SVMs of the LaMOO tree's splits: one C-SVC problem (C = 1, labels 0/1, sklearn's `SVC` kernels), two solvers.

- `SplitSVM` (`tree.solver=libsvm`, the reference-reproducing choice): libsvm's SMO, through scikit-learn's public
  `sklearn.svm.SVC`.
- `IPMSplitSVM` (`tree.solver=ipm`): the same problem solved to optimality by a primal-dual interior-point method
  (Mehrotra predictor-corrector, `solve_box_qp`). The homogeneous polynomial kernel (gamma x.z)^deg is a linear kernel
  on the degree-deg monomials of x (126 features for NB201's six coordinates at degree 4), so each Newton system is
  solved in that feature space through the Sherman-Morrison-Woodbury identity: about 11 iterations of O(n p^2) per
  fit, where libsvm's SMO takes 10^5..10^6 steps to reach its KKT tolerance (1e-3 in gradient units, ~1e-7 of this
  kernel's scale). Up to `ACTIVE_SET_SPAN` samples per feature and `ACTIVE_SET_MAX_N` samples (small nodes, the early
  intervals) the n x n problem is solved instead by DAQP's dual active-set method (`solve_box_qp_active_set`), ~5x
  faster there, the interior point standing in where DAQP finds no optimum. All land on the same optimum:
  tests/test_lamoo.py compares objectives, labels and whole trees (leaf agreement).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Protocol

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from cenas.lamoo.boxqp import solve_box_qp, solve_box_qp_active_set

IPM_KERNELS = ("poly", "linear")  # kernels with a finite feature map: those `IPMSplitSVM` solves
_BLAS = ThreadpoolController()  # one BLAS thread inside a fit: the same sums in every process and executor
CHUNK_VALUES = 2**18  # kernel values per block of `SplitSVM.predict` (2 MiB)
FEW_POINTS = 8  # below this many points libsvm's own loop predicts faster than the vectorised set-up
ACTIVE_SET_SPAN = 1.5  # `IPMSplitSVM` uses the active set up to this many samples per feature (crossover ~1.7)
ACTIVE_SET_MAX_N = 800  # ... and up to this many samples (crossover ~800 on EC-NAS 5v and NB301 kernel problems)


class SplitClassifier(Protocol):
    """What the tree needs of a split's SVM."""

    def fit(self, x: np.ndarray, labels: np.ndarray) -> SplitClassifier:
        """Fit on x (n, d), labels (n,) in {0, 1} with both present."""
        ...

    def predict(self, x: np.ndarray) -> npt.NDArray[np.int8]:
        """Labels (n,) in {0, 1} of points x (n, d)."""
        ...

    def witnesses(self) -> npt.NDArray[np.int64]:
        """Rows of the fitted x that the optimum most likely labels one of each class (at most two; may be none): the
        split check predicts these first (`cenas.lamoo.tree._predicts_both`)."""
        ...


def svc_gamma(x: np.ndarray, gamma: str | float) -> float:
    """sklearn's SVC gamma: 'scale' = 1 / (d var(x)) (1 when x is constant), 'auto' = 1 / d, or the number."""
    if gamma == "scale":
        var = x.var()
        return 1.0 / (x.shape[1] * var) if var != 0 else 1.0
    if gamma == "auto":
        return 1.0 / x.shape[1]
    return float(gamma)


class SplitSVM:
    """The binary SVC of a split (labels 0/1): scikit-learn's public `SVC` with its defaults (C = 1, tol = 1e-3,
    shrinking, no class weights), its fitted support vectors and coefficients kept in libsvm's own orientation (the
    coefficient of a label-0 support vector positive); `predict` gives `SVC.predict`'s labels from vectorised decision
    values, deferring to `SVC.predict` where rounding could matter. tests/test_lamoo.py checks the support vectors,
    coefficients and labels against `SVC` on real samples and probes. sklearn is imported on first fit: runs with the
    interior-point solver, whose fallback is their only libsvm call, never import it.
    """

    def __init__(self, kernel: str, degree: int, gamma: str | float) -> None:
        self.kernel, self.degree, self.gamma = kernel, degree, gamma

    def fit(self, x: np.ndarray, labels: np.ndarray) -> SplitSVM:
        """Fit on x (n, d), labels (n,) in {0, 1} with both present."""
        from sklearn.svm import SVC

        x = np.ascontiguousarray(x, dtype=np.float64)
        self._gamma = svc_gamma(x, self.gamma)
        self._svc = SVC(
            kernel=self.kernel, degree=self.degree, gamma=self._gamma, C=1.0, tol=1e-3, shrinking=True, cache_size=200.0
        ).fit(x, np.asarray(labels, dtype=np.float64))
        svc = self._svc
        self.support_, self.support_vectors_ = svc.support_, svc.support_vectors_
        self._dual_coef, self._intercept = -svc.dual_coef_, -svc.intercept_  # sklearn negates both for two classes
        self.fit_status_ = svc.fit_status_
        self._sv_sq = np.einsum("ij,ij->i", self.support_vectors_, self.support_vectors_)
        self._r_sq, self._coef_sum = float(self._sv_sq.max()), float(np.abs(self._dual_coef[0]).sum())
        self._chunk = max(1, CHUNK_VALUES // len(self._sv_sq))
        return self

    def witnesses(self) -> npt.NDArray[np.int64]:
        """The first free support vector (0 < alpha < C) of each class: at libsvm's optimum y f(x) = 1 within its
        tolerance (1e-3) for every free support vector, so each is labelled its own class."""
        coef = self._dual_coef[0]  # y alpha per support vector, y = +1 for label 0
        free = np.abs(coef) < 1.0
        first = [self.support_[free & (np.sign(coef) == sign)][:1] for sign in (1, -1)]
        return np.concatenate(first).astype(np.int64)

    def predict(self, x: np.ndarray) -> npt.NDArray[np.int8]:
        """Labels (n,) of points x (n, d): 0 where the decision value is > 0, as libsvm, from values computed with
        BLAS and a vectorised exp (about 3x faster than libsvm's per-point kernel loops), in blocks of `CHUNK_VALUES`
        kernel values; every point whose value is within `_values`' rounding bound of zero, where the two computations
        could disagree on the sign, is labelled by libsvm itself, as are batches of fewer than `FEW_POINTS` points
        (faster there). Hence `SVC.predict`'s labels, exactly."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if len(x) < FEW_POINTS:
            return self._libsvm_predict(x)
        labels = np.empty(len(x), dtype=np.int8)
        for start in range(0, len(x), self._chunk):
            part = x[start : start + self._chunk]
            f, doubt = self._values(part)
            out = np.where(f > 0, 0, 1).astype(np.int8)  # libsvm: the first class where the value is > 0
            unsure = np.flatnonzero(np.abs(f) <= doubt)
            if len(unsure):
                out[unsure] = self._libsvm_predict(part[unsure])
            labels[start : start + len(part)] = out
        return labels

    def _libsvm_predict(self, x: np.ndarray) -> npt.NDArray[np.int8]:
        return self._svc.predict(x).astype(np.int8)

    def _values(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f (n,) = sum_k c_k K(x, sv_k) - rho at x (n, d), and 16 times a bound (n,) on |f - libsvm's f| from both
        computations' rounding.

        With u = 2^-53, n_sv support vectors, R = max |sv| and B a bound on |K(x, sv)| (1 for RBF,
        (gamma |x| R)^deg for poly, |x| R for linear), each sum's rounding is below (n_sv + 1) u sum|c| B and each
        kernel value's below P u B, P = 8 gamma (d + 2)(|x|^2 + R^2) + 8 for RBF (|x|^2 + |sv|^2 - 2 x.sv here,
        the squared differences in libsvm, then exp), 4 deg (d + 2 deg + 3) for poly and linear (dot, then powers)."""
        sv, coef, d = self.support_vectors_, self._dual_coef[0], x.shape[1]
        dots = x @ sv.T
        x_sq = np.einsum("ij,ij->i", x, x)
        if self.kernel == "rbf":
            k = np.multiply(dots, -2.0, out=dots)  # in place: one block of values at a time
            k += x_sq[:, None]
            k += self._sv_sq[None, :]
            k = np.exp(np.multiply(np.maximum(k, 0.0, out=k), -self._gamma, out=k), out=k)
            bound, sensitivity = 1.0, 8.0 * self._gamma * (d + 2) * (x_sq + self._r_sq) + 8.0
        else:
            degree, scale = (self.degree, self._gamma) if self.kernel == "poly" else (1, 1.0)
            k = _powi(np.multiply(dots, scale, out=dots), degree)
            bound = (scale * np.sqrt(x_sq * self._r_sq)) ** degree
            sensitivity = 4.0 * degree * (d + 2 * degree + 3)
        f = k @ coef + self._intercept[0]
        unit = np.finfo(np.float64).eps / 2
        return f, 16.0 * unit * (self._coef_sum * bound * (len(coef) + 1 + sensitivity) + abs(self._intercept[0]))


def _powi(base: np.ndarray, times: int) -> np.ndarray:
    """base ** times (integer times >= 1) by repeated squaring, as libsvm's `powi` (whose ret starts at 1.0)."""
    out, power = np.ones_like(base), base
    while times:
        if times % 2:
            out *= power
        times //= 2
        power = power * power if times else power
    return out


@functools.cache
def _monomials(d: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """The degree-`degree` monomials of d coordinates as index tuples (p, degree), and sqrt of their multinomial
    coefficients (p,)."""
    terms = list(itertools.combinations_with_replacement(range(d), degree))
    coef = [math.factorial(degree) / math.prod(math.factorial(t.count(k)) for k in set(t)) for t in terms]
    return np.asarray(terms, dtype=np.int64), np.sqrt(np.asarray(coef))


def monomial_features(x: np.ndarray, degree: int, gamma: float) -> np.ndarray:
    """phi(x) (n, C(d + degree - 1, degree)) with phi(x).phi(z) = (gamma x.z)^degree: every degree-`degree`
    monomial of x's d coordinates, scaled by gamma^(degree/2) and the square root of its multinomial coefficient."""
    terms, coef = _monomials(x.shape[1], degree)
    return (gamma ** (degree / 2) * coef) * np.prod(x[:, terms], axis=2)


def n_monomials(d: int, degree: int) -> int:
    """How many degree-`degree` monomials d coordinates have: the feature count of `monomial_features`."""
    return math.comb(d + degree - 1, degree)


class IPMSplitSVM:
    """The split's C-SVC (C = 1) solved to optimality; kernels `poly` (homogeneous, sklearn's coef0 = 0) and
    `linear`. Up to `ACTIVE_SET_SPAN` samples per feature and `ACTIVE_SET_MAX_N` samples by the active-set method on
    the n x n kernel problem (`solve_box_qp_active_set`), beyond that (or where it finds no optimum) by the interior
    point, in feature space where there are more samples than features (`solve_box_qp`). Decision
    f(x) = sum_i alpha_i y_i K(x_i, x) + b, y = +1 for label 0 (libsvm's sign convention for sklearn's sorted
    labels); label 0 where f > 0. Should the interior-point method not converge in `MAX_ITER` steps (not seen on real
    samples), the split falls back to libsvm's solver. `method_` names the solver that answered: "active-set",
    "interior-point" or "libsvm".
    """

    MAX_ITER = 50

    def __init__(self, kernel: str, degree: int, gamma: str | float) -> None:
        if kernel not in IPM_KERNELS:
            raise ValueError(f"the interior-point solver has no finite feature map for kernel {kernel!r}")
        self.kernel, self.gamma = kernel, gamma
        self.degree = degree if kernel == "poly" else 1

    def _features(self, x: np.ndarray) -> np.ndarray:
        return monomial_features(x, self.degree, self._gamma) if self.kernel == "poly" else x

    def _kernel(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return (self._gamma * (x @ z.T)) ** self.degree if self.kernel == "poly" else x @ z.T

    def fit(self, x: np.ndarray, labels: np.ndarray) -> IPMSplitSVM:
        """Fit on x (n, d), labels (n,) in {0, 1} with both present."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        self._gamma = svc_gamma(x, self.gamma) if self.kernel == "poly" else 1.0
        y = np.where(np.asarray(labels) == 0, 1.0, -1.0)
        with _BLAS.limit(limits=1, user_api="blas"):
            p = n_monomials(x.shape[1], self.degree)
            self._primal = p < len(x)
            active_set = len(x) <= min(ACTIVE_SET_SPAN * p, ACTIVE_SET_MAX_N)
            if self._primal:  # w = sum_i alpha_i y_i phi(x_i), p numbers
                v = y[:, None] * self._features(x)
                h = v @ v.T if active_set else None
            else:  # more features than samples: keep the expansion over the samples
                v, h = None, np.outer(y, y) * self._kernel(x, x)
            exact = solve_box_qp_active_set(y, h, proximal=self._primal) if active_set and h is not None else None
            if exact is not None:
                alpha, beta, self.iterations_ = exact
                self.method_ = "active-set"
            else:
                alpha, beta, self.iterations_ = solve_box_qp(
                    y, v=v, h=None if self._primal else h, max_iter=self.MAX_ITER
                )
                self.method_ = "interior-point" if self.iterations_ < self.MAX_ITER else "libsvm"
            if self._primal:
                self._w = v.T @ alpha  # type: ignore[union-attr]
            else:
                self._x, self._coef = x, alpha * y
        self._b = -beta
        middle = np.abs(alpha - 0.5)  # per class the sample nearest a free support vector's margin (alpha in (0, C))
        self._witnesses = np.array([np.flatnonzero(y == c)[np.argmin(middle[y == c])] for c in (1.0, -1.0)])
        unsolved = self.method_ == "libsvm"  # the interior point did not converge
        self._fallback = SplitSVM(self.kernel, self.degree, self.gamma).fit(x, labels) if unsolved else None
        return self

    def witnesses(self) -> npt.NDArray[np.int64]:
        """Per class the sample whose alpha is nearest C/2, a free support vector's: labelled its own class."""
        return self._witnesses if self._fallback is None else self._fallback.witnesses()

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """f (n,) at points x (n, d)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        with _BLAS.limit(limits=1, user_api="blas"):
            raw = self._features(x) @ self._w if self._primal else self._kernel(x, self._x) @ self._coef
        return raw + self._b

    def predict(self, x: np.ndarray) -> npt.NDArray[np.int8]:
        """Labels (n,) of points x (n, d): 0 where the decision function is positive, as libsvm."""
        if self._fallback is not None:
            return self._fallback.predict(x)
        return np.where(self.decision_function(x) > 0, 0, 1).astype(np.int8)


SOLVERS: dict[str, type[SplitSVM] | type[IPMSplitSVM]] = {"libsvm": SplitSVM, "ipm": IPMSplitSVM}
