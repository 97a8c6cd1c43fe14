"""Test configuration: every test reads the real upstream files through the mirror; no test uses the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = REPO.parent / "shared" / "data" / "upstream"


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("CENAS_BENCH_MIRROR"):
        if not DEFAULT_MIRROR.is_dir():
            raise pytest.UsageError(
                "set CENAS_BENCH_MIRROR=file:///abs/path/to/upstream (the tests never use the network)"
            )
        os.environ["CENAS_BENCH_MIRROR"] = DEFAULT_MIRROR.as_uri()
    if not os.environ.get("CENAS_BENCH_CACHE"):
        os.environ["CENAS_BENCH_CACHE"] = str(REPO / ".pytest_cache" / "cenas-bench-cache")


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """Local folder of the mirror (file:// URL), for tests that read an upstream file directly."""
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    return Path(url2pathname(urlparse(os.environ["CENAS_BENCH_MIRROR"]).path))


@pytest.fixture(scope="session")
def upstream(mirror_dir: Path):
    """`upstream(name)` -> path of the named manifest file inside the mirror."""
    from harness.data.manifest import load_manifest

    manifest = load_manifest()
    return lambda name: mirror_dir / manifest[name].rel


@pytest.fixture(scope="session")
def nb201_table():
    from harness.data.build_nb201 import load_nb201

    return load_nb201()
