"""CE-NAS (Zhao et al., HotCarbon'23 / NeurIPS'24) on the harness contract.

Each interval: rebuild the LaMOO tree from every trained sample, select a region (leaf or MCTS with UCB), ask the
allocation policy how many GPUs train; the rest sample in the region and score candidates with the supernet, which
pushes them into the ready-to-train queue R (capacity rule in `cenas.queue`). Training GPUs take the least-dominated
candidate of R (cut jobs first, also least-dominated first). Initial samples are uniform in the box.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from cenas.allocation.base import AllocationPolicy, PolicyState
from cenas.lamoo.dominance import pick_least_dominated
from cenas.lamoo.samplers import Optimizer, QNEHVISampler, RegionSampler
from cenas.lamoo.svm import IPM_KERNELS
from cenas.lamoo.tree import RebuildCache, SplitMemo, TreeConfig, build_tree, leaf_select, mcts_select
from cenas.observations import Observations
from cenas.queue import Candidate, ReadyQueue
from cenas.supernet import Supernet
from harness.carbon.forecast import make_forecaster
from harness.errors import HarnessError
from harness.metrics import hypervolume
from harness.options import group, option
from harness.sim.jobs import ONESHOT, TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo, Method, MethodContext
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
class HeuristicOptions:
    """HotCarbon's heuristic allocation (`policy=heuristic`)."""

    window_hours: int = option(24, "forecast window the current intensity is ranked in (h)", ge=1, le=8_760)
    clamp: bool = option(True, "keep at least one GPU on each kind of work")


@dataclass(frozen=True)
class RLOptions:
    """The actor-critic allocation (`policy=rl`)."""

    mode: Literal["reference", "clean"] = option(
        "clean",
        "reference: the CE-NAS code's online actor-critic; clean: a PPO agent trained on the allocation environment "
        "(`harness rl train`)",
    )
    checkpoint: str | None = option(
        None, "clean agent's weights (path or shipped name; null: the shipped rl_clean_ppo.pt)"
    )
    greedy: bool = option(True, "act by the most probable action instead of sampling")
    online_updates: bool | None = option(
        None, "reference agent learns during the run (null: true); the clean agent never does"
    )
    ci_range: Literal["history", "oracle-remaining"] = option(
        "history",
        "reference-mode intensity range: min/max of the 30 days before the run (history), or of the whole remaining "
        "series as the CE-NAS code reads it (oracle-remaining: future knowledge)",
    )


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


@dataclass(frozen=True)
class CENASOptions:
    n_init: int = option(10, "uniform initial samples, trained first", ge=1, le=10_000)
    queue_capacity: int = option(10, "capacity of the ready-to-train queue R", ge=1, le=100_000)
    tree: TreeOptions = group(TreeOptions, "LaMOO partition tree")
    sampler: Literal["random", "qnehvi"] = option("random", "region sampler: uniform rejection or qLogNEHVI")
    qnehvi: QNEHVIOptions = group(QNEHVIOptions, "qLogNEHVI sampler")
    dominance_scope: Literal["queue", "queue+observed"] = option(
        "queue", "the least-dominated candidate is chosen against the queue, or the queue and the trained samples"
    )
    dedup: bool = option(False, "never sample an architecture already seen in this run")
    policy: Literal["heuristic", "rl", "random", "fixed", "rank-half"] = option("heuristic", "GPU allocation policy")
    forecaster: Literal["oracle", "persistence", "transformer"] = option(
        "persistence",
        "carbon forecast the policy sees: persistence (the same hour a day earlier), the shipped transformer, or "
        "oracle (the true future: privileged, badged on boards)",
    )
    heuristic: HeuristicOptions = group(HeuristicOptions, "heuristic policy")
    fixed_train: int = option(1, "training GPUs each interval (policy=fixed)", ge=0, le=1_024)
    rl: RLOptions = group(RLOptions, "RL policy")
    supernet: SupernetOptions = group(SupernetOptions, "supernet training cost")


class CENAS(Method):
    Options: ClassVar[type] = CENASOptions  # the LaMOO baselines narrow it (LaMOOOptions, OneShotOptions)
    options: CENASOptions

    def __init__(self, options: CENASOptions | None = None) -> None:
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

    def model_files(self, region: str) -> dict[str, str]:
        """The transformer forecaster and the clean RL agent, when these options use them: the sha256 of their weights
        and of the verified ONNX export each run executes (the bytes that run, not a claim in a file beside them)."""
        o, found = self.options, dict[str, str]()
        if o.forecaster == "transformer":
            from harness.carbon.transformer import find_checkpoint, model_hashes

            found |= {f"forecaster/{name}": digest for name, digest in model_hashes(find_checkpoint(region)).items()}
        if o.policy == "rl" and o.rl.mode == "clean":
            from cenas.allocation import ppo

            found |= {f"rl/{name}": digest for name, digest in ppo.model_hashes(o.rl.checkpoint).items()}
        return found

    @classmethod
    def study_family(cls, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Every method that partitions the space (`tree.max_height > 0`: CE-NAS and the LaMOO baselines) searches
        the same kind of partition in one study: the `LaMOO-family` shares every `tree.*` setting."""
        if not options.get("tree.max_height", 0):
            return None
        return "LaMOO-family", {k: v for k, v in options.items() if k.startswith("tree.")}

    def needs(self) -> tuple[str, ...]:
        """torch for the reference RL agent (trained online), torch and BoTorch for the qNEHVI sampler."""
        o = self.options
        return (("torch",) if o.policy == "rl" and o.rl.mode == "reference" else ()) + (
            ("torch", "botorch") if o.sampler == "qnehvi" else ()
        )

    READS_FORECAST = ("heuristic", "rank-half")
    """Policies that read the forecaster (besides the clean RL agent)."""

    def privileged(self) -> tuple[str, ...]:
        """What these options know beyond the past, the present and forecasts (see `Method.privileged`)."""
        o, found = self.options, []
        reads_forecast = o.policy in self.READS_FORECAST or (o.policy == "rl" and o.rl.mode == "clean")
        if reads_forecast and o.forecaster == "oracle":
            found.append("oracle forecast: the true future intensity")
        if o.policy == "rl" and o.rl.mode == "reference":  # the clean agent sees HV / the reference box instead
            found.append("the table's optimum: HV_0 / HV_max in the agent's state and HV / HV_max in its reward")
            if o.rl.ci_range == "oracle-remaining":
                found.append("the true future intensity range")
        if o.tree.cp_mode == "hv_max":
            found.append("the table's optimum: Cp = 0.1 x HV_max")
        return tuple(found)

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
        self.queue = ReadyQueue(o.queue_capacity)
        self.seen: set[int] = set()
        self.seq = 0
        self.last = {"carbon": 0.0, "n": 0, "hv": 0.0}
        self.tree: Any = None
        self.tree_size = -1
        shared = None if ctx.memo is None else ctx.memo.setdefault(f"{SplitMemo.__module__}.SplitMemo", SplitMemo())
        self.rebuilds = RebuildCache(shared)
        seconds = o.supernet.seconds if o.supernet.seconds is not None else ctx.benchmark.proxy.supernet_seconds
        self.supernet = Supernet(seconds, o.supernet.scope, o.supernet.chunk_seconds)
        self.policy = self._make_policy(ctx)
        self.policy.setup(ctx.carbon, make_forecaster(o.forecaster, ctx.carbon.region), ctx.rng("policy"))
        x0 = ctx.rng("init").uniform(0.0, X_UPPER, size=(o.n_init, dim))
        archs = self.bench.space.decode(x0)
        self.seen.update(int(a) for a in archs)
        ctx.submit_initial([Job(TRAIN, int(a), payload=(x, None)) for a, x in zip(archs, x0, strict=True)])

    def _make_policy(self, ctx: MethodContext) -> AllocationPolicy:
        from cenas.allocation import POLICIES

        return POLICIES.get(self.options.policy)(self.options)

    # ------------------------------------------------------------------------------------------- interval
    def _cp(self) -> float:
        mode, cp = self.options.tree.cp_mode, self.options.tree.cp
        if mode == "hv_max":
            return 0.1 * self.bench.hv_max
        if mode == "current_hv":
            return 0.1 * hypervolume(self.observed.f, self.ref_point)
        return cp

    def on_interval(self, info: IntervalInfo) -> Allocation:
        assert self.ctx is not None
        path: list = []
        if len(self.observed):
            if self.tree is None or self.tree_size != len(self.observed):  # the tree is a function of P: reuse it
                observed, config = self.observed, self.tree_config
                self.tree = build_tree(observed.x, observed.f, self.ref_point, config, self.rebuilds)
                self.tree_size = len(self.observed)
            select = leaf_select if self.options.tree.node_select == "leaf" else mcts_select
            _, path = select(self.tree, self._cp(), self.tree_rng)
        self.supernet.select(tuple(kid for _, kid in path), self.tree_size)
        self.sampler.reset(path, self.observed.x, self.observed.f)
        budget = self.ctx.budget
        state = PolicyState(
            now_s=info.now_s,
            hour=int(info.now_s // 3600),
            ci_now=info.ci_now,
            n_gpus=self.ctx.n_gpus,
            hv=info.hv,
            hv_max=self.bench.hv_max,
            hv_box=self.bench.hv_box,
            n_observed=info.n_observed,
            queue_len=len(self.queue),
            queue_capacity=self.queue.capacity,
            carbon_used_g=info.carbon_used_g,
            carbon_budget_g=budget.carbon_g,
            hours_budget=budget.hours,
            step_carbon_g=info.carbon_used_g - self.last["carbon"],
            new_samples=info.n_observed - int(self.last["n"]),
            hv_gain=info.hv - self.last["hv"],
        )
        self.last = {"carbon": info.carbon_used_g, "n": info.n_observed, "hv": info.hv}
        train = int(self.policy.train_gpus(state))
        return {TRAIN: train, ONESHOT: self.ctx.n_gpus - train}

    # ----------------------------------------------------------------------------------------------- jobs
    def _sample(self) -> tuple[np.ndarray, int] | None:
        """A point of the selected region and its architecture; with `dedup`, one not seen in this run, or None when
        1000 draws find none (the region is used up: the GPU idles until the tree is rebuilt)."""
        for _ in range(1000):
            x = self.sampler.sample()
            arch = int(self.bench.space.decode(x[None, :])[0])
            if not self.options.dedup or arch not in self.seen:
                return x, arch
        return None

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        if kind == ONESHOT:
            if not self.supernet.ready:
                return self.supernet.next_chunk()  # None: the rest of the training runs on other GPUs
            drawn = self._sample() if self.queue.accepting() else None
            if drawn is None:
                return None
            x, arch = drawn
            self.seen.add(arch)
            return Job(ONESHOT, arch, payload=x)
        if not len(self.queue):
            return None
        against = self.observed.f if self.options.dominance_scope == "queue+observed" else None
        best = self.queue.pop_best(against)
        return Job(TRAIN, best.arch, payload=(best.x, best.f_oneshot))

    def tell(self, job: Job, outcome: Outcome) -> None:
        if job.is_supernet:
            self.supernet.finished(job)
            return
        if job.kind == ONESHOT:
            self.queue.push(Candidate(job.payload, job.arch, outcome.objectives, self.seq))
            self.seq += 1
            return
        self.observed.append(job.payload[0], outcome.objectives)

    def choose_resume(self, kind: str, jobs: list[Job]) -> int:  # type: ignore[override]
        """Cut training jobs resume least-dominated first (on their one-shot objectives), ties FIFO."""
        scores = [job.payload[1] for job in jobs] if kind == TRAIN else []
        if not scores or any(s is None for s in scores):
            return 0
        return pick_least_dominated(np.asarray(scores))

    def queue_sizes(self) -> dict[str, int]:
        return {"ready": len(self.queue)}
