"""Issue 16's remaining speed and memory targets (run: `pytest benchmarks/test_bench_targets.py --benchmark-enable`).

- The CE-NAS reference-simulator configuration, 80 simulated hours: simulation time per simulated hour, and its ratio
  to the reference simulator's measured 82.3-118.5 s per simulated hour (cake-lab/CE-NAS at 7a2ad3e, `cenas_RL.py
  --GPU_nums 8 --queueCapacity 10 --sample_method random --node_select leaf --cp 30 --kernel poly` on the NB201 tables
  and US-CAL-CISO, this machine type). Target: >= 10,000x, i.e. <= 1 s for the 80 hours.
- Run cost linear in run length: a 10,000-hour random search in seconds.
- Peak memory of one run (a fresh process, its `VmHWM`; Linux): target <= 300 MB.
- The LaMOO family at 500 lbs with the faithful tree (poly-4 SVMs on every sample) solved by the interior-point
  method (`tree.solver=ipm`; the same partition as libsvm's on 99.97 % of probes): target <= 60 s per method.
Figures measured on the 2-core machine are in docs/simulator.md ("Speed targets").
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.config import RunSpec, parse_budget
from harness.runner import execute

REFERENCE_S_PER_HOUR = (82.3, 118.5)  # reference simulator, 5-hour and 2-hour runs (after ~230 s start-up)
TRACE = "US-CAL-CISO@2021-07-02T00:00"


@pytest.mark.parametrize("solver", ["libsvm", "ipm"])
def test_reference_configuration_80h(benchmark, solver: str) -> None:
    """`harness run --method cenas-rl-reference --accounting reference --set queue_capacity=10 --budget 80h
    [--set tree.solver=ipm]`."""
    spec = RunSpec("cenas-rl-reference", "nb201/cifar10/pi5-energy", TRACE, parse_budget("80h"),
                   accounting="reference", method_options={"queue_capacity": 10, "tree.solver": solver})  # fmt: skip
    execute(RunSpec("random-search", spec.benchmark, spec.trace, parse_budget("1h")))  # warm the data caches
    record = benchmark.pedantic(execute, args=(spec,), rounds=3, iterations=1)
    assert record.summary["simulated_hours"] == 80.0
    if benchmark.stats is not None:
        per_hour = benchmark.stats["min"] / 80.0
        benchmark.extra_info["s_per_simulated_hour"] = per_hour
        benchmark.extra_info["ratio_to_reference"] = [round(r / per_hour) for r in REFERENCE_S_PER_HOUR]


@pytest.mark.parametrize("method", ["vanilla-lamoo", "random-allocation", "cenas-heuristic", "cenas-rl-reference"])
def test_lamoo_family_500lbs_interior_point(benchmark, method: str) -> None:
    """`harness run --method METHOD --budget 500lbs --set tree.solver=ipm` (default benchmark and trace, 8 GPUs)."""
    spec = RunSpec(method, "nb201/cifar10/pi5-energy", TRACE, parse_budget("500lbs"),
                   method_options={"tree.solver": "ipm"})  # fmt: skip
    execute(RunSpec("random-search", spec.benchmark, spec.trace, parse_budget("1h")))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["carbon_lbs"] <= 500.0 + 1e-6
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < 60.0


def test_random_search_10000h(benchmark) -> None:
    """Target: seconds (HV maintained from the front: each new point costs O(front), not O(observations))."""
    spec = RunSpec("random-search", "nb201/cifar10/pi5-energy", "sc:US-CAL-CISO@2021-01-01T00:00",
                   parse_budget("10000h"))  # fmt: skip
    execute(RunSpec(spec.method, spec.benchmark, spec.trace, parse_budget("1h")))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["simulated_hours"] == 10000.0
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < 60.0


_PEAK = """
import re, sys
from harness.config import RunSpec, parse_budget
from harness.runner import execute
execute(RunSpec(sys.argv[1], sys.argv[2], sys.argv[3], parse_budget("500lbs")))
status = open("/proc/self/status").read()  # VmHWM: this process's own peak (ru_maxrss would include the parent's)
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024)
"""


@pytest.mark.parametrize("method", ["random-search", "nsga2", "vanilla-lamoo", "cenas"])
def test_peak_memory_500lbs(benchmark, method: str) -> None:
    """Peak resident memory (MB) of one 500-lbs run in a fresh interpreter; reported as extra info."""

    def run() -> float:
        out = subprocess.run([sys.executable, "-c", _PEAK, method, "nb201/cifar10/pi5-energy", TRACE],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        return float(json.loads(out.strip().splitlines()[-1]))

    peak = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["peak_rss_mb"] = round(peak)
    assert peak > 0
