"""LaMOO-family baselines built from the CE-NAS pieces (HotCarbon §4.1, spec §5.3).

- `VanillaLaMOO`: every GPU trains; each job is a fresh sample of the current LaMOO region (no supernet, no queue).
- `OneShotLaMOO`: the sampling GPUs sample and score with the supernet (or the benchmark's early-stopping estimate);
  LaMOO partitions on those estimates. Estimates never score: like every method, its HV counts only what it trained.
  So it trains what it would report: its estimated front, least dominated first by its own estimates, on
  `claim_gpus` GPUs while it samples and, once sampling ends (`claim_after`), on every GPU until that front is
  trained or the budget ends. Sampling is capped at `oneshot_quota` evaluations per interval (default 10, about what
  vanilla LaMOO trains per hour on 8 GPUs, so both partition comparable sample counts; null: uncapped, the GPUs stay
  in one-shot work as HotCarbon's one-shot LaMOO does) and ends after `max_samples` samples, initial ones included
  (default 1500, LaMOO's `--maxSamples`; null: never).
Random allocation and the heuristic are CE-NAS with `policy=random` / `policy=heuristic` (see the registry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cenas.lamoo.dominance import dominance_counts
from cenas.search import LaMOOSearch, LaMOOSearchOptions
from cenas.supernet import SupernetOptions, make_supernet
from harness.metrics import pareto_mask
from harness.options import group, option
from harness.sim.jobs import ONESHOT, TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo, MethodContext
from harness.sim.schedule import ScheduledMethod, ScheduleOptions


@dataclass(frozen=True)
class LaMOOOptions(LaMOOSearchOptions):
    """Vanilla LaMOO: the search and the carbon-aware schedule around it (default: every GPU trains always)."""

    schedule: ScheduleOptions = group(ScheduleOptions, "carbon-aware schedule (GPUs not training idle)")


@dataclass(frozen=True)
class OneShotOptions(LaMOOSearchOptions):
    """One-shot LaMOO: the search on estimates, the supernet, the sampling quota and the claims."""

    supernet: SupernetOptions = group(SupernetOptions, "supernet training cost")
    oneshot_quota: int | None = option(
        10,
        "one-shot evaluations started per interval (null: as many as the sampling GPUs can run)",
        ge=1,
        le=10_000_000,
    )
    max_samples: int | None = option(
        1500, "sampling ends after this many samples, initial ones included (null: never)", ge=1, le=10_000_000
    )
    claim_gpus: int = option(
        1,
        "GPUs that train its estimated front (least dominated first) while it samples; the rest sample",
        ge=0,
        le=1_024,
    )
    claim_after: bool = option(True, "once sampling ends, every GPU trains the rest of its estimated front")


class VanillaLaMOO(ScheduledMethod, LaMOOSearch):
    """Every training GPU trains a fresh sample of the current region; the schedule decides how many train."""

    Options = LaMOOOptions
    options: LaMOOOptions

    def _setup_search(self, ctx: MethodContext) -> None:
        self.start_schedule(ctx)

    def on_interval(self, info: IntervalInfo) -> Allocation:
        self.select_region()
        return super().on_interval(info)

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        drawn = self.sample()
        if drawn is None:
            return None
        return Job(TRAIN, drawn[1], payload=(drawn[0], None))

    def tell(self, job: Job, outcome: Outcome) -> None:
        self.observe(job.payload[0], outcome.objectives)


class OneShotLaMOO(LaMOOSearch):
    Options = OneShotOptions
    options: OneShotOptions

    def __init__(self, options: OneShotOptions | None = None) -> None:
        super().__init__(options)
        self.quota, self.max_samples = self.options.oneshot_quota, self.options.max_samples
        self.started = 0
        self.issued = 0
        self.initial_trained = 0
        self.estimates: dict[int, np.ndarray] = {}  # arch -> its estimated objectives, in sampling order
        self.claimed: set[int] = set()  # archs sent to training (initial samples included)
        self.counts: tuple[int, np.ndarray, np.ndarray] = (0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
        """(estimates seen, their dominance counts, their non-dominated mask)"""

    @property
    def sampling(self) -> bool:
        """True until `max_samples` samples (initial ones included) have been evaluated."""
        return self.max_samples is None or len(self.observed) < self.max_samples

    def _setup_search(self, ctx: MethodContext) -> None:
        self.supernet = make_supernet(self.options.supernet, ctx.benchmark)

    def on_interval(self, info: IntervalInfo) -> Allocation:
        self.supernet.select(self.select_region(), self.tree_size)
        self.started = 0
        assert self.ctx is not None
        n = self.ctx.n_gpus
        untrained_initial = self.options.n_init - self.initial_trained  # trained first when init is charged
        claims = self.options.claim_gpus if self.sampling else (n if self.options.claim_after else 0)
        train = min(n, max(untrained_initial, claims))
        return {TRAIN: train, ONESHOT: n - train}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        if kind == TRAIN:
            return self._claim()
        if not self.sampling:
            return None
        if not self.supernet.ready:
            return self.supernet.next_chunk()
        if (self.quota is not None and self.started >= self.quota) or (
            self.max_samples is not None and self.issued + self.options.n_init >= self.max_samples
        ):
            return None
        drawn = self.sample()
        if drawn is None:
            return None
        x, arch = drawn
        self.started += 1
        self.issued += 1
        return Job(ONESHOT, arch, payload=x)

    def _claim(self) -> Job | None:
        """The next architecture to train: the unclaimed one least dominated among all its estimates (so its
        estimated front first), ties first sampled first. Once sampling has ended only its estimated front is left
        to train; None when nothing is."""
        archs = list(self.estimates)
        if len(archs) == len(self.claimed & self.estimates.keys()):
            return None
        counts = self._counts()
        left = [(int(c), i) for i, (a, c) in enumerate(zip(archs, counts, strict=True)) if a not in self.claimed]
        if not self.sampling:
            front = set(self._estimated_front())
            left = [(c, i) for c, i in left if archs[i] in front]
            if not left:
                return None
        best = archs[min(left)[1]]
        self.claimed.add(best)
        return Job(TRAIN, best, payload=(None, self.estimates[best]))

    def tell(self, job: Job, outcome: Outcome) -> None:
        """Initial samples are trained (true objectives, they feed LaMOO); one-shot estimates feed LaMOO afterwards;
        a trained claim only scores (LaMOO already holds its estimate)."""
        if job.is_supernet:
            self.supernet.finished(job)
            return
        if job.kind == TRAIN:
            if job.payload[0] is None:
                return
            self.initial_trained += 1
            self.claimed.add(job.arch)
            self.observe(job.payload[0], outcome.objectives)
            return
        self.estimates.setdefault(job.arch, outcome.objectives)
        self.observe(job.payload, outcome.objectives)

    @property
    def done(self) -> bool:
        """Sampling has ended and its estimated front is trained (or no GPU is left to train it)."""
        if self.sampling:
            return False
        return not self.options.claim_after or all(a in self.claimed for a in self._estimated_front())

    def _counts(self) -> np.ndarray:
        """Dominance counts of the estimates (in sampling order), recomputed when new ones arrive."""
        if self.counts[0] != len(self.estimates):
            f = np.asarray(list(self.estimates.values()))
            self.counts = (len(self.estimates), dominance_counts(f), pareto_mask(f))
        return self.counts[1]

    def _estimated_front(self) -> list[int]:
        """Archs whose estimates no other estimate dominates (ties kept)."""
        if not self.estimates:
            return []
        self._counts()
        return [a for a, m in zip(self.estimates, self.counts[2], strict=True) if m]
