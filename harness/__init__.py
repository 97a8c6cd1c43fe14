"""cenas-bench harness: data, benchmarks, carbon traces, simulator and run records."""

__version__ = "0.3.0"
