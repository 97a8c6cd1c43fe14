"""Energy counters for spot checks: NVIDIA's NVML total-energy counter on GPUs, Linux RAPL (powercap) on CPUs, or
none. A meter is read before and after a timed window; the difference is the window's energy. When no counter is
readable the record says "energy not measured": nothing is ever estimated in its place.

- NVML (`nvidia-ml-py`, in the `gpu` extra, imported only here): `nvmlDeviceGetTotalEnergyConsumption`, the board's
  energy in mJ since the driver loaded (Volta and newer). It integrates the board's power internally, unlike single
  `nvmlDeviceGetPowerUsage` readings, which on A100/H100 average only part of each update period; the counter's own
  update period is tens of ms, so timed windows are kept at least `MIN_WINDOW_S` long (the error of the two reads is
  then well under 1 %). Whole board: other processes on the same GPU count too.
- RAPL (`/sys/class/powercap/intel-rapl:N/energy_uj`, top-level package domains, wrap-around corrected with
  `max_energy_range_uj`): CPU package energy (cores, caches, uncore; DRAM where the package domain includes it), of
  every process on the package. Often unreadable without root, and absent in most VMs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MIN_WINDOW_S = 10.0
NOT_MEASURED = "energy not measured"
POWERCAP = Path("/sys/class/powercap")


class EnergyMeter(Protocol):
    """A cumulative energy counter."""

    name: str
    method: str  # how it measures, for the record

    def read_j(self) -> float:
        """Cumulative energy (J) since an arbitrary origin."""
        ...


@dataclass
class NVMLMeter:
    """NVML's total-energy counter of one GPU (`nvml`: the pynvml module, or a stand-in with the same functions)."""

    nvml: Any
    index: int = 0
    name: str = "nvml"

    def __post_init__(self) -> None:
        self.nvml.nvmlInit()
        self.handle = self.nvml.nvmlDeviceGetHandleByIndex(self.index)
        self.device = _text(self.nvml.nvmlDeviceGetName(self.handle))
        self.driver = _text(self.nvml.nvmlSystemGetDriverVersion())
        self.method = (
            f"NVML total energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ) of GPU {self.index} "
            f"({self.device}, driver {self.driver}), read before and after windows of at least "
            f"{MIN_WINDOW_S:g} s; whole board"
        )
        self.read_j()  # fails here (unsupported GPU) rather than mid-check

    def read_j(self) -> float:
        return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)) / 1000.0


@dataclass
class RAPLMeter:
    """The sum of the top-level RAPL package domains (`root`: the powercap folder)."""

    root: Path = POWERCAP
    name: str = "rapl"

    def __post_init__(self) -> None:
        self.domains = sorted(p for p in self.root.glob("intel-rapl:*") if p.name.count(":") == 1)
        if not self.domains:
            raise OSError(f"no RAPL package domains under {self.root}")
        self.ranges = [int((d / "max_energy_range_uj").read_text()) for d in self.domains]
        self.last = [self._raw(d) for d in self.domains]
        self.total_uj = 0
        names = ", ".join((d / "name").read_text().strip() for d in self.domains)
        self.method = (
            f"Linux RAPL package energy counters ({names}; energy_uj, wrap-around corrected), read before and after "
            f"windows of at least {MIN_WINDOW_S:g} s; whole package, all processes"
        )

    @staticmethod
    def _raw(domain: Path) -> int:
        return int((domain / "energy_uj").read_text())

    def read_j(self) -> float:
        for i, domain in enumerate(self.domains):
            now = self._raw(domain)
            step = now - self.last[i]
            self.total_uj += step if step >= 0 else step + self.ranges[i]  # the counter wrapped
            self.last[i] = now
        return self.total_uj / 1e6


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _nvml_module() -> Any:
    import pynvml  # nvidia-ml-py, the `gpu` extra

    return pynvml


def find_meter(device: str, nvml: Callable[[], Any] = _nvml_module, powercap: Path = POWERCAP) -> EnergyMeter | None:
    """The meter for `device` ("cuda[:N]" -> NVML, "cpu" -> RAPL), or None with no readable counter."""
    try:
        if device.startswith("cuda"):
            index = int(device.partition(":")[2] or 0)
            return NVMLMeter(nvml(), index)
        return RAPLMeter(powercap)
    except (ImportError, OSError, ValueError):
        return None
    except Exception as exc:  # NVML raises its own NVMLError family
        if type(exc).__name__.startswith("NVMLError"):
            return None
        raise
