"""LaMOO-family baselines built from the CE-NAS pieces (HotCarbon §4.1, spec §5.3).

- `VanillaLaMOO`: every GPU trains; each job is a fresh sample of the current LaMOO region (no supernet, no queue).
- `OneShotLaMOO`: every GPU samples and scores with the supernet; LaMOO partitions on the one-shot estimates; the
  reported HV uses the TRUE objectives of everything it sampled (standard practice). Only the initial samples are
  trained (when the accounting charges them, on as many GPUs as there are initial samples still untrained).
  Sampling is capped at `oneshot_quota` evaluations per interval (default 10, about what vanilla LaMOO trains per
  hour on 8 GPUs, so both partition comparable sample counts): uncapped, 8 GPUs at ~1 s per evaluation would feed
  ~29k samples an hour into the SVM tree. The search ends after `max_samples` samples, initial ones included
  (default 1500, LaMOO's `--maxSamples`): one-shot evaluations cost seconds, so a carbon budget alone would keep it
  sampling, and its tree growing, for thousands of simulated hours.
Random allocation and the heuristic are CE-NAS with `policy=random` / `policy=heuristic` (see the registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cenas.method import CENAS, CENASOptions
from harness.options import option
from harness.sim.jobs import ONESHOT, TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo


@dataclass(frozen=True)
class LaMOOOptions(CENASOptions):
    policy: Literal["heuristic", "rl", "random", "fixed"] = option("fixed", "unused: every GPU trains")


@dataclass(frozen=True)
class OneShotOptions(LaMOOOptions):
    oneshot_quota: int = option(10, "one-shot evaluations started per interval", ge=1)
    max_samples: int = option(1500, "the search ends after this many samples, initial ones included", ge=1)


class VanillaLaMOO(CENAS):
    Options = LaMOOOptions

    def on_interval(self, info: IntervalInfo) -> Allocation:
        super().on_interval(info)  # rebuilds the tree and resets the region sampler
        assert self.ctx is not None
        return {TRAIN: self.ctx.n_gpus}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        x, arch = self._sample()
        self.seen.add(arch)
        return Job(TRAIN, arch, payload=(x, None))


class OneShotLaMOO(CENAS):
    Options = OneShotOptions
    options: OneShotOptions
    hv_kinds = (ONESHOT,)

    def __init__(self, options: OneShotOptions | None = None) -> None:
        super().__init__(options)
        self.quota, self.max_samples = self.options.oneshot_quota, self.options.max_samples
        self.started = 0
        self.issued = 0
        self.initial_trained = 0

    def on_interval(self, info: IntervalInfo) -> Allocation:
        super().on_interval(info)
        self.started = 0
        assert self.ctx is not None
        untrained_initial = self.options.n_init - self.initial_trained  # trained first when init is charged
        train = min(self.ctx.n_gpus, untrained_initial)
        return {TRAIN: train, ONESHOT: self.ctx.n_gpus - train}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        if kind == TRAIN:
            return None  # training GPUs only serve the initial samples
        if not self.supernet.ready:
            return self.supernet.next_chunk()
        if self.started >= self.quota or self.issued + self.options.n_init >= self.max_samples:
            return None
        self.started += 1
        self.issued += 1
        x, arch = self._sample()
        return Job(ONESHOT, arch, payload=x)

    def tell(self, job: Job, outcome: Outcome) -> None:
        """Initial samples are trained (true objectives); afterwards LaMOO sees one-shot estimates only."""
        if job.is_supernet:
            self.supernet.finished(job)
            return
        x = job.payload[0] if job.kind == TRAIN else job.payload
        self.initial_trained += job.kind == TRAIN
        self.observed.append(x, outcome.objectives)

    @property
    def done(self) -> bool:
        """`max_samples` samples (initial ones included) have been evaluated."""
        return len(self.observed) >= self.max_samples
