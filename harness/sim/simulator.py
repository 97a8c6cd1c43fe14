"""Event-driven simulation of G GPUs over an hourly carbon trace.

Events are job completions and allocation boundaries in a priority queue (completions first at equal times).
Between events every GPU's state is constant, so energy and carbon are integrated exactly, piece by piece across
hour boundaries, and a carbon or GPU-hour budget is stopped at its exact crossing time: the job running then is
charged up to the budget and does not complete.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.benchmarks.base import Benchmark
from harness.carbon.traces import Trace, fmt_time, load_trace
from harness.carbon.view import CarbonView
from harness.config import Budget
from harness.errors import HarnessError
from harness.metrics import hypervolume, log_hv_difference
from harness.sim.accounting import TERMS, PowerProfile
from harness.sim.jobs import JOB_KINDS, ONESHOT, RECORDED_KINDS, TRAIN, Allocation, Job, Outcome, RunningJob
from harness.sim.method import IntervalInfo, Method, MethodContext

_DONE, _BOUNDARY = 0, 1
_EPS = 1e-9
ENERGY_TERMS = TERMS[:3]  # embodied carbon draws no energy


@dataclass
class Totals:
    energy_kwh: float = 0.0
    carbon_g: float = 0.0
    busy_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(JOB_KINDS, 0.0))
    idle_s: float = 0.0
    kwh: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ENERGY_TERMS, 0.0))
    """Energy by term (dynamic, idle, overhead); they sum to `energy_kwh`."""
    g: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TERMS, 0.0))
    """Carbon by term (dynamic, idle, overhead, embodied); they sum to `carbon_g`."""

    def terms(self) -> dict[str, float]:
        """The record's term columns: `TERM_kwh` for the energy terms, `TERM_g` for every carbon term."""
        return {f"{k}_kwh": v for k, v in self.kwh.items()} | {f"{k}_g": v for k, v in self.g.items()}

    @property
    def busy_gpu_hours(self) -> float:
        return sum(self.busy_s.values()) / 3600.0


@dataclass
class SimResult:
    stop_reason: str
    end_s: float
    totals: Totals
    intervals: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    observed: np.ndarray  # indices of architectures trained to completion, in completion order
    hv: float


class Simulator:
    """One run of one method; construct, then call `run()` once."""

    def __init__(
        self,
        benchmark: Benchmark,
        trace: Trace,
        method: Method,
        n_gpus: int,
        budget: Budget,
        profile: PowerProfile,
        seed: int,
        interval_s: float = 3600.0,
        on_boundary: Callable[[float], None] | None = None,
        world: Trace | None = None,
        memo: dict[str, Any] | None = None,
    ) -> None:
        self.bench, self.trace, self.method = benchmark, trace, method
        self.memo = memo  # MethodContext.memo: shared with the other runs of a batch
        self.n_gpus, self.budget, self.profile, self.seed = n_gpus, budget, profile, seed
        self.interval_s = interval_s
        self.on_boundary = on_boundary
        self.end_s = trace.hours * 3600.0
        if budget.hours is not None:
            self.end_s = min(self.end_s, budget.hours * 3600.0)
        self.now = 0.0
        self.totals = Totals()
        self.gpu_kind: list[str | None] = [None] * n_gpus
        self.gpu_job: list[RunningJob | None] = [None] * n_gpus
        self.halfwork: dict[str, list[RunningJob]] = {k: [] for k in JOB_KINDS}
        self.initial: list[Job] = []
        self.events: list[tuple[float, int, int, int, int]] = []  # (time, type, seq, gpu, token)
        self.seq = 0
        self.starts = 0  # starts of jobs on GPUs so far: each start's completion-event token
        self.next_job_id = 0
        self.observed: list[int] = []
        self.front = np.empty((0, benchmark.n_objectives))  # the non-dominated observed objectives: all HV needs
        self.evaluations: list[dict[str, Any]] = []
        self.intervals: list[dict[str, Any]] = []
        self.interval: dict[str, Any] = {}
        self.interval_counts: dict[str, int] = {"preempted": 0}
        self.interval_totals = Totals()
        self.hv = 0.0
        self.seen_hv = 0.0  # what the method is told: HV at the benchmark's search reference point
        self._one_ref = bool(np.array_equal(benchmark.ref_point, benchmark.search_ref_point))
        self.view = CarbonView(trace, world if world is not None else load_trace(trace.region))
        self.embodied_rate = n_gpus * profile.embodied_g_per_gpu_s  # g/s of the reserved GPUs, whatever they do
        self.idle_overhead_w = profile.idle_w * (profile.pue - 1.0)

    # ------------------------------------------------------------------------------------------------ public
    def run(self) -> SimResult:
        """Simulate the whole run, the method deciding every allocation."""
        steps = self.decisions()
        try:
            info = next(steps)
            while True:
                info = steps.send(self.method.on_interval(info))
        except StopIteration as stop:
            return stop.value

    def decisions(self) -> Generator[IntervalInfo, Allocation, SimResult]:
        """The run as a generator: it yields the `IntervalInfo` of each allocation boundary and takes the allocation
        for the coming interval (`send`); it returns the `SimResult`. `run` sends the method's own decisions; an
        environment (`harness.envs`) may send others."""
        ctx = MethodContext(
            benchmark=self.bench,
            n_gpus=self.n_gpus,
            carbon=self.view,
            budget=self.budget,
            seed=self.seed,
            interval_s=self.interval_s,
            submit_initial=self._submit_initial,
            stream=f"{self.trace.region}@{self.trace.start.isoformat()}",
            memo=self.memo,
        )
        self.method.setup(ctx)
        self._open_boundary((yield self._close_boundary()))
        reason = ""
        while not reason:
            next_t = min(self.events[0][0], self.end_s) if self.events else self.end_s
            stopped_at = self._advance(next_t)
            if stopped_at is not None:
                reason = stopped_at
                break
            if self.now >= self.end_s - _EPS:
                reason = "time budget" if self._time_limited() else "trace ended"
                break
            while self.events and self.events[0][0] <= self.now + _EPS:
                _, kind, _, gpu, token = heapq.heappop(self.events)
                if kind == _DONE:
                    self._complete(gpu, token)
                else:
                    self._open_boundary((yield self._close_boundary()))
            self._dispatch_all()
            if self.method.done and not self._busy() and not any(self.halfwork.values()) and not self.initial:
                reason = "method finished"
        self._close_interval(final=True)
        self._record_unfinished()
        return SimResult(
            stop_reason=reason,
            end_s=self.now,
            totals=self.totals,
            intervals=self.intervals,
            evaluations=self.evaluations,
            observed=np.asarray(self.observed, dtype=np.int64),
            hv=self.hv,
        )

    # ------------------------------------------------------------------------------------------ accounting
    def _time_limited(self) -> bool:
        return self.budget.hours is not None and self.budget.hours * 3600.0 <= self.trace.hours * 3600.0

    def _gpu_power(self, gpu: int) -> float:
        running = self.gpu_job[gpu]
        return running.power_w if running else self.profile.idle_facility_w

    def _advance(self, target: float) -> str | None:
        """Integrate energy and carbon from `now` to `target`; returns a stop reason if a budget is crossed."""
        while self.now < target - _EPS:
            hour = int(self.now // 3600.0)
            piece_end = min(target, (hour + 1) * 3600.0)
            ci = float(self.trace.values[hour])
            if math.isnan(ci):
                when = fmt_time(self.trace.start + (hour * 3600.0) * np.timedelta64(1, "s"))
                raise HarnessError(
                    f"trace {self.trace.region} has no value for the hour {when} UTC; pick another window"
                )
            powers = [self._gpu_power(g) for g in range(self.n_gpus)]
            total_w = sum(powers)
            n_busy = sum(job is not None for job in self.gpu_job)
            dt = piece_end - self.now
            limit, reason = dt, None
            carbon_rate = total_w * ci / 3.6e6  # g per second
            if self.embodied_rate:
                carbon_rate += self.embodied_rate
            if self.budget.carbon_g is not None and carbon_rate > 0:
                room = (self.budget.carbon_g - self.totals.carbon_g) / carbon_rate
                if room < limit:
                    limit, reason = max(room, 0.0), "carbon budget"
            if self.budget.gpu_hours is not None and n_busy:
                room = (self.budget.gpu_hours * 3600.0 - sum(self.totals.busy_s.values())) / n_busy
                if room < limit:
                    limit, reason = max(room, 0.0), "GPU-hour budget"
            self._charge(limit, powers, ci)
            if reason:
                if reason == "carbon budget":
                    self.totals.carbon_g = self.budget.carbon_g or self.totals.carbon_g  # exact, no float drift
                return reason
        self.now = max(self.now, target)
        return None

    def _charge(self, dt: float, powers: Sequence[float], ci: float) -> None:
        embodied = self.embodied_rate * dt
        for totals in (self.totals, self.interval_totals):
            for g in range(self.n_gpus):
                running = self.gpu_job[g]
                energy = powers[g] * dt / 3.6e6
                totals.energy_kwh += energy
                totals.carbon_g += energy * ci
                if running is None:
                    totals.idle_s += dt
                    term, overhead = "idle", self.idle_overhead_w * dt / 3.6e6
                else:
                    totals.busy_s[running.job.kind] += dt
                    term, overhead = "dynamic", running.overhead_w * dt / 3.6e6
                totals.kwh[term] += energy - overhead
                totals.g[term] += (energy - overhead) * ci
                totals.kwh["overhead"] += overhead
                totals.g["overhead"] += overhead * ci
            if embodied:
                totals.carbon_g += embodied
                totals.g["embodied"] += embodied
        for g in range(self.n_gpus):
            running = self.gpu_job[g]
            if running is not None:
                energy = powers[g] * dt / 3.6e6
                running.energy_kwh += energy
                running.carbon_g += energy * ci
        self.interval["ci_gpu_seconds"] += ci * dt
        self.now += dt

    # ------------------------------------------------------------------------------------------- intervals
    def _close_boundary(self) -> IntervalInfo:
        """An allocation boundary: running jobs are cut, the interval closes; what the next decision may know."""
        for g in range(self.n_gpus):
            running = self.gpu_job[g]
            if running is not None:
                running.remaining_s -= self.now - running.segment_start_s
                running.segments.append((g, running.segment_start_s, self.now))
                running.preemptions += 1
                self.halfwork[running.job.kind].append(running)
                self.gpu_job[g] = None
                self.interval_counts["preempted"] += 1
        if self.interval:
            self._close_interval(final=False)
        if self.on_boundary:
            self.on_boundary(self.now)
        return IntervalInfo(
            index=len(self.intervals),
            now_s=self.now,
            ci_now=self.view.current(self.now),
            carbon_used_g=self.totals.carbon_g,
            energy_used_kwh=self.totals.energy_kwh,
            n_observed=len(self.observed),
            hv=self.seen_hv,
        )

    def _open_boundary(self, decided: Allocation) -> None:
        """The next interval starts with `decided` (validated): GPUs get their kinds and take work."""
        allocation = self._validate(decided)
        kinds: list[str | None] = []
        for kind in JOB_KINDS:
            kinds += [kind] * allocation.get(kind, 0)
        self.gpu_kind = kinds + [None] * (self.n_gpus - len(kinds))
        self._open_interval(len(self.intervals), allocation)
        self._push(self.now + self.interval_s, _BOUNDARY, -1, 0)
        self._dispatch_all()

    def _validate(self, allocation: Allocation) -> Allocation:
        unknown = set(allocation) - set(JOB_KINDS)
        counts = list(allocation.values())
        if unknown or any(int(n) != n or n < 0 for n in counts) or sum(counts) > self.n_gpus:
            raise HarnessError(f"method {self.method.name} returned an invalid allocation {allocation}")
        return {k: int(allocation.get(k, 0)) for k in JOB_KINDS}

    def _open_interval(self, index: int, allocation: Allocation) -> None:
        self.interval = {"index": index, "start_s": self.now, "allocation": allocation, "ci_gpu_seconds": 0.0}
        self.interval_counts = {f"{event}_{k}": 0 for event in ("started", "finished") for k in RECORDED_KINDS}
        self.interval_counts["preempted"] = 0
        self.interval_totals = Totals()

    def _close_interval(self, final: bool) -> None:
        duration = self.now - self.interval["start_s"]
        if final and duration <= _EPS and self.intervals:
            return
        t = self.interval_totals
        row: dict[str, Any] = {
            "index": self.interval["index"],
            "start_h": self.interval["start_s"] / 3600.0,
            "end_h": self.now / 3600.0,
            "ci": self.interval["ci_gpu_seconds"] / duration if duration > _EPS else self.view.current(self.now),
            "train_gpus": self.interval["allocation"][TRAIN],
            "oneshot_gpus": self.interval["allocation"][ONESHOT],
            **self.interval_counts,
            "busy_train_gpu_h": t.busy_s[TRAIN] / 3600.0,
            "busy_oneshot_gpu_h": t.busy_s[ONESHOT] / 3600.0,
            "idle_gpu_h": t.idle_s / 3600.0,
            "energy_kwh": t.energy_kwh,
            "carbon_g": t.carbon_g,
            **t.terms(),
            "cum_energy_kwh": self.totals.energy_kwh,
            "cum_carbon_g": self.totals.carbon_g,
            "cum_gpu_h": self.totals.busy_gpu_hours,
            "hv": self.hv,
            "log_hv_diff": _finite_or_none(log_hv_difference(self.hv, self.bench.hv_max)),
            "n_observed": len(self.observed),
            "halfwork_train": len(self.halfwork[TRAIN]),
            "halfwork_oneshot": len(self.halfwork[ONESHOT]),
        }
        row.update({f"queue_{k}": v for k, v in sorted(self.method.queue_sizes().items())})
        self.intervals.append(row)

    # ------------------------------------------------------------------------------------------------ jobs
    def _push(self, time: float, kind: int, gpu: int, token: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (time, kind, self.seq, gpu, token))

    def _busy(self) -> bool:
        return any(job is not None for job in self.gpu_job)

    def _submit_initial(self, jobs: Sequence[Job]) -> None:
        """Initial samples: evaluated now for free (reference accounting) or trained first, charged like any job."""
        for submitted in jobs:
            job = self._new_job(submitted)
            if self.profile.charge_init:
                self.initial.append(job)
                continue
            f = self.bench.objectives([job.arch])[0]
            outcome = Outcome(f, self._seconds(job), 0.0, 0.0, self.now, self.now, free=True)
            self._observe(job, f)
            self._record(job, outcome, gpu=-1, status="init-free", preemptions=0, segments=[], power_w=None)
            self.method.tell(job, outcome)

    def _new_job(self, job: Job) -> Job:
        job.job_id = self.next_job_id
        self.next_job_id += 1
        return job

    def _dispatch_all(self) -> None:
        for g in range(self.n_gpus):
            if self.gpu_job[g] is None and self.gpu_kind[g] is not None:
                self._dispatch(g)

    def _dispatch(self, gpu: int) -> None:
        kind = self.gpu_kind[gpu]
        assert kind is not None
        waiting = self.halfwork[kind]
        if kind == TRAIN and self.initial:
            running = self._fresh(self.initial.pop(0))
        elif waiting:
            pick = self.method.choose_resume(kind, [r.job for r in waiting])
            running = waiting.pop(pick)
        else:
            job = self.method.next_job(gpu, kind, self.now)
            if job is None:
                return
            if job.kind != kind:
                raise HarnessError(f"method {self.method.name} returned a {job.kind} job for a {kind} GPU")
            running = self._fresh(self._new_job(job))
        running.gpu = gpu
        running.segment_start_s = self.now
        self.starts += 1
        running.token = self.starts
        self.gpu_job[gpu] = running
        self._push(self.now + running.remaining_s, _DONE, gpu, running.token)

    def _seconds(self, job: Job) -> float:
        """GPU-seconds the job takes on this benchmark (full training or one-shot evaluation), or its own seconds
        (supernet training)."""
        if job.seconds is not None:
            return job.seconds
        cost = self.bench.train_seconds if job.kind == TRAIN else self.bench.oneshot_seconds
        return float(cost([job.arch])[0])

    def _fresh(self, job: Job) -> RunningJob:
        seconds = self._seconds(job)
        kind = TRAIN if job.is_supernet else job.kind  # supernet training is training
        power = self.profile.busy_w(kind)
        overhead = power - power / self.profile.pue
        if job.kind == TRAIN:
            measured = self.bench.train_energy_kwh([job.arch])
            if measured is not None:  # measured at the wall: no PUE added, all of it dynamic
                power, overhead = float(measured[0]) * 3.6e6 / seconds, 0.0
        self.interval_counts[f"started_{job.recorded_kind}"] += 1
        return RunningJob(job=job, remaining_s=seconds, power_w=power, overhead_w=overhead, first_start_s=self.now)

    def _complete(self, gpu: int, token: int) -> None:
        running = self.gpu_job[gpu]
        if running is None or running.token != token:
            return  # the event of a start that was cut at a boundary: never another start's completion
        self.gpu_job[gpu] = None
        running.segments.append((gpu, running.segment_start_s, self.now))
        job = running.job
        if job.is_supernet:
            f = np.empty(0)
        else:
            objectives = self.bench.objectives if job.kind == TRAIN else self.bench.oneshot_objectives
            f = objectives([job.arch])[0]
        seconds = self._seconds(job)
        if job.kind == TRAIN:  # the scoring rule: only paid, finished trainings enter the HV, with true objectives
            self._observe(job, f)
        outcome = Outcome(f, seconds, running.energy_kwh, running.carbon_g, running.first_start_s, self.now)
        self.interval_counts[f"finished_{job.recorded_kind}"] += 1
        self._record(
            job,
            outcome,
            gpu,
            status="done",
            preemptions=running.preemptions,
            segments=running.segments,
            power_w=running.power_w,
        )
        self.method.tell(job, outcome)

    def _observe(self, job: Job, f: np.ndarray) -> None:
        self.observed.append(job.arch)
        if len(self.front) and np.any(np.all(self.front >= f, axis=1)):
            return  # weakly dominated (or a repeat): the front and its HV do not change
        front = np.vstack([self.front[~np.all(self.front <= f, axis=1)], f[None, :]])
        self.front = front
        self.hv = hypervolume(front, self.bench.ref_point)  # the front alone: O(front) per new point, not O(all)
        self.seen_hv = self.hv if self._one_ref else hypervolume(front, self.bench.search_ref_point)

    def _record(
        self,
        job: Job,
        outcome: Outcome,
        gpu: int,
        status: str,
        preemptions: int,
        segments: Sequence[tuple[int, float, float]],
        power_w: float | None,
    ) -> None:
        """One row of the record's evaluations: the job, its objectives (None unless finished), its cost, its facility
        watts (`power_w`, None for free initial samples) and the (gpu, start_s, end_s) of each piece of its work."""
        row = {
            "job": job.job_id,
            "arch": job.arch,
            "kind": job.recorded_kind,
            "gpu": gpu,
            "start_h": outcome.start_s / 3600.0,
            "end_h": outcome.end_s / 3600.0,
            "f_acc": float(outcome.objectives[0]) if outcome.objectives.size else None,
            "f_cost": float(-outcome.objectives[1]) if outcome.objectives.size else None,
        }
        if self.bench.n_objectives > 2:  # further costs (positive), only on benchmarks that have them
            more = [float(-v) for v in outcome.objectives[2:]] if outcome.objectives.size else None
            row["f_more_costs"] = more
        row |= {
            "seconds": outcome.seconds,
            "energy_kwh": outcome.energy_kwh,
            "carbon_g": outcome.carbon_g,
            "preemptions": preemptions,
            "status": status,
            "power_w": power_w,
            "segments": [[g, start, end] for g, start, end in segments],  # (gpu, start_s, end_s) of each piece of work
        }
        self.evaluations.append(row)

    def _record_unfinished(self) -> None:
        """Jobs running or cut when the run stopped: charged energy is recorded, no objectives."""
        on_gpus = [r for r in self.gpu_job if r is not None]
        for running in on_gpus:
            running.segments.append((running.gpu, running.segment_start_s, self.now))
        for running in on_gpus + [r for k in JOB_KINDS for r in self.halfwork[k]]:
            seconds = self._seconds(running.job)
            outcome = Outcome(
                np.empty(0), seconds, running.energy_kwh, running.carbon_g, running.first_start_s, self.now
            )
            self._record(
                running.job,
                outcome,
                running.gpu,
                status="unfinished",
                preemptions=running.preemptions,
                segments=running.segments,
                power_w=running.power_w,
            )


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
