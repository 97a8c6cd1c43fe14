"""NAS-Bench-101-style cells (the EC-NAS search spaces): pruning, graph hashing and the 7-vertex padded encoding.

A cell is an upper-triangular 0/1 adjacency matrix (n, n) plus n op labels, vertex 0 = `input`, vertex n-1 =
`output`, interior ops from `OPS`. These follow NAS-Bench-101's `ModelSpec` and `graph_util.hash_module` exactly so
that a configuration proposed by a search method finds its row in the EC-NAS tables (keyed by that hash). The
padded encoding follows the EC-NAS 7V surrogate data (raghavian/surrogate-ec-nasbench `7v_data.pt`): adjacency padded
with zeros and op codes 0 = pad, 1 = input, 2 = conv1x1, 3 = conv3x3, 4 = maxpool, 5 = output, padding at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

INPUT, OUTPUT = "input", "output"
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")  # NAS-Bench-101 `available_ops` order
MAX_VERTICES = 7
MAX_EDGES = 9
PAD_CODES: dict[str, int] = {INPUT: 1, "conv1x1-bn-relu": 2, "conv3x3-bn-relu": 3, "maxpool3x3": 4, OUTPUT: 5}
N_PAD_CODES = 6  # 0 = padding
N_EDGE_BITS = MAX_VERTICES * (MAX_VERTICES - 1) // 2

Cell = tuple[npt.NDArray[np.int8], tuple[str, ...]]


def parse_cell(adjacency: str, ops: str) -> Cell:
    """A cell from the EC-NAS table strings: n*n '0'/'1' row-major and comma-separated op names."""
    labels = tuple(ops.split(","))
    n = len(labels)
    if len(adjacency) != n * n or set(adjacency) - {"0", "1"}:
        raise ValueError(f"adjacency {adjacency!r} is not {n}x{n} zeros and ones")
    return np.frombuffer(adjacency.encode(), dtype=np.uint8).reshape(n, n).astype(np.int8) - ord("0"), labels


def prune(matrix: npt.ArrayLike, ops: Sequence[str]) -> Cell | None:
    """NAS-Bench-101 `ModelSpec._prune`: drop vertices not on an input->output path; None if nothing is left."""
    m = np.asarray(matrix, dtype=np.int8)
    n = len(m)
    from_input, frontier = {0}, [0]
    while frontier:
        top = frontier.pop()
        for v in range(top + 1, n):
            if m[top, v] and v not in from_input:
                from_input.add(v)
                frontier.append(v)
    to_output, frontier = {n - 1}, [n - 1]
    while frontier:
        top = frontier.pop()
        for v in range(top):
            if m[v, top] and v not in to_output:
                to_output.add(v)
                frontier.append(v)
    keep = sorted(from_input & to_output)  # empty, or holds both ends (input reaches output)
    if not keep:
        return None
    return m[np.ix_(keep, keep)], tuple(ops[i] for i in keep)


def is_valid(matrix: npt.ArrayLike, ops: Sequence[str]) -> bool:
    """NAS-Bench-101's domain check on a pruned cell: <= 7 vertices, <= 9 edges, input/output at the ends."""
    m = np.asarray(matrix)
    return (
        len(m) <= MAX_VERTICES
        and int(m.sum()) <= MAX_EDGES
        and ops[0] == INPUT
        and ops[-1] == OUTPUT
        and all(op in OPS for op in ops[1:-1])
        and not np.tril(m).any()
    )


def module_hash(matrix: npt.ArrayLike, ops: Sequence[str]) -> str:
    """NAS-Bench-101 `graph_util.hash_module`: an isomorphism-invariant MD5 fingerprint of a (pruned) cell."""
    m = np.asarray(matrix)
    n = len(m)
    labels = [-1] + [OPS.index(op) for op in ops[1:-1]] + [-2]
    in_edges, out_edges = m.sum(axis=0).tolist(), m.sum(axis=1).tolist()
    hashes = [_md5(str(h)) for h in zip(out_edges, in_edges, labels, strict=True)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[w] for w in range(n) if m[w, v]))
                + "|"
                + "".join(sorted(hashes[w] for w in range(n) if m[v, w]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()  # a fingerprint, as NB101


def padded_codes(matrix: npt.ArrayLike, ops: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """7-vertex padded form: the 21 upper-triangular adjacency bits (row-major) and the 7 op codes."""
    m = np.asarray(matrix)
    n = len(m)
    padded = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    padded[:n, :n] = m
    codes = np.zeros(MAX_VERTICES, dtype=np.int8)
    codes[:n] = [PAD_CODES[op] for op in ops]
    return padded[np.triu_indices(MAX_VERTICES, k=1)], codes
