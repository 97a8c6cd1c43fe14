"""String registry of search methods: name -> "module:Class" plus a one-line description, and plugins.

Built-in methods live in `cenas/` and `baselines/`; the harness imports them by string only when asked, so it
never depends on them. Third-party packages register more under the entry-point group `cenas_bench.methods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.options import flatten, parse_options
from harness.registry import Entry, Registry, import_target

if TYPE_CHECKING:
    from harness.sim.method import Method


@dataclass(frozen=True)
class MethodEntry:
    name: str
    target: str  # "module:Class"
    description: str
    defaults: tuple[tuple[str, Any], ...] = ()  # (dotted option key, value): the entry's overrides
    benchmark: str | None = None  # the benchmark `harness run` uses when none is given (None: the global default)
    paper: str | None = None  # the work it implements, as cited on its method card


CENAS = "cenas.method:CENAS"
BUILTIN: tuple[MethodEntry, ...] = (
    MethodEntry(
        "cenas",
        CENAS,
        "CE-NAS, NeurIPS'24 design: RL allocation (clean mode: a PPO agent trained on the allocation environment) "
        "fed by a transformer carbon forecast; "
        "RBF split SVMs fitted on at most 300 samples per node (fast; set tree.kernel=poly tree.svm_max_samples=null "
        "for the reference code's tree).",
        (
            ("policy", "rl"),
            ("rl.mode", "clean"),
            ("forecaster", "transformer"),
            ("tree.kernel", "rbf"),
            ("tree.svm_max_samples", 300),
        ),
        paper=(
            "Y. Zhao et al. CE-NAS: An End-to-End Carbon-Efficient Neural Architecture Search Framework. NeurIPS "
            "2024 (arXiv 2406.01414)."
        ),
    ),
    MethodEntry(
        "cenas-heuristic",
        CENAS,
        "CE-NAS, HotCarbon'23 design: sampling share from the intensity's place in the next 24 h, as the shipped "
        "transformer forecasts it (--set forecaster=oracle: the true next 24 h, HotCarbon's setting, privileged).",
        (("policy", "heuristic"), ("forecaster", "transformer")),
        paper="Y. Zhao and T. Guo. Carbon-Efficient Neural Architecture Search. HotCarbon 2023.",
    ),
    MethodEntry(
        "cenas-rl-reference",
        CENAS,
        "CE-NAS with the reference code's actor-critic: its state, action map, reward and online updates.",
        (("policy", "rl"), ("rl.mode", "reference"), ("rl.greedy", False)),
        paper=(
            "Y. Zhao et al. CE-NAS: An End-to-End Carbon-Efficient Neural Architecture Search Framework. NeurIPS "
            "2024 (arXiv 2406.01414)."
        ),
    ),
    MethodEntry(
        "random-allocation",
        CENAS,
        "CE-NAS with a uniformly random action each interval (HotCarbon baseline).",
        (("policy", "random"),),
        paper="Y. Zhao and T. Guo. Carbon-Efficient Neural Architecture Search. HotCarbon 2023.",
    ),
    MethodEntry(
        "vanilla-lamoo",
        "baselines.lamoo_family:VanillaLaMOO",
        "LaMOO with every GPU training fresh region samples (no supernet), whatever the carbon intensity.",
        paper="Y. Zhao et al. Multi-objective Optimization by Learning Space Partitions (LaMOO). ICLR 2022.",
    ),
    MethodEntry(
        "oneshot-lamoo",
        "baselines.lamoo_family:OneShotLaMOO",
        "LaMOO on one-shot estimates (supernet or early stopping; 10 per interval, 1500 samples in all); it trains "
        "its estimated front, least dominated first (1 GPU while sampling, every GPU after), and scores only that.",
        paper=(
            "Y. Zhao and T. Guo. Carbon-Efficient Neural Architecture Search. HotCarbon 2023 (one-shot LaMOO "
            "baseline, §4.1)."
        ),
    ),
    MethodEntry(
        "nsga2",
        "baselines.nsga2:NSGA2Search",
        "NSGA-II (pymoo ask/tell), population 20, one synchronous generation trained in parallel at a time.",
        paper=(
            "K. Deb, A. Pratap, S. Agarwal, T. Meyarivan. A fast and elitist multiobjective genetic algorithm: "
            "NSGA-II. IEEE Trans. Evol. Comput. 6(2), 2002."
        ),
    ),
    MethodEntry(
        "qnehvi",
        "baselines.lamoo_family:VanillaLaMOO",
        "BoTorch qLogNEHVI on a GP over the whole encoded space (no LaMOO partition), every GPU training, batches "
        "of 8 candidates chosen greedily from 128 random points; light settings: the GP sees the non-dominated "
        "samples plus the most recent (64 in all), its hyperparameters are re-estimated every 24 intervals, 32 MC "
        "samples.",
        (
            ("sampler", "qnehvi"),
            ("tree.max_height", 0),
            ("qnehvi.q", 8),
            ("qnehvi.optimizer", "discrete"),
            ("qnehvi.raw_samples", 128),
            ("qnehvi.mc_samples", 32),
            ("qnehvi.max_train", 64),
            ("qnehvi.refit_every", 24),
            ("qnehvi.warm_start", True),
            ("qnehvi.prune_samples", 256),
        ),
        paper=(
            "S. Daulton, M. Balandat, E. Bakshy. Parallel Bayesian Optimization of Multiple Noisy Objectives with "
            "Expected Hypervolume Improvement. NeurIPS 2021; S. Ament et al. Unexpected Improvements to Expected "
            "Improvement for Bayesian Optimization (qLogNEHVI). NeurIPS 2023."
        ),
    ),
    MethodEntry(
        "semoa",
        "baselines.semoa:SEMOA",
        "EC-NAS SEMOA: mutation-only evolution over NB101-style cells, epoch budgets cycling 4/12/36/108 "
        "(--set gate.mode=heuristic defers evaluations to low-carbon hours).",
        benchmark="ecnas/4v",
        paper=(
            "P. Bakhtiarifard, C. Igel, R. Selvan. EC-NAS: Energy Consumption Aware Tabular Benchmarks for Neural "
            "Architecture Search. ICASSP 2024."
        ),
    ),
    MethodEntry(
        "random-search",
        "baselines.random_search:RandomSearch",
        "Every GPU trains uniformly random archs.",
        paper="L. Li and A. Talwalkar. Random Search and Reproducibility for Neural Architecture Search. UAI 2019.",
    ),
)


def _plugin_method(point: Any) -> Entry[MethodEntry]:
    entry = MethodEntry(point.name, point.value, f"plugin ({point.value})")
    return Entry(point.name, entry.description, value=entry)


METHODS: Registry[MethodEntry] = Registry("method", "methods list", group="cenas_bench.methods", plugin=_plugin_method)
"""Method name -> MethodEntry (plugins: entry-point group `cenas_bench.methods`, target "module:Class")."""
for _entry in BUILTIN:
    METHODS.add(_entry.name, _entry.description, value=_entry)


def registry() -> dict[str, MethodEntry]:
    """Built-in methods plus those registered by installed plugins."""
    return {name: entry.load() for name, entry in METHODS.entries().items()}


def default_benchmark(name: str) -> str:
    """The benchmark a method runs on when the user names none: its own (SEMOA: EC-NAS) or the global default."""
    from harness.benchmarks import DEFAULT_BENCHMARK

    entry = registry().get(name)
    return entry.benchmark if entry and entry.benchmark else DEFAULT_BENCHMARK


def method_class(name: str) -> type[Method]:
    """The class behind registry entry `name` (imported on demand)."""
    from harness.sim.method import Method

    target = METHODS.get(name).target
    cls: Any = import_target(target)
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise HarnessError(f"method {name}: {target} is not a harness Method")
    return cls


def resolve_options(name: str, options: Mapping[str, Any] | None = None) -> Any:
    """Method `name`'s typed options: its class defaults, then the registry entry's, then `options` (validated)."""
    cls = method_class(name)
    merged = dict(registry()[name].defaults) | flatten(options or {})
    return parse_options(cls.Options, merged, name)


def create_method(name: str, options: Mapping[str, Any] | None = None) -> Method:
    """Instantiate method `name` with its defaults overridden by `options` (dotted keys or nested mappings)."""
    method = method_class(name)(resolve_options(name, options))
    method.name = name
    return method


COMMANDS: Registry[Any] = Registry("command plugin", "registries", group="cenas_bench.commands")
"""Command plugins: "module:function", each called with the `harness` Typer app (entry-point group
`cenas_bench.commands` for installed packages)."""
COMMANDS.add("cenas", "CE-NAS: `harness rl train`", target="cenas.cli:register")


def load_command_plugins(app: Any) -> None:
    """Let every command plugin add its commands to `app` (imported by string, like methods)."""
    for register in COMMANDS.values():
        register(app)
