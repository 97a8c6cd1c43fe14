"""Process-wide settings a harness process makes once, before its work: light to import (the CLI's start-up)."""

from __future__ import annotations

import ctypes
import functools
import os

M_ARENA_MAX = -8  # glibc's mallopt parameter: the most malloc arenas a process keeps


@functools.cache
def one_malloc_arena() -> bool:
    """Have glibc's malloc serve every thread from one arena (`mallopt(M_ARENA_MAX, 1)`) unless MALLOC_ARENA_MAX is
    set. By default each thread that allocates gets an arena of its own (up to 8 per core), and the helper threads of
    torch, onnxruntime, Arrow and OpenBLAS leave theirs holding freed pages: 15-30 MB of a run's peak
    (docs/simulator.md). Arenas made before the call stay, so entry points call it first. The numbers a run computes
    are the same either way. True where the limit was set (glibc only)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1))  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc
        return False
