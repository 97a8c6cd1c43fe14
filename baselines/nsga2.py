"""NSGA-II (pymoo, ask/tell) on the benchmark's continuous encoding, one synchronous generation at a time.

Each generation's offspring are decoded to architectures and trained in parallel on every GPU; the next generation
is asked once all are back (GPUs idle meanwhile). pymoo draws from its own seeded generator (no global state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.options import option
from harness.sim.jobs import TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo, Method, MethodContext
from harness.spaces.nb201 import X_UPPER


@dataclass(frozen=True)
class NSGA2Options:
    pop_size: int = option(20, "population size (architectures per generation)", ge=2, le=5_000)


class NSGA2Search(Method):
    Options = NSGA2Options
    options: NSGA2Options

    def _setup(self, ctx: MethodContext) -> None:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.problem import Problem
        from pymoo.core.termination import NoTermination

        dim = ctx.benchmark.space.dim
        self.problem = Problem(n_var=dim, n_obj=ctx.benchmark.n_objectives, xl=np.zeros(dim), xu=np.full(dim, X_UPPER))
        self.algorithm = NSGA2(pop_size=self.options.pop_size, eliminate_duplicates=True)
        self.algorithm.setup(self.problem, termination=NoTermination(), seed=int(ctx.rng("nsga2").integers(2**31)))
        self.population: Any = None
        self.queue: list[int] = []
        self.results: dict[int, np.ndarray] = {}
        self.generations = 0

    def on_interval(self, info: IntervalInfo) -> Allocation:
        assert self.ctx is not None
        return {TRAIN: self.ctx.n_gpus}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        if self.population is None:
            self.population = self.algorithm.ask()
            self.queue = list(range(len(self.population)))
            self.results = {}
        if not self.queue:
            return None  # waiting for the rest of the generation
        row = self.queue.pop(0)
        x = self.population.get("X")[row]
        return Job(TRAIN, int(self.bench_space().decode(x[None, :])[0]), payload=row)

    def bench_space(self) -> Any:
        assert self.ctx is not None
        return self.ctx.benchmark.space

    def tell(self, job: Job, outcome: Outcome) -> None:
        self.results[job.payload] = -np.asarray(outcome.objectives, dtype=np.float64)  # pymoo minimises
        if len(self.results) == len(self.population):
            from pymoo.core.evaluator import Evaluator
            from pymoo.problems.static import StaticProblem

            f = np.array([self.results[i] for i in range(len(self.population))])
            Evaluator().eval(StaticProblem(self.problem, F=f), self.population)
            self.algorithm.tell(infills=self.population)
            self.population = None
            self.generations += 1

    def queue_sizes(self) -> dict[str, int]:
        return {"generation": self.generations}
