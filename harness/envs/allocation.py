"""`CarbonAllocationEnv`: the hourly GPU split of a CE-NAS search as a gymnasium environment.

An episode is one simulated search (a CE-NAS-family method: LaMOO tree, supernet sampling, ready queue) of at most
`hours` hours on `gpus` GPUs over one carbon-trace window, optionally ending earlier when a carbon budget is spent
(`carbon_budget`, in reference hours: the carbon of all GPUs training that many hours at R; a (low, high) pair draws
it uniformly per episode); every step is one hourly allocation interval. The agent decides
how many GPUs train (the others sample with the supernet); the method does everything else. The agent sees only what
a deployed scheduler may know (no future intensity unless the forecaster is `oracle`):

| index | observation (float32, clipped to [0, 10]) |
|---|---|
| 0 | the current hour's intensity / the episode's reference intensity R |
| 1-3 | mean, min, max of the past 24 h / R (history before the window included) |
| 4-6 | mean, min, max of the forecaster's next 24 h / R |
| 7 | rank of the current intensity among those 48 hours (0 = cleanest, 1 = dirtiest) |
| 8 | ready-queue fill (candidates / queue capacity, at most 1) |
| 9 | progress: the larger of the elapsed share of the time budget and the spent share of the carbon budget |
| 10 | HV / the reference box's volume (known before the search; not HV_max, the table's optimum) |
| 11 | the previous action / GPUs |

R is the median intensity of the 30 days before the window. Reward per step, with regret r = 1 - HV/HV_max floored
at `REGRET_FLOOR`: `hv_weight * (log10 r_before - log10 r_after) - carbon_price * (interval carbon / reference carbon)`.
The reference carbon is what all GPUs emit training for one interval at R under the run's own power profile (its
training watts and PUE), so the price does not depend on the hardware. Regret is scored in decades, as the leaderboard
plots it, so the late, small HV gains that separate good searches count as much as the early ones. Defaults:
hv_weight 1 (one decade of regret); carbon_price 0 with a carbon budget (the budget is the constraint: carbon spent
in dirty hours is HV not bought later), else 1 / hours (running every GPU for the whole episode at R costs as much
as one decade of regret). `train_credit` (default 0) adds that much per all-GPU hour of training: with
train_credit = carbon_price, training at R is carbon-neutral in the reward, so the price falls on the intensity a
schedule chooses rather than on training itself (CE-NAS's own reward similarly pays 0.05 per trained sample). The
return telescopes to `hv_weight * log10(1 / r_end) - carbon_price * carbon / reference carbon + train_credit *
training GPU-hours / gpus`.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from harness.carbon.forecast import Forecaster
from harness.carbon.view import CarbonView
from harness.errors import HarnessError
from harness.sim.jobs import ONESHOT, TRAIN
from harness.sim.method import IntervalInfo

ENV_ID = "cenas-bench/CarbonAllocation-v0"
OBS_SIZE = 12
HISTORY_H = 24
REFERENCE_DAYS = 30
REGRET_FLOOR = 1e-4  # 0.01 % of HV_max: a search this close to the true front is rewarded no further


class CarbonAllocationEnv(gym.Env):
    """GPU allocation of a simulated CE-NAS search as a gymnasium environment (module docstring: spaces, reward)."""

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's convention

    def __init__(
        self,
        traces: Sequence[str] = ("US-CAL-CISO@2021-07-02T00:00",),
        benchmark: str = "nb201/cifar10/pi5-energy",
        hours: float = 48.0,
        gpus: int = 8,
        accounting: str = "default",
        method: str = "cenas",
        method_options: dict[str, Any] | None = None,
        forecaster: str = "persistence",
        hv_weight: float = 1.0,
        carbon_price: float | None = None,
        carbon_budget: float | tuple[float, float] | None = None,
        train_credit: float = 0.0,
    ) -> None:
        from harness.benchmarks import get_benchmark
        from harness.carbon.forecast import make_forecaster
        from harness.carbon.traces import load_trace
        from harness.methods import create_method
        from harness.sim.accounting import get_profile

        if not traces:
            raise HarnessError("CarbonAllocationEnv needs at least one trace")
        self.traces = [load_trace(t) for t in traces]  # unknown traces fail here, before any episode
        self.trace_names = list(traces)
        self.bench = get_benchmark(benchmark)
        self.profile = get_profile(accounting)
        self.hours, self.gpus = float(hours), int(gpus)
        self.carbon_budget = None if carbon_budget is None else _range(carbon_budget, "carbon_budget")
        if not hasattr(create_method(method, method_options).options, "policy"):
            raise HarnessError(f"method {method!r} does not split GPUs between training and sampling (CE-NAS family)")
        self.method_name, self.method_options = method, {"policy": "fixed", **(method_options or {})}
        self.forecaster_name = forecaster
        self.forecasters = {t.region: make_forecaster(forecaster, t.region) for t in self.traces}
        self.worlds = {t.region: load_trace(t.region) for t in self.traces}
        self.hv_weight = float(hv_weight)
        if carbon_price is None:  # with a carbon budget the budget is the price; else all GPUs x all hours = 1 decade
            carbon_price = 0.0 if carbon_budget is not None else 1.0 / self.hours  # hourly intervals
        self.carbon_price, self.train_credit = float(carbon_price), float(train_credit)
        self.action_space = spaces.Discrete(self.gpus + 1)
        self.observation_space = spaces.Box(0.0, 10.0, shape=(OBS_SIZE,), dtype=np.float32)
        self._steps: Generator[IntervalInfo, dict[str, int], Any] | None = None
        self.result: Any = None

    # ------------------------------------------------------------------------------------------------ gymnasium
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """A new episode: a trace window (`options={"trace": name}`, else drawn) and a simulation seed from the
        environment's seeded generator."""
        from harness.config import Budget
        from harness.methods import create_method
        from harness.sim.simulator import Simulator

        super().reset(seed=seed)
        self.close()
        name = (options or {}).get("trace")
        if name is not None and name not in self.trace_names:
            raise HarnessError(f"trace {name!r} is not one of this environment's {self.trace_names}")
        index = self.trace_names.index(name) if name is not None else int(self.np_random.integers(len(self.traces)))
        trace = self.traces[index]
        self.method = create_method(self.method_name, self.method_options)
        sim_seed = int(self.np_random.integers(2**31 - 1))
        world = self.worlds[trace.region]
        self.reference_ci = reference_intensity(CarbonView(trace, world))
        kwh = self.gpus * self.profile.train_w * self.profile.pue / 1000.0
        self.reference_carbon_g = kwh * self.reference_ci  # all GPUs training for one (hourly) interval at R
        carbon_g = None
        if self.carbon_budget is not None:
            lo, hi = self.carbon_budget
            carbon_g = self.reference_carbon_g * (lo if lo == hi else float(self.np_random.uniform(lo, hi)))
        budget = Budget(carbon_g=carbon_g, hours=self.hours)
        self.sim = Simulator(self.bench, trace, self.method, self.gpus, budget, self.profile, sim_seed, world=world)
        self.forecaster = self.forecasters[trace.region]
        self._steps = self.sim.decisions()
        self.info = next(self._steps)
        self.last_action = 0
        self.result = None
        return self._observation(), self._info(
            trace_name=self.trace_names[index], seed=sim_seed, carbon_budget_g=carbon_g
        )

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One interval with `action` GPUs training and the rest sampling."""
        if self._steps is None:
            raise HarnessError("call reset() before step()")
        if not self.action_space.contains(action):
            raise HarnessError(f"action {action!r} is not a GPU count in 0..{self.gpus}")
        train = int(action)
        before, trained_s = self.info, self._trained_s()
        self.method.on_interval(before)  # the method's own bookkeeping (tree, region, supernet); its split is ignored
        try:
            self.info = self._steps.send({TRAIN: train, ONESHOT: self.gpus - train})
            terminated = False
        except StopIteration as stop:
            self.result, self._steps, terminated = stop.value, None, True
        now = self._now()
        hv_gain = now["hv"] - before.hv
        carbon = now["carbon_g"] - before.carbon_used_g
        decades = math.log10(self.regret(before.hv)) - math.log10(self.regret(now["hv"]))
        all_gpu_hours = (self._trained_s() - trained_s) / (self.gpus * 3600.0)  # training, in all-GPU hours
        reward = (
            self.hv_weight * decades
            - self.carbon_price * carbon / self.reference_carbon_g
            + self.train_credit * all_gpu_hours
        )
        self.last_action = train
        info = self._info(hv_gain=hv_gain, step_carbon_g=carbon, step_decades=decades, step_train_hours=all_gpu_hours)
        return self._observation(), float(reward), terminated, False, info

    def close(self) -> None:
        if self._steps is not None:
            self._steps.close()
            self._steps = None

    # ------------------------------------------------------------------------------------------------- helpers
    def _trained_s(self) -> float:
        """GPU-seconds spent training so far (s)."""
        totals = self.result.totals if self.result is not None else self.sim.totals
        return float(totals.busy_s[TRAIN])

    def regret(self, hv: float) -> float:
        """1 - HV/HV_max, at least `REGRET_FLOOR`."""
        return max(1.0 - hv / self.bench.hv_max, REGRET_FLOOR)

    def _now(self) -> dict[str, float]:
        if self.result is not None:
            return {"hv": self.result.hv, "carbon_g": self.result.totals.carbon_g, "now_s": self.result.end_s}
        return {"hv": self.info.hv, "carbon_g": self.info.carbon_used_g, "now_s": self.info.now_s}

    def _observation(self) -> np.ndarray:
        now = self._now()
        return observation(
            self.sim.view,
            self.forecaster,
            min(now["now_s"], self.hours * 3600.0 - 1.0),
            self.reference_ci,
            queue_fill=self.method.queue_sizes().get("ready", 0) / getattr(self.method.options, "queue_capacity", 10),
            progress=budget_progress(self.sim.budget.hours, self.sim.budget.carbon_g, now["now_s"], now["carbon_g"]),
            hv_share=now["hv"] / self.bench.hv_box,
            last_share=self.last_action / self.gpus,
        )

    def _info(self, **extra: Any) -> dict[str, Any]:
        now = self._now()
        return {"hour": now["now_s"] / 3600.0, "hv": now["hv"], "carbon_g": now["carbon_g"], **extra}


def reference_intensity(view: CarbonView) -> float:
    """R (g/kWh): the median intensity of the `REFERENCE_DAYS` days before the window."""
    return float(np.median(view.history(0.0, REFERENCE_DAYS * 24)))


def observation(
    view: CarbonView,
    forecaster: Forecaster,
    now_s: float,
    reference_ci: float,
    *,
    queue_fill: float,
    progress: float,
    hv_share: float,
    last_share: float,
) -> np.ndarray:
    """The 12-value observation of the module docstring at time `now_s` (s from the window's start), shape (12,).

    Shared by the environment and by policies trained on it (CE-NAS's clean agent), so both see the same numbers."""
    r = reference_ci
    ci = view.current(now_s)
    past = view.history(now_s, HISTORY_H)
    future = np.asarray(forecaster.forecast(view, now_s, HISTORY_H), dtype=np.float64)
    window = np.concatenate([past, [ci], future])
    obs = [
        ci / r,
        past.mean() / r,
        past.min() / r,
        past.max() / r,
        future.mean() / r,
        future.min() / r,
        future.max() / r,
        float(np.mean(window < ci)),
        min(queue_fill, 1.0),
        progress,
        hv_share,
        last_share,
    ]
    return np.clip(np.asarray(obs, dtype=np.float32), 0.0, 10.0)


def budget_progress(hours: float | None, carbon_budget_g: float | None, now_s: float, carbon_g: float) -> float:
    """The larger of the elapsed share of the time budget (`hours`, h) and the spent share of the carbon budget (g),
    for the terms that are set (0 to 1)."""
    shares = [now_s / 3600.0 / hours if hours else 0.0, carbon_g / carbon_budget_g if carbon_budget_g else 0.0]
    return min(max(shares), 1.0)


def _range(value: float | tuple[float, float], name: str) -> tuple[float, float]:
    lo, hi = (value, value) if isinstance(value, int | float) else tuple(value)
    if not 0 < lo <= hi:
        raise HarnessError(f"{name} must be a positive number or a (low, high) range (got {value!r})")
    return float(lo), float(hi)


gym.register(id=ENV_ID, entry_point="harness.envs.allocation:CarbonAllocationEnv")
