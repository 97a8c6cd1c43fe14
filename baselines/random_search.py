"""Random search: the training GPUs train uniformly random architectures (with replacement); by default every GPU
trains all the time, and a carbon-aware schedule (`schedule.*`) may suspend some or all of them."""

from __future__ import annotations

from dataclasses import dataclass

from harness.options import group
from harness.sim.jobs import TRAIN, Allocation, Job
from harness.sim.method import IntervalInfo, Method, MethodContext
from harness.sim.schedule import Schedule, ScheduleOptions, make_schedule


@dataclass(frozen=True)
class RandomSearchOptions:
    schedule: ScheduleOptions = group(ScheduleOptions, "carbon-aware schedule (GPUs not training idle)")


class RandomSearch(Method):
    """The simplest carbon-oblivious search; it proves the harness end to end."""

    Options = RandomSearchOptions
    options: RandomSearchOptions

    def model_files(self, region: str) -> dict[str, str]:
        return self.options.schedule.model_files(region)

    def privileged(self) -> tuple[str, ...]:
        return self.options.schedule.privileged()

    def _setup(self, ctx: MethodContext) -> None:
        self.rng = ctx.rng("sampling")
        self.n_archs = ctx.benchmark.n_archs
        self.schedule: Schedule = make_schedule(self.options.schedule, ctx.carbon, ctx.n_gpus, ctx.interval_s)

    def on_interval(self, info: IntervalInfo) -> Allocation:
        return {TRAIN: self.schedule.train_gpus(info.now_s)}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        return Job(TRAIN, int(self.rng.integers(self.n_archs)))
