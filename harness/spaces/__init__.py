"""Search-space definitions shared by the data builders and the benchmarks."""
