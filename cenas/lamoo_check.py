"""HotCarbon §4.2 check as an analysis (`lamoo-region`, study `lamoo-check`): is the LaMOO-selected region better
than the whole space?

Per cell (benchmark, seed): draw `n_samples` uniform architectures (all trained, true objectives), build the LaMOO
tree, select a leaf with UCB constant `cp`, then draw `n_compare` random architectures inside that region and
`n_compare` from the whole space; the result is the mean accuracy, mean hardware cost and hypervolume of both
(HotCarbon: 72.12 vs 68.28 %, 16.59 vs 22.84 mJ). The report is `harness.studies.lamoo_region`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cenas.lamoo.samplers import RegionSampler
from cenas.lamoo.tree import TreeConfig, build_tree, leaf_select
from harness.benchmarks import get_benchmark
from harness.metrics import hypervolume
from harness.options import option
from harness.sim.method import rng_for
from harness.spaces.nb201 import X_UPPER
from harness.studies.analysis import Analysis, AnalysisCell


@dataclass(frozen=True)
class RegionOptions:
    n_samples: int = option(100, "Trained uniform samples the tree is built from", ge=2, le=100_000)
    n_compare: int = option(
        50, "Architectures drawn from the selected region and from the whole space", ge=1, le=100_000
    )
    cp: float = option(30.0, "UCB exploration constant Cp of the leaf selection", ge=0.0)


class LamooRegion(Analysis):
    """Mean accuracy, cost and HV of architectures from the LaMOO-selected region vs the whole space."""

    axes = ("benchmark", "seed")
    Options = RegionOptions

    def compute(self, cell: AnalysisCell) -> dict[str, Any]:
        o = self.options
        bench = get_benchmark(cell.benchmark or "")
        rng = rng_for(int(cell.seed or 0), "lamoo-check")
        x = rng.uniform(0.0, X_UPPER, size=(o.n_samples, bench.space.dim))
        f = bench.objectives(bench.space.decode(x))
        root = build_tree(x, f, bench.ref_point, TreeConfig())
        leaf, path = leaf_select(root, o.cp, rng)
        sampler = RegionSampler(rng, bench.space.dim)
        sampler.reset(path)
        region = bench.space.decode(np.array([sampler.sample() for _ in range(o.n_compare)]))
        whole = bench.space.decode(rng.uniform(0.0, X_UPPER, size=(o.n_compare, bench.space.dim)))
        fr, fw = bench.objectives(region), bench.objectives(whole)
        return {
            "depth": len(path),
            "leaf_samples": int(leaf.n),
            "region_acc": float(fr[:, 0].mean()),
            "space_acc": float(fw[:, 0].mean()),
            "region_cost": float(-fr[:, 1].mean()),
            "space_cost": float(-fw[:, 1].mean()),
            "region_hv": float(hypervolume(fr, bench.ref_point)),
            "space_hv": float(hypervolume(fw, bench.ref_point)),
            "cost_unit": bench.objectives_meta[1].unit,
        }
