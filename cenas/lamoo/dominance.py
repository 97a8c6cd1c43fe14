"""Dominance numbers and good/bad labels as CE-NAS computes them (weak dominance, stable FIFO tie order)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def dominance_counts(points: npt.ArrayLike, against: npt.ArrayLike | None = None) -> npt.NDArray[np.int64]:
    """For maximisation points (n, m): d_j = #{i != j : p_i >= p_j componentwise} (weak; equal points count).

    With `against` (k, m), each point is also counted against every row of `against` (no self-exclusion there).
    """
    p = np.asarray(points, dtype=np.float64)
    counts = _weakly_dominating(p, p) - 1  # remove i == j
    others = None if against is None else np.asarray(against, dtype=np.float64)
    if others is not None and len(others):
        counts = counts + _weakly_dominating(others, p)
    return counts.astype(np.int64)


def _weakly_dominating(a: np.ndarray, p: np.ndarray) -> npt.NDArray[np.int64]:
    """For each row j of p (n, m): how many rows of a (k, m) are >= p_j in every objective.

    One (k, n) boolean matrix ANDed objective by objective (no (k, n, m) temporary: ~13x faster at n = 1400).
    """
    weakly = np.ones((len(a), len(p)), dtype=bool)
    for k in range(p.shape[1]):
        weakly &= a[:, None, k] >= p[None, :, k]
    return weakly.sum(axis=0)


def label_good_bad(points: npt.ArrayLike, ratio: float = 0.5) -> npt.NDArray[np.int8]:
    """CE-NAS labels: the int(ratio * n) points with the lowest dominance number are 0 ("good"), the rest 1.

    Ties keep sample order (stable sort), so the earlier sample wins; deterministic.
    """
    counts = dominance_counts(points)
    order = np.argsort(counts, kind="stable")
    labels = np.ones(len(counts), dtype=np.int8)
    labels[order[: int(ratio * len(counts))]] = 0
    return labels


def pick_least_dominated(points: npt.ArrayLike, against: npt.ArrayLike | None = None) -> int:
    """Index of the point with the lowest dominance number; ties go to the lowest index (FIFO)."""
    return int(np.argmin(dominance_counts(points, against)))
