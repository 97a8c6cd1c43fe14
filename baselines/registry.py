"""The baselines' registry entries, registered through the entry-point group any outside package uses
(`pyproject.toml`: `cenas_bench.methods`): the harness never imports `baselines`."""

from harness.methods import MethodEntry
from harness.sim.schedule import PAPERS

LAMOO_PAPER = "Y. Zhao et al. Multi-objective Optimization by Learning Space Partitions (LaMOO). ICLR 2022."
VANILLA_LAMOO = MethodEntry(
    "vanilla-lamoo",
    "baselines.lamoo_family:VanillaLaMOO",
    "LaMOO with every GPU training fresh region samples (no supernet), whatever the carbon intensity.",
    paper=LAMOO_PAPER,
)

ONESHOT_LAMOO = MethodEntry(
    "oneshot-lamoo",
    "baselines.lamoo_family:OneShotLaMOO",
    "LaMOO on one-shot estimates (supernet or early stopping; 10 per interval, 1500 samples in all); it trains "
    "its estimated front, least dominated first (1 GPU while sampling, every GPU after), and scores only that.",
    paper=(
        "Y. Zhao and T. Guo. Carbon-Efficient Neural Architecture Search. HotCarbon 2023 (one-shot LaMOO "
        "baseline, §4.1)."
    ),
)

NSGA2 = MethodEntry(
    "nsga2",
    "baselines.nsga2:NSGA2Search",
    "NSGA-II (pymoo ask/tell), population 20, one synchronous generation trained in parallel at a time.",
    paper=(
        "K. Deb, A. Pratap, S. Agarwal, T. Meyarivan. A fast and elitist multiobjective genetic algorithm: "
        "NSGA-II. IEEE Trans. Evol. Comput. 6(2), 2002."
    ),
)

QNEHVI = MethodEntry(
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
)

SEMOA = MethodEntry(
    "semoa",
    "baselines.semoa:SEMOA",
    "EC-NAS SEMOA: mutation-only evolution over NB101-style cells, epoch budgets cycling 4/12/36/108 "
    "(--set gate.mode=heuristic defers evaluations to low-carbon hours).",
    benchmark="ecnas/4v",
    paper=(
        "P. Bakhtiarifard, C. Igel, R. Selvan. EC-NAS: Energy Consumption Aware Tabular Benchmarks for Neural "
        "Architecture Search. ICASSP 2024."
    ),
)

RANDOM_PAPER = "L. Li and A. Talwalkar. Random Search and Reproducibility for Neural Architecture Search. UAI 2019."
RANDOM_SEARCH = MethodEntry(
    "random-search",
    "baselines.random_search:RandomSearch",
    "Every GPU trains uniformly random archs.",
    paper=RANDOM_PAPER,
)

# ------------------------------------------------------------------------------- carbon-blind searches, scheduled
_SEARCHES = {
    "random-search": ("baselines.random_search:RandomSearch", "Random search", RANDOM_PAPER),
    "vanilla-lamoo": ("baselines.lamoo_family:VanillaLaMOO", "Vanilla LaMOO", LAMOO_PAPER),
}
_SCHEDULES = {
    "threshold": (
        (("schedule.policy", "threshold"),),
        "suspended unless the intensity is in the cleanest half of the next 24 h as persistence forecasts them "
        "(Let's Wait Awhile)",
        PAPERS["threshold"],
    ),
    "carbonscaler": (
        (("schedule.policy", "carbonscaler"),),
        "half of its GPU-hours on average, planned into the cleanest forecast hours of each 24 h window "
        "(CarbonScaler's elastic plan; persistence forecast)",
        PAPERS["carbonscaler"],
    ),
}


def _scheduled(search: str, schedule: str) -> MethodEntry:
    target, title, paper = _SEARCHES[search]
    defaults, what, schedule_paper = _SCHEDULES[schedule]
    return MethodEntry(
        f"{search}-{schedule}",
        target,
        f"{title} under a carbon-aware schedule: {what}; GPUs not training idle.",
        defaults,
        paper=f"{paper} Schedule: {schedule_paper}",
    )


RANDOM_SEARCH_THRESHOLD = _scheduled("random-search", "threshold")
RANDOM_SEARCH_CARBONSCALER = _scheduled("random-search", "carbonscaler")
VANILLA_LAMOO_THRESHOLD = _scheduled("vanilla-lamoo", "threshold")
VANILLA_LAMOO_CARBONSCALER = _scheduled("vanilla-lamoo", "carbonscaler")
