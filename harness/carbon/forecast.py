"""Carbon-intensity forecasters: given the hourly history up to the current hour, predict the next H hours.

- `oracle`: the true future (for policies declared oracle, and as an upper bound);
- `persistence`: the same hour of the previous day (the last 24 values, repeated);
- `transformer`: a small encoder-only PyTorch transformer over the past 168 h plus hour-of-day and day-of-week
  encodings, predicting the next H hours directly (see `harness.carbon.transformer`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harness.registry import Registry

if TYPE_CHECKING:
    from harness.carbon.view import CarbonView


class Forecaster(ABC):
    name: str

    @abstractmethod
    def forecast(self, view: CarbonView, now_s: float, horizon: int) -> np.ndarray:
        """Predicted intensity (g/kWh) of the `horizon` hours after the current one, shape (horizon,)."""

    def past(self, view: CarbonView, now_s: float, hours: int) -> tuple[np.ndarray, pd.Timestamp]:
        """The last `hours` values of the region's series up to and including the current hour (history before the
        run's window counts: it was observable), and the current hour's timestamp."""
        return view.history(now_s, hours), view.now_time(now_s)


class OracleForecaster(Forecaster):
    name = "oracle"

    def forecast(self, view: CarbonView, now_s: float, horizon: int) -> np.ndarray:
        future = view.oracle(now_s, horizon + 1)[1:]  # past the window's end: the world goes on
        if len(future) < horizon:  # end of the region's series: hold the last known value
            last = future[-1] if len(future) else view.current(now_s)
            future = np.concatenate([future, np.full(horizon - len(future), last)])
        return future


def persistence(history: np.ndarray, horizon: int) -> np.ndarray:
    """Next `horizon` values as the same hour one day earlier; history shorter than a day repeats what exists."""
    day = history[-24:]
    reps = -(-horizon // len(day))
    return np.tile(day, reps)[:horizon]


class PersistenceForecaster(Forecaster):
    name = "persistence"

    def forecast(self, view: CarbonView, now_s: float, horizon: int) -> np.ndarray:
        return persistence(self.past(view, now_s, 24)[0], horizon)


FORECASTERS: Registry[Callable[[str | None], Forecaster]] = Registry(
    "forecaster", "registries", group="cenas_bench.forecasters"
)
"""Forecaster name -> `make(region)` (plugins: entry-point group `cenas_bench.forecasters`)."""
FORECASTERS.add("oracle", "the true future (oracle policies only)", value=lambda region: OracleForecaster())
FORECASTERS.add("persistence", "the same hour of the previous day", value=lambda region: PersistenceForecaster())
FORECASTERS.add(
    "transformer",
    "the trained per-region transformer (`harness forecast train`)",
    target="harness.carbon.transformer:forecaster_for",  # by name: the transformer module builds on this one
)


def make_forecaster(name: str, region: str | None = None) -> Forecaster:
    """The forecaster registered as `name` (`oracle`, `persistence`, `transformer`) for `region`."""
    return FORECASTERS.get(name)(region)
