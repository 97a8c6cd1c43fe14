"""Random search: every GPU trains uniformly random architectures (with replacement), all the time."""

from __future__ import annotations

from harness.sim.jobs import TRAIN, Allocation, Job
from harness.sim.method import IntervalInfo, Method, MethodContext


class RandomSearch(Method):
    """The simplest carbon-oblivious baseline; it proves the harness end to end."""

    def _setup(self, ctx: MethodContext) -> None:
        self.rng = ctx.rng("sampling")
        self.n_archs = ctx.benchmark.n_archs

    def on_interval(self, info: IntervalInfo) -> Allocation:
        assert self.ctx is not None
        return {TRAIN: self.ctx.n_gpus}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        return Job(TRAIN, int(self.rng.integers(self.n_archs)))
