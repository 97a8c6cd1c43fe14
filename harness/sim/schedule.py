"""Carbon-aware schedules from the systems literature, as allocation policies any method can use.

A schedule decides, at every allocation boundary, how many of the G GPUs run the method's training in the coming
interval; a carbon-blind search (random search, vanilla LaMOO) leaves the others idle (suspended: reserved, drawing
idle power). It sees what a deployed scheduler sees: the current hour's intensity and a forecast of the next ones
(`forecaster`); `forecaster=oracle` is the true future (privileged, badged on boards).

- `always`: every GPU trains every interval (carbon-agnostic; the default).
- `fixed`: `train_gpus` GPUs train every interval (the fixed splits k = 0..G).
- `threshold`: Let's Wait Awhile (Wiesner et al., Middleware 2021), interruptible jobs: every GPU trains while the
  current intensity is at or below the `quantile` of the look-ahead window (the current hour and the forecast of the
  next `window_hours - 1`); otherwise the job is suspended. With `forecaster=oracle` and a window reaching past the
  run, it is the threshold schedule chosen in hindsight: a bound, not a baseline.
- `carbonscaler`: CarbonScaler (Hanafy et al., SIGMETRICS 2024): a rolling plan that must deliver the job's work by
  its deadline, here `utilisation` x G GPU-hours per hour on average: each interval it plans the look-ahead window's
  W hours to deliver `utilisation` x G x W GPU-hours plus what earlier intervals fell short of the average (or minus
  what they delivered beyond it), filling (hour, extra GPU) slots in order of marginal work per gram. The marginal
  capacity of an extra GPU is the search's progress per GPU-hour, the same for every GPU (independent trainings
  scale linearly), so slots are ordered by the forecast intensity alone, the marginal hour gets a partial
  allocation, and the current hour trains as many GPUs as the plan gives it. Unlike `threshold`, it keeps its
  average throughput when forecasts err.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from harness.carbon.forecast import Forecaster, make_forecaster
from harness.carbon.view import CarbonView
from harness.options import option
from harness.registry import Registry
from harness.sim.jobs import TRAIN, Allocation
from harness.sim.method import IntervalInfo, Method, MethodContext

PAPERS = {
    "threshold": "P. Wiesner et al. Let's Wait Awhile: How Temporal Workload Shifting Can Reduce Carbon Emissions "
    "in the Cloud. Middleware 2021.",
    "carbonscaler": "W. A. Hanafy et al. CarbonScaler: Leveraging Cloud Workload Elasticity for Optimizing Carbon-"
    "Efficiency. SIGMETRICS 2024.",
}
"""The paper each scheduling policy follows (cited on the method cards of the boards' scheduled rows)."""


@dataclass(frozen=True)
class ScheduleOptions:
    """The carbon-aware schedule around a search (`schedule.*`)."""

    policy: Literal["always", "fixed", "threshold", "carbonscaler"] = option(
        "always",
        "always: every GPU trains (carbon-agnostic); fixed: `train_gpus` GPUs; threshold: Let's Wait Awhile "
        "(train while the intensity is in the window's cleanest `quantile`); carbonscaler: CarbonScaler's elastic "
        "plan (`utilisation` of the window's GPU-hours in its cleanest hours). GPUs not training idle",
    )
    forecaster: Literal["persistence", "transformer", "oracle"] = option(
        "persistence",
        "forecast of the look-ahead window: persistence (the same hour a day earlier), the shipped transformer, or "
        "oracle (the true future: privileged, badged on boards)",
    )
    window_hours: int = option(24, "look-ahead window, the current hour included (h)", ge=1, le=100_000)
    quantile: float = option(
        0.5, "threshold: train while the current intensity is at or below this quantile of the window", gt=0, le=1
    )
    utilisation: float = option(
        0.5, "carbonscaler: share of the window's G x W GPU-hours the plan delivers", gt=0, le=1
    )
    train_gpus: int = option(1, "fixed: GPUs that train every interval (at most the cluster's)", ge=0, le=1_024)

    @property
    def reads_forecast(self) -> bool:
        return self.policy in ("threshold", "carbonscaler")

    def privileged(self) -> tuple[str, ...]:
        """What this schedule knows beyond the past, the present and forecasts."""
        if self.reads_forecast and self.forecaster == "oracle":
            return ("oracle forecast: the true future intensity (schedule)",)
        return ()

    def model_files(self, region: str) -> dict[str, str]:
        """The transformer forecaster's weights and ONNX export, when this schedule reads it."""
        if not (self.reads_forecast and self.forecaster == "transformer"):
            return {}
        from harness.carbon.transformer import find_checkpoint, model_hashes

        return {f"forecaster/{name}": digest for name, digest in model_hashes(find_checkpoint(region)).items()}


class Schedule(ABC):
    """Training GPUs per interval from the carbon view (template: `train_gpus` clamps what `_plan` returns)."""

    name: ClassVar[str]

    def __init__(self, options: ScheduleOptions, view: CarbonView, n_gpus: int, interval_s: float = 3600.0) -> None:
        self.options, self.view, self.n_gpus, self.interval_h = options, view, n_gpus, interval_s / 3600.0
        self.forecaster: Forecaster | None = (
            make_forecaster(options.forecaster, view.region) if options.reads_forecast else None
        )

    def window(self, now_s: float) -> np.ndarray:
        """The current hour's intensity and the forecast of the next `window_hours - 1` hours (g/kWh), shape (W,)."""
        assert self.forecaster is not None
        ahead = self.forecaster.forecast(self.view, now_s, self.options.window_hours - 1)
        return np.concatenate([[self.view.current(now_s)], ahead])

    def train_gpus(self, now_s: float) -> int:
        """GPUs that train in the interval starting at `now_s` (s since the run started), in [0, G]."""
        return min(max(int(self._plan(now_s)), 0), self.n_gpus)

    @abstractmethod
    def _plan(self, now_s: float) -> int:
        """The policy's training GPUs (clamped by `train_gpus`)."""


class Always(Schedule):
    """Every GPU trains every interval (carbon-agnostic)."""

    name = "always"

    def _plan(self, now_s: float) -> int:
        return self.n_gpus


class Fixed(Schedule):
    """`train_gpus` GPUs train every interval."""

    name = "fixed"

    def _plan(self, now_s: float) -> int:
        return self.options.train_gpus


class Threshold(Schedule):
    """Every GPU trains while the intensity is at or below the window's `quantile`, none otherwise."""

    name = "threshold"

    def _plan(self, now_s: float) -> int:
        window = self.window(now_s)
        return self.n_gpus if window[0] <= np.quantile(window, self.options.quantile) else 0


class CarbonScaler(Schedule):
    """The rolling plan: the window's share of the work plus the deficit so far, cleanest forecast hours first."""

    name = "carbonscaler"
    delivered_h = 0.0  # GPU-hours allocated to training so far
    planned_h = 0.0  # GPU-hours the average utilisation asked for so far

    def _plan(self, now_s: float) -> int:
        window, rate = self.window(now_s), self.options.utilisation * self.n_gpus
        deficit = self.planned_h - self.delivered_h
        target = rate * len(window) + deficit  # GPU-hours the window must deliver
        cleaner = int(np.sum(window[1:] < window[0]))  # hours filled before the current one (ties: now first)
        train = math.floor(min(max(target - cleaner * self.n_gpus, 0.0), self.n_gpus) + 1e-9)
        self.planned_h += rate * self.interval_h
        self.delivered_h += train * self.interval_h
        return train


SCHEDULES: Registry[type[Schedule]] = Registry("schedule", "methods show random-search")
"""Schedule policy name -> class (`schedule.policy`)."""
for _cls in (Always, Fixed, Threshold, CarbonScaler):
    SCHEDULES.add(_cls.name, (_cls.__doc__ or _cls.name).strip(), value=_cls)


def make_schedule(options: ScheduleOptions, view: CarbonView, n_gpus: int, interval_s: float = 3600.0) -> Schedule:
    """The schedule `options.policy` names over the run's carbon view, deciding every `interval_s` seconds."""
    return SCHEDULES.get(options.policy)(options, view, n_gpus, interval_s)


class ScheduledMethod(Method):
    """A method whose training GPUs a schedule decides every interval (the others idle): its `Options` declare
    `schedule: ScheduleOptions = group(ScheduleOptions, ...)`, its setup calls `start_schedule(ctx)`; what the
    schedule knows beyond forecasts and the models it reads join the method's own (`privileged`, `model_files`)."""

    schedule: Schedule

    def start_schedule(self, ctx: MethodContext) -> None:
        """Build the run's schedule over its carbon view."""
        self.schedule = make_schedule(self.options.schedule, ctx.carbon, ctx.n_gpus, ctx.interval_s)

    def on_interval(self, info: IntervalInfo) -> Allocation:
        return {TRAIN: self.schedule.train_gpus(info.now_s)}

    def model_files(self, region: str) -> dict[str, str]:
        return super().model_files(region) | self.options.schedule.model_files(region)

    def privileged(self) -> tuple[str, ...]:
        return (*super().privileged(), *self.options.schedule.privileged())
