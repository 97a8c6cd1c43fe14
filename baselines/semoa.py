"""EC-NAS SEMOA (Bakhtiarifard et al., ICASSP 2024) as a carbon-budgeted method (spec §9).

Genome as in EC-NAS-Bench: `vertices` in [2, N], `edges` in [1, N(N-1)/2], ops `op_node_0..N-3`, edge bits over the
full N-vertex upper triangle. A genome evaluates, at an epoch budget, to the table row of its pruned NAS-Bench-101
cell, or to the "bad" fitness (0, 0) when the cell is invalid, has more than 9 edges or was never measured.
Fitness = (energy kWh, -100 x validation accuracy), both minimised; the archive is moarchiving's bi-objective
non-dominated list with reference point (1e6, 100).

One step (faithful defaults, see spec §9.1 and §10 item 26):
1. the population is re-evaluated at the step's budget (the cycle min_budget x 3^i: 4, 12, 36, 108), then sorted by
   contributing hypervolume to the archive (descending; non-members get their negative uncrowded improvement);
2. pop_size parents by linear ranking (eta_p, eta_o); offspring by mutation only: each edge bit among the first
   `vertices` vertices flips with probability expected_edge_changes / (V(V-1)/2), each op `op_node_1..V-3` changes to
   a different op with probability expected_op_changes / (V-2) (`fix_op0` also mutates op_node_0);
3. population + offspring are evaluated; survivors are the first individual of every distinct non-bad fitness
   (`truncate` keeps the pop_size with the largest contribution); every non-bad fitness enters the archive.

In the simulator every evaluation of a measured row is a training job of that row's measured time and energy;
evaluations of one phase run in parallel over the GPUs and the next phase waits for all (synchronous EA). With `cache`
(default) a row already trained in this run, or queued in the same phase, is not trained again. If no individual
survives a step (every genome bad), a fresh random population is drawn; EC-NAS-Bench would crash there.

Carbon gating (spec §9.2's option, `gate.mode=heuristic`; default `none`): each interval only the HotCarbon heuristic's
training share of the GPUs (at least one) runs evaluations, so work shifts towards the low-intensity hours of the
next `gate_window_hours` (forecast by `gate_forecaster`, oracle by default); jobs on withdrawn GPUs are cut and
resume first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from cenas.allocation.simple import HeuristicPolicy
from harness.benchmarks.ecnas import ECNASBenchmark
from harness.carbon.forecast import make_forecaster
from harness.errors import HarnessError
from harness.options import group, option
from harness.sim.jobs import TRAIN, Allocation, Job, Outcome
from harness.sim.method import IntervalInfo, Method, MethodContext
from harness.spaces import nb101

BAD: tuple[float, float] = (0.0, 0.0)
ARCHIVE_REFERENCE = (1e6, 100.0)


@dataclass(frozen=True)
class Genome:
    vertices: int
    edges: int
    ops: tuple[str, ...]  # op_node_0 .. op_node_{N-3}
    bits: tuple[int, ...]  # edge_i_j for i < j < N, row-major

    def cell(self, n_nodes: int) -> nb101.Cell | None:
        """The pruned NAS-Bench-101 cell this genome encodes (EC-NAS `evaluate_network`), or None if out of domain."""
        v = self.vertices
        matrix = np.zeros((v, v), dtype=np.int8)
        taken = 0
        for (i, j), bit in zip(_pairs(n_nodes), self.bits, strict=True):
            if taken == self.edges:
                break
            if j < v and bit:
                matrix[i, j] = 1
                taken += 1
        if matrix.sum() > nb101.MAX_EDGES:
            return None
        pruned = nb101.prune(matrix, (nb101.INPUT, *self.ops[: v - 2], nb101.OUTPUT))
        return pruned if pruned is not None and nb101.is_valid(*pruned) else None


def _pairs(n_nodes: int) -> Iterator[tuple[int, int]]:
    return ((i, j) for i in range(n_nodes) for j in range(i + 1, n_nodes))


@dataclass(eq=False)
class Individual:
    genome: Genome
    fitness: tuple[float, float] | None = None  # at the current budget; None until evaluated


@dataclass(frozen=True)
class GateOptions:
    """Carbon gating (spec §9.2): run evaluations on the HotCarbon heuristic's share of the GPUs only."""

    mode: Literal["none", "heuristic"] = option("none", "none: every GPU evaluates; heuristic: gated by intensity")
    window_hours: int = option(24, "forecast window the current intensity is ranked in (h)", ge=1, le=8_760)
    forecaster: Literal["oracle", "persistence", "transformer"] = option("oracle", "forecast the gate sees")


@dataclass(frozen=True)
class SEMOAOptions:
    pop_size: int = option(10, "population size", ge=1, le=10_000)
    generations: int = option(100, "steps (rounded down to whole budget cycles)", ge=1, le=100_000)
    min_budget: Literal[4, 12, 36, 108] = option(4, "first epoch budget of the cycle")
    max_budget: Literal[4, 12, 36, 108] = option(108, "last epoch budget of the cycle")
    expected_edge_changes: float = option(2.0, "expected edge-bit flips per mutation", gt=0)
    expected_op_changes: float = option(0.5, "expected op changes per mutation", gt=0)
    eta_p: float = option(1.9, "linear ranking: weight of the best parent", gt=0)
    eta_o: float = option(0.1, "linear ranking: weight of the worst parent", gt=0)
    n_nodes: int | None = option(None, "vertices of the genome (null: the benchmark's maximum)", ge=2, le=64)
    truncate: bool = option(False, "keep only pop_size survivors (largest contribution)")
    fix_op0: bool = option(False, "also mutate op_node_0 (EC-NAS-Bench never does)")
    cache: bool = option(True, "a row already trained in this run is not trained again")
    gate: GateOptions = group(GateOptions, "carbon gating")


class SEMOA(Method):
    Options = SEMOAOptions
    options: SEMOAOptions

    def validate(self) -> None:
        if self.options.min_budget > self.options.max_budget:
            raise HarnessError("semoa: min_budget must not exceed max_budget")

    def __init__(self, options: SEMOAOptions | None = None) -> None:
        super().__init__(options)
        o = self.options
        self.budgets = [o.min_budget * 3**i for i in range(round(np.log(o.max_budget / o.min_budget) / np.log(3)) + 1)]
        self.n_steps = (o.generations // len(self.budgets)) * len(self.budgets)

    # ---------------------------------------------------------------------------------------------- setup
    def _setup(self, ctx: MethodContext) -> None:
        from moarchiving import BiobjectiveNondominatedSortedList

        if not isinstance(ctx.benchmark, ECNASBenchmark):
            raise HarnessError(
                f"semoa searches NAS-Bench-101-style cells; benchmark {ctx.benchmark.id} is not one (use ecnas/4v)"
            )
        self.bench: ECNASBenchmark = ctx.benchmark
        self.n_nodes = int(self.options.n_nodes or self.bench.max_vertices)
        if not 2 <= self.n_nodes <= nb101.MAX_VERTICES:
            raise HarnessError(f"semoa: n_nodes must be 2..{nb101.MAX_VERTICES}")
        self.rng = ctx.rng("semoa")
        self.archive = BiobjectiveNondominatedSortedList(reference_point=list(ARCHIVE_REFERENCE))
        self.population = [Individual(self._random_genome()) for _ in range(self.options.pop_size)]
        self.trained: dict[int, tuple[float, float]] = {}  # row -> fitness, for `cache`
        self.step = 0
        self.phase = "population"  # population -> offspring -> (next step)
        self.offspring: list[Individual] = []
        self.pending: list[tuple[int, list[Individual]]] = []  # (row, individuals waiting for it), not yet started
        self.running = 0
        self.restarts = 0
        self.gate: HeuristicPolicy | None = None
        if self.options.gate.mode == "heuristic":
            self.gate = HeuristicPolicy(self.options.gate.window_hours, clamp=False)
            forecaster = make_forecaster(self.options.gate.forecaster, ctx.carbon.region)
            self.gate.setup(ctx.carbon, forecaster, ctx.rng("gate"))
        self._start_phase()

    def _random_genome(self) -> Genome:
        n, rng = self.n_nodes, self.rng
        return Genome(
            vertices=int(rng.integers(2, n + 1)),
            edges=int(rng.integers(1, n * (n - 1) // 2 + 1)),
            ops=tuple(nb101.OPS[k] for k in rng.integers(len(nb101.OPS), size=n - 2)),
            bits=tuple(int(b) for b in rng.integers(2, size=n * (n - 1) // 2)),
        )

    # ------------------------------------------------------------------------------------------ evaluation
    @property
    def budget(self) -> int:
        return self.budgets[self.step % len(self.budgets)]

    def _row(self, genome: Genome) -> int | None:
        cell = genome.cell(self.n_nodes)
        return None if cell is None else self.bench.space.row(nb101.module_hash(*cell), self.budget)

    def _start_phase(self) -> None:
        """Queue the evaluations of the current phase; phases that need no training complete at once."""
        while not self.done:
            members = self.population if self.phase == "population" else self.offspring
            batched: dict[int, list[Individual]] = {}
            for ind in members:
                row = self._row(ind.genome)
                ind.fitness = None
                if row is None:
                    ind.fitness = BAD
                elif not self.options.cache:
                    self.pending.append((row, [ind]))
                elif row in self.trained:
                    ind.fitness = self.trained[row]
                else:  # one job per distinct row of the phase
                    batched.setdefault(row, []).append(ind)
            self.pending.extend(batched.items())
            if self.pending:
                return
            self._finish_phase()

    def _finish_phase(self) -> None:
        if self.phase == "population":
            self._breed()
            self.phase = "offspring"
            return
        self._select()
        self.step += 1
        self.phase = "population"

    def _breed(self) -> None:
        self.population.sort(key=self._contribution, reverse=True)
        m, eta_p, eta_o = len(self.population), self.options.eta_p, self.options.eta_o
        if m == 1:
            parents = np.zeros(self.options.pop_size, dtype=np.int64)
        else:
            p = (eta_p - (eta_p - eta_o) * np.arange(m) / (m - 1)) / m
            parents = self.rng.choice(m, size=self.options.pop_size, p=p / p.sum())
        self.offspring = [Individual(self._mutate(self.population[i].genome)) for i in parents]

    def _contribution(self, ind: Individual) -> float:
        """Contributing hypervolume to the archive (negative uncrowded improvement for non-members)."""
        assert ind.fitness is not None
        return float(self.archive.contributing_hypervolume(list(ind.fitness)))

    def _mutate(self, genome: Genome) -> Genome:
        v, rng = genome.vertices, self.rng
        bits = list(genome.bits)
        p_edge = self.options.expected_edge_changes / (v * (v - 1) // 2)
        for k, (_, j) in enumerate(_pairs(self.n_nodes)):
            if j < v and rng.random() < p_edge:
                bits[k] = 1 - bits[k]
        ops = list(genome.ops)
        if v > 2:
            p_op = self.options.expected_op_changes / (v - 2)
            for k in range(0 if self.options.fix_op0 else 1, v - 2):
                if rng.random() < p_op:
                    others = [op for op in nb101.OPS if op != ops[k]]
                    ops[k] = others[int(rng.integers(len(others)))]
        return replace(genome, ops=tuple(ops), bits=tuple(bits))

    def _select(self) -> None:
        everyone = self.population + self.offspring
        evals = [ind.fitness for ind in everyone if ind.fitness != BAD]
        survivors: dict[tuple[float, float], Individual] = {}
        for ind in everyone:
            if ind.fitness != BAD and ind.fitness not in survivors:
                survivors[ind.fitness] = ind  # type: ignore[index]
        self.archive.add_list([list(f) for f in evals])  # type: ignore[arg-type]
        self.population = list(survivors.values())
        if self.options.truncate and len(self.population) > self.options.pop_size:
            self.population.sort(key=self._contribution, reverse=True)
            self.population = self.population[: self.options.pop_size]
        if not self.population:  # every genome was bad: start afresh (EC-NAS-Bench would crash)
            self.restarts += 1
            self.population = [Individual(self._random_genome()) for _ in range(self.options.pop_size)]
        self.offspring = []

    def privileged(self) -> tuple[str, ...]:
        """The gate's oracle forecast, where it gates on one (see `Method.privileged`)."""
        gate = self.options.gate
        if gate.mode == "heuristic" and gate.forecaster == "oracle":
            return ("oracle forecast: the true future intensity (carbon gate)",)
        return ()

    # ------------------------------------------------------------------------------------------ simulator
    def on_interval(self, info: IntervalInfo) -> Allocation:
        """Every GPU, or with `gate.mode=heuristic` the HotCarbon heuristic's training share of them (at least one)."""
        assert self.ctx is not None
        n_gpus = self.ctx.n_gpus
        if self.gate is None:
            return {TRAIN: n_gpus}
        return {TRAIN: max(1, self.gate.train_gpus_at(info.now_s, info.ci_now, n_gpus))}

    def next_job(self, gpu: int, kind: str, now_s: float) -> Job | None:
        if not self.pending:
            return None  # the rest of the phase is still training
        row, waiting = self.pending.pop(0)
        self.running += 1
        return Job(TRAIN, row, payload=waiting)

    def tell(self, job: Job, outcome: Outcome) -> None:
        acc, neg_energy = outcome.objectives
        fitness = (float(-neg_energy), float(-acc))
        for ind in job.payload:
            ind.fitness = fitness
        self.trained[job.arch] = fitness
        self.running -= 1
        if not self.pending and not self.running:
            self._finish_phase()
            self._start_phase()

    @property
    def done(self) -> bool:
        return self.step >= self.n_steps

    def queue_sizes(self) -> dict[str, Any]:
        return {"step": self.step, "population": len(self.population), "archive": len(self.archive)}
