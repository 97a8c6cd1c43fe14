"""LaMOO search on the harness contract: the partition tree, its region selection and its region sampler, shared by
CE-NAS and the LaMOO baselines (template methods: each subclass decides the allocation and the jobs).

Each interval `select_region` rebuilds the LaMOO tree from every sample the method has told it (`observe`), selects
a region (leaf or MCTS with UCB) and resets the region sampler there; `sample` draws a point of that region and its
architecture. Initial samples are uniform in the box and trained first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from cenas.lamoo.dominance import pick_least_dominated
from cenas.lamoo.samplers import Optimizer, QNEHVISampler, RegionSampler
from cenas.lamoo.svm import IPM_KERNELS
from cenas.lamoo.tree import RebuildCache, SplitMemo, TreeConfig, build_tree, leaf_select, mcts_select
from cenas.observations import Observations
from harness.errors import HarnessError
from harness.metrics import hypervolume
from harness.options import group, option
from harness.sim.jobs import TRAIN, Job
from harness.sim.method import Method, MethodContext
from harness.spaces.nb201 import X_UPPER


@dataclass(frozen=True)
class TreeOptions:
    """The LaMOO partition tree (faithful defaults: the reference code's poly-4 SVMs on every sample)."""

    kernel: Literal["poly", "rbf", "linear"] = option("poly", "SVC kernel of every split")
    degree: int = option(4, "degree of the poly kernel", ge=1, le=10)
    gamma: Literal["scale", "auto"] | float = option("scale", "SVC gamma: scale, auto or a positive number", gt=0)
    svm_max_samples: int | None = option(
        None,
        "each split's SVM is fitted on at most this many of the node's samples (null: all, faithful)",
        ge=2,
        le=1_000_000,
    )
    solver: Literal["auto", "libsvm", "ipm"] = option(
        "auto",
        "split SVM solver: libsvm's SMO (the reference's SVC, bit for bit) or exact solvers that reach the same "
        "optimum in far fewer steps (ipm: an active-set method on small nodes, an interior-point method on large ones; "
        "poly and linear kernels); auto: ipm where the kernel allows it, else libsvm",
    )
    leaf_size: int = option(10, "a node with fewer samples is a leaf", ge=2, le=100_000)
    max_height: int = option(3, "height of the tree (0: no partition)", ge=0, le=20)
    cp: float = option(30.0, "UCB exploration constant Cp (cp_mode=fixed)", ge=0)
    cp_mode: Literal["fixed", "hv_max", "current_hv"] = option(
        "fixed", "Cp: fixed, 0.1 x HV_max, or 0.1 x the HV of the samples"
    )
    node_select: Literal["leaf", "mcts"] = option("leaf", "region selection: best leaf by UCB path, or MCTS")


@dataclass(frozen=True)
class QNEHVIOptions:
    """The BoTorch qLogNEHVI region sampler (`sampler=qnehvi`)."""

    q: int = option(5, "candidates per optimisation, served in turn (pending points of the next)", ge=1, le=64)
    optimizer: Optimizer = option(
        "lbfgs",
        "lbfgs: multi-start L-BFGS-B per candidate; discrete: the best of raw_samples region points per candidate "
        "(both greedy, each pending for the next); ranked: the q best of raw_samples points, scored once",
    )
    raw_samples: int = option(
        256, "raw region samples: L-BFGS-B's initial conditions, or the discrete choices", ge=1, le=100_000
    )
    restarts: int = option(4, "L-BFGS-B restarts", ge=1, le=100)
    maxiter: int = option(50, "L-BFGS-B iterations per restart", ge=1, le=10_000)
    max_train: int | None = option(
        None,
        "the GP sees at most this many samples, non-dominated first, then the most recent (null: all)",
        ge=2,
        le=100_000,
    )
    mc_samples: int = option(128, "Monte Carlo samples of the acquisition", ge=1, le=10_000)
    refit_every: int = option(
        1, "re-estimate GP hyperparameters every k intervals (1: hourly, faithful)", ge=1, le=100_000
    )
    warm_start: bool = option(False, "a re-estimate starts from the previous hyperparameters")
    fused_kernel: bool = option(False, "botorch's JIT-compiled C++ qLogNEHVI kernel (machine-specific)")
    prune_samples: int = option(2048, "posterior draws deciding which samples stay in the baseline", ge=1, le=100_000)
    constrain_to_region: bool = option(False, "optimise the acquisition inside the LaMOO region only")


@dataclass(frozen=True)
class LaMOOSearchOptions:
    """What every LaMOO method reads: initial samples, the tree, the region sampler."""

    n_init: int = option(10, "uniform initial samples, trained first", ge=1, le=10_000)
    tree: TreeOptions = group(TreeOptions, "LaMOO partition tree")
    sampler: Literal["random", "qnehvi"] = option("random", "region sampler: uniform rejection or qLogNEHVI")
    qnehvi: QNEHVIOptions = group(QNEHVIOptions, "qLogNEHVI sampler")
    dedup: bool = option(False, "never sample an architecture already seen in this run")


class LaMOOSearch(Method):
    """Base of the LaMOO methods: `_setup` builds the sampler and submits the initial samples, then calls
    `_setup_search`; subclasses call `select_region` in `on_interval`, `sample` in `next_job`, `observe` in `tell`."""

    Options: ClassVar[type] = LaMOOSearchOptions
    options: Any  # a LaMOOSearchOptions (subclasses extend it)

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        t = self.options.tree
        if t.solver == "ipm" and t.kernel not in IPM_KERNELS:
            raise HarnessError(
                f"tree.solver=ipm needs tree.kernel={' or '.join(IPM_KERNELS)} (the {t.kernel.upper()} kernel has no "
                "finite feature map)"
            )
        solver = t.solver if t.solver != "auto" else ("ipm" if t.kernel in IPM_KERNELS else "libsvm")
        self.tree_config = TreeConfig(
            t.leaf_size, t.max_height, t.kernel, t.degree, t.gamma, svm_max_samples=t.svm_max_samples, solver=solver
        )

    @classmethod
    def study_family(cls, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Every method that partitions the space (`tree.max_height > 0`: CE-NAS and the LaMOO baselines) searches
        the same kind of partition in one study: the `LaMOO-family` shares every `tree.*` setting."""
        if not options.get("tree.max_height", 0):
            return None
        return "LaMOO-family", {k: v for k, v in options.items() if k.startswith("tree.")}

    def needs(self) -> tuple[str, ...]:
        """torch and BoTorch for the qNEHVI sampler."""
        return ("torch", "botorch") if self.options.sampler == "qnehvi" else ()

    def privileged(self) -> tuple[str, ...]:
        """Cp = 0.1 x HV_max reads the table's optimum."""
        return ("the table's optimum: Cp = 0.1 x HV_max",) if self.options.tree.cp_mode == "hv_max" else ()

    # ---------------------------------------------------------------------------------------------- setup
    def _setup(self, ctx: MethodContext) -> None:
        o, qn = self.options, self.options.qnehvi
        self.bench = ctx.benchmark
        self.ref_point = self.bench.search_ref_point
        dim = self.bench.space.dim
        self.tree_rng = ctx.rng("tree")
        if o.sampler == "qnehvi":
            self.sampler: RegionSampler = QNEHVISampler(
                ctx.rng("sampling"),
                dim,
                self.ref_point,
                qn.q,
                qn.raw_samples,
                qn.restarts,
                qn.maxiter,
                qn.mc_samples,
                constrain_to_region=qn.constrain_to_region,
                max_train=qn.max_train,
                refit_every=qn.refit_every,
                warm_start=qn.warm_start,
                fused_kernel=qn.fused_kernel,
                prune_samples=qn.prune_samples,
                optimizer=qn.optimizer,
            )
        else:
            self.sampler = RegionSampler(ctx.rng("sampling"), dim)
        self.observed = Observations(dim, len(self.ref_point))
        self.seen: set[int] = set()
        self.tree: Any = None
        self.tree_size = -1
        shared = None if ctx.memo is None else ctx.memo.setdefault(f"{SplitMemo.__module__}.SplitMemo", SplitMemo())
        self.rebuilds = RebuildCache(shared)
        self._setup_search(ctx)
        x0 = ctx.rng("init").uniform(0.0, X_UPPER, size=(o.n_init, dim))
        archs = self.bench.space.decode(x0)
        self.seen.update(int(a) for a in archs)
        ctx.submit_initial([Job(TRAIN, int(a), payload=(x, None)) for a, x in zip(archs, x0, strict=True)])

    def _setup_search(self, ctx: MethodContext) -> None:
        """Hook: the subclass's own state (queues, policies, supernet), before the initial samples are submitted."""

    # ------------------------------------------------------------------------------------------- interval
    def _cp(self) -> float:
        mode, cp = self.options.tree.cp_mode, self.options.tree.cp
        if mode == "hv_max":
            return 0.1 * self.bench.hv_max
        if mode == "current_hv":
            return 0.1 * hypervolume(self.observed.f, self.ref_point)
        return cp

    def select_region(self) -> tuple[int, ...]:
        """Rebuild the tree on every observed sample (reused while they are the same), select a region and reset the
        sampler there; the region as kid indices from the root (() before anything is observed)."""
        path: list = []
        if len(self.observed):
            if self.tree is None or self.tree_size != len(self.observed):  # the tree is a function of P: reuse it
                observed, config = self.observed, self.tree_config
                self.tree = build_tree(observed.x, observed.f, self.ref_point, config, self.rebuilds)
                self.tree_size = len(self.observed)
            select = leaf_select if self.options.tree.node_select == "leaf" else mcts_select
            _, path = select(self.tree, self._cp(), self.tree_rng)
        self.sampler.reset(path, self.observed.x, self.observed.f)
        return tuple(kid for _, kid in path)

    # ----------------------------------------------------------------------------------------------- jobs
    def sample(self) -> tuple[np.ndarray, int] | None:
        """A point of the selected region and its architecture (remembered as seen); with `dedup`, one not seen in
        this run, or None when 1000 draws find none (the region is used up: the GPU idles until the tree is
        rebuilt)."""
        for _ in range(1000):
            x = self.sampler.sample()
            arch = int(self.bench.space.decode(x[None, :])[0])
            if not self.options.dedup or arch not in self.seen:
                self.seen.add(arch)
                return x, arch
        return None

    def choose_resume(self, kind: str, jobs: Sequence[Job]) -> int:
        """Cut training jobs resume least-dominated first by their estimated objectives (`payload[1]`: CE-NAS's
        candidates, one-shot LaMOO's claims), ties FIFO; FIFO where a job has no estimate."""
        scores = [job.payload[1] for job in jobs] if kind == TRAIN else []
        if not scores or any(s is None for s in scores):
            return 0
        return pick_least_dominated(np.asarray(scores))

    def observe(self, x: np.ndarray, f: np.ndarray) -> None:
        """A sample the tree learns from: its point and its (true or estimated) objectives."""
        self.observed.append(x, f)
