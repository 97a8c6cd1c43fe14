"""The NB201 table against the cross-checks and published values listed in SOURCES.md."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from harness.spaces.nb201 import BIN_EDGES, N_ARCHS, decode_continuous, format_arch, node_tuples_to_arch, parse_arch

ARCH0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def test_one_row_per_architecture_and_no_missing_values(nb201_table: pd.DataFrame) -> None:
    assert len(nb201_table) == N_ARCHS == 15625
    assert (nb201_table["index"].to_numpy() == np.arange(N_ARCHS)).all()
    assert nb201_table["arch_str"].is_unique
    missing = nb201_table.columns[nb201_table.isna().any()].tolist()
    assert missing == [], f"columns with missing values: {missing}"
    assert len(nb201_table.columns) >= 80


def test_index_and_string_agree_across_sources(nb201_table: pd.DataFrame, upstream) -> None:
    arch = nb201_table["arch_str"].tolist()
    mini = pd.read_pickle(upstream("nb201-acc12"))
    assert mini["cellstr"].tolist() == arch
    nebulos = json.loads(upstream("nebulos-nats-index").read_text())
    for key, index in nebulos.items():
        t = key.split("/")
        assert arch[index] == f"|{t[0]}|+|{t[1]}|{t[2]}|+|{t[3]}|{t[4]}|{t[5]}|"
    fewshot = json.loads(upstream("nb201-fewshot-supernet").read_text())
    assert {node_tuples_to_arch(k) for k in fewshot} == set(arch)
    assert all(format_arch(parse_arch(s)) == s for s in arch[:500])


def test_published_values_of_arch_0_and_last(nb201_table: pd.DataFrame) -> None:
    first, last = nb201_table.iloc[0], nb201_table.iloc[-1]
    assert first["arch_str"] == ARCH0
    assert first["cifar10_acc"] == 85.86333333333334
    assert first["cifar10_train_s_per_epoch"] == 14.442185997962952
    assert first["cifar10_train_s"] == 2888.4371995925903
    assert first["cifar100_acc"] == 52.80666666666667
    assert first["imagenet16_acc"] == 27.42222221883138
    assert first["imagenet16_train_s"] == 8763.51846356391
    assert last["cifar10_acc"] == 86.82333333333334 and last["cifar10_train_s"] == 4178.798445065805
    assert last["imagenet16_train_s"] == 12678.474482329691
    assert (first["cifar10_acc12"], first["cifar10_val_acc12"]) == (69.55, 63.36399998046875)
    assert (first["cifar100_acc12"], first["cifar100_val_acc12"]) == (31.259999963378906, 31.840000003051756)
    assert (first["imagenet16_acc12"], first["imagenet16_val_acc12"]) == (16.999999966939292, 18.466666661580405)
    assert nb201_table["cifar10_acc12"].max() == 89.16 and nb201_table["cifar10_acc12"].min() == 10.0
    assert (first["cifar10_oneshot_acc"], first["cifar10_fewshot_acc"], first["cifar10_acc_fsrepo"]) == (
        16.26,
        21.96,
        85.86,
    )
    np.testing.assert_allclose(nb201_table["cifar10_train_s"], 200 * nb201_table["cifar10_train_s_per_epoch"], 1e-10)


@pytest.mark.parametrize(
    ("column", "first_three", "lo", "hi"),
    [
        (
            "lat_raspi4_ms",
            (10.481976820010459, 54.77739761998237, 50.40940375998616),
            0.011283500061836094,
            98.88752099999692,
        ),
        ("lat_pixel3_ms", (3.6058499999999998, 17.2381, 15.723), 0.00327686, 36.7665),
        (
            "lat_eyeriss_ms",
            (3.645620000000001, 7.577780000000003, 10.526900000000001),
            1.6795400000000003,
            10.526900000000001,
        ),
        ("lat_fpga_ms", (2.57296, 5.31536, 5.28656), 1.13296, 8.67856),
        (
            "lat_1080ti_256_ms",
            (17.255277633666992, 24.901766777038574, 30.872082710266113),
            7.998104095458985,
            35.58426856994629,
        ),
        (
            "lat_2080ti_256_ms",
            (11.038403511047363, 26.182074546813965, 24.149603843688965),
            5.9554338455200195,
            44.31090831756592,
        ),
        ("lat_essential_ph_1_ms", (9, 18, 16), 3, 45),
        (
            "lat_gold_6226_ms",
            (10.524625778198242, 15.179171562194824, 11.381368637084961),
            2.6647329330444336,
            20.37313461303711,
        ),
    ],
)
def test_help_latencies_match_sources(nb201_table: pd.DataFrame, column, first_three, lo, hi) -> None:
    assert tuple(nb201_table[column].iloc[:3]) == first_three
    assert (nb201_table[column].min(), nb201_table[column].max()) == (lo, hi)


def test_raspberry_pi_5_and_pixel_measurements(nb201_table: pd.DataFrame) -> None:
    first = nb201_table.iloc[0]
    assert first["pi5_litert_cifar100_lat_ms"] == 1.487672
    assert first["pi5_litert_cifar100_energy_mj"] == 2.575322
    assert first["pixel_litert_cifar100_lat_ms"] == 1.0141
    pi5 = [c for c in nb201_table.columns if c.startswith("pi5_")]
    assert len(pi5) == 18  # 3 frameworks x 3 tasks x (latency, energy)
    assert not [c for c in nb201_table.columns if c.startswith("pixel_") and "energy" in c]


def test_params_exact_and_flops_constant_offset_vs_naslib(nb201_table: pd.DataFrame, upstream) -> None:
    naslib = json.loads(upstream("naslib-zc-nb201").read_text())["nasbench201"]
    naslib_ops = ["skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3"]
    index = {s: i for i, s in enumerate(nb201_table["arch_str"])}
    for dataset, ours in (("cifar10", "cifar10"), ("cifar100", "cifar100"), ("ImageNet16-120", "imagenet16")):
        offsets = []
        for key, metrics in naslib[dataset].items():
            e = [naslib_ops[k] for k in json.loads(key.replace("(", "[").replace(")", "]"))]
            # NASLib edge order: e10, e20, e30, e21, e31, e32
            arch = f"|{e[0]}~0|+|{e[1]}~0|{e[3]}~1|+|{e[2]}~0|{e[4]}~1|{e[5]}~2|"
            row = nb201_table.iloc[index[arch]]
            assert row[f"{ours}_params_m"] == pytest.approx(metrics["params"], abs=5e-7)
            offsets.append(metrics["flops"] - row[f"{ours}_flops_m"])
        assert np.ptp(offsets) < 1e-6, "FLOPs differ from NB201's counter by a per-dataset constant only"
        assert 0 < np.mean(offsets) <= 0.0011


def test_continuous_decoding_bins_and_reference_fixture(upstream) -> None:
    edges = np.array([0.0, 0.19999, 0.2, 0.39999, 0.4, 0.6, 0.79999, 0.8, 0.99999])
    np.testing.assert_array_equal(decode_continuous(edges), [0, 0, 1, 1, 2, 3, 3, 4, 4])
    # the reference's if/elif chain (x < 0.2 -> 0, ..., else 4) next to every edge, and where every comparison fails
    near = [np.nextafter(edge, side) for edge in BIN_EDGES for side in (-np.inf, np.inf)]
    odd = np.array([*near, *BIN_EDGES, -0.0, 1.0, -np.inf, np.inf, np.nan])
    chain = np.select([odd < 0.2, odd < 0.4, odd < 0.6, odd < 0.8], [0, 1, 2, 3], 4)
    np.testing.assert_array_equal(decode_continuous(odd.reshape(-1, 1)), chain.reshape(-1, 1))
    artifact = torch.load(upstream("cenas-rl-0-T40"), weights_only=True)
    x = artifact[1]["samples"].numpy()
    expected = [
        [1, 4, 0, 4, 3, 4],
        [4, 4, 3, 3, 4, 4],
        [3, 1, 2, 1, 4, 1],
        [0, 4, 2, 2, 3, 4],
        [2, 2, 0, 1, 0, 3],
        [4, 2, 1, 0, 1, 3],
        [3, 3, 1, 0, 4, 1],
        [4, 4, 4, 3, 3, 4],
        [3, 4, 0, 0, 1, 4],
        [2, 0, 0, 3, 1, 4],
        [2, 3, 4, 4, 0, 4],
        [1, 0, 1, 4, 4, 4],
        [1, 2, 1, 4, 4, 4],
        [4, 3, 1, 1, 2, 2],
        [1, 3, 0, 2, 4, 1],
    ]  # spec Appendix A
    np.testing.assert_array_equal(decode_continuous(x), expected)
