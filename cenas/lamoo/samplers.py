"""Sampling inside the selected LaMOO region (spec §2.3).

`RegionSampler`: uniform rejection sampling in the box [0, 0.99999]^d, vectorised: batches of `batch` points
(doubling up to `max_batch` while a batch finds nothing, since the pool is dropped at every tree rebuild) are
filtered by the SVMs along the path and accepted points are served in draw order (statistically identical to one
point at a time). After `max_empty` batches without a hit the deepest path node is dropped (the reference
evaluator's fallback), so a nearly empty region cannot stall the run.

`QNEHVISampler`: BoTorch qNEHVI on a GP fitted to the trained samples; raw initial conditions are drawn inside the
region (as the reference does); with `constrain_to_region` candidates that leave the region are re-drawn. With
`max_train` the GP sees at most that many samples: the non-dominated ones plus the most recent (exact GPs are cubic in
the sample count; unset, every sample is used, as the reference does).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from cenas.lamoo.tree import Path, in_region
from harness.metrics import pareto_mask
from harness.spaces.nb201 import X_UPPER


class RegionSampler:
    def __init__(
        self, rng: np.random.Generator, dim: int, batch: int = 256, max_batch: int = 4096, max_empty: int = 50
    ) -> None:
        self.rng, self.dim, self.batch, self.max_batch, self.max_empty = rng, dim, batch, max_batch, max_empty
        self.path: Path = []
        self.pool: deque[np.ndarray] = deque()
        self.shrinks = 0

    def reset(
        self, path: Path, x_observed: npt.ArrayLike | None = None, f_observed: npt.ArrayLike | None = None
    ) -> None:
        """A new region (the tree was rebuilt): forget pooled points."""
        self.path = list(path)
        self.pool.clear()

    def sample(self) -> np.ndarray:
        """One point of the current region, shape (dim,)."""
        empty, size = 0, self.batch
        while not self.pool:
            draws = self.rng.uniform(0.0, X_UPPER, size=(size, self.dim))
            accepted = draws[in_region(draws, self.path)] if self.path else draws
            if len(accepted):
                self.pool.extend(accepted)
                break
            empty, size = empty + 1, min(2 * size, self.max_batch)
            if empty >= self.max_empty and self.path:
                self.path = self.path[:-1]
                self.shrinks += 1
                empty = 0
        return self.pool.popleft()


class QNEHVISampler(RegionSampler):
    """qNEHVI candidates in batches of `q` (sequential greedy), refitted when the region changes."""

    def __init__(
        self,
        rng: np.random.Generator,
        dim: int,
        ref_point: npt.ArrayLike,
        q: int = 5,
        raw_samples: int = 256,
        num_restarts: int = 4,
        maxiter: int = 50,
        mc_samples: int = 128,
        constrain_to_region: bool = False,
        max_train: int | None = None,
    ) -> None:
        super().__init__(rng, dim)
        self.max_train = max_train
        self.ref_point = np.asarray(ref_point, dtype=np.float64)
        self.q, self.raw_samples, self.num_restarts = q, raw_samples, num_restarts
        self.maxiter, self.mc_samples, self.constrain = maxiter, mc_samples, constrain_to_region
        self.x_obs = np.empty((0, dim))
        self.f_obs = np.empty((0, len(self.ref_point)))
        self.model: Any = None
        self.pending: list[np.ndarray] = []

    def reset(
        self, path: Path, x_observed: npt.ArrayLike | None = None, f_observed: npt.ArrayLike | None = None
    ) -> None:
        super().reset(path)
        self.x_obs = np.asarray(x_observed, dtype=np.float64)
        self.f_obs = np.asarray(f_observed, dtype=np.float64)
        if self.max_train is not None and len(self.x_obs) > self.max_train:
            keep = _front_and_recent(self.f_obs, self.max_train)
            self.x_obs, self.f_obs = self.x_obs[keep], self.f_obs[keep]
        self.model = None
        self.pending = []

    def _region_points(self, n: int) -> np.ndarray:
        out = []
        while len(out) < n:
            out.append(RegionSampler.sample(self))
        return np.asarray(out)

    def sample(self) -> np.ndarray:
        if len(self.x_obs) < 2:  # no GP before two samples are trained: sample the region uniformly
            return RegionSampler.sample(self)
        if not self.pool:
            self.pool.extend(self._optimise())
        return self.pool.popleft()

    def _optimise(self) -> list[np.ndarray]:
        import torch
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Standardize
        from botorch.optim import optimize_acqf
        from botorch.sampling import SobolQMCNormalSampler
        from gpytorch.mlls import ExactMarginalLogLikelihood

        seed = int(self.rng.integers(2**31))
        torch.manual_seed(seed)
        x = torch.as_tensor(self.x_obs, dtype=torch.double)
        y = torch.as_tensor(self.f_obs, dtype=torch.double)
        if self.model is None:
            self.model = SingleTaskGP(x, y, outcome_transform=Standardize(m=y.shape[-1]))
            fit_gpytorch_mll(ExactMarginalLogLikelihood(self.model.likelihood, self.model))
        pending = torch.as_tensor(np.asarray(self.pending), dtype=torch.double) if self.pending else None
        acquisition = qLogNoisyExpectedHypervolumeImprovement(
            model=self.model,
            ref_point=self.ref_point.tolist(),
            X_baseline=x,
            prune_baseline=True,
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([self.mc_samples]), seed=seed),
            X_pending=pending,
        )
        raw = torch.as_tensor(self._region_points(self.raw_samples), dtype=torch.double).unsqueeze(1)
        with torch.no_grad():
            scores = acquisition(raw)
        starts = raw[torch.topk(scores, min(self.num_restarts, len(raw))).indices]
        bounds = torch.tensor([[0.0] * self.dim, [X_UPPER] * self.dim], dtype=torch.double)
        candidates = []
        for start in starts[: self.q]:
            found, _ = optimize_acqf(
                acquisition, bounds, q=1, num_restarts=1, batch_initial_conditions=start.unsqueeze(0),
                options={"maxiter": self.maxiter},
            )  # fmt: skip
            point = found.detach().numpy()[0].clip(0.0, X_UPPER)
            if self.constrain and self.path and not in_region(point, self.path)[0]:
                point = RegionSampler.sample(self)
            candidates.append(point)
            self.pending.append(point)
        return candidates


def _front_and_recent(f: np.ndarray, cap: int) -> npt.NDArray[np.int64]:
    """Rows for a GP of at most `cap` points: the non-dominated ones (the most recent if they alone exceed the cap),
    then the most recent others, in sample order."""
    front = np.flatnonzero(pareto_mask(f))[-cap:]
    others = np.setdiff1d(np.arange(len(f)), front)
    return np.sort(np.concatenate([front, others[len(others) - (cap - len(front)) :]])).astype(np.int64)
