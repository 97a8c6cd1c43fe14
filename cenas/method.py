"""CE-NAS (Zhao et al., HotCarbon'23 / NeurIPS'24) on the harness contract.

Each interval: rebuild the LaMOO tree from every trained sample and select a region (`cenas.search`), ask the
allocation policy how many GPUs train; the rest sample in the region and score candidates with the supernet, which
pushes them into the ready-to-train queue R (capacity rule in `cenas.queue`). Training GPUs take the least-dominated
candidate of R (cut jobs first, also least-dominated first). Initial samples are uniform in the box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from cenas.allocation.base import AllocationPolicy, PolicyState
from cenas.queue import Candidate, ReadyQueue
from cenas.search import LaMOOSearch, LaMOOSearchOptions
from cenas.supernet import SupernetOptions, make_supernet
from harness.carbon.forecast import make_forecaster
from harness.options import group, option
from harness.sim.jobs import ONESHOT, TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo, MethodContext


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
class CENASOptions(LaMOOSearchOptions):
    """CE-NAS: the LaMOO search, its ready queue, its allocation policy and forecaster, and the supernet."""

    queue_capacity: int = option(10, "capacity of the ready-to-train queue R", ge=1, le=100_000)
    dominance_scope: Literal["queue", "queue+observed"] = option(
        "queue", "the least-dominated candidate is chosen against the queue, or the queue and the trained samples"
    )
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


class CENAS(LaMOOSearch):
    Options: ClassVar[type] = CENASOptions
    options: CENASOptions

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

    def needs(self) -> tuple[str, ...]:
        """torch for the reference RL agent (trained online), torch and BoTorch for the qNEHVI sampler."""
        o = self.options
        return (("torch",) if o.policy == "rl" and o.rl.mode == "reference" else ()) + super().needs()

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
        return (*found, *super().privileged())

    # ---------------------------------------------------------------------------------------------- setup
    def _setup_search(self, ctx: MethodContext) -> None:
        o = self.options
        self.queue = ReadyQueue(o.queue_capacity)
        self.seq = 0
        self.last = {"carbon": 0.0, "n": 0, "hv": 0.0}
        self.supernet = make_supernet(o.supernet, ctx.benchmark)
        self.policy = self._make_policy(ctx)
        self.policy.setup(ctx.carbon, make_forecaster(o.forecaster, ctx.carbon.region), ctx.rng("policy"))

    def _make_policy(self, ctx: MethodContext) -> AllocationPolicy:
        from cenas.allocation import POLICIES

        return POLICIES.get(self.options.policy)(self.options)

    # ------------------------------------------------------------------------------------------- interval
    def on_interval(self, info: IntervalInfo) -> Allocation:
        assert self.ctx is not None
        self.supernet.select(self.select_region(), self.tree_size)
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
    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        if kind == ONESHOT:
            if not self.supernet.ready:
                return self.supernet.next_chunk()  # None: the rest of the training runs on other GPUs
            drawn = self.sample() if self.queue.accepting() else None
            if drawn is None:
                return None
            return Job(ONESHOT, drawn[1], payload=drawn[0])
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
        self.observe(job.payload[0], outcome.objectives)

    def queue_sizes(self) -> dict[str, int]:
        return {"ready": len(self.queue)}
