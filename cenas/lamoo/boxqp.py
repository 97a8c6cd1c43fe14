"""Box-constrained quadratic programs, the dual of a C-SVC: min 1/2 alpha'H alpha - sum(alpha) s.t. a'alpha = 0 and
0 <= alpha <= upper, solved to optimality (`cenas.lamoo.svm.IPMSplitSVM` uses them).

- `solve_box_qp`: Mehrotra's primal-dual predictor-corrector interior point; with H = v v' (v: n x p, p < n) each
  Newton system is solved in R^p through the Sherman-Morrison-Woodbury identity (`_NewtonSystem`).
- `solve_box_qp_active_set`: DAQP's dual active-set method on the n x n problem, accepted only where it passes the
  interior point's own optimality test.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas, lapack

PROXIMAL_EPS = 1e-8  # DAQP's proximal weight where H = v v' is singular (more samples than features)


class _NewtonSystem:
    """Solves (D + H) x = r for a positive diagonal D (n,): through Woodbury in R^p when H = v v' (v: n x p),
    (D + v v')^-1 = D^-1 - D^-1 v (I + v'D^-1 v)^-1 v'D^-1, else with the n x n matrix. Both matrices are symmetric
    positive definite: Cholesky, the p x p one formed by a symmetric rank-k update (half a product's work). Raises
    `np.linalg.LinAlgError` where rounding leaves no positive pivot (not seen in 10,442 systems of a 500-lbs run).
    Every solve takes one step of iterative refinement, which keeps the late, badly conditioned systems (the bounds'
    multipliers spread over 1e20) accurate."""

    def __init__(self, d: np.ndarray, v: np.ndarray | None, h: np.ndarray | None) -> None:
        self.d, self.v = d, v
        if v is not None:  # one n x p buffer: D^-1/2 v for the product, then D^-1 v (fresh temporaries of this
            # size cost more in page faults than the product itself from ~400 samples)
            scaled = v * (1.0 / np.sqrt(d))[:, None]
            matrix = blas.dsyrk(1.0, scaled.T, beta=1.0, c=np.eye(v.shape[1]), overwrite_c=True)  # upper triangle
            self.vd = np.divide(v, d[:, None], out=scaled)
        else:
            self.m = h + np.diag(d)  # type: ignore[operator]
            matrix = self.m
        self.factor, info = lapack.dpotrf(matrix, clean=False)
        if info != 0:
            raise np.linalg.LinAlgError(f"Newton matrix without a positive pivot (dpotrf info {info})")

    def _once(self, r: np.ndarray) -> np.ndarray:
        if self.v is None:
            return lapack.dpotrs(self.factor, r)[0]  # type: ignore[no-any-return]
        return r / self.d - self.vd @ lapack.dpotrs(self.factor, self.vd.T @ r)[0]  # type: ignore[no-any-return]

    def solve(self, r: np.ndarray) -> np.ndarray:
        x = self._once(r)
        applied = self.m @ x if self.v is None else self.d * x + self.v @ (self.v.T @ x)
        return x + self._once(r - applied)


def _step_to_boundary(x: np.ndarray, dx: np.ndarray) -> float:
    """The largest step in [0, 1] that keeps x + step dx >= 0 (x > 0)."""
    down = dx < 0
    return min(1.0, float((x[down] / -dx[down]).min())) if down.any() else 1.0


def _direction(
    system: _NewtonSystem,
    a: np.ndarray,
    m_a: np.ndarray,
    point: tuple[np.ndarray, ...],
    residuals: tuple[np.ndarray, float, np.ndarray],
    r_z: np.ndarray,
    r_s: np.ndarray,
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray]:
    """One Newton direction (d_alpha, d_beta, d_t, d_z, d_s) of the box QP's KKT system at point (alpha, t, z, s)
    with residuals (stationarity, a'alpha, alpha + t - upper) and complementarity targets r_z, r_s (n,);
    m_a = (D + H)^-1 a."""
    alpha, t, z, s = point
    r_dual, r_eq, r_box = residuals
    m_r = system.solve(-r_dual - r_z / alpha + (r_s - s * r_box) / t)
    d_beta = (-r_eq - float(a @ m_r)) / float(a @ m_a)
    d_alpha = m_r + d_beta * m_a
    d_t = -r_box - d_alpha
    return d_alpha, d_beta, d_t, (-r_z - z * d_alpha) / alpha, (-r_s - s * d_t) / t


def solve_box_qp_active_set(
    a: np.ndarray, h: np.ndarray, upper: float = 1.0, tol_grad: float = 1e-6, proximal: bool = False
) -> tuple[np.ndarray, float, int] | None:
    """`solve_box_qp`'s problem with H given (n x n), by DAQP's dual active-set method (recursive LDL' updates of the
    active constraints). H must be positive definite, as the kernel matrix of fewer distinct points than features
    is, unless `proximal` (H = v v' of rank p < n): then DAQP solves a sequence of proximal-point problems
    (`PROXIMAL_EPS`). Its answer is accepted only where it is an optimum by `solve_box_qp`'s own test: stationarity
    within `tol_grad` (gradient g = H alpha - 1 - beta a; |g| on free alphas, g >= 0 at 0, g <= 0 at `upper`),
    bounds and a'alpha = 0 within 1e-9 x upper. Returns alpha (n,), beta and DAQP's iterations, or None (no optimum
    found, e.g. H singular without `proximal`)."""
    import daqp  # imported on first use

    n = len(a)
    upper_bounds, lower_bounds = np.append(np.full(n, upper), 0.0), np.zeros(n + 1)  # n simple bounds, then a'alpha
    sense = np.zeros(n + 1, dtype=np.int32)
    sense[-1] = 5  # DAQP: an equality constraint
    alpha, _, exitflag, info = daqp.solve(
        h, -np.ones(n), a[None, :], upper_bounds, lower_bounds, sense, eps_prox=PROXIMAL_EPS if proximal else 0.0
    )
    if exitflag != 1:
        return None
    beta = -float(info["lam"][-1])
    g = h @ alpha - 1.0 - beta * a
    edge = 1e-9 * upper
    at_lower, at_upper = alpha <= edge, alpha >= upper - edge
    violation = np.where(at_lower, -g, np.where(at_upper, g, np.abs(g)))
    feasible = alpha.min() >= -edge and alpha.max() <= upper + edge and abs(float(a @ alpha)) < edge
    return (alpha, beta, int(info["iterations"])) if feasible and violation.max() < tol_grad else None


def solve_box_qp(
    a: np.ndarray,
    v: np.ndarray | None = None,
    h: np.ndarray | None = None,
    upper: float = 1.0,
    tol_grad: float = 1e-6,
    tol_gap: float = 1e-9,
    max_iter: int = 50,
) -> tuple[np.ndarray, float, int]:
    """min 1/2 alpha'H alpha - sum(alpha)  s.t.  a'alpha = 0, 0 <= alpha <= upper, with H = v v' (v: n x p, p < n)
    or H given (n x n): Mehrotra's predictor-corrector from the box's centre (`_NewtonSystem` solves each step).
    Stops when the stationarity residual is below `tol_grad` in gradient units (libsvm stops at a KKT violation of
    1e-3 in the same units), the mean complementarity below `tol_gap` and the constraints hold to 1e-9 x upper.
    Returns alpha (n,), the equality constraint's multiplier beta, and the iterations taken (max_iter: not converged,
    also where a Newton matrix has no positive pivot).
    """
    n = len(a)
    alpha, t = np.full(n, upper / 2), np.full(n, upper / 2)  # t: slack of alpha <= upper, kept as its own variable
    z, s, beta = np.ones(n), np.ones(n), 0.0  # multipliers of alpha >= 0, alpha <= upper, a'alpha = 0
    for it in range(max_iter):
        h_alpha = v @ (v.T @ alpha) if v is not None else h @ alpha  # type: ignore[operator]
        r_dual = h_alpha - 1.0 - beta * a - z + s
        r_eq, r_box = float(a @ alpha), alpha + t - upper
        mu = float(alpha @ z + t @ s) / (2 * n)
        if np.abs(r_dual).max() < tol_grad and mu < tol_gap and max(abs(r_eq), np.abs(r_box).max()) < 1e-9 * upper:
            return alpha, beta, it
        try:
            system = _NewtonSystem(z / alpha + s / t, v, h)
        except np.linalg.LinAlgError:
            break  # reported as not converged: the caller falls back
        point, residuals, m_a = (alpha, t, z, s), (r_dual, r_eq, r_box), system.solve(a)
        da, _, dt, dz, ds = _direction(system, a, m_a, point, residuals, z * alpha, s * t)  # affine-scaling predictor
        step = _step_to_boundary(np.concatenate(point), np.concatenate([da, dt, dz, ds]))
        mu_aff = float((alpha + step * da) @ (z + step * dz) + (t + step * dt) @ (s + step * ds)) / (2 * n)
        centre = (mu_aff / mu) ** 3 * mu
        r_z, r_s = z * alpha + da * dz - centre, s * t + dt * ds - centre
        da, db, dt, dz, ds = _direction(system, a, m_a, point, residuals, r_z, r_s)  # centred corrector
        step = min(1.0, 0.99 * _step_to_boundary(np.concatenate(point), np.concatenate([da, dt, dz, ds])))
        alpha, t, z, s, beta = alpha + step * da, t + step * dt, z + step * dz, s + step * ds, beta + step * db
    return alpha, beta, max_iter
