"""Issue 16's remaining speed and memory targets (run: `pytest benchmarks/test_bench_targets.py --benchmark-enable`).

- The CE-NAS reference-simulator configuration: simulation time per simulated hour, and its ratio to the reference
  simulator's measured 118.5 s per simulated hour for a 2-hour run and 82.3 s for a 5-hour run (cake-lab/CE-NAS at
  7a2ad3e, `cenas_RL.py --GPU_nums 8 --queueCapacity 10 --sample_method random --node_select leaf --cp 30 --kernel
  poly` on the NB201 tables and US-CAL-CISO, this machine type), at those run lengths. Target: >= 10,000x. And 80
  simulated hours of it: target <= 1 s.
- Run cost linear in run length: a 10,000-hour random search in seconds.
- Peak memory of one `harness run` (its process's `VmHWM`; Linux): target <= 300 MB for runs that need no torch.
- The LaMOO family at 500 lbs with the faithful tree (poly-4 SVMs on every sample) solved by the interior-point
  method (`tree.solver=ipm`; the same partition as libsvm's on 99.97 % of probes): target <= 60 s per method.
- qnehvi at 500 lbs with documented settings (`qnehvi.optimizer=ranked`): target <= 60 s.
Figures measured on the 2-core machine are in docs/performance.md ("Speed targets").
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.config import RunSpec, parse_budget
from harness.runner import execute

REFERENCE_S_PER_HOUR = {"5h": 82.3, "2h": 118.5}  # the reference simulator's measured runs (after ~230 s start-up)
TRACE = "US-CAL-CISO@2021-07-02T00:00"


def _reference_configuration(budget: str, solver: str) -> RunSpec:
    """`harness run --method cenas-rl-reference --accounting reference --set queue_capacity=10 --budget BUDGET
    --set tree.solver=SOLVER`: the reference simulator's configuration (8 GPUs, leaf selection, cp 30, poly kernel)."""
    return RunSpec(
        "cenas-rl-reference",
        "nb201/cifar10/pi5-energy",
        TRACE,
        parse_budget(budget),
        accounting="reference",
        method_options={"queue_capacity": 10, "tree.solver": solver},
    )


@pytest.mark.parametrize("solver", ["libsvm", "ipm"])
def test_reference_configuration_80h(benchmark, solver: str) -> None:
    """Target <= 1 s. As extra info, its cost per simulated hour against the reference's 5-hour and 2-hour figures (a
    comparison across run lengths: both simulators' hours grow dearer as the samples grow)."""
    spec = _reference_configuration("80h", solver)
    execute(RunSpec("random-search", spec.benchmark, spec.trace, parse_budget("1h")))  # warm the data caches
    record = benchmark.pedantic(execute, args=(spec,), rounds=3, iterations=1)
    assert record.summary["simulated_hours"] == 80.0
    if benchmark.stats is not None:
        per_hour = benchmark.stats["min"] / 80.0
        benchmark.extra_info["s_per_simulated_hour"] = per_hour
        benchmark.extra_info["ratio_to_reference"] = [round(r / per_hour) for r in REFERENCE_S_PER_HOUR.values()]


@pytest.mark.parametrize("solver", ["libsvm", "ipm"])
@pytest.mark.parametrize("hours", ["2h", "5h"])
def test_reference_configuration_at_the_references_lengths(benchmark, hours: str, solver: str) -> None:
    """Target >= 10,000x per simulated hour on the same configuration: runs as long as the reference simulator's
    measured ones (2 and 5 simulated hours), simulation time only (min of 20, caches and imports warm), as the
    reference's figures exclude its ~230 s start-up."""
    spec = _reference_configuration(hours, solver)
    execute(spec)  # warm the data caches and the agent's imports
    record = benchmark.pedantic(execute, args=(spec,), rounds=20, iterations=1)
    simulated = record.summary["simulated_hours"]
    assert simulated == float(hours.removesuffix("h"))
    if benchmark.stats is not None:
        per_hour = benchmark.stats["min"] / simulated
        benchmark.extra_info["s_per_simulated_hour"] = per_hour
        benchmark.extra_info["ratio_to_reference"] = round(REFERENCE_S_PER_HOUR[hours] / per_hour)
        assert REFERENCE_S_PER_HOUR[hours] / per_hour >= 10_000


_FRESH = """
import json, sys, time
start = time.perf_counter()
from harness.config import RunSpec, parse_budget
from harness.runner import execute
spec = RunSpec("cenas-rl-reference", "nb201/cifar10/pi5-energy", sys.argv[1], parse_budget("80h"),
               accounting="reference", method_options={"queue_capacity": 10, "tree.solver": sys.argv[2]})
execute(spec)
first = time.perf_counter() - start
start = time.perf_counter()
execute(spec)
print(json.dumps([first, time.perf_counter() - start]))
"""


@pytest.mark.parametrize("solver", ["libsvm", "ipm"])
def test_reference_configuration_80h_start_up(benchmark, solver: str) -> None:
    """Start-up, reported apart from the simulation: in a fresh interpreter, the first 80-h run (imports, data, the
    agent's libraries) minus a second run in the same process (minimum of 3 rounds). Side by side with 856f1a0 on the
    2-core machine, twice: start-up libsvm 4.85 / 5.61 -> 3.12 / 2.92 s, ipm 4.21 / 4.98 -> 2.33 / 2.42 s, once the
    agent's optimiser stopped importing torch._dynamo and the interior-point tree stopped importing sklearn."""

    rounds: list[tuple[float, float]] = []

    def run() -> None:
        out = subprocess.run(
            [sys.executable, "-c", _FRESH, TRACE, solver], capture_output=True, text=True, check=True
        ).stdout
        first, again = json.loads(out.strip().splitlines()[-1])
        rounds.append((float(first), float(again)))

    benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info["first_run_s"] = round(min(first for first, _ in rounds), 2)
    benchmark.extra_info["start_up_s"] = round(min(first - again for first, again in rounds), 2)


@pytest.mark.parametrize(
    "method", ["vanilla-lamoo", "oneshot-lamoo", "random-allocation", "cenas-heuristic", "cenas-rl-reference"]
)
def test_lamoo_family_500lbs_interior_point(benchmark, method: str) -> None:
    """`harness run --method METHOD --budget 500lbs --set tree.solver=ipm` (default benchmark and trace, 8 GPUs)."""
    spec = RunSpec(
        method, "nb201/cifar10/pi5-energy", TRACE, parse_budget("500lbs"), method_options={"tree.solver": "ipm"}
    )
    execute(RunSpec("random-search", spec.benchmark, spec.trace, parse_budget("1h")))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["carbon_lbs"] <= 500.0 + 1e-6
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < 60.0


@pytest.mark.parametrize("optimizer", ["ranked", "discrete"])
def test_qnehvi_500lbs(benchmark, optimizer: str) -> None:
    """`harness run --method qnehvi --budget 500lbs --set qnehvi.optimizer=OPTIMIZER`: `ranked` (the q best of the
    raw samples, one acquisition evaluation a batch) is the documented setting for the 60-s target; `discrete` (the
    entry's greedy batches) is timed beside it."""
    spec = RunSpec(
        "qnehvi",
        "nb201/cifar10/pi5-energy",
        TRACE,
        parse_budget("500lbs"),
        method_options={"qnehvi.optimizer": optimizer},
    )
    execute(RunSpec("random-search", spec.benchmark, spec.trace, parse_budget("1h")))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["carbon_lbs"] <= 500.0 + 1e-6
    if benchmark.stats is not None and optimizer == "ranked":
        assert benchmark.stats["mean"] < 60.0


def test_random_search_10000h(benchmark) -> None:
    """Target: seconds (HV maintained from the front: each new point costs O(front), not O(observations))."""
    spec = RunSpec(
        "random-search", "nb201/cifar10/pi5-energy", "sc:US-CAL-CISO@2021-01-01T00:00", parse_budget("10000h")
    )
    execute(RunSpec(spec.method, spec.benchmark, spec.trace, parse_budget("1h")))
    record = benchmark.pedantic(execute, args=(spec,), rounds=1, iterations=1)
    assert record.summary["simulated_hours"] == 10000.0
    if benchmark.stats is not None:
        assert benchmark.stats["mean"] < 60.0


_PEAK = """
import atexit, json, re, sys
def report():  # VmHWM: this process's own peak (ru_maxrss would include the parent's)
    status = open("/proc/self/status").read()
    print(json.dumps([int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024, "torch" in sys.modules]))
atexit.register(report)
from harness.cli import main
sys.argv[0] = "harness"
main()
"""
IPM = {"tree.solver": "ipm"}  # the faithful tree in seconds; the peak is the tree's samples and the libraries, not the
# solver


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("random-search", {}),
        ("nsga2", {}),
        ("semoa", {}),
        ("oneshot-lamoo", {}),
        ("cenas", {}),
        ("vanilla-lamoo", IPM),
        ("random-allocation", IPM),
        ("cenas-heuristic", IPM),
        ("cenas-rl-reference", IPM),
    ],
)
def test_peak_memory_500lbs(benchmark, method: str, options: dict[str, str]) -> None:
    """Peak resident memory (MB) of one 500-lbs `harness run` (the method's default benchmark; the command line's own
    libraries and the record's writing included), as extra info. Target <= 300 MB for every run that needs no torch:
    `cenas` runs its forecaster and agent through onnxruntime (`harness.inference`); `cenas-rl-reference` trains its
    actor-critic online with torch, and `qnehvi` is botorch (torch alone peaks at ~220 MB; docs/simulator.md gives
    both figures)."""

    def run() -> tuple[float, bool]:
        settings = [item for key, value in options.items() for item in ("--set", f"{key}={value}")]
        with tempfile.TemporaryDirectory() as folder:
            command = [
                sys.executable,
                "-c",
                _PEAK,
                "run",
                "--method",
                method,
                "--trace",
                TRACE,
                "--budget",
                "500lbs",
                *settings,
                "--out",
                str(Path(folder) / "run.json"),
            ]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        peak, uses_torch = json.loads(out.strip().splitlines()[-1])
        return float(peak), bool(uses_torch)

    peak, uses_torch = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["peak_rss_mb"] = round(peak)
    benchmark.extra_info["imports_torch"] = uses_torch
    assert uses_torch == (method == "cenas-rl-reference")
    if not uses_torch:
        assert peak <= 300.0, f"{method}: {peak:.0f} MB"
