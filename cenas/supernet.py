"""The supernet the sampling GPUs score candidates with, and what training it costs.

HotCarbon §3.3 trains a supernet for the selected region before sampling in it; the CE-NAS reference simulator does
not charge that work. Here a newly selected region (its leaf path; with `scope=rebuild` also every refit of the
tree, which moves the region's boundaries; with `scope=once` the whole space, once) starts a new supernet of
`seconds` GPU-seconds, split into chunks that sampling GPUs take as jobs when they ask for work (data-parallel
training, perfect scaling assumed). Candidates are scored only once every chunk of the current supernet has
finished; chunks of a superseded supernet still run to the end of their chunk (the simulator never cancels work)
and then count for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.benchmarks.base import Benchmark
from harness.options import option
from harness.sim.jobs import Job


@dataclass
class Supernet:
    """`seconds`: GPU-seconds per supernet; `scope`: "region", "rebuild" or "once"; `chunk_seconds`: one job's size."""

    seconds: float
    scope: str
    chunk_seconds: float
    region: tuple[int, ...] | None = None
    generation: int = 0
    left_s: float = 0.0
    in_flight: int = 0
    trainings: int = 0

    def select(self, region: tuple[int, ...], tree_version: int = 0) -> None:
        """The region sampled next (kid indices from the root) and the version of the tree it is a leaf of (samples
        it was fitted on); a new region, or with `scope=rebuild` a refitted tree, starts a new supernet."""
        if self.scope == "once":
            if self.region is not None:
                return
            region = ()
        elif self.scope == "rebuild":
            region = (tree_version, *region)
        if region == self.region:
            return
        self.region = region
        self.generation += 1
        self.left_s = self.seconds
        self.in_flight = 0
        self.trainings += self.seconds > 0

    @property
    def ready(self) -> bool:
        return self.left_s <= 0 and self.in_flight == 0

    def next_chunk(self) -> Job | None:
        """The next chunk of training for a sampling GPU, or None when the rest is already running elsewhere."""
        if self.left_s <= 0:
            return None
        seconds = min(self.chunk_seconds, self.left_s)
        self.left_s -= seconds
        self.in_flight += 1
        return Job.supernet_training(seconds, payload=self.generation)

    def finished(self, job: Job) -> None:
        """A chunk finished; chunks of superseded supernets are ignored."""
        if job.payload == self.generation:
            self.in_flight -= 1


@dataclass(frozen=True)
class SupernetOptions:
    """Supernet training, charged to the sampling GPUs before they may score candidates in a region."""

    seconds: float | None = option(
        None,
        "GPU-seconds to train the supernet of a new region (null: the benchmark's declared proxy decides: its "
        "supernet's training cost where the estimate is a supernet's, none where it is early stopping; a number "
        "overrides it and is recorded as a non-default setting; 0: free, as in the CE-NAS reference simulator)",
        ge=0,
    )
    scope: Literal["region", "rebuild", "once"] = option(
        "region",
        "a new supernet for every newly selected region (leaf path); also whenever the tree is refitted (rebuild: the "
        "region's boundaries moved); or once for the whole space",
    )
    chunk_seconds: float = option(
        900.0, "the training is split into chunks of this many GPU-seconds shared by the sampling GPUs", gt=0
    )


def make_supernet(options: SupernetOptions, benchmark: Benchmark) -> Supernet:
    """The supernet of a run: `options.seconds`, else the cost the benchmark's declared proxy gives (none where its
    estimate is early stopping)."""
    seconds = options.seconds if options.seconds is not None else benchmark.proxy.supernet_seconds
    return Supernet(seconds, options.scope, options.chunk_seconds)
