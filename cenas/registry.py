"""CE-NAS's registry entries (its four methods, its analysis and its commands), registered through the entry-point
groups any outside package uses (`pyproject.toml`: `cenas_bench.methods`, `cenas_bench.analyses`,
`cenas_bench.commands`): the harness never imports `cenas`."""

from harness.methods import MethodEntry

TARGET = "cenas.method:CENAS"

CENAS = MethodEntry(
    "cenas",
    TARGET,
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
)

CENAS_HEURISTIC = MethodEntry(
    "cenas-heuristic",
    TARGET,
    "CE-NAS, HotCarbon'23 design: sampling share from the intensity's place in the next 24 h, as the shipped "
    "transformer forecasts it (--set forecaster=oracle: the true next 24 h, HotCarbon's setting, privileged).",
    (("policy", "heuristic"), ("forecaster", "transformer")),
    paper="Y. Zhao and T. Guo. Carbon-Efficient Neural Architecture Search. HotCarbon 2023.",
)

CENAS_RL_REFERENCE = MethodEntry(
    "cenas-rl-reference",
    TARGET,
    "CE-NAS with the reference code's actor-critic: its state, action map, reward and online updates.",
    (("policy", "rl"), ("rl.mode", "reference"), ("rl.greedy", False)),
    paper=(
        "Y. Zhao et al. CE-NAS: An End-to-End Carbon-Efficient Neural Architecture Search Framework. NeurIPS "
        "2024 (arXiv 2406.01414)."
    ),
)

RANDOM_ALLOCATION = MethodEntry(
    "random-allocation",
    TARGET,
    "CE-NAS with a uniformly random action each interval (HotCarbon baseline).",
    (("policy", "random"),),
    paper="Y. Zhao and T. Guo. Carbon-Efficient Neural Architecture Search. HotCarbon 2023.",
)
