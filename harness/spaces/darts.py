"""The DARTS cell space (NAS-Bench-301): genotypes, a bijective int64 index, a box encoding, exact parameter counts.

A cell has two inputs (nodes 0 and 1: the outputs of the two previous cells) and four intermediate nodes 2..5; node
`n` takes exactly two edges from two distinct earlier nodes, each edge carrying one of seven ops (no `none`). A
genotype is a normal cell and a reduction cell. Per cell there are 3 * 6 * 10 input pairs and 7^8 op choices, i.e.
1,037,664,180 cells and 1,037,664,180^2 ~ 1.08e18 genotypes; each has one integer index in [0, N_ARCHS) (fits int64).

Edges are numbered as NAS-Bench-301's config space numbers them: node n's edge from node j is `EDGE_OFFSET[n] + j`
(14 per cell). Ops are DARTS's `PRIMITIVES` without `none`, in that order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
NODES: tuple[int, ...] = (2, 3, 4, 5)
EDGE_OFFSET: dict[int, int] = {2: 0, 3: 2, 4: 5, 5: 9}
N_EDGES = 14  # per cell, in the config space
CELLS: tuple[str, ...] = ("normal", "reduce")
PAIRS: dict[int, tuple[tuple[int, int], ...]] = {n: tuple(itertools.combinations(range(n), 2)) for n in NODES}
"""Input pairs of each node in the config space's choice order (`0_1`, `0_2`, `1_2`, ...); node 2 always has (0, 1)."""
CHOSEN = (3, 4, 5)  # nodes whose input pair is a choice
N_OPS_PER_CELL = 8
N_CELL = len(PAIRS[3]) * len(PAIRS[4]) * len(PAIRS[5]) * len(OPS) ** N_OPS_PER_CELL  # 1,037,664,180
N_ARCHS = N_CELL * N_CELL
CELL_DIM = N_OPS_PER_CELL + len(CHOSEN)  # 8 op coordinates + 3 input-pair coordinates
DIM = 2 * CELL_DIM
BINS: tuple[int, ...] = (*(len(OPS),) * N_OPS_PER_CELL, *(len(PAIRS[n]) for n in CHOSEN))
"""Number of categories of each coordinate of one cell's encoding."""

_OP_RADIX = len(OPS) ** np.arange(N_OPS_PER_CELL - 1, -1, -1, dtype=np.int64)


class GenotypeError(ValueError):
    """A genotype (or index) that is not in the DARTS cell space."""


def cell_parts(code: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Cell codes (n,) in [0, N_CELL) -> (pair choices (n, 3) for nodes 3/4/5, op indices (n, 8) in edge order)."""
    c = np.asarray(code, dtype=np.int64)
    pairs_code, ops_code = np.divmod(c, len(OPS) ** N_OPS_PER_CELL)
    p3, rest = np.divmod(pairs_code, len(PAIRS[4]) * len(PAIRS[5]))
    p4, p5 = np.divmod(rest, len(PAIRS[5]))
    ops = (ops_code[:, None] // _OP_RADIX) % len(OPS)
    return np.column_stack([p3, p4, p5]), ops


def cell_code(pairs: npt.ArrayLike, ops: npt.ArrayLike) -> np.ndarray:
    """Inverse of `cell_parts`: pair choices (n, 3) and op indices (n, 8) -> cell codes (n,)."""
    p = np.asarray(pairs, dtype=np.int64)
    pairs_code = (p[:, 0] * len(PAIRS[4]) + p[:, 1]) * len(PAIRS[5]) + p[:, 2]
    return pairs_code * len(OPS) ** N_OPS_PER_CELL + np.asarray(ops, dtype=np.int64) @ _OP_RADIX


def split_index(index: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Genotype indices (n,) -> (normal cell codes, reduction cell codes), each (n,)."""
    return np.divmod(np.asarray(index, dtype=np.int64), N_CELL)


def sources(pairs: npt.ArrayLike) -> np.ndarray:
    """Source node of each of the 8 active edges, (n, 3) pair choices -> (n, 8), in edge order."""
    p = np.asarray(pairs, dtype=np.int64)
    out = np.empty((len(p), N_OPS_PER_CELL), dtype=np.int64)
    out[:, 0:2] = (0, 1)
    for k, node in enumerate(CHOSEN):
        table = np.array(PAIRS[node], dtype=np.int64)
        out[:, 2 + 2 * k : 4 + 2 * k] = table[p[:, k]]
    return out


def edge_numbers(pairs: npt.ArrayLike) -> np.ndarray:
    """Config-space edge number (0..13) of each active edge, (n, 3) -> (n, 8)."""
    nodes = np.repeat(np.array(NODES), 2)
    return np.array([EDGE_OFFSET[n] for n in nodes]) + sources(pairs)


# --- genotype strings: `normal=|op~0|op~1|+|op~0|op~2|+|...|+|...|;reduce=...` (NB201's `op~source` tokens) ---------
def format_cell(pairs: Sequence[int], ops: Sequence[int]) -> str:
    src = sources(np.asarray([pairs]))[0]
    tokens = [f"{OPS[o]}~{s}" for o, s in zip(ops, src, strict=True)]
    return "+".join("|" + "|".join(tokens[2 * k : 2 * k + 2]) + "|" for k in range(len(NODES)))


def format_genotype(index: int) -> str:
    """Canonical string of a genotype index."""
    normal, reduce = split_index([index])
    parts = [cell_parts(code) for code in (normal, reduce)]
    return ";".join(f"{name}={format_cell(p[0][0], p[1][0])}" for name, p in zip(CELLS, parts, strict=True))


def parse_cell(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(pair choices, op indices) of one cell string; the two edges of a node may come in either order."""
    nodes = text.strip().split("+")
    if len(nodes) != len(NODES):
        raise GenotypeError(f"a DARTS cell has {len(NODES)} nodes (`+`-separated), got {len(nodes)} in {text!r}")
    pairs: list[int] = []
    ops: list[int] = []
    for node, chunk in zip(NODES, nodes, strict=True):
        tokens = [t for t in chunk.strip().strip("|").split("|") if t]
        if len(tokens) != 2:
            raise GenotypeError(f"node {node} needs exactly 2 `op~source` edges, got {chunk!r}")
        edges = []
        for token in tokens:
            name, _, source = token.partition("~")
            if name not in OPS:
                raise GenotypeError(f"unknown op {name!r} at node {node} (ops: {', '.join(OPS)})")
            if not source.isdigit() or int(source) >= node:
                raise GenotypeError(f"node {node} can only take inputs from nodes 0..{node - 1}, got {token!r}")
            edges.append((int(source), OPS.index(name)))
        edges.sort()
        pair = (edges[0][0], edges[1][0])
        if pair[0] == pair[1]:
            raise GenotypeError(f"node {node} takes two edges from the same node {pair[0]}: {chunk!r}")
        if node == NODES[0]:
            if pair != (0, 1):
                raise GenotypeError(f"node 2 takes its inputs from nodes 0 and 1, got {chunk!r}")
        else:
            pairs.append(PAIRS[node].index(pair))
        ops.extend(op for _, op in edges)
    return tuple(pairs), tuple(ops)


def parse_genotype(text: str) -> int:
    """Index of a genotype string `normal=...;reduce=...`; raises GenotypeError for anything outside the space."""
    cells = dict(part.partition("=")[::2] for part in text.strip().split(";"))
    if sorted(cells) != sorted(CELLS):
        raise GenotypeError(f"a DARTS genotype is `normal=<cell>;reduce=<cell>`, got {text!r}")
    codes = [cell_code([p], [o])[0] for p, o in (parse_cell(cells[name]) for name in CELLS)]
    return int(codes[0] * N_CELL + codes[1])


# --- box encoding ----------------------------------------------------------------------------------------------------
def encode_continuous(index: npt.ArrayLike) -> np.ndarray:
    """Genotype indices (n,) -> (n, 22) bin centres in (0, 1): per cell 8 op coordinates, then 3 pair coordinates."""
    out = []
    for code in split_index(np.atleast_1d(index)):
        pairs, ops = cell_parts(code)
        out.append((np.column_stack([ops, pairs]) + 0.5) / np.array(BINS))
    return np.hstack(out)


def decode_continuous(x: npt.ArrayLike) -> np.ndarray:
    """(n, 22) points in [0, 1] -> genotype indices (n,); every point decodes (coordinate k -> floor(x * bins))."""
    v = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if v.shape[1] != DIM:
        raise GenotypeError(f"a DARTS encoding has {DIM} coordinates, got {v.shape[1]}")
    bins = np.array(BINS * 2)
    cat = np.clip(np.floor(v * bins), 0, bins - 1).astype(np.int64)
    codes = [cell_code(c[:, N_OPS_PER_CELL:], c[:, :N_OPS_PER_CELL]) for c in (cat[:, :CELL_DIM], cat[:, CELL_DIM:])]
    return codes[0] * N_CELL + codes[1]


def neighbours(index: int) -> np.ndarray:
    """Every genotype that differs from `index` in one coordinate of the encoding (one op or one input pair), (k,)."""
    x = encode_continuous([index])[0]
    bins = np.array(BINS * 2)
    points = []
    for d, n in enumerate(bins):
        current = int(x[d] * n)
        for k in range(n):
            if k != current:
                y = x.copy()
                y[d] = (k + 0.5) / n
                points.append(y)
    return decode_continuous(np.array(points))


# --- parameters of the evaluation network -------------------------------------------------------------------------
def _op_params(op: np.ndarray, c: int, reduction_edge: np.ndarray) -> np.ndarray:
    """Parameters of DARTS ops on C channels (affine BN: 2C); pooling has none; skip at stride 2 is FactorizedReduce."""
    sep = {3: 2 * (9 * c + c * c + 2 * c), 4: 2 * (25 * c + c * c + 2 * c)}
    dil = {5: 9 * c + c * c + 2 * c, 6: 25 * c + c * c + 2 * c}
    out = np.zeros(op.shape, dtype=np.int64)
    for k, v in {**sep, **dil}.items():
        out[op == k] = v
    out[(op == OPS.index("skip_connect")) & reduction_edge] = c * c + 2 * c  # two C->C/2 1x1 convs + BN
    return out


def count_params(index: npt.ArrayLike, init_channels: int = 32, layers: int = 8, num_classes: int = 10) -> np.ndarray:
    """Parameters of DARTS's `NetworkCIFAR` (stem multiplier 3, reductions at layers//3 and 2*layers//3, 4 nodes),
    without the auxiliary head (as DARTS's `count_parameters_in_MB`); shape (n,), exact integers.

    Defaults are NAS-Bench-301's training network (32 channels, 8 cells). Checked against DARTS's published count of
    DARTS_V2 at 36 channels and 20 cells (3,349,342).
    """
    normal, reduce = (cell_parts(code) for code in split_index(np.atleast_1d(index)))
    c_curr = 3 * init_channels
    total = np.full(len(normal[0]), 27 * c_curr + 2 * c_curr, dtype=np.int64)  # stem: 3x3 conv + BN
    c_pp, c_p, c = c_curr, c_curr, init_channels
    for layer in range(layers):
        reduction = layer in (layers // 3, 2 * layers // 3)
        if reduction:
            c *= 2
        pairs, ops = reduce if reduction else normal
        pre0 = c_pp * c + 2 * c  # FactorizedReduce (two C_pp -> C/2 convs) or ReLUConvBN 1x1: same count
        pre1 = c_p * c + 2 * c
        stride2 = (sources(pairs) < 2) & reduction
        total += pre0 + pre1 + _op_params(ops, c, stride2).sum(axis=1)
        c_pp, c_p = c_p, 4 * c
    return total + c_p * num_classes + num_classes  # classifier after global pooling
