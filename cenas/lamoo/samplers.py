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

import warnings
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from cenas.lamoo.tree import Path, in_region
from harness.errors import HarnessError
from harness.metrics import pareto_mask
from harness.spaces.nb201 import X_UPPER

Optimizer = Literal["lbfgs", "discrete", "ranked"]  # how `QNEHVISampler` picks a batch (its docstring)


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
        if not self.pool:
            self.pool.extend(self._draw_region())
        return self.pool.popleft()

    def _draw_region(self) -> np.ndarray:
        """The accepted points of the first batch that has any, in draw order, shape (k >= 1, dim)."""
        empty, size = 0, self.batch
        while True:
            draws = self.rng.uniform(0.0, X_UPPER, size=(size, self.dim))
            accepted = draws[in_region(draws, self.path)] if self.path else draws
            if len(accepted):
                return accepted
            empty, size = empty + 1, min(2 * size, self.max_batch)
            if empty >= self.max_empty and self.path:
                self.path = self.path[:-1]
                self.shrinks += 1
                empty = 0


class QNEHVISampler(RegionSampler):
    """qLogNEHVI candidates, `q` per optimisation; the points served since the last `reset` are pending points.

    `optimizer`: `"lbfgs"`, each candidate the best of a multi-start L-BFGS-B from the `num_restarts` best of
    `raw_samples` fresh uniform points of the region (the reference's optimiser, `q=1` per call); `"discrete"`, each
    candidate the best of one set of `raw_samples` region points (`botorch.optim.optimize_acqf_discrete`). Both choose
    a batch greedily, each candidate pending for the next, as botorch's sequential mode does. `"ranked"`: the `q` best
    of `raw_samples` region points by the one-point acquisition, one evaluation, the batch not conditioned on itself
    (fastest). The GP is rebuilt on the current samples at every `reset` (every interval). Its hyperparameters are
    re-estimated by exact marginal likelihood every `refit_every` resets (1: every interval, as the reference does)
    and carried over in between; with `warm_start` a re-estimate starts from the carried values instead of botorch's
    defaults.
    """

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
        refit_every: int = 1,
        warm_start: bool = False,
        fused_kernel: bool = False,
        prune_samples: int = 2048,
        optimizer: Optimizer = "lbfgs",
    ) -> None:
        super().__init__(rng, dim)
        if min(q, raw_samples, num_restarts, maxiter, mc_samples, refit_every, prune_samples) < 1:
            raise HarnessError(
                "qNEHVI q, raw_samples, restarts, maxiter, mc_samples, refit_every and prune_samples must be >= 1"
            )
        if optimizer not in get_args(Optimizer):
            raise HarnessError(f"qNEHVI optimizer must be one of {get_args(Optimizer)}, not {optimizer!r}")
        self.max_train = max_train
        self.ref_point = np.asarray(ref_point, dtype=np.float64)
        self.q, self.raw_samples, self.num_restarts = q, raw_samples, num_restarts
        self.maxiter, self.mc_samples, self.constrain = maxiter, mc_samples, constrain_to_region
        self.refit_every, self.warm_start, self.fused_kernel = refit_every, warm_start, fused_kernel
        self.prune_samples, self.optimizer = prune_samples, optimizer
        self.x_obs = np.empty((0, dim))
        self.f_obs = np.empty((0, len(self.ref_point)))
        self.model: Any = None
        self.hyperparameters: dict[str, Any] | None = None  # the last fitted state, outcome transform excluded
        self.resets_since_fit = 0
        self.fits = 0
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
        self.resets_since_fit += 1
        self.pending = []

    def _region_points(self, n: int) -> np.ndarray:
        """`n` uniform points of the region, shape (n, dim), drawn apart from the pool, which serves candidates only."""
        batches, drawn = [], 0
        while drawn < n:
            batches.append(self._draw_region())
            drawn += len(batches[-1])
        return np.concatenate(batches)[:n]

    def sample(self) -> np.ndarray:
        if len(self.x_obs) < 2:  # no GP before two samples are trained: sample the region uniformly
            return RegionSampler.sample(self)
        if not self.pool:
            with _botorch_runtime(self.fused_kernel):
                self.pool.extend(self._optimise())
        return self.pool.popleft()

    def _fit_model(self, x: Any, y: Any) -> Any:
        """The GP on (x, y): hyperparameters re-estimated when due, else carried over (shapes (n, dim), (n, m))."""
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood

        model = SingleTaskGP(x, y, outcome_transform=Standardize(m=y.shape[-1]))
        refit = self.hyperparameters is None or self.resets_since_fit >= self.refit_every
        if self.hyperparameters is not None and (self.warm_start or not refit):
            model.load_state_dict(self.hyperparameters, strict=False)
        if refit:
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
            state = model.state_dict()
            self.hyperparameters = {k: v.clone() for k, v in state.items() if not k.startswith("outcome_transform")}
            self.resets_since_fit, self.fits = 0, self.fits + 1
        return model.eval()

    def _optimise(self) -> list[np.ndarray]:
        """The next `q` candidates (each shape (dim,)); they join the pending points."""
        import torch
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.acquisition.multi_objective.utils import prune_inferior_points_multi_objective
        from botorch.optim import optimize_acqf_discrete
        from botorch.sampling import SobolQMCNormalSampler

        seed = int(self.rng.integers(2**31))
        torch.manual_seed(seed)
        x = torch.as_tensor(self.x_obs, dtype=torch.double)
        y = torch.as_tensor(self.f_obs, dtype=torch.double)
        if self.model is None:
            self.model = self._fit_model(x, y)
        pending = torch.as_tensor(np.asarray(self.pending), dtype=torch.double) if self.pending else None
        ref_point = torch.as_tensor(self.ref_point, dtype=torch.double)
        baseline = prune_inferior_points_multi_objective(self.model, x, ref_point, num_samples=self.prune_samples)
        acquisition = qLogNoisyExpectedHypervolumeImprovement(
            model=self.model,
            ref_point=ref_point,
            X_baseline=baseline,
            prune_baseline=False,  # pruned above: the samples that are Pareto-optimal in some of `prune_samples` draws
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([self.mc_samples]), seed=seed),
            X_pending=pending,
        )
        if self.optimizer in ("discrete", "ranked"):
            choices = torch.as_tensor(self._region_points(self.raw_samples), dtype=torch.double)
            q = min(self.q, len(choices))
            if self.optimizer == "discrete":
                found, _ = optimize_acqf_discrete(acquisition, q=q, choices=choices, unique=True)
            else:
                with torch.no_grad():
                    found = choices[torch.topk(acquisition(choices.unsqueeze(1)), q).indices]
            candidates = list(found.numpy())
        else:
            candidates = []
            for _ in range(self.q):  # sequential greedy: the candidates so far are pending for the next
                if candidates:
                    chosen = torch.as_tensor(np.asarray(candidates), dtype=torch.double)
                    acquisition.set_X_pending(chosen if pending is None else torch.cat([pending, chosen]))
                point = self._lbfgs_candidate(acquisition)
                if self.constrain and self.path and not in_region(point[None, :], self.path)[0]:
                    point = self._region_points(1)[0]
                candidates.append(point)
        self.pending.extend(candidates)
        return candidates

    def _lbfgs_candidate(self, acquisition: Any) -> np.ndarray:
        """The best of a batched multi-start L-BFGS-B on the acquisition, started from the `num_restarts` best of
        `raw_samples` uniform region points (shape (dim,), clipped to the box)."""
        import torch
        from botorch.optim import optimize_acqf

        raw = torch.as_tensor(self._region_points(self.raw_samples), dtype=torch.double).unsqueeze(1)
        with torch.no_grad():
            scores = acquisition(raw)
        starts = raw[torch.topk(scores, min(self.num_restarts, len(raw))).indices]
        bounds = torch.tensor([[0.0] * self.dim, [X_UPPER] * self.dim], dtype=torch.double)
        found, _ = optimize_acqf(
            acquisition,
            bounds,
            q=1,
            num_restarts=len(starts),
            batch_initial_conditions=starts,
            options={"maxiter": self.maxiter},
        )
        return np.asarray(found.detach().numpy()[0].clip(0.0, X_UPPER))


@contextmanager
def _botorch_runtime(fused_kernel: bool) -> Iterator[None]:
    """One torch thread (reproducible reductions; faster than two at these sizes) and, unless `fused_kernel`, botorch's
    pure-torch qLogNEHVI instead of its C++ kernel, which botorch JIT-compiles with -march=native on first use
    (~45 s, machine-specific floating point). Both settings are restored on exit; torch's notice about unchecked
    sparse-tensor invariants, which gpytorch triggers on every run, is silenced meanwhile."""
    import botorch.acquisition.multi_objective.logei as logei
    import torch

    saved_kernel, saved_threads = (logei._C, logei._load_attempted), torch.get_num_threads()
    if not fused_kernel:
        logei._C, logei._load_attempted = None, True
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():  # gpytorch's sparse summing matrix trips torch's invariant-check notice
            warnings.filterwarnings("ignore", message="Sparse invariant checks", category=UserWarning)
            yield
    finally:
        torch.set_num_threads(saved_threads)
        if not fused_kernel:
            logei._C, logei._load_attempted = saved_kernel


def _front_and_recent(f: np.ndarray, cap: int) -> npt.NDArray[np.int64]:
    """Rows for a GP of at most `cap` points: the non-dominated ones (the most recent if they alone exceed the cap),
    then the most recent others, in sample order."""
    front = np.flatnonzero(pareto_mask(f))[-cap:]
    others = np.setdiff1d(np.arange(len(f)), front)
    return np.sort(np.concatenate([front, others[len(others) - (cap - len(front)) :]])).astype(np.int64)
