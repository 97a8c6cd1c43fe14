"""String registry of search methods: name -> "module:Class" plus a one-line description, and plugins.

Built-in methods live in `cenas/` and `baselines/`; the harness imports them by string only when asked, so it
never depends on them. Third-party packages register more under the entry-point group `cenas_bench.methods`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from harness.errors import HarnessError
from harness.sim.method import Method


@dataclass(frozen=True)
class MethodEntry:
    name: str
    target: str  # "module:Class"
    description: str
    defaults: tuple[tuple[str, Any], ...] = ()
    benchmark: str | None = None  # the benchmark `harness run` uses when none is given (None: the global default)


CENAS = "cenas.method:CENAS"
BUILTIN: tuple[MethodEntry, ...] = (
    MethodEntry(
        "cenas",
        CENAS,
        "CE-NAS, NeurIPS'24 design: RL allocation (clean mode, pretrained) fed by a transformer carbon forecast; "
        "RBF split SVMs fitted on at most 300 samples per node (fast; set kernel=poly svm_max_samples=null for the "
        "reference code's tree).",
        (
            ("policy", "rl"),
            ("rl_mode", "clean"),
            ("forecaster", "transformer"),
            ("kernel", "rbf"),
            ("svm_max_samples", 300),
        ),
    ),
    MethodEntry(
        "cenas-heuristic",
        CENAS,
        "CE-NAS, HotCarbon'23 design: sampling share from the intensity's place in the next 24 h (oracle window).",
        (("policy", "heuristic"), ("forecaster", "oracle")),
    ),
    MethodEntry(
        "cenas-rl-reference",
        CENAS,
        "CE-NAS with the reference code's actor-critic: its state, action map, reward and online updates.",
        (("policy", "rl"), ("rl_mode", "reference"), ("greedy", False)),
    ),
    MethodEntry(
        "random-allocation",
        CENAS,
        "CE-NAS with a uniformly random action each interval (HotCarbon baseline).",
        (("policy", "random"), ("forecaster", "oracle")),
    ),
    MethodEntry(
        "vanilla-lamoo",
        "baselines.lamoo_family:VanillaLaMOO",
        "LaMOO with every GPU training fresh region samples (no supernet), whatever the carbon intensity.",
    ),
    MethodEntry(
        "oneshot-lamoo",
        "baselines.lamoo_family:OneShotLaMOO",
        "LaMOO on supernet estimates only (10 per interval, 1500 samples in all); HV reported on the true "
        "objectives of what it sampled.",
    ),
    MethodEntry(
        "nsga2",
        "baselines.nsga2:NSGA2Search",
        "NSGA-II (pymoo ask/tell), population 20, one synchronous generation trained in parallel at a time.",
    ),
    MethodEntry(
        "qnehvi",
        "baselines.lamoo_family:VanillaLaMOO",
        "BoTorch qLogNEHVI on a GP over the whole encoded space (no LaMOO partition), every GPU training, 8 "
        "candidates per interval; light settings: the GP sees the non-dominated samples plus the most recent (64 in "
        "all), its hyperparameters are re-estimated every 24 intervals, 32 MC samples, 128 raw samples.",
        (
            ("sampler", "qnehvi"),
            ("max_height", 0),
            ("qnehvi_q", 8),
            ("qnehvi_restarts", 8),
            ("qnehvi_raw_samples", 128),
            ("qnehvi_mc_samples", 32),
            ("qnehvi_max_train", 64),
            ("qnehvi_refit_every", 24),
            ("qnehvi_warm_start", True),
            ("qnehvi_prune_samples", 256),
        ),
    ),
    MethodEntry(
        "semoa",
        "baselines.semoa:SEMOA",
        "EC-NAS SEMOA: mutation-only evolution over NB101-style cells, epoch budgets cycling 4/12/36/108 "
        "(--set gate=heuristic defers evaluations to low-carbon hours).",
        benchmark="ecnas/4v",
    ),
    MethodEntry("random-search", "baselines.random_search:RandomSearch", "Every GPU trains uniformly random archs."),
)


def registry() -> dict[str, MethodEntry]:
    """Built-in methods plus those registered by installed plugins."""
    entries = {m.name: m for m in BUILTIN}
    for point in entry_points(group="cenas_bench.methods"):
        entries.setdefault(point.name, MethodEntry(point.name, point.value, f"plugin ({point.value})"))
    return entries


def default_benchmark(name: str) -> str:
    """The benchmark a method runs on when the user names none: its own (SEMOA: EC-NAS) or the global default."""
    from harness.benchmarks import DEFAULT_BENCHMARK

    entry = registry().get(name)
    return entry.benchmark if entry and entry.benchmark else DEFAULT_BENCHMARK


def create_method(name: str, options: dict[str, Any] | None = None) -> Method:
    """Instantiate method `name` with its defaults overridden by `options`."""
    entries = registry()
    if name not in entries:
        raise HarnessError(f"unknown method '{name}'; known: {', '.join(sorted(entries))} (see `harness methods list`)")
    entry = entries[name]
    module_name, _, attr = entry.target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    merged = dict(entry.defaults) | dict(options or {})
    try:
        method = cls(**merged)
    except TypeError as exc:
        raise HarnessError(f"bad options for method {name}: {exc}") from None
    method.name = name
    return method
