"""Random search: the training GPUs train uniformly random architectures (with replacement); by default every GPU
trains all the time, and a carbon-aware schedule (`schedule.*`) may suspend some or all of them."""

from __future__ import annotations

from dataclasses import dataclass

from harness.options import group
from harness.sim.jobs import TRAIN, Job
from harness.sim.method import MethodContext
from harness.sim.schedule import ScheduledMethod, ScheduleOptions


@dataclass(frozen=True)
class RandomSearchOptions:
    schedule: ScheduleOptions = group(ScheduleOptions, "carbon-aware schedule (GPUs not training idle)")


class RandomSearch(ScheduledMethod):
    """The simplest carbon-oblivious search; it proves the harness end to end."""

    Options = RandomSearchOptions
    options: RandomSearchOptions

    def _setup(self, ctx: MethodContext) -> None:
        self.rng = ctx.rng("sampling")
        self.n_archs = ctx.benchmark.n_archs
        self.start_schedule(ctx)

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        return Job(TRAIN, int(self.rng.integers(self.n_archs)))
