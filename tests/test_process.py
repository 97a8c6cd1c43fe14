"""Process-wide settings (`harness.process`): glibc's malloc arenas."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_ARENAS = """
import ctypes, sys, threading
from harness.process import one_malloc_arena
limited = one_malloc_arena() if sys.argv[1] == "limit" else None
together = threading.Barrier(4)
def allocate():
    kept = [bytearray(1000) for _ in range(2000)]  # malloc'd blocks (over pymalloc's 512-byte limit)
    together.wait()  # all four alive at once: none hands its arena on to the next
threads = [threading.Thread(target=allocate) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(limited)
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def _arenas(mode: str, **env: str) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    command = [sys.executable, "-c", _ARENAS, mode]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return out.stdout.strip(), sum(line.startswith("Arena ") for line in out.stderr.splitlines())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_stats")
def test_one_malloc_arena_serves_every_thread_from_one_arena() -> None:
    assert _arenas("default") == ("None", 5)  # glibc's default: the main arena and one per allocating thread
    assert _arenas("limit") == ("True", 1)
    assert _arenas("limit", MALLOC_ARENA_MAX="3") == ("False", 3)  # the user's setting is left as it is
