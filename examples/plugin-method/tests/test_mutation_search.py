"""The plugin passes cenas-bench's shipped method contract (determinism, valid jobs, conservation audit, scoring)."""

from harness.methods import METHODS
from harness.testing import MethodContract


class TestMutationSearch(MethodContract):
    method = "mutation-search"
    budget = "6h"


def test_it_is_registered_through_the_entry_point() -> None:
    entry = METHODS.entry("mutation-search").load()
    assert entry.target == "cenas_bench_mutation:MutationSearch"
