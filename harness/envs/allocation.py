"""`CarbonAllocationEnv`: the hourly GPU split of a CE-NAS search as a gymnasium environment.

An episode is one simulated search (a CE-NAS-family method: LaMOO tree, supernet sampling, ready queue) of
`hours` hours on `gpus` GPUs over one carbon-trace window; every step is one allocation interval. The agent decides
how many GPUs train (the others sample with the supernet); the method does everything else. The agent sees only what
a deployed scheduler may know (no future intensity unless the forecaster is `oracle`):

| index | observation (float32, clipped to [0, 10]) |
|---|---|
| 0 | the current hour's intensity / the episode's reference intensity R |
| 1-3 | mean, min, max of the past 24 h / R (history before the window included) |
| 4-6 | mean, min, max of the forecaster's next 24 h / R |
| 7 | rank of the current intensity among those 48 hours (0 = cleanest, 1 = dirtiest) |
| 8 | ready-queue fill (candidates / queue capacity, at most 1) |
| 9 | elapsed share of the time budget |
| 10 | HV / HV_max |
| 11 | the previous action / GPUs |

R is the median intensity of the 30 days before the window. Reward per step:
`hv_weight * (HV gain / HV_max) - carbon_price * (interval carbon / reference carbon)`, where the reference carbon is
what all GPUs emit training for one interval at R under the run's own power profile (its training watts and PUE), so
the price does not depend on the hardware. Defaults: hv_weight 100 (1 per percent of HV_max), carbon_price 1.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from harness.errors import HarnessError
from harness.sim.jobs import ONESHOT, TRAIN
from harness.sim.method import IntervalInfo

ENV_ID = "cenas-bench/CarbonAllocation-v0"
OBS_SIZE = 12
HISTORY_H = 24
REFERENCE_DAYS = 30


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
        hv_weight: float = 100.0,
        carbon_price: float = 1.0,
    ) -> None:
        from harness.benchmarks import get_benchmark
        from harness.carbon.forecast import make_forecaster
        from harness.carbon.traces import load_trace
        from harness.config import parse_budget
        from harness.methods import create_method
        from harness.sim.accounting import get_profile

        if not traces:
            raise HarnessError("CarbonAllocationEnv needs at least one trace")
        self.traces = [load_trace(t) for t in traces]  # unknown traces fail here, before any episode
        self.trace_names = list(traces)
        self.bench = get_benchmark(benchmark)
        self.profile = get_profile(accounting)
        self.budget = parse_budget(f"{hours:g}h")
        self.hours, self.gpus = float(hours), int(gpus)
        if not hasattr(create_method(method, method_options).options, "policy"):
            raise HarnessError(f"method {method!r} does not split GPUs between training and sampling (CE-NAS family)")
        self.method_name, self.method_options = method, {"policy": "fixed", **(method_options or {})}
        self.forecaster_name = forecaster
        self.forecasters = {t.region: make_forecaster(forecaster, t.region) for t in self.traces}
        self.hv_weight, self.carbon_price = float(hv_weight), float(carbon_price)
        self.action_space = spaces.Discrete(self.gpus + 1)
        self.observation_space = spaces.Box(0.0, 10.0, shape=(OBS_SIZE,), dtype=np.float32)
        self._steps: Generator[IntervalInfo, dict[str, int], Any] | None = None
        self.result: Any = None

    # ------------------------------------------------------------------------------------------------ gymnasium
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """A new episode: a trace window (`options={"trace": name}`, else drawn) and a simulation seed from the
        environment's seeded generator."""
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
        self.sim = Simulator(self.bench, trace, self.method, self.gpus, self.budget, self.profile, sim_seed)
        self.forecaster = self.forecasters[trace.region]
        self.reference_ci = float(np.median(self.sim.view.history(0.0, REFERENCE_DAYS * 24)))
        kwh = self.gpus * self.profile.train_w * self.profile.pue * (self.sim.interval_s / 3600.0) / 1000.0
        self.reference_carbon_g = kwh * self.reference_ci  # all GPUs training for one interval at R
        self._steps = self.sim.decisions()
        self.info = next(self._steps)
        self.last_action = 0
        self.result = None
        return self._observation(), self._info(trace_name=self.trace_names[index], seed=sim_seed)

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One interval with `action` GPUs training and the rest sampling."""
        if self._steps is None:
            raise HarnessError("call reset() before step()")
        if not self.action_space.contains(action):
            raise HarnessError(f"action {action!r} is not a GPU count in 0..{self.gpus}")
        train = int(action)
        before = self.info
        self.method.on_interval(before)  # the method's own bookkeeping (tree, region, supernet); its split is ignored
        try:
            self.info = self._steps.send({TRAIN: train, ONESHOT: self.gpus - train})
            terminated = False
        except StopIteration as stop:
            self.result, self._steps, terminated = stop.value, None, True
        now = self._now()
        hv_gain = now["hv"] - before.hv
        carbon = now["carbon_g"] - before.carbon_used_g
        reward = self.hv_weight * hv_gain / self.bench.hv_max - self.carbon_price * carbon / self.reference_carbon_g
        self.last_action = train
        return self._observation(), float(reward), terminated, False, self._info(hv_gain=hv_gain, step_carbon_g=carbon)

    def close(self) -> None:
        if self._steps is not None:
            self._steps.close()
            self._steps = None

    # ------------------------------------------------------------------------------------------------- helpers
    def _now(self) -> dict[str, float]:
        if self.result is not None:
            return {"hv": self.result.hv, "carbon_g": self.result.totals.carbon_g, "now_s": self.result.end_s}
        return {"hv": self.info.hv, "carbon_g": self.info.carbon_used_g, "now_s": self.info.now_s}

    def _observation(self) -> np.ndarray:
        now = self._now()
        view, t, r = self.sim.view, min(now["now_s"], self.hours * 3600.0 - 1.0), self.reference_ci
        ci = view.current(t)
        past = view.history(t, HISTORY_H)
        future = np.asarray(self.forecaster.forecast(view, t, HISTORY_H), dtype=np.float64)
        window = np.concatenate([past, [ci], future])
        queue = self.method.queue_sizes().get("ready", 0)
        capacity = getattr(self.method.options, "queue_capacity", 10)
        obs = [
            ci / r, past.mean() / r, past.min() / r, past.max() / r, future.mean() / r, future.min() / r,
            future.max() / r, float(np.mean(window < ci)), min(queue / capacity, 1.0),
            now["now_s"] / (self.hours * 3600.0), now["hv"] / self.bench.hv_max, self.last_action / self.gpus,
        ]  # fmt: skip
        return np.clip(np.asarray(obs, dtype=np.float32), 0.0, 10.0)

    def _info(self, **extra: Any) -> dict[str, Any]:
        now = self._now()
        return {"hour": now["now_s"] / 3600.0, "hv": now["hv"], "carbon_g": now["carbon_g"], **extra}


gym.register(id=ENV_ID, entry_point="harness.envs.allocation:CarbonAllocationEnv")
