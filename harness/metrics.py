"""Search-quality metrics on objective vectors in maximisation orientation (e.g. (accuracy %, -cost)).

Hypervolume is computed by moocore (exact 2-D/3-D sweeps) relative to a reference point that every counted point
must strictly dominate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import moocore
import numpy as np
import numpy.typing as npt


def hypervolume(points: npt.ArrayLike, ref_point: Sequence[float] | npt.NDArray[np.float64]) -> float:
    """HV of maximisation points (shape (n, m)) w.r.t. `ref_point` (shape (m,)); 0.0 for no points."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.size == 0:
        return 0.0
    pts = pts.reshape(-1, len(ref_point))
    return float(moocore.hypervolume(-pts, ref=-np.asarray(ref_point, dtype=np.float64)))


def pareto_mask(points: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True for points (maximisation, shape (n, m)) that no other point dominates; duplicates all kept."""
    return np.asarray(moocore.is_nondominated(np.asarray(points, dtype=np.float64), maximise=True, keep_weakly=True))


def log_hv_difference(hv: float, hv_max: float, base: float = 10.0) -> float:
    """log_base(HV_max - HV); -inf once HV reaches HV_max (HotCarbon §4.3 uses this as its progress curve)."""
    gap = hv_max - hv
    return math.log(gap, base) if gap > 0 else -math.inf


def carbon_to_target(carbon_g: npt.ArrayLike, hv: npt.ArrayLike, target_hv: float) -> float | None:
    """Cumulative carbon (g) at the first step whose HV reaches `target_hv`; None if it never does.

    `carbon_g` and `hv` are aligned per-step series (shape (t,)), cumulative carbon non-decreasing.
    """
    reached = np.flatnonzero(np.asarray(hv, dtype=np.float64) >= target_hv)
    return float(np.asarray(carbon_g, dtype=np.float64)[reached[0]]) if reached.size else None
