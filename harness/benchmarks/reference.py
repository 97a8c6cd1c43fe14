"""Reference fronts for benchmarks whose space cannot be enumerated (NAS-Bench-301): a long seeded search, as data.

`make_reference` scores architectures straight on the benchmark (no simulator, no carbon) in three seeded stages that
share one evaluation budget: uniform random genotypes (1/5), NSGA-II on the box encoding (pymoo, 2/5), then Pareto
local search (the rest): every single-coordinate neighbour of each front member, front members taken in order of
accuracy, until the budget is spent. The front of everything scored is the reference. Its reference point follows the
NAS-Bench-201 benchmarks: accuracy 0 %, cost 1.1 x the largest cost rounded up to two significant digits (the exact
largest cost where the benchmark knows it, else the largest cost scored). The front is a lower bound on the true one:
a run may beat it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.benchmarks.base import Benchmark, nice_ceil
from harness.metrics import hypervolume, pareto_mask

STAGES = ("uniform", "nsga2", "local-search")
NSGA2_POP = 100
MAX_STALLED = 50  # NSGA-II generations in a row that find nothing new end its stage early


class _Archive:
    """Every architecture scored so far (index -> objectives), within a hard evaluation budget."""

    def __init__(self, bench: Benchmark, budget: int, progress: Callable[[int, int], None] | None) -> None:
        self.bench, self.budget, self.progress = bench, budget, progress
        self.scored: dict[int, np.ndarray] = {}
        self.per_stage: dict[str, int] = dict.fromkeys(STAGES, 0)

    @property
    def left(self) -> int:
        return self.budget - len(self.scored)

    def score(self, index: np.ndarray, stage: str) -> np.ndarray:
        """Objectives of `index` (n,), scoring new ones while the budget lasts; (n, 2), NaN where over budget."""
        new = [int(i) for i in dict.fromkeys(index.tolist()) if int(i) not in self.scored][: max(self.left, 0)]
        if new:
            for i, f in zip(new, self.bench.objectives(new), strict=True):
                self.scored[i] = f
            self.per_stage[stage] += len(new)
            if self.progress:
                self.progress(len(self.scored), self.budget)
        return np.array([self.scored.get(int(i), (np.nan, np.nan)) for i in index], dtype=np.float64)

    def front(self) -> tuple[np.ndarray, np.ndarray]:
        idx = np.fromiter(self.scored, dtype=np.int64, count=len(self.scored))
        f = np.array([self.scored[int(i)] for i in idx])
        keep = pareto_mask(f)
        return idx[keep], f[keep]


def _nsga2(archive: _Archive, evaluations: int, seed: int) -> None:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.core.termination import NoTermination
    from pymoo.problems.static import StaticProblem

    dim = archive.bench.space.dim
    problem = Problem(n_var=dim, n_obj=2, xl=np.zeros(dim), xu=np.full(dim, 1.0 - 1e-9))
    algorithm = NSGA2(pop_size=NSGA2_POP, eliminate_duplicates=True)
    algorithm.setup(problem, termination=NoTermination(), seed=seed)
    stop = archive.budget - archive.left + evaluations
    stalled = 0
    while archive.budget - archive.left < stop and archive.left > 0 and stalled < MAX_STALLED:
        population = algorithm.ask()
        before = archive.left
        f = archive.score(archive.bench.space.decode(population.get("X")), "nsga2")
        stalled = stalled + 1 if archive.left == before else 0
        f = np.where(np.isnan(f), -np.inf, f)  # over budget: never selected
        Evaluator().eval(StaticProblem(problem, F=-f), population)
        algorithm.tell(infills=population)


def _local_search(archive: _Archive) -> None:
    idx, f = archive.front()
    expanded: set[int] = set()
    while archive.left > 0:
        todo = [int(i) for i in idx[np.argsort(-f[:, 0], kind="stable")] if int(i) not in expanded]
        if not todo:
            return
        expanded.add(todo[0])
        near = archive.bench.space.neighbours(todo[0])  # type: ignore[attr-defined]
        scored = archive.score(near, "local-search")
        keep = ~np.isnan(scored[:, 0])
        idx, f = np.concatenate([idx, near[keep]]), np.vstack([f, scored[keep]])
        _, first = np.unique(idx, return_index=True)
        idx, f = idx[np.sort(first)], f[np.sort(first)]
        front = pareto_mask(f)  # the front of everything scored so far: the old front and the new neighbours
        idx, f = idx[front], f[front]


def make_reference(
    bench: Benchmark, evaluations: int, seed: int = 0, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """A reference-front document for `bench` from `evaluations` scored architectures (see the module docstring)."""
    from harness.benchmarks.nb301 import MODEL, REFERENCE_SCHEMA

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    archive = _Archive(bench, evaluations, progress)
    archive.score(rng.integers(bench.n_archs, size=evaluations // 5), "uniform")
    _nsga2(archive, 2 * evaluations // 5, int(rng.integers(2**31)))
    _local_search(archive)
    idx, f = archive.front()
    order = np.argsort(-f[:, 1], kind="stable")  # cheapest first
    idx, f = idx[order], f[order]
    scored = np.array(list(archive.scored.values()))
    largest = getattr(bench, "largest_cost", None) or float(-scored[:, 1].min())
    ref = np.array([0.0, -nice_ceil(1.1 * largest)])
    return {
        "schema": REFERENCE_SCHEMA,
        "benchmark": bench.id,
        "model_sha256": bench.data_hashes().get(MODEL),
        "objectives": [f"{o.label} ({o.unit})" for o in bench.objectives_meta],
        "ref_point": [float(v) for v in ref],
        "largest_cost": largest,
        "hv": hypervolume(f, ref),
        "evaluations": len(archive.scored),
        "per_stage": archive.per_stage,
        "seed": seed,
        "method": __doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else "",
        "command": f"harness benchmarks reference {bench.id} --evaluations {evaluations} --seed {seed}",
        "seconds": round(time.perf_counter() - started, 1),
        "front": [
            {"index": int(i), "arch": bench.space.arch_id(int(i)), "accuracy": float(p[0]), "cost": float(-p[1])}
            for i, p in zip(idx, f, strict=True)
        ],
    }
