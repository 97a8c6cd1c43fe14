"""EC-NAS benchmarks: NAS-Bench-101 cell hashing against the tables, the (cell, epochs) rows, measured-energy carbon."""

from __future__ import annotations

import numpy as np
import pytest

from harness.benchmarks import get_benchmark
from harness.config import RunSpec, parse_budget
from harness.data.build_ecnas import load_ecnas
from harness.runner import execute
from harness.spaces import nb101
from harness.testing import BenchmarkContract


class TestECNAS4VContract(BenchmarkContract):
    benchmark_id = "ecnas/4v"


class TestECNAS5VContract(BenchmarkContract):
    benchmark_id = "ecnas/5v"


@pytest.fixture(scope="module")
def records():
    return load_ecnas()


def test_module_hash_reproduces_every_stored_hash(records) -> None:
    cells = records[["hash", "adjacency", "ops"]].drop_duplicates()
    assert len(cells) == 2532  # the 5V table holds every cell of up to 5 vertices, the 91 4V cells included
    for stored, adjacency, ops in cells.itertuples(index=False):
        matrix, labels = nb101.parse_cell(adjacency, ops)
        pruned = nb101.prune(matrix, labels)
        assert pruned is not None and nb101.is_valid(*pruned)
        assert len(pruned[1]) == len(labels)  # the tables store pruned cells
        assert nb101.module_hash(*pruned) == stored


def test_pruning_drops_dangling_vertices_and_keeps_the_hash(records) -> None:
    row = records[records.variant == "4v"].iloc[0]  # SOURCES record 0: 4 vertices
    matrix, labels = nb101.parse_cell(row["adjacency"], row["ops"])
    padded = np.zeros((6, 6), dtype=np.int8)
    padded[:3, :3] = matrix[:3, :3]
    padded[:3, 5] = matrix[:3, 3]  # output moved to vertex 5
    padded[0, 3] = 1  # vertex 3 is reached from the input but leads nowhere
    padded[4, 5] = 1  # vertex 4 leads to the output but is never reached
    ops = (*labels[:3], "maxpool3x3", "conv1x1-bn-relu", "output")
    pruned = nb101.prune(padded, ops)
    assert pruned is not None and nb101.module_hash(*pruned) == row["hash"]
    disconnected = np.zeros((3, 3), dtype=np.int8)
    disconnected[0, 1] = 1
    assert nb101.prune(disconnected, ("input", "conv3x3-bn-relu", "output")) is None


def test_padded_encoding_follows_the_7v_surrogate_convention(records) -> None:
    row = records[records.variant == "4v"].iloc[0]
    bits, codes = nb101.padded_codes(*nb101.parse_cell(row["adjacency"], row["ops"]))
    assert codes.tolist() == [1, 2, 3, 5, 0, 0, 0]  # input, conv1x1, conv3x3, output, padding
    assert bits.shape == (21,) and bits.sum() == row["adjacency"].count("1")


def test_rows_are_cell_budget_pairs_averaged_over_repeats(records) -> None:
    bench = get_benchmark("ecnas/4v")
    assert bench.n_archs == 91 * 4 and bench.budgets == (4, 12, 36, 108) and bench.max_vertices == 4
    assert (bench.table["repeats"] == 3).all()
    first = records[(records.variant == "4v") & (records.hash == "5529e1779433733d1145e20de5d8604e")]
    at36 = first[first.budget == 36]
    row = bench.space.index_of("5529e1779433733d1145e20de5d8604e@36")
    assert bench.objectives([row])[0].tolist() == [100.0 * at36.val_acc.mean(), -at36.energy_kwh.mean()]
    assert bench.train_energy_kwh([row])[0] == at36.energy_kwh.mean()
    assert bench.train_seconds([row])[0] == at36.train_time_s.mean()
    assert tuple(bench.ref_point) == (0.0, -bench.table["energy_kwh"].max())
    assert get_benchmark("ecnas/5v").budgets == (4,)


def test_carbon_comes_from_measured_energy() -> None:
    record = execute(RunSpec("random-search", "ecnas/4v", "hotcarbon-1", parse_budget("3h"), gpus=2))
    bench = get_benchmark("ecnas/4v")
    done = [e for e in record.evaluations if e["status"] == "done"]
    assert len(done) > 10
    for e in done:
        assert e["energy_kwh"] == pytest.approx(bench.train_energy_kwh([e["arch"]])[0], rel=1e-9)
    assert record.summary["energy_kwh"] == pytest.approx(sum(e["energy_kwh"] for e in record.evaluations), rel=1e-9)
