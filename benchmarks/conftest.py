"""Speed benchmarks share the test suite's data setup (mirror and cache)."""

from tests.conftest import pytest_configure  # noqa: F401
