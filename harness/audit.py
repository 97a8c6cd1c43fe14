"""Conservation laws as code: recompute a run record's work, energy, carbon, budgets and hypervolume from the record's
run segments, the benchmark's table and the carbon trace itself, never from the simulator's own sums.

Checked, each violation one line naming the job, GPU, hour or interval (relative tolerance `RTOL`):

- work: a finished job ran exactly its required seconds (the benchmark's training or estimate time; a supernet chunk
  its declared seconds), a cut or unfinished one no more; no GPU runs two jobs at once, no job runs on two GPUs at once;
- energy: every job's facility power is the profile's (or the table's measured energy / time), its energy is power x
  the time it ran; idle GPUs draw the profile's idle power; the run's energy is the sum;
- carbon: energy x the trace's intensity of the hour in which it was drawn, per job, per interval and for the run;
- terms: dynamic (busy GPUs' own watts), idle (idle GPUs' profile watts), overhead (the PUE's share of both) and
  embodied carbon (G x the profile's amortised grams per GPU-second x the time reserved), each recomputed per interval
  and for the run, and adding up to the recorded energy and carbon;
  a carbon, time or GPU-hour budget is never exceeded;
- estimates: supernet training appears only where the benchmark's proxy is a supernet, or where the run's options
  declare a supernet cost;
- scoring: the HV of every interval is the HV of the true objectives of the trainings finished (and charged, or free
  under an accounting that declares initial samples free) by then; the recorded front is their non-dominated set.

Records written before run segments were recorded (`segments`, `power_w`) are audited on what they carry: the time a
job ran follows from its energy and its power; GPU overlaps and per-job carbon cannot be checked (said in the notes).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.benchmarks import Benchmark, get_benchmark
from harness.carbon.traces import Trace, load_trace
from harness.errors import HarnessError
from harness.metrics import hypervolume, pareto_mask
from harness.sim.accounting import PROFILES, PowerProfile
from harness.sim.jobs import ONESHOT, SUPERNET_KIND, TRAIN

AUDIT_RULES = "cenas-bench/audit/1"
"""Names this set of checks: a published study states that every one of its records passed them."""
RTOL = 1e-9
"""Relative tolerance of every equality the audit checks."""
_ABS_S = 1e-6  # seconds: the absolute floor of time comparisons (float time stamps of runs of thousands of hours)
NEEDED = ("job", "arch", "kind", "start_h", "end_h", "seconds", "energy_kwh", "carbon_g", "status")
"""Evaluation columns a record must carry to be audited at all."""
CREDITED = ("done", "init-free")
"""Statuses of trainings whose true objectives a run has paid to know (init-free: under a profile that says so)."""


@dataclass
class AuditReport:
    """What the audit of one record found: `violations` (one line each) and `notes` (what could not be checked)."""

    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    jobs: int = 0
    segments: int = 0

    @property
    def clean(self) -> bool:
        return not self.violations


def _close(a: float, b: float, floor: float = 0.0) -> bool:
    return abs(a - b) <= max(RTOL * max(abs(a), abs(b)), floor)


def _profile(record: Any) -> PowerProfile:
    stored = dict(record.provenance.get("accounting") or {})
    try:
        return PowerProfile(**stored)
    except TypeError:
        raise HarnessError("the record's accounting profile is incomplete: too old to audit") from None


class _Auditor:
    def __init__(self, record: Any, benchmark: Benchmark, trace: Trace) -> None:
        self.record, self.bench, self.trace = record, benchmark, trace
        self.spec, self.summary = record.spec, record.summary
        self.profile = _profile(record)
        self.n_gpus = int(self.spec.get("gpus", 0))
        self.end_s = float(self.summary["simulated_hours"]) * 3600.0
        self.report = AuditReport(jobs=len(record.evaluations))
        self.rows = record.evaluations
        self.legacy = bool(self.rows) and "segments" not in self.rows[0]  # no jobs: every GPU idle, still checked
        self.ci = np.asarray(trace.values, dtype=np.float64)

    def fail(self, message: str) -> None:
        self.report.violations.append(message)

    # -------------------------------------------------------------------------------------------------- jobs
    def lookups(self) -> None:
        """The table's numbers for every job, looked up once per kind: required seconds, watts, true accuracy."""
        self.needs: dict[int, tuple[float, float, float | None]] = {}
        self.overhead_w: dict[int, float] = {}  # the facility overhead in each job's watts (none where measured)
        for kind in (TRAIN, ONESHOT):
            index = [i for i, r in enumerate(self.rows) if r["kind"] == kind]
            archs = np.asarray([int(self.rows[i]["arch"]) for i in index], dtype=np.int64)
            seconds = (self.bench.train_seconds if kind == TRAIN else self.bench.oneshot_seconds)(archs)
            measured = self.bench.train_energy_kwh(archs) if kind == TRAIN else None
            accuracy = self.bench.objectives(archs)[:, 0] if kind == TRAIN else np.full(len(archs), np.nan)
            for k, i in enumerate(index):
                watts = self.profile.busy_w(kind) if measured is None else float(measured[k]) * 3.6e6 / seconds[k]
                self.needs[i] = (float(seconds[k]), watts, float(accuracy[k]))
                self.overhead_w[i] = self.profile.overhead_share(watts) if measured is None else 0.0
        for i, row in enumerate(self.rows):
            if row["kind"] == SUPERNET_KIND:  # supernet training: its own seconds, at training power
                self.needs[i] = (float(row["seconds"]), self.profile.busy_w(TRAIN), None)
                self.overhead_w[i] = self.profile.overhead_share(self.profile.busy_w(TRAIN))

    def carbon_of(self, start: float, end: float, watts: float) -> float:
        """Grams of `watts` drawn from `start` to `end` (s), each hour at its own intensity."""
        total, t = 0.0, start
        while t < end - 1e-12:
            hour = int(t // 3600.0)
            piece = min(end, (hour + 1) * 3600.0)
            total += watts * (piece - t) / 3.6e6 * float(self.ci[hour])
            t = piece
        return total

    def job(self, i: int, row: dict[str, Any]) -> None:
        name = f"job {row['job']} ({row['kind']}, arch {row['arch']})"
        status = row["status"]
        if status == "init-free":
            if self.profile.charge_init:
                self.fail(
                    f"{name}: evaluated free, but the accounting profile {self.profile.name} charges initial samples"
                )
            return
        required, watts, accuracy = self.needs[i]
        if not _close(float(row["seconds"]), required, _ABS_S):
            self.fail(f"{name}: recorded as needing {row['seconds']:.6g} s, the benchmark says {required:.6g} s")
        if self.legacy:
            if watts <= 0:
                return
            ran = float(row["energy_kwh"]) * 3.6e6 / watts
        else:
            if row.get("power_w") is None or not _close(float(row["power_w"]), watts):
                self.fail(f"{name}: drew {row.get('power_w')} W, its kind draws {watts:.6g} W")
            segments = [(int(g), float(a), float(b)) for g, a, b in row["segments"]]
            self.report.segments += len(segments)
            ran = sum(b - a for _, a, b in segments)
            self.job_segments(name, row, segments)
            energy = watts * ran / 3.6e6
            if not _close(float(row["energy_kwh"]), energy):
                self.fail(
                    f"{name}: charged {row['energy_kwh']:.9g} kWh for {ran:.6g} s at {watts:.6g} W ({energy:.9g} kWh)"
                )
            carbon = sum(self.carbon_of(a, b, watts) for _, a, b in segments)
            if not _close(float(row["carbon_g"]), carbon):
                self.fail(
                    f"{name}: charged {row['carbon_g']:.9g} g, its energy at the trace's intensity is {carbon:.9g} g"
                )
        if status == "done" and not _close(ran, required, _ABS_S):
            self.fail(f"{name}: finished after {ran:.6g} s of work, needs {required:.6g} s")
        elif status != "done" and ran > required * (1 + RTOL) + _ABS_S:
            self.fail(f"{name}: ran {ran:.6g} s, more than the {required:.6g} s it needs")
        if (
            status == "done"
            and row["kind"] == TRAIN
            and accuracy is not None
            and (row["f_acc"] is None or not _close(float(row["f_acc"]), accuracy))
        ):
            self.fail(f"{name}: credited accuracy {row['f_acc']}, the benchmark's is {accuracy:.9g}")

    def job_segments(self, name: str, row: dict[str, Any], segments: list[tuple[int, float, float]]) -> None:
        if not segments:
            if row["status"] == "done":
                self.fail(f"{name}: finished without running")
            return
        ordered = sorted(segments, key=lambda s: s[1])
        for (_, _, prev_end), (g, start, _) in itertools.pairwise(ordered):
            if start < prev_end - _ABS_S:
                self.fail(f"{name}: runs on two GPUs at once at {start / 3600:.4f} h (GPU {g})")
        for g, start, end in ordered:
            if not 0 <= g < self.n_gpus or end < start or start < -_ABS_S or end > self.end_s + _ABS_S:
                self.fail(f"{name}: segment on GPU {g} from {start:.6g} to {end:.6g} s lies outside the run")
        if not _close(float(row["start_h"]) * 3600.0, ordered[0][1], _ABS_S):
            self.fail(
                f"{name}: recorded start {row['start_h']} h, its first segment starts at {ordered[0][1] / 3600} h"
            )

    # ------------------------------------------------------------------------------------------------ GPUs
    def gpus(self) -> None:
        by_gpu: dict[int, list[tuple[float, float, int]]] = defaultdict(list)
        for row in self.rows:
            for g, a, b in row["segments"] or []:
                by_gpu[int(g)].append((float(a), float(b), int(row["job"])))
        for g, pieces in sorted(by_gpu.items()):
            pieces.sort()
            for (_, end, job), (start, _, other) in itertools.pairwise(pieces):
                if start < end - _ABS_S:
                    self.fail(f"GPU {g}: runs jobs {job} and {other} at once at {start / 3600:.4f} h")

    def timeline(self) -> None:
        """Energy, carbon and busy time of the whole cluster per interval and for the run, from segments and idle."""
        bounds = [0.0, self.end_s]
        bounds += [3600.0 * h for h in range(1, math.ceil(self.end_s / 3600.0))]
        for row in self.record.intervals:
            bounds += [float(row["start_h"]) * 3600.0, float(row["end_h"]) * 3600.0]
        changes: dict[str, list[tuple[float, float]]] = {"power": [], "overhead": [], "busy": [], "train": []}
        for i, row in enumerate(self.rows):
            if not row["segments"]:
                continue
            watts, overhead = float(row["power_w"]), self.overhead_w.get(i, 0.0)
            for _, a, b in row["segments"]:
                a, b = float(a), float(b)
                bounds += [a, b]
                changes["power"] += [(a, watts), (b, -watts)]
                changes["overhead"] += [(a, overhead), (b, -overhead)]
                changes["busy"] += [(a, 1.0), (b, -1.0)]
                if row["kind"] == TRAIN:
                    changes["train"] += [(a, 1.0), (b, -1.0)]
        times = np.unique(np.clip(np.asarray(bounds), 0.0, self.end_s))
        if len(times) < 2:
            return
        level = {}
        for key, pairs in changes.items():
            delta = np.zeros(len(times))
            if pairs:
                at, value = np.asarray(pairs).T
                np.add.at(delta, np.searchsorted(times, np.clip(at, 0.0, self.end_s)), value)
            level[key] = np.cumsum(delta)[:-1]  # on each piece [times[i], times[i+1])
        dt = np.diff(times)
        hours = (times[:-1] // 3600.0).astype(np.int64)
        ci = self.ci[hours]
        idle = np.maximum(self.n_gpus - np.rint(level["busy"]), 0.0)
        watts = level["power"] + idle * self.profile.idle_facility_w
        energy = watts * dt / 3.6e6
        idle_w = idle * self.profile.idle_w
        terms_kwh = {  # each term from its own watts: busy GPUs' own, idle GPUs' profile watts, the PUE's share
            "dynamic": (level["power"] - level["overhead"]) * dt / 3.6e6,
            "idle": idle_w * dt / 3.6e6,
            "overhead": (level["overhead"] + idle_w * (self.profile.pue - 1.0)) * dt / 3.6e6,
        }
        terms_g = {k: v * ci for k, v in terms_kwh.items()} | {
            "embodied": self.n_gpus * self.profile.embodied_g_per_gpu_s * dt
        }
        carbon = energy * ci + terms_g["embodied"]
        total_e, total_c = float(energy.sum()), float(carbon.sum())
        self.terms(terms_kwh, terms_g, times, dt)
        s = self.summary
        if not _close(float(s["energy_kwh"]), total_e):
            self.fail(f"run: energy {s['energy_kwh']:.9g} kWh recorded, {total_e:.9g} kWh drawn (jobs and idle GPUs)")
        if not _close(float(s["carbon_g"]), total_c):
            self.fail(f"run: carbon {s['carbon_g']:.9g} g recorded, {total_c:.9g} g from the trace's intensities")
        mid = times[:-1] + dt / 2
        for row in self.record.intervals:
            inside = (mid >= float(row["start_h"]) * 3600.0) & (mid < float(row["end_h"]) * 3600.0)
            name = f"interval {row['index']} ({row['start_h']:.4g}-{row['end_h']:.4g} h)"
            for key, value in (("energy_kwh", energy[inside].sum()), ("carbon_g", carbon[inside].sum())):
                if not _close(float(row[key]), float(value), 1e-9):
                    self.fail(f"{name}: {key} {row[key]:.9g} recorded, {value:.9g} recomputed")
            busy_train = float((level["train"][inside] * dt[inside]).sum()) / 3600.0
            if not _close(float(row["busy_train_gpu_h"]), busy_train, 1e-9):
                self.fail(f"{name}: {row['busy_train_gpu_h']:.9g} training GPU-hours recorded, {busy_train:.9g} ran")
            idle_h = float((idle[inside] * dt[inside]).sum()) / 3600.0
            if not _close(float(row["idle_gpu_h"]), idle_h, 1e-9):
                self.fail(f"{name}: {row['idle_gpu_h']:.9g} idle GPU-hours recorded, {idle_h:.9g} idle")
        self.budgets(total_c, float((level["busy"] * dt).sum()) / 3600.0)

    def terms(self, kwh: dict[str, np.ndarray], g: dict[str, np.ndarray], times: np.ndarray, dt: np.ndarray) -> None:
        """Each accounting term of the run and of every interval against its own recomputation; the terms add up to
        the recorded totals. Records written before terms were recorded get a note."""
        if "dynamic_g" not in self.summary:
            self.report.notes.append("record without accounting terms (written before they were recorded): totals only")
            return
        expected = {f"{k}_kwh": v for k, v in kwh.items()} | {f"{k}_g": v for k, v in g.items()}
        s = self.summary
        for key, values in expected.items():
            if not _close(float(s[key]), float(values.sum()), 1e-9):
                self.fail(f"run: {key} {s[key]:.9g} recorded, {float(values.sum()):.9g} recomputed")
        for total, parts in (("energy_kwh", [f"{k}_kwh" for k in kwh]), ("carbon_g", [f"{k}_g" for k in g])):
            added = sum(float(s[p]) for p in parts)
            if not _close(float(s[total]), added, 1e-9):
                self.fail(f"run: {total} {s[total]:.9g} recorded, its terms add up to {added:.9g}")
        mid = times[:-1] + dt / 2
        for row in self.record.intervals:
            inside = (mid >= float(row["start_h"]) * 3600.0) & (mid < float(row["end_h"]) * 3600.0)
            for key, values in expected.items():
                value = float(values[inside].sum())
                if not _close(float(row[key]), value, 1e-9):
                    self.fail(f"interval {row['index']}: {key} {row[key]:.9g} recorded, {value:.9g} recomputed")

    def legacy_totals(self) -> None:
        self.report.notes.append(
            "record without run segments (written before they were recorded): work checked from each job's energy "
            "and power; GPU overlaps, per-job and per-interval carbon not checked"
        )
        self.budgets(float(self.summary["carbon_g"]), float(self.summary["gpu_hours"]))

    def budgets(self, carbon_g: float, busy_gpu_h: float) -> None:
        budget = self.spec.get("budget") or {}
        if budget.get("carbon_g") is not None and carbon_g > float(budget["carbon_g"]) * (1 + RTOL):
            self.fail(f"run: {carbon_g:.9g} g emitted over a budget of {budget['carbon_g']:.9g} g")
        if budget.get("hours") is not None and self.end_s > float(budget["hours"]) * 3600.0 + _ABS_S:
            self.fail(f"run: ran {self.end_s / 3600:.6g} h over a time budget of {budget['hours']:.6g} h")
        if budget.get("gpu_hours") is not None and busy_gpu_h > float(budget["gpu_hours"]) * (1 + RTOL):
            self.fail(f"run: {busy_gpu_h:.9g} busy GPU-hours over a budget of {budget['gpu_hours']:.6g}")

    # ------------------------------------------------------------------------------------------- estimates
    def estimates(self) -> None:
        supernet = [r for r in self.rows if r["kind"] == SUPERNET_KIND]
        declared = "supernet.seconds" in (self.spec.get("method_options") or {})
        proxy = self.bench.proxy
        if supernet and proxy.kind != "supernet" and not declared:
            self.fail(
                f"run: {len(supernet)} supernet-training jobs on {self.bench.id}, whose estimate is {proxy.kind} "
                "(no supernet exists), and the run declares no supernet cost"
            )

    # --------------------------------------------------------------------------------------------- scoring
    def scoring(self) -> None:
        credited = sorted(
            (float(r["end_h"]), int(r["arch"])) for r in self.rows if r["kind"] == TRAIN and r["status"] in CREDITED
        )
        ends = np.asarray([t for t, _ in credited], dtype=np.float64)
        archs = [a for _, a in credited]
        f = self.bench.objectives(np.asarray(archs, dtype=np.int64)).reshape(-1, self.bench.n_objectives)
        ref = self.bench.ref_point
        count, hv = 0, 0.0
        front = f[:0]
        for row in self.record.intervals:
            upto = int(np.searchsorted(ends, float(row["end_h"]) + 1e-12, side="right"))
            if upto != count:  # the HV of every paid training so far = the HV of their non-dominated set
                candidates = np.vstack([front, f[count:upto]])
                front = candidates[pareto_mask(candidates)]
                count, hv = upto, hypervolume(front, ref)
            if not _close(float(row["hv"]), hv):
                self.fail(
                    f"interval {row['index']}: HV {row['hv']:.10g} recorded, the {upto} trainings paid for by "
                    f"{row['end_h']:.4g} h give {hv:.10g}"
                )
        final = hypervolume(f, ref) if archs else 0.0
        if not _close(float(self.summary["hv"]), final):
            self.fail(
                f"run: final HV {self.summary['hv']:.10g} recorded, its {len(archs)} paid trainings give {final:.10g}"
            )
        if "front_archs" in self.summary and archs:
            unique = np.unique(archs)
            front_archs = unique[pareto_mask(self.bench.objectives(unique))].tolist()
            if sorted(self.summary["front_archs"]) != front_archs:
                self.fail("run: the recorded front is not the non-dominated set of the paid trainings")

    def run(self) -> AuditReport:
        registered = PROFILES.entries().get(self.profile.name)
        if registered is not None and registered.load() != self.profile:
            self.fail(f"run: the record's accounting profile {self.profile.name!r} is not the registered one")
        self.lookups()
        for i, row in enumerate(self.rows):
            self.job(i, row)
        if self.legacy:
            self.legacy_totals()
        else:
            self.gpus()
            self.timeline()
        self.estimates()
        self.scoring()
        return self.report


def audit_record(record: Any) -> AuditReport:
    """Audit one run record (`harness.results.RunRecord`) against its benchmark and trace; see the module docstring.
    Raises HarnessError when the record lacks what any audit needs (too old)."""
    columns = set(record.evaluations[0]) if record.evaluations else set(NEEDED)
    missing = [c for c in NEEDED if c not in columns]
    if missing or "simulated_hours" not in record.summary or "accounting" not in record.provenance:
        raise HarnessError(f"record too old to audit: it lacks {', '.join(missing) or 'the accounting profile'}")
    benchmark = get_benchmark(str(record.spec["benchmark"]))
    trace = load_trace(str(record.spec["trace"]))
    return _Auditor(record, benchmark, trace).run()


def require_clean(record: Any, where: str) -> None:
    """Raise HarnessError (one line: the first violation and their count) unless `record` passes the audit."""
    report = audit_record(record)
    if not report.clean:
        more = f" (and {len(report.violations) - 1} more)" if len(report.violations) > 1 else ""
        raise HarnessError(f"{where} fails the conservation audit: {report.violations[0]}{more}")
