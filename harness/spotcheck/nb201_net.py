"""The NAS-Bench-201 evaluation network (Dong & Yang, ICLR 2020) in torch: the macro skeleton ("TinyNetwork") with a
cell from an architecture string, as NAS-Bench-201 trained every architecture.

Skeleton: stem (3x3 conv, C channels, BN), three stages of N cells (C, 2C, 4C channels) separated by residual
reduction blocks (stride 2), then BN-ReLU, global average pooling and a linear classifier; C = 16, N = 5 by default.
A cell is a DAG of 4 nodes: node j = sum over i < j of op_ij(node i), the output is node 3; the six ops come from
`|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`. Ops: `none` (zeros), `skip_connect` (identity), `nor_conv_1x1` and
`nor_conv_3x3` (ReLU-conv-BN), `avg_pool_3x3` (3x3 average, padding not counted). The parameter count equals the
table's `params` column for every architecture (tested), which is how this module is checked against the original.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from harness.errors import HarnessError

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def parse_arch(arch: str) -> list[list[tuple[str, int]]]:
    """An architecture string as nodes 1..3, each a list of (op, input node); one error line if malformed."""
    nodes = []
    for j, part in enumerate(arch.strip("|").split("|+|"), start=1):
        edges = []
        for i, edge in enumerate(part.strip("|").split("|")):
            op, _, src = edge.partition("~")
            if op not in OPS or src != str(i):
                raise HarnessError(f"not a NAS-Bench-201 architecture string: {arch!r} (edge {edge!r})")
            edges.append((op, i))
        if len(edges) != j:
            raise HarnessError(f"not a NAS-Bench-201 architecture string: {arch!r} (node {j} has {len(edges)} edges)")
        nodes.append(edges)
    if len(nodes) != 3:
        raise HarnessError(f"not a NAS-Bench-201 architecture string: {arch!r} ({len(nodes)} nodes, expected 3)")
    return nodes


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False), nn.BatchNorm2d(c_out)
        )


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One cell edge (stride 1, channels in = channels out)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    return ReLUConvBN(channels, channels, 1 if name == "nor_conv_1x1" else 3, 1, 0 if name == "nor_conv_1x1" else 1)


class Cell(nn.Module):
    """A NAS-Bench-201 cell: node j = sum of its incoming edges; returns node 3."""

    def __init__(self, nodes: list[list[tuple[str, int]]], channels: int) -> None:
        super().__init__()
        self.inputs = [[src for _, src in node] for node in nodes]
        self.edges = nn.ModuleList(make_op(op, channels) for node in nodes for op, _ in node)  # node by node

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, edge = [x], 0
        for inputs in self.inputs:
            node = self.edges[edge](states[inputs[0]])
            for k, i in enumerate(inputs[1:], start=1):
                node = node + self.edges[edge + k](states[i])
            edge += len(inputs)
            states.append(node)
        return states[-1]


class ResidualReduction(nn.Module):
    """The residual block between stages: two ReLU-conv-BN (the first with stride 2) + avg-pool and 1x1 conv."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The evaluation network of `arch` for `classes` classes on `in_channels`-channel images; forward gives logits
    (batch, classes)."""

    def __init__(self, arch: str, classes: int = 10, channels: int = 16, cells: int = 5, in_channels: int = 3) -> None:
        super().__init__()
        nodes = parse_arch(arch)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers += [Cell(nodes, c) for _ in range(cells)]
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.cells(self.stem(x))))


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (NAS-Bench-201's `params` is this / 1e6)."""
    return sum(p.numel() for p in model.parameters())


def describe(arch: str) -> dict[str, Any]:
    """Parameter count of `arch`'s CIFAR-10 network (10 classes)."""
    return {"arch": arch, "params": parameter_count(NB201Network(arch))}
