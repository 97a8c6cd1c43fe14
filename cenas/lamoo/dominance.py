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
    """For each row j of p (n, m): how many rows of a (k, m) are >= p_j in every objective (exact integer counts).

    Two objectives with k * n above `SORTED_FROM`: `_weakly_dominating_2d`, O((k + n) log^2 k). Otherwise one (k, n)
    boolean matrix ANDed objective by objective (no (k, n, m) temporary: ~13x faster at n = 1400 than the 3-D form).
    """
    if p.shape[1] == 2 and len(a) * len(p) > SORTED_FROM:
        return _weakly_dominating_2d(a, p)
    weakly = np.ones((len(a), len(p)), dtype=bool)
    for k in range(p.shape[1]):
        weakly &= a[:, None, k] >= p[None, :, k]
    return weakly.sum(axis=0)


SORTED_FROM = 200_000  # k * n above which the sorted 2-D count beats the boolean matrix (they cross near k = n = 450)


def _weakly_dominating_2d(a: np.ndarray, p: np.ndarray) -> npt.NDArray[np.int64]:
    """`_weakly_dominating` for two objectives without the (k, n) matrix. With a sorted by its first objective
    (descending), the rows that can dominate p_j are a prefix of length L_j (first objective >= p_j's); the prefix is
    split into at most log2(k) aligned power-of-two blocks (a Fenwick decomposition), and each level's blocks are
    sorted by the second objective's rank, so one `searchsorted` per level counts, for every j at once, the rows of
    its block at that level whose second objective is >= p_j's."""
    k = len(a)
    order = np.argsort(-a[:, 0], kind="stable")
    first = -a[order, 0]  # ascending
    prefix = np.searchsorted(first, -p[:, 0], side="right")  # L_j = #{i: a_i0 >= p_j0}
    values, ranks = np.unique(np.concatenate([a[order, 1], p[:, 1]]), return_inverse=True)
    rank_a, rank_p, n_ranks = ranks[:k], ranks[k:], len(values)
    counts = np.zeros(len(p), dtype=np.int64)
    rows = np.arange(k)
    for level in range(max(k.bit_length(), 1)):
        hit = np.flatnonzero((prefix >> level) & 1)  # rows j whose prefix holds a block at this level
        if not len(hit):
            continue
        keys = np.sort((rows >> level) * n_ranks + rank_a)  # level's blocks, each sorted by rank, block order kept
        block = (prefix[hit] >> level) - 1
        end = (block + 1) << level
        counts[hit] += end - np.searchsorted(keys, block * n_ranks + rank_p[hit], side="left")
    return counts


class GrowingCounts:
    """`dominance_counts` of a point set that grows by appended rows (the samples of a LaMOO tree's root), updated
    instead of recounted: the earlier rows gain the new rows that weakly dominate them, and the new rows are counted
    against everything. The same integers; a set that is not the last one plus appended rows is counted afresh."""

    def __init__(self) -> None:
        self.points: np.ndarray | None = None
        self.counts: npt.NDArray[np.int64] | None = None
        self.updates = 0

    def __call__(self, points: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Dominance numbers (n,) of points (n, m)."""
        p = np.asarray(points, dtype=np.float64)
        old, counts = self.points, self.counts
        if old is None or counts is None or len(old) > len(p) or not np.array_equal(p[: len(old)], old):
            counts = dominance_counts(p)
        elif len(old) < len(p):
            new = p[len(old) :]
            counts = np.concatenate([counts + _weakly_dominating(new, old), dominance_counts(new, against=old)])
            self.updates += 1
        self.points, self.counts = p.copy(), counts
        return counts


def label_good_bad(points: npt.ArrayLike, ratio: float = 0.5) -> npt.NDArray[np.int8]:
    """CE-NAS labels: the int(ratio * n) points with the lowest dominance number are 0 ("good"), the rest 1.

    Ties keep sample order (stable sort), so the earlier sample wins; deterministic.
    """
    return labels_from_counts(dominance_counts(points), ratio)


def labels_from_counts(counts: npt.NDArray[np.int64], ratio: float = 0.5) -> npt.NDArray[np.int8]:
    """`label_good_bad` from the points' dominance numbers (n,)."""
    order = np.argsort(counts, kind="stable")
    labels = np.ones(len(counts), dtype=np.int8)
    labels[order[: int(ratio * len(counts))]] = 0
    return labels


def pick_least_dominated(points: npt.ArrayLike, against: npt.ArrayLike | None = None) -> int:
    """Index of the point with the lowest dominance number; ties go to the lowest index (FIFO)."""
    return int(np.argmin(dominance_counts(points, against)))
