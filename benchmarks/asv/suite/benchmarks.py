"""asv benchmarks: speed (`time_`) and search quality (`track_`) of the installed cenas-bench, charted over commits.

Run from the repository root (data from `$CENAS_BENCH_MIRROR`, cache in `$CENAS_BENCH_CACHE`; see docs/quality.md):
`asv run --config benchmarks/asv/asv.conf.json --quick`. pytest-benchmark (`benchmarks/test_bench_*.py`) keeps the
micro-benchmarks with pass/fail speed targets; asv keeps the history.
"""

from __future__ import annotations

import numpy as np

from harness.methods import METHODS

METHOD_NAMES = sorted(METHODS)
QUALITY_SEEDS = 5


class RunPerMethod:
    """One golden-sized run (12 simulated hours, 8 GPUs, hotcarbon-1, seed 0) per method, tables already loaded."""

    params = METHOD_NAMES
    param_names = ("method",)
    timeout = 300

    def setup(self, method: str) -> None:
        from harness.goldens import golden_spec
        from harness.studies.executors import run_cell

        self.spec = golden_spec(method)
        run_cell(self.spec)  # loads tables, forecasters and checkpoints once, outside the timing

    def time_run(self, method: str) -> None:
        from harness.studies.executors import run_cell

        run_cell(self.spec)


class Tables:
    """Loading a cached, checksummed table (the hash of its bytes is checked on every load)."""

    def setup(self) -> None:
        from harness.carbon.traces import load_trace_table
        from harness.data.build_nb201 import load_nb201

        load_nb201()  # built once if the cache is empty
        load_trace_table()

    def time_load_nb201(self) -> None:
        from harness.data.build_nb201 import load_nb201

        load_nb201()

    def time_load_traces(self) -> None:
        from harness.carbon.traces import load_trace_table

        load_trace_table()


class Hypervolume:
    """Exact 2-D hypervolume of 10,000 real NB201 objective vectors (accuracy, -Pi 5 energy)."""

    def setup(self) -> None:
        from harness.benchmarks import get_benchmark

        bench = get_benchmark("nb201/cifar10/pi5-energy")
        self.points = bench.objectives(np.arange(10_000))
        self.ref = bench.ref_point

    def time_hv_10k(self) -> None:
        from harness.metrics import hypervolume

        hypervolume(self.points, self.ref)


class SplitSVMFit:
    """One split of the faithful LaMOO tree (poly-4 SVM on every sample of the node) by each solver: n uniform NB201
    encodings (seed 0) labelled good/bad from their real objectives (`tree.solver`, docs/cenas.md)."""

    params = (["libsvm", "ipm"], [100, 400, 1500])
    param_names = ("solver", "n")

    def setup(self, solver: str, n: int) -> None:
        from cenas.lamoo.dominance import label_good_bad
        from cenas.lamoo.svm import SOLVERS
        from harness.benchmarks import get_benchmark
        from harness.spaces.nb201 import X_UPPER

        bench = get_benchmark("nb201/cifar10/pi5-energy")
        self.x = np.random.default_rng(0).uniform(0, X_UPPER, size=(n, bench.space.dim))
        self.labels = label_good_bad(bench.objectives(bench.space.decode(self.x)))
        self.solver = SOLVERS[solver]
        self.solver("poly", 4, "scale").fit(self.x, self.labels)  # first-call costs outside the timing

    def time_fit(self, solver: str, n: int) -> None:
        self.solver("poly", 4, "scale").fit(self.x, self.labels)


class SplitSVMPredict:
    """Labels of a batch of uniform probes by one split's libsvm SVM (fitted on 300 uniform NB201 encodings labelled
    from their real objectives, as `cenas`'s RBF tree and the faithful poly-4 tree), by libsvm's own loop and by the
    vectorised values `SplitSVM.predict` uses (same labels; docs/simulator.md)."""

    params = (["libsvm", "vectorised"], ["rbf", "poly"], [16, 256, 4096])
    param_names = ("form", "kernel", "batch")

    def setup(self, form: str, kernel: str, batch: int) -> None:
        from cenas.lamoo.dominance import label_good_bad
        from cenas.lamoo.svm import SplitSVM
        from harness.benchmarks import get_benchmark
        from harness.spaces.nb201 import X_UPPER

        bench = get_benchmark("nb201/cifar10/pi5-energy")
        rng = np.random.default_rng(0)
        x = rng.uniform(0, X_UPPER, size=(300, bench.space.dim))
        svm = SplitSVM(kernel, 4, "scale").fit(x, label_good_bad(bench.objectives(bench.space.decode(x))))
        self.probes = rng.uniform(0, X_UPPER, size=(batch, bench.space.dim))
        self.predict = svm._libsvm_predict if form == "libsvm" else svm.predict
        self.predict(self.probes)  # first-call costs outside the timing

    def time_predict(self, form: str, kernel: str, batch: int) -> None:
        self.predict(self.probes)


class GoodBadLabels:
    """The LaMOO node labels (weak dominance counts) of n real NB201 objective vectors, by the boolean matrix and by
    the sorted two-objective count (`cenas.lamoo.dominance.SORTED_FROM` picks between them; same integers)."""

    params = (["matrix", "sorted"], [300, 1000, 2000])
    param_names = ("form", "n")

    def setup(self, form: str, n: int) -> None:
        from cenas.lamoo import dominance
        from harness.benchmarks import get_benchmark

        bench = get_benchmark("nb201/cifar10/pi5-energy")
        self.points = bench.objectives(np.random.default_rng(0).integers(0, bench.space.n_archs, size=n))
        self.dominance, self.threshold = dominance, dominance.SORTED_FROM
        dominance.SORTED_FROM = 10**12 if form == "matrix" else 0
        dominance.dominance_counts(self.points)  # first-call costs outside the timing

    def teardown(self, form: str, n: int) -> None:
        self.dominance.SORTED_FROM = self.threshold

    def time_counts(self, form: str, n: int) -> None:
        self.dominance.dominance_counts(self.points)


class SearchQuality:
    """Mean HV regret over the first seeds of each method's quality baseline (harness/expected/quality) at its largest
    carbon checkpoint and at the end of the 12 h budget: search quality charted across commits like time."""

    params = METHOD_NAMES
    param_names = ("method",)
    timeout = 900

    def setup_cache(self) -> dict[str, dict[str, float]]:
        from harness import quality as q

        baselines = {m: q.load_baseline(q.BASELINE_DIR / f"{m}.json", m) for m in METHOD_NAMES}
        measured = q.measure_all({m: (b, q.specs_for(m, b)[:QUALITY_SEEDS]) for m, b in baselines.items()})
        return {
            m: {
                "matched": float(np.mean(measured[m][f"regret@{b['checkpoints_g'][-1]:g}g"])),
                "end": float(np.mean(measured[m][q.END])),
            }
            for m, b in baselines.items()
        }

    def track_regret_at_matched_carbon(self, cache: dict[str, dict[str, float]], method: str) -> float:
        return cache[method]["matched"]

    track_regret_at_matched_carbon.unit = "HV regret"  # type: ignore[attr-defined]

    def track_regret_at_end(self, cache: dict[str, dict[str, float]], method: str) -> float:
        return cache[method]["end"]

    track_regret_at_end.unit = "HV regret"  # type: ignore[attr-defined]
