"""NAS-Bench-301 through YAHPO Gym's ONNX surrogate: check values, the DARTS space, integrity and a real run.

The benchmark contract for both NB301 benchmarks is in test_benchmarks.py with every other benchmark's.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from harness.benchmarks import get_benchmark
from harness.benchmarks import nb301 as mod
from harness.data.fetch import raw_path, read_verified
from harness.data.manifest import load_manifest
from harness.errors import DataIntegrityError, HarnessError
from harness.spaces import darts

# SOURCES.md N1's sample configuration, written as a genotype (normal edges 0,1,2,4,6,7,10,11; reduce 0,1,3,4,7,8,9,13)
SAMPLE = (
    "normal=|sep_conv_3x3~0|dil_conv_3x3~1|+|max_pool_3x3~0|max_pool_3x3~2|+|dil_conv_3x3~1|dil_conv_5x5~2|"
    "+|dil_conv_3x3~1|sep_conv_3x3~2|;reduce=|sep_conv_5x5~0|sep_conv_3x3~1|+|dil_conv_5x5~1|sep_conv_3x3~2|"
    "+|dil_conv_3x3~2|sep_conv_3x3~3|+|sep_conv_3x3~0|sep_conv_5x5~4|"
)
SAMPLE_X_CAT = [5, 2, 4, 0, 4, 0, 2, 3, 0, 0, 2, 5, 0, 0, 6, 5, 0, 3, 5, 0, 0, 2, 5, 5, 0, 0, 0, 6, 2, 4, 5, 3, 6, 4]
DARTS_V2 = (  # Liu et al., ICLR 2019, genotypes.py; DARTS's train.py logs "param size = 3.349342MB" (36 ch, 20 cells)
    "normal=|sep_conv_3x3~0|sep_conv_3x3~1|+|sep_conv_3x3~0|sep_conv_3x3~1|+|sep_conv_3x3~1|skip_connect~0|"
    "+|skip_connect~0|dil_conv_3x3~2|;reduce=|max_pool_3x3~0|max_pool_3x3~1|+|skip_connect~2|max_pool_3x3~1|"
    "+|max_pool_3x3~0|skip_connect~2|+|skip_connect~2|max_pool_3x3~1|"
)


@pytest.fixture(scope="module")
def bench():
    return get_benchmark("nb301/cifar10/params")


def test_sources_check_values_are_reproduced(bench) -> None:
    index = bench.space.index_of(SAMPLE)
    assert bench.surrogate.x_cat([index])[0].tolist() == SAMPLE_X_CAT
    np.testing.assert_allclose(bench.surrogate.predict([index], 98)[0], [94.57592010498047, 6618.837890625], rtol=1e-5)
    np.testing.assert_allclose(bench.surrogate.predict([index], 1)[0], [36.95778274536133, 408.875], rtol=1e-5)
    assert bench.objectives([index])[0][0] == bench.surrogate.predict([index], 98)[0][0]
    assert bench.train_seconds([index])[0] == bench.surrogate.predict([index], 98)[0][1]
    assert bench.oneshot_seconds([index])[0] == bench.surrogate.predict([index], mod.PROXY_EPOCHS)[0][1]


def test_parameter_count_matches_darts_published_count() -> None:
    index = darts.parse_genotype(DARTS_V2)
    assert darts.count_params([index], init_channels=36, layers=20)[0] == 3_349_342
    sample = np.random.default_rng(0).integers(darts.N_ARCHS, size=2000)
    largest = get_benchmark("nb301/cifar10/params").largest_cost
    assert largest is not None and (darts.count_params(sample) / 1e6 < largest).all()


def test_genotype_index_is_a_bijection() -> None:
    assert darts.N_ARCHS == (3 * 6 * 10 * 7**8) ** 2 < 2**63
    rng = np.random.default_rng(1)
    for index in rng.integers(darts.N_ARCHS, size=300):
        text = darts.format_genotype(int(index))
        assert darts.parse_genotype(text) == index
    assert darts.parse_genotype(darts.format_genotype(darts.N_ARCHS - 1)) == darts.N_ARCHS - 1
    # the two edges of a node may be written in either order
    swapped = SAMPLE.replace("|sep_conv_3x3~0|dil_conv_3x3~1|", "|dil_conv_3x3~1|sep_conv_3x3~0|", 1)
    assert darts.parse_genotype(swapped) == darts.parse_genotype(SAMPLE)


def test_uniform_sampling_covers_every_choice_evenly() -> None:
    x = np.random.default_rng(2).random((20_000, darts.DIM))
    normal, _ = darts.split_index(darts.decode_continuous(x))
    pairs, ops = darts.cell_parts(normal)
    assert np.bincount(ops.ravel(), minlength=7).min() > 0.9 * ops.size / 7
    assert np.bincount(pairs[:, 2], minlength=10).min() > 0.85 * len(pairs) / 10


def test_neighbours_differ_in_one_choice() -> None:
    index = darts.parse_genotype(SAMPLE)
    near = darts.neighbours(index)
    assert len(near) == len(set(near.tolist())) == 2 * (8 * 6 + 2 + 5 + 9)
    x0 = darts.encode_continuous([index])[0]
    assert ((darts.encode_continuous(near) != x0).sum(axis=1) == 1).all()


@pytest.mark.parametrize(
    ("genotype", "message"),
    [
        (SAMPLE.replace("sep_conv_3x3~0", "none~0", 1), "unknown op 'none'"),
        (SAMPLE.replace("max_pool_3x3~2", "max_pool_3x3~3", 1), "node 3 can only take inputs from nodes 0..2"),
        (SAMPLE.replace("max_pool_3x3~2", "max_pool_3x3~0", 1), "two edges from the same node"),
        (SAMPLE.replace("|dil_conv_3x3~1|dil_conv_5x5~2|", "|dil_conv_3x3~1|", 1), "needs exactly 2"),
        (SAMPLE.split(";")[0], "normal=<cell>;reduce=<cell>"),
        (SAMPLE.replace("+|dil_conv_3x3~1|sep_conv_3x3~2|", "", 1), "has 4 nodes"),
        (SAMPLE.replace("dil_conv_3x3~1|+", "dil_conv_3x3~2|+", 1), "node 2 can only take inputs from nodes 0..1"),
    ],
)
def test_genotype_outside_the_space_is_one_clear_error(bench, genotype: str, message: str) -> None:
    with pytest.raises(HarnessError, match="not a DARTS genotype of NAS-Bench-301's space") as caught:
        bench.space.index_of(genotype)
    assert message in str(caught.value)
    with pytest.raises(darts.GenotypeError):
        darts.decode_continuous(np.zeros((1, darts.DIM - 1)))


def _copy_cache(tmp_path):
    """A private cache holding the three verified nb301 files (real bytes)."""
    manifest = load_manifest()
    for name in (mod.MODEL, mod.CONFIG_SPACE, mod.ENCODING):
        target = raw_path(manifest[name], tmp_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_verified(name).data)
    return manifest


def _refuse_loading(monkeypatch) -> None:
    import onnxruntime

    def fail(*args, **kwargs):
        raise AssertionError("an unverified model reached onnxruntime")

    monkeypatch.setattr(onnxruntime, "InferenceSession", fail)


def test_corrupted_model_is_refused_by_its_pin_before_loading(tmp_path, monkeypatch) -> None:
    manifest = _copy_cache(tmp_path)
    model = raw_path(manifest[mod.MODEL], tmp_path)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    _refuse_loading(monkeypatch)
    with pytest.raises(DataIntegrityError, match="fails its pin"):
        mod.Surrogate(reader=lambda name: read_verified(name, manifest, tmp_path))


def test_wrong_version_model_is_refused_by_its_pin_and_by_its_signature(tmp_path, monkeypatch) -> None:
    manifest = _copy_cache(tmp_path)
    v2 = read_verified("nb301-yahpo-model-v2").data  # YAHPO's experimental v2 model: batched, 4 outputs
    shutil.copyfile(raw_path(manifest[mod.MODEL], tmp_path), tmp_path / "keep.onnx")
    raw_path(manifest[mod.MODEL], tmp_path).write_bytes(v2)
    with monkeypatch.context() as patched:
        _refuse_loading(patched)
        with pytest.raises(DataIntegrityError, match="fails its pin"):
            mod.Surrogate(reader=lambda name: read_verified(name, manifest, tmp_path))
    with pytest.raises(DataIntegrityError, match="expected"):  # were it ever handed over, its signature is wrong
        mod._session(v2)


def test_config_space_that_is_not_the_darts_space_is_refused() -> None:
    config = json.loads(read_verified(mod.CONFIG_SPACE).text())
    encoding = json.loads(read_verified(mod.ENCODING).text())
    mod._codes(config, encoding)  # the real pair passes
    swapped = json.loads(json.dumps(config))
    swapped["hyperparameters"][0]["choices"] = list(reversed(swapped["hyperparameters"][0]["choices"]))
    with pytest.raises(DataIntegrityError, match="choices"):
        mod._codes(swapped, encoding)
    moved = json.loads(json.dumps(config))
    moved["conditions"][0]["values"] = ["1_2"]
    with pytest.raises(DataIntegrityError, match="is not node"):
        mod._codes(moved, encoding)


def test_reference_front_is_reproduced_by_the_surrogate(bench) -> None:
    document = mod.load_reference(bench.id)
    assert document["model_sha256"] == load_manifest()[mod.MODEL].sha256
    assert bench.hv_max == pytest.approx(document["hv"], rel=1e-9)
    assert len(bench.pareto_indices) == len(document["front"]) >= 20
    assert bench.ref_point[0] == 0.0 and -bench.ref_point[1] >= bench.largest_cost * 1.1


def test_stale_reference_front_is_refused(bench, monkeypatch) -> None:
    document = mod.load_reference(bench.id)
    document["front"][0]["accuracy"] += 0.5
    fresh = mod.NB301Benchmark(mod.SPECS[0])
    monkeypatch.setattr(mod, "load_reference", lambda benchmark_id: document)
    with pytest.raises(DataIntegrityError, match="differ from the surrogate"):
        fresh.hv_max


def test_reference_search_is_deterministic(bench) -> None:
    from harness.benchmarks.reference import make_reference

    first, again = (make_reference(bench, 1500, seed=3) for _ in range(2))
    first.pop("seconds"), again.pop("seconds")
    assert first == again
    assert sum(first["per_stage"].values()) == first["evaluations"] == 1500
    assert first["hv"] < bench.hv_max  # the committed front came from 200,000 evaluations


def test_run_on_nb301_keeps_exact_architecture_ids(tmp_path) -> None:
    from harness.config import RunSpec, parse_budget
    from harness.results import parse_record
    from harness.runner import execute

    spec = RunSpec(
        method="random-search",
        benchmark="nb301/cifar10/params",
        trace="hotcarbon-1",
        budget=parse_budget("12h"),
        seed=0,
        gpus=4,
    )
    record = execute(spec)
    again = parse_record(json.loads(record.to_json()))
    assert again.to_json() == record.to_json() == execute(spec).to_json()
    archs = [e["arch"] for e in again.evaluations]
    assert max(archs) > 2**53  # beyond float64's exact integers: the record keeps them exact
    assert again.evaluations_frame()["arch"].tolist() == archs
    bench = get_benchmark("nb301/cifar10/params")
    done = [e for e in again.evaluations if e["status"] == "done"]
    assert len(done) >= 4
    assert [e["f_acc"] for e in done] == bench.objectives([e["arch"] for e in done])[:, 0].tolist()
    assert set(record.provenance["data_files"]) >= {mod.MODEL, mod.CONFIG_SPACE, mod.ENCODING}
    assert record.summary["hv"] < bench.hv_max


def test_reference_command_writes_a_loadable_front(tmp_path) -> None:
    from tests.helpers import cli

    out = tmp_path / "front.json"
    result = cli("benchmarks", "reference", "nb301/cifar10/train-time", "--evaluations", "1200", "--out", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["schema"] == mod.REFERENCE_SCHEMA and document["evaluations"] == 1200
    assert document["command"] == "harness benchmarks reference nb301/cifar10/train-time --evaluations 1200 --seed 0"
    bench = get_benchmark("nb301/cifar10/train-time")
    f = bench.objectives([p["index"] for p in document["front"]])
    np.testing.assert_allclose(f, [[p["accuracy"], -p["cost"]] for p in document["front"]], rtol=1e-12)
    assert document["hv"] < bench.hv_max
