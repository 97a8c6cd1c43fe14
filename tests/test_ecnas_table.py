"""The EC-NAS TFRecord reader against SOURCES.md's checks (framing CRCs, record counts, record 0 values)."""

from __future__ import annotations

import pytest

from harness.data.build_ecnas import load_ecnas, masked_crc, read_tfrecord
from harness.errors import DataIntegrityError


@pytest.fixture(scope="module")
def table():
    return load_ecnas()


def test_record_counts_per_file_and_budget(table) -> None:
    counts = table.groupby(["variant", "budget"]).size()
    assert counts["4v"].to_dict() == {4: 273, 12: 273, 36: 273, 108: 273}
    assert counts["4v-linscale"].to_dict() == {4: 91, 12: 91, 36: 91, 108: 91}
    assert counts["4v-rtx3060"].to_dict() == {4: 88, 12: 88, 36: 88, 108: 88}
    assert counts["5v"].to_dict() == {4: 2532}
    assert table[table.variant == "4v"].groupby(["hash", "budget"]).size().eq(3).all()  # three repeats


@pytest.mark.parametrize(
    ("variant", "budget", "total_time", "total_energy", "test_acc", "energy"),
    [
        ("4v", 36, 746.1661584377289, 0.11943, 0.9093549847602844, 0.113109),
        ("4v-linscale", 4, 156.35180044174194, 0.020275, 0.599792997042338, 0.014624999999999999),
        ("4v-rtx3090", 4, 98.18290328979492, 0.012022, 0.599792997042338, 0.009151),
    ],
)
def test_first_record_values(table, variant, budget, total_time, total_energy, test_acc, energy) -> None:
    row = table[table.variant == variant].iloc[0]
    assert (row["hash"], row["budget"], row["adjacency"]) == (
        "5529e1779433733d1145e20de5d8604e",
        budget,
        "0110001100010000",
    )
    assert row["ops"] == "input,conv1x1-bn-relu,conv3x3-bn-relu,output" and row["params"] == 3468426
    assert (row["total_time_s"], row["total_energy_kwh"]) == (total_time, total_energy)
    assert (row["test_acc"], row["energy_kwh"], row["epoch"]) == (test_acc, energy, float(budget))


def test_crc_checks_catch_a_flipped_byte(upstream, tmp_path) -> None:
    data = bytearray(upstream("ecnas-4v9e-rtx3090").read_bytes())
    assert masked_crc(bytes(data[:8])) == int.from_bytes(data[8:12], "little")
    data[40] ^= 0x01
    with pytest.raises(DataIntegrityError, match="bad payload CRC"):
        list(read_tfrecord(bytes(data), "bad.tfrecord"))
