"""The samples a LaMOO-family method has evaluated, kept as two growing arrays instead of lists of rows."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class Observations:
    """Encodings x (n, dim) and objectives f (n, m), float64, in the order they were observed.

    Rows are appended into buffers that double when full, so `x` and `f` are views, not copies: stacking a list of
    ~2,000 rows four times an interval was ~5 % of a 500-lbs `cenas` run. A view taken earlier keeps its rows (rows
    are never rewritten; a full buffer is replaced, not resized in place).
    """

    def __init__(self, dim: int, m: int, capacity: int = 256) -> None:
        self._x = np.empty((capacity, dim))
        self._f = np.empty((capacity, m))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: npt.ArrayLike, f: npt.ArrayLike) -> None:
        """Add one sample: encoding x (dim,) and objectives f (m,)."""
        if self._n == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._f = np.concatenate([self._f, np.empty_like(self._f)])
        self._x[self._n], self._f[self._n] = x, f
        self._n += 1

    @property
    def x(self) -> npt.NDArray[np.float64]:
        """Encodings (n, dim)."""
        return self._x[: self._n]

    @property
    def f(self) -> npt.NDArray[np.float64]:
        """Objectives (n, m)."""
        return self._f[: self._n]
