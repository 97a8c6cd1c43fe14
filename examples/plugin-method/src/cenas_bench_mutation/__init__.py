"""A Pareto mutation search for cenas-bench, shipped as an outside plugin (docs/write-a-method.md).

Every GPU trains all the time. After `n_init` uniform samples, each new job mutates an architecture of the current
Pareto front of what has been trained (one coordinate of its encoding redrawn uniformly), or with probability
`explore` draws a uniform architecture. Carbon-blind: a baseline of the evolutionary kind (the mutation step of
regularized evolution, Real et al., AAAI 2019, applied to the Pareto front).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.metrics import pareto_mask
from harness.options import option
from harness.sim.jobs import TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo, Method, MethodContext

__version__ = "0.1.0"


@dataclass(frozen=True)
class MutationOptions:
    n_init: int = option(10, "uniform samples before mutation starts", ge=1)
    explore: float = option(0.1, "probability that a job is a uniform sample instead of a mutation", ge=0, le=1)


class MutationSearch(Method):
    """Mutates the Pareto front of its trained architectures, one encoded coordinate at a time."""

    paper = (
        "E. Real, A. Aggarwal, Y. Huang, Q. V. Le. Regularized Evolution for Image Classifier Architecture Search. "
        "AAAI 2019 (its mutation step)."
    )

    Options = MutationOptions
    options: MutationOptions

    def _setup(self, ctx: MethodContext) -> None:
        self.rng = ctx.rng("mutation")
        self.space = ctx.benchmark.space
        self.archs: list[int] = []
        self.objectives: list[np.ndarray] = []
        self.issued = 0

    def on_interval(self, info: IntervalInfo) -> Allocation:
        assert self.ctx is not None
        return {TRAIN: self.ctx.n_gpus}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        self.issued += 1
        if len(self.archs) < self.options.n_init or self.rng.random() < self.options.explore:
            return Job(TRAIN, int(self.rng.integers(self.space.n_archs)))
        front = np.flatnonzero(pareto_mask(np.asarray(self.objectives)))
        parent = self.archs[int(front[self.rng.integers(len(front))])]
        x = self.space.encode(np.asarray([parent]))[0].copy()
        x[self.rng.integers(self.space.dim)] = self.rng.random()
        return Job(TRAIN, int(self.space.decode(x[None, :])[0]))

    def tell(self, job: Job, outcome: Outcome) -> None:
        if job.kind == TRAIN:
            self.archs.append(job.arch)
            self.objectives.append(np.asarray(outcome.objectives, dtype=np.float64))
