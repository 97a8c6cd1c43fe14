"""The uniform method contract. The simulator owns the clock, GPUs, trace and accounting; a method only decides.

Life cycle: `setup(ctx)` once; at every allocation boundary `on_interval(info)` returns GPUs per job kind; whenever a
GPU of some kind is free, `next_job(gpu, kind, now_s)` returns a Job or None (idle until the next event); each
finished job comes back through `tell(job, outcome)`. A job cut by a boundary is resumed by the simulator before new
work, in the order `choose_resume` picks (FIFO by default).
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from harness.benchmarks.base import Benchmark
from harness.carbon.view import CarbonView
from harness.config import Budget
from harness.options import NoOptions
from harness.sim.jobs import Allocation, Job, Outcome


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """An independent generator for one purpose of one run (sub-stream keyed by a stable hash of `purpose`)."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(purpose.encode())]))


@dataclass
class MethodContext:
    """Handed to `Method.setup`: the benchmark, GPUs, trace view, budget and seeded generators."""

    benchmark: Benchmark
    n_gpus: int
    carbon: CarbonView
    budget: Budget
    seed: int
    interval_s: float
    submit_initial: Callable[[Sequence[Job]], None] = field(repr=False)
    stream: str = ""
    """Names the run's search stream beside its seed: the trace window (region and first hour), so that a seed's runs
    on two traces are independent searches, not one search seen under two carbon axes."""
    memo: dict[str, Any] | None = field(default=None, repr=False)
    """Shared by the runs executed together in one batch (a sweep's cells that differ only in their trace), None for
    a lone run: results of pure, deterministic computations under a name the method chooses (e.g. its tree's SVM
    fits, keyed by their exact inputs). A method stores there only what it would compute bit for bit the same itself,
    so a record never depends on what the memo holds."""

    def rng(self, purpose: str) -> np.random.Generator:
        """The generator of one purpose of this run, keyed by the seed and the stream (the trace window)."""
        return rng_for(self.seed, f"{self.stream}/method/{purpose}")


@dataclass(frozen=True)
class IntervalInfo:
    """State at an allocation boundary."""

    index: int
    now_s: float
    ci_now: float
    carbon_used_g: float
    energy_used_kwh: float
    n_observed: int
    hv: float
    """HV of the observed front at the benchmark's `search_ref_point` (the scoring reference where they agree)."""


class Method(ABC):
    """Base class for search methods. Subclasses implement `_setup`, `on_interval`, `next_job` and optionally the
    hooks, and declare their options as a frozen dataclass in `Options` (see `harness.options`)."""

    name: str = "method"
    Options: ClassVar[type] = NoOptions
    """The method's typed options; `harness methods show NAME` lists them."""
    # The scoring rule is the simulator's, the same for every method: a run's HV at time t is the HV, on true
    # objectives, of the architectures whose full training it paid for and finished by t. Estimates never score;
    # a method that searches on estimates trains what it would report (e.g. one-shot LaMOO's estimated front).

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()
        if not isinstance(self.options, self.Options):
            raise TypeError(f"{type(self).__name__} takes {self.Options.__name__}, not {type(self.options).__name__}")
        self.validate()
        self.ctx: MethodContext | None = None

    def validate(self) -> None:  # noqa: B027 - optional hook
        """Hook: cross-option checks (one HarnessError line); single options are validated by their declaration."""

    def model_files(self, region: str) -> dict[str, str]:
        """Hook: trained models a run of these options on `region`'s trace reads (name -> sha256). They are part of
        a study cell's key and of the run record's provenance, so new weights mean new runs. Default: none."""
        return {}

    @classmethod
    def study_family(cls, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Hook: the settings this method, with these resolved options (dotted keys), must share with every method
        of the same family in one study, as (family, {key: value}); a study compares its family members on equal
        terms or names the keys it varies (`tree_varies`). LaMOO methods declare their tree (`tree.*`). Default:
        none."""
        return None

    def needs(self) -> tuple[str, ...]:
        """Hook: modules beyond the default install that these options import (e.g. `torch`); `harness.optional`
        refuses the run in one line, naming the extra to install, before any work. Default: none."""
        return ()

    def privileged(self) -> tuple[str, ...]:
        """Hook: what these options let the method know beyond the past, the present and forecasts (an oracle
        forecast, the table's optimum, the true future of anything), one short phrase each; derived from the
        resolved options. Boards badge such runs and rank them apart. Default: nothing."""
        return ()

    def setup(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self._setup(ctx)

    def _setup(self, ctx: MethodContext) -> None:  # noqa: B027 - optional hook
        """Hook: prepare state, submit initial samples."""

    @abstractmethod
    def on_interval(self, info: IntervalInfo) -> Allocation:
        """GPUs per job kind for the interval starting now."""

    @abstractmethod
    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        """A new job for a free GPU of `kind`, or None to leave it idle until the next event."""

    def tell(self, job: Job, outcome: Outcome) -> None:  # noqa: B027 - optional hook
        """A job finished (initial evaluations included)."""

    def choose_resume(self, kind: str, jobs: Sequence[Job]) -> int:
        """Index of the cut job to resume next among `jobs` (all of `kind`); FIFO by default."""
        return 0

    def queue_sizes(self) -> dict[str, int]:
        """Method-side queue lengths to record per interval (e.g. CE-NAS's ready-to-train queue)."""
        return {}

    @property
    def done(self) -> bool:
        """True when the method has nothing more to do (e.g. an evolutionary run that finished its generations)."""
        return False
