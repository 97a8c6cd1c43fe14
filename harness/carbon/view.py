"""What a search method may see of the carbon intensity: the past, the current hour, and, for oracles, the future.

A run simulates a window of a region's hourly series (`window`); the world does not end with it (`world`, the region's
whole series). Methods and policies see the current hour and everything before it, including the hours before the
window starts (they were observable). The true future, past the window's end as well, is available only through
`oracle`, which only forecasters and policies named "oracle" call; the raw series are private. The contract test in
`harness.testing.MethodContract` replaces the world after some hour with other real values and checks that a
non-oracle method's decisions up to that hour do not change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.carbon.traces import Trace


class CarbonView:
    """The carbon intensity (g/kWh) a method may see during a run over `window` of the region series `world`."""

    def __init__(self, window: Trace, world: Trace | None = None) -> None:
        world = world or window
        offset = int((window.start - world.start) / pd.Timedelta(hours=1))
        if offset < 0 or offset + window.hours > world.hours:
            raise ValueError(f"window {window.start} + {window.hours} h is not inside the series of {world.region}")
        self.region = window.region
        self.start = window.start
        self.hours = window.hours
        self._window = window.values
        self._world = world.values
        self._offset = offset  # index of the window's first hour in the world series

    def hour_index(self, now_s: float) -> int:
        """Hour of the run (0 = the window's first hour) containing `now_s` (seconds since the run started)."""
        return int(now_s // 3600)

    def now_time(self, now_s: float) -> pd.Timestamp:
        """UTC start of the hour containing `now_s`."""
        return self.start + pd.Timedelta(hours=self.hour_index(now_s))

    def current(self, now_s: float) -> float:
        """Intensity (g/kWh) of the hour containing `now_s` (the window's last hour after its end)."""
        return float(self._window[min(self.hour_index(now_s), self.hours - 1)])

    def history(self, now_s: float, hours: int) -> np.ndarray:
        """The last `hours` hourly values up to and including the current hour, shape (<= hours,); hours before the
        window count (shorter only at the start of the region's series)."""
        end = self._offset + min(self.hour_index(now_s), self.hours - 1) + 1
        return self._world[max(0, end - hours) : end].copy()

    def oracle(self, now_s: float, hours: int) -> np.ndarray:
        """ORACLE ONLY: the true next `hours` values starting with the current hour, past the window's end as far as
        the region's series goes (shorter only at the end of the series)."""
        begin = self._offset + min(self.hour_index(now_s), self.hours - 1)
        return self._world[begin : begin + hours].copy()
