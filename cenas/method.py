"""CE-NAS (Zhao et al., HotCarbon'23 / NeurIPS'24) on the harness contract.

Each interval: rebuild the LaMOO tree from every trained sample, select a region (leaf or MCTS with UCB), ask the
allocation policy how many GPUs train; the rest sample in the region and score candidates with the supernet, which
pushes them into the ready-to-train queue R (capacity rule in `cenas.queue`). Training GPUs take the least-dominated
candidate of R (cut jobs first, also least-dominated first). Initial samples are uniform in the box.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cenas.allocation.base import AllocationPolicy, PolicyState
from cenas.lamoo.dominance import pick_least_dominated
from cenas.lamoo.samplers import QNEHVISampler, RegionSampler
from cenas.lamoo.tree import TreeConfig, build_tree, leaf_select, mcts_select
from cenas.queue import Candidate, ReadyQueue
from harness.carbon.forecast import make_forecaster
from harness.errors import HarnessError
from harness.metrics import hypervolume
from harness.sim.jobs import ONESHOT, TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo, Method, MethodContext
from harness.spaces.nb201 import X_UPPER

DEFAULTS: dict[str, Any] = {
    "n_init": 10,
    "queue_capacity": 10,
    "cp": 30.0,
    "cp_mode": "fixed",  # fixed | hv_max (0.1 x HV_max) | current_hv (0.1 x HV of the samples)
    "kernel": "poly",
    "degree": 4,
    "gamma": "scale",
    "svm_max_samples": None,  # None: each split's SVM sees all the node's samples (faithful)
    "leaf_size": 10,
    "max_height": 3,
    "node_select": "leaf",  # leaf | mcts
    "sampler": "random",  # random | qnehvi
    "qnehvi_q": 5,
    "qnehvi_raw_samples": 256,
    "qnehvi_restarts": 4,
    "qnehvi_maxiter": 50,
    "qnehvi_max_train": None,  # None: the GP sees every trained sample (faithful)
    "qnehvi_mc_samples": 128,
    "qnehvi_refit_every": 1,  # re-estimate GP hyperparameters every k intervals (1: hourly, faithful)
    "qnehvi_warm_start": False,  # a re-estimate starts from the previous hyperparameters
    "qnehvi_fused_kernel": False,  # botorch's JIT-compiled C++ qLogNEHVI kernel (machine-specific)
    "qnehvi_prune_samples": 2048,  # posterior draws that decide which samples stay in the baseline (botorch default)
    "constrain_to_region": False,
    "dominance_scope": "queue",  # queue | queue+observed
    "dedup": False,
    "policy": "heuristic",  # heuristic | rl | random | fixed
    "forecaster": "oracle",  # oracle | persistence | transformer
    "window_hours": 24,
    "clamp": True,
    "fixed_train": 1,
    "rl_mode": "clean",  # reference | clean
    "checkpoint": None,
    "greedy": True,
    "online_updates": None,  # default: True in reference mode, False in clean mode
}


class CENAS(Method):
    def __init__(self, **options: Any) -> None:
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise HarnessError(f"unknown CE-NAS option(s): {', '.join(sorted(unknown))}; known: {', '.join(DEFAULTS)}")
        super().__init__(**(DEFAULTS | options))
        o = self.options
        if o["node_select"] not in ("leaf", "mcts") or o["sampler"] not in ("random", "qnehvi"):
            raise HarnessError("node_select must be leaf or mcts; sampler must be random or qnehvi")
        if o["dominance_scope"] not in ("queue", "queue+observed") or o["cp_mode"] not in (
            "fixed",
            "hv_max",
            "current_hv",
        ):
            raise HarnessError("dominance_scope must be queue or queue+observed; cp_mode fixed, hv_max or current_hv")
        self.tree_config = TreeConfig(
            o["leaf_size"], o["max_height"], o["kernel"], o["degree"], o["gamma"], svm_max_samples=o["svm_max_samples"]
        )

    # ---------------------------------------------------------------------------------------------- setup
    def _setup(self, ctx: MethodContext) -> None:
        o = self.options
        self.bench = ctx.benchmark
        self.ref_point = self.bench.ref_point
        dim = self.bench.space.dim
        self.tree_rng = ctx.rng("tree")
        if o["sampler"] == "qnehvi":
            self.sampler: RegionSampler = QNEHVISampler(
                ctx.rng("sampling"), dim, self.ref_point, o["qnehvi_q"], o["qnehvi_raw_samples"],
                o["qnehvi_restarts"], o["qnehvi_maxiter"], o["qnehvi_mc_samples"],
                constrain_to_region=o["constrain_to_region"], max_train=o["qnehvi_max_train"],
                refit_every=o["qnehvi_refit_every"], warm_start=o["qnehvi_warm_start"],
                fused_kernel=o["qnehvi_fused_kernel"], prune_samples=o["qnehvi_prune_samples"],
            )  # fmt: skip
        else:
            self.sampler = RegionSampler(ctx.rng("sampling"), dim)
        self.x_obs: list[np.ndarray] = []
        self.f_obs: list[np.ndarray] = []
        self.queue = ReadyQueue(int(o["queue_capacity"]))
        self.seen: set[int] = set()
        self.seq = 0
        self.last = {"carbon": 0.0, "n": 0, "hv": 0.0}
        self.tree: Any = None
        self.tree_size = -1
        self.policy = self._make_policy(ctx)
        self.policy.setup(ctx.carbon, make_forecaster(o["forecaster"], ctx.carbon.trace.region), ctx.rng("policy"))
        x0 = ctx.rng("init").uniform(0.0, X_UPPER, size=(int(o["n_init"]), dim))
        archs = self.bench.space.decode(x0)
        self.seen.update(int(a) for a in archs)
        ctx.submit_initial([Job(TRAIN, int(a), payload=(x, None)) for a, x in zip(archs, x0, strict=True)])

    policy_override: AllocationPolicy | None = None  # set by RL pretraining to share one learning agent

    def _make_policy(self, ctx: MethodContext) -> AllocationPolicy:
        from cenas.allocation.simple import FixedPolicy, HeuristicPolicy, RandomPolicy

        if self.policy_override is not None:
            return self.policy_override
        o = self.options
        if o["policy"] == "heuristic":
            return HeuristicPolicy(int(o["window_hours"]), bool(o["clamp"]))
        if o["policy"] == "random":
            return RandomPolicy()
        if o["policy"] == "fixed":
            return FixedPolicy(int(o["fixed_train"]))
        if o["policy"] == "rl":
            from cenas.allocation.rl import RLPolicy

            return RLPolicy(
                mode=o["rl_mode"], checkpoint=o["checkpoint"], greedy=o["greedy"], online_updates=o["online_updates"]
            )
        raise HarnessError(f"unknown allocation policy '{o['policy']}'; use heuristic, rl, random or fixed")

    # ------------------------------------------------------------------------------------------- interval
    def _cp(self) -> float:
        mode, cp = self.options["cp_mode"], float(self.options["cp"])
        if mode == "hv_max":
            return 0.1 * self.bench.hv_max
        if mode == "current_hv":
            return 0.1 * hypervolume(np.asarray(self.f_obs), self.ref_point)
        return cp

    def on_interval(self, info: IntervalInfo) -> Allocation:
        assert self.ctx is not None
        path: list = []
        if self.x_obs:
            if self.tree is None or self.tree_size != len(self.x_obs):  # the tree is a function of P: reuse it
                self.tree = build_tree(np.asarray(self.x_obs), np.asarray(self.f_obs), self.ref_point, self.tree_config)
                self.tree_size = len(self.x_obs)
            select = leaf_select if self.options["node_select"] == "leaf" else mcts_select
            _, path = select(self.tree, self._cp(), self.tree_rng)
        self.sampler.reset(path, np.asarray(self.x_obs), np.asarray(self.f_obs))
        budget = self.ctx.budget
        state = PolicyState(
            now_s=info.now_s,
            hour=int(info.now_s // 3600),
            ci_now=info.ci_now,
            n_gpus=self.ctx.n_gpus,
            hv=info.hv,
            hv_max=self.bench.hv_max,
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
    def _sample(self) -> tuple[np.ndarray, int]:
        for _ in range(1000):
            x = self.sampler.sample()
            arch = int(self.bench.space.decode(x[None, :])[0])
            if not self.options["dedup"] or arch not in self.seen:
                return x, arch
        raise HarnessError("dedup: no unseen architecture found in the selected region after 1000 draws")

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        if kind == ONESHOT:
            if not self.queue.accepting():
                return None
            x, arch = self._sample()
            self.seen.add(arch)
            return Job(ONESHOT, arch, payload=x)
        if not len(self.queue):
            return None
        against = np.asarray(self.f_obs) if self.options["dominance_scope"] == "queue+observed" else None
        best = self.queue.pop_best(against)
        return Job(TRAIN, best.arch, payload=(best.x, best.f_oneshot))

    def tell(self, job: Job, outcome: Outcome) -> None:
        if job.kind == ONESHOT:
            self.queue.push(Candidate(job.payload, job.arch, outcome.objectives, self.seq))
            self.seq += 1
            return
        self.x_obs.append(np.asarray(job.payload[0], dtype=np.float64))
        self.f_obs.append(np.asarray(outcome.objectives, dtype=np.float64))

    def choose_resume(self, kind: str, jobs: list[Job]) -> int:  # type: ignore[override]
        """Cut training jobs resume least-dominated first (on their one-shot objectives), ties FIFO."""
        scores = [job.payload[1] for job in jobs] if kind == TRAIN else []
        if not scores or any(s is None for s in scores):
            return 0
        return pick_least_dominated(np.asarray(scores))

    def queue_sizes(self) -> dict[str, int]:
        return {"ready": len(self.queue)}
