"""Trace sources and named trace windows, as data (no pandas: `harness traces list` reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harness.data.manifest import DataFile, Manifest
from harness.registry import Registry

BUILDER_VERSION = 2  # traces table; 2: GB and DE lets-wait-awhile hours are the mean of their 15/30-min samples
SOURCES: dict[str, str] = {
    "sc": "Electricity Maps via sustain-cluster",
    "dp": "Electricity Maps via decarbonization-potential",
    "lwa": "ENTSO-E via lets-wait-awhile",
    "ca": "co2signal via carbonAdvisor",
}


@dataclass(frozen=True)
class Signal:
    """What a source's intensity measures: `basis` (production: the zone's generation mix; consumption: the mix its
    consumers draw, imports flow-traced), `factors` (lifecycle: emission factors over each plant's life cycle;
    direct: combustion only) and `kind` (average: every source supplying the hour; marginal: the unit that answers
    an extra kWh)."""

    basis: str
    factors: str
    kind: str
    note: str

    @property
    def label(self) -> str:
        return f"{self.basis}-based, {self.factors}, {self.kind}"


SIGNALS: dict[str, Signal] = {
    "sc": Signal(
        "consumption",
        "lifecycle",
        "average",
        "Electricity Maps data portal, column `Carbon Intensity gCO2eq/kWh (LCA)` (the file also has the direct "
        "column; Electricity Maps' intensities are consumption-based, flow-traced across interconnectors)",
    ),
    "dp": Signal(
        "consumption",
        "lifecycle",
        "average",
        "Electricity Maps data portal (older vintage), the `(LCA)` column as for sustain-cluster",
    ),
    "lwa": Signal(
        "production",
        "lifecycle",
        "average",
        "computed by Wiesner et al. from ENTSO-E generation per type x IPCC SRREN life-cycle emission factors: the "
        "zone's own generation, imports not traced",
    ),
    "ca": Signal(
        "consumption",
        "lifecycle",
        "average",
        "co2signal / Electricity Maps API `carbon_intensity_avg` as polled by carbonAdvisor; the API served "
        "consumption-based life-cycle intensities by default (the file itself does not say)",
    ),
}
"""The signal type of every source's series. No marginal series is available offline: every mirrored source is an
average intensity, so no board uses marginal emission rates, and none is approximated."""


def signal_of(region: str) -> Signal:
    """The signal type of a trace region's series (`SOURCE:ZONE`): its source's."""
    return SIGNALS[region.split(":")[0]]


def trace_files(manifest: Manifest) -> list[DataFile]:
    return [f for f in manifest if f.group == "carbon"]


@dataclass(frozen=True)
class NamedWindow:
    name: str
    region: str
    start: str
    end_inclusive: str
    description: str

    @property
    def hours(self) -> int:
        span = datetime.fromisoformat(self.end_inclusive) - datetime.fromisoformat(self.start)
        return int(span.total_seconds() // 3600) + 1


WINDOWS: Registry[NamedWindow] = Registry("trace window", "traces list")
"""Named trace windows (`--trace hotcarbon-1`)."""
for _window in (
    NamedWindow("hotcarbon-1", "US-CAL-CISO", "2021-01-01T00:00", "2021-01-02T16:00", "HotCarbon'23 trace 1"),
    NamedWindow("hotcarbon-2", "US-CAL-CISO", "2021-01-02T17:00", "2021-01-04T09:00", "HotCarbon'23 trace 2"),
    NamedWindow("neurips", "US-CAL-CISO", "2021-07-02T00:00", "2021-07-04T08:00", "CE-NAS NeurIPS'24 Fig. 3"),
    NamedWindow(
        "neurips-code",
        "US-CAL-CISO",
        "2021-07-02T06:00",
        "2021-07-04T14:00",
        "CE-NAS code's start: row 13158 of its file, if that file starts 2020-01-01 00:00 UTC",
    ),
):
    WINDOWS.add(
        _window.name,
        f"{_window.description}: {_window.region} {_window.start} to {_window.end_inclusive}",
        value=_window,
    )
