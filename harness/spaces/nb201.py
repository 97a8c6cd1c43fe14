"""The NAS-Bench-201 cell: 6 edges x 5 ops, canonical strings, CE-NAS's continuous encoding, params and FLOPs.

Edge order (NB201 genotype order): (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2), i.e. the order of the six
`op~j` tokens in `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
N_EDGES = 6
N_ARCHS = len(OPS) ** N_EDGES  # 15625
EDGE_INPUTS: tuple[int, ...] = (0, 0, 1, 0, 1, 2)  # input node of each edge, in edge order
BIN_EDGES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
_BIN_EDGES = np.asarray(BIN_EDGES)
X_UPPER = 0.99999  # CE-NAS box: [0, 0.99999]^6


def format_arch(ops: Sequence[int], names: Sequence[str] = OPS) -> str:
    """Canonical NB201 string of six op indices, e.g. `|none~0|+|skip_connect~0|none~1|+|...|`."""
    tok = [f"{names[o]}~{j}" for o, j in zip(ops, EDGE_INPUTS, strict=True)]
    return f"|{tok[0]}|+|{tok[1]}|{tok[2]}|+|{tok[3]}|{tok[4]}|{tok[5]}|"


def parse_arch(arch: str, names: Sequence[str] = OPS) -> tuple[int, ...]:
    """Six op indices of a canonical NB201 string; raises ValueError on anything else."""
    nodes = arch.strip().split("+")
    tokens = [t for node in nodes for t in node.strip("|").split("|")]
    if len(nodes) != 3 or len(tokens) != N_EDGES:
        raise ValueError(f"not an NB201 arch string: {arch!r}")
    ops = []
    for token, expected_input in zip(tokens, EDGE_INPUTS, strict=True):
        name, _, source = token.partition("~")
        if name not in names or source != str(expected_input):
            raise ValueError(f"bad NB201 edge token {token!r} in {arch!r}")
        ops.append(names.index(name))
    return tuple(ops)


def node_tuples_to_arch(key: str) -> str:
    """Convert the few-shot-NAS key form `[(('op', 0),), (('op', 0), ('op', 1)), ...]` to the canonical string."""
    nodes = ast.literal_eval(key)
    return "+".join("|" + "|".join(f"{op}~{src}" for op, src in node) + "|" for node in nodes)


def ops_code(ops: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Base-5 integer code of op indices (last axis = 6 edges, edge 0 most significant); shape (...)."""
    arr = np.asarray(ops, dtype=np.int64)
    return arr @ (len(OPS) ** np.arange(N_EDGES - 1, -1, -1))


def decode_continuous(x: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """CE-NAS binning of x in [0, 1)^6 to op indices: the number of `BIN_EDGES` at or below each value, which is the
    reference's explicit comparisons (x < 0.2 -> 0, x < 0.4 -> 1, ..., else 4; NaN -> 4); shape kept."""
    return np.searchsorted(_BIN_EDGES, np.asarray(x, dtype=np.float64), side="right").astype(np.int8)


def encode_continuous(ops: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """CE-NAS "denormalize": op index -> op x 0.2 (the lower edge of its bin)."""
    return np.asarray(ops, dtype=np.float64) * 0.2


# --- closed-form cost of the NB201 TinyNetwork (C=16, N=5, three stages) ------------------------------------------
STAGE_CHANNELS = (16, 32, 64)
CELLS_PER_STAGE = 5


def params_and_flops(ops: npt.ArrayLike, num_classes: int, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Parameter count and FLOPs (both in millions) of TinyNetwork cells; `ops` has shape (n, 6).

    Params equal NB201's `count_parameters_in_MB` exactly. FLOPs count conv/linear multiply-accumulates plus BN (2),
    ReLU (1) and pooling (kernel area) per element; they differ from NB201's own counter by an architecture-independent
    constant of about 1 kFLOP (<= 0.0011 MFLOPs), so every ranking and difference between architectures is identical.
    """
    arr = np.asarray(ops)
    count = {k: (arr == k).sum(axis=-1).astype(np.float64) for k in range(len(OPS))}
    conv1, conv3, pool = count[2], count[3], count[4]
    params = np.full(arr.shape[0], 3 * 16 * 9 + 2 * 16, dtype=np.float64)  # stem conv + BN
    flops = np.full(arr.shape[0], resolution**2 * 16 * (27 + 2), dtype=np.float64)
    res = resolution
    for stage, c in enumerate(STAGE_CHANNELS):
        if stage:
            cin, out = STAGE_CHANNELS[stage - 1], (res // 2) ** 2
            params += 9 * cin * c + 2 * c + 9 * c * c + 2 * c + cin * c  # ResNet reduction block
            flops += res * res * cin + out * c * (9 * cin + 2)  # conv_a: ReLU, conv, BN
            flops += out * c * (1 + 9 * c + 2)  # conv_b
            flops += out * cin * 4 + out * c * cin  # shortcut: avgpool(2) + conv1x1
            res //= 2
        n = CELLS_PER_STAGE
        params += n * (conv1 * (c * c + 2 * c) + conv3 * (9 * c * c + 2 * c))
        flops += n * res * res * c * (conv1 * (3 + c) + conv3 * (3 + 9 * c) + pool * 9)
    last = STAGE_CHANNELS[-1]
    params += 2 * last + last * num_classes + num_classes  # last BN + classifier
    flops += res * res * last * 4 + last * num_classes + num_classes  # BN, ReLU, global pool, classifier
    return params / 1e6, flops / 1e6
