"""The LaMOO tree, rebuilt from scratch from the trained samples at every allocation boundary (CE-NAS §2.2).

A leaf with more than `leaf_size` samples is split when the SVM fitted on its good/bad labels predicts both
classes on its own samples and the children stay within `max_height`. Children take the samples by *label*;
the parent keeps the SVM, whose boundary defines the regions used for sampling.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cenas.lamoo.dominance import GrowingCounts, dominance_counts, labels_from_counts
from cenas.lamoo.svm import SOLVERS, SplitClassifier
from harness.metrics import hypervolume


@dataclass(frozen=True)
class TreeConfig:
    leaf_size: int = 10
    max_height: int = 3
    kernel: str = "poly"
    degree: int = 4
    gamma: str | float = "scale"
    good_ratio: float = 0.5
    svm_max_samples: int | None = None  # None: fit on every sample of the node (faithful)
    solver: str = "libsvm"  # cenas.lamoo.svm.SOLVERS: libsvm's SMO (as the reference) or the exact solvers (ipm)


@dataclass(eq=False)
class Node:
    rows: npt.NDArray[np.int64]  # indices into the sample arrays
    height: int
    value: float  # HV of the node's samples
    parent: Node | None = None
    svm: SplitClassifier | None = None  # set once the node is split
    kids: list[Node] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def is_leaf(self) -> bool:
        return not self.kids


Path = list[tuple[Node, int]]
"""Root-to-leaf path as (parent, direction) pairs: direction 0 = good kid, 1 = bad kid."""


def fit_split(x: np.ndarray, labels: np.ndarray, config: TreeConfig) -> SplitClassifier | None:
    """The SVM of a split, or None when the node is not SVM-splittable (one class, or the SVM predicts one)."""
    if len(np.unique(labels)) < 2:
        return None
    if config.svm_max_samples is not None and len(x) > config.svm_max_samples:
        x, labels = _thin(x, labels, config.svm_max_samples)
    svm = SOLVERS[config.solver](config.kernel, config.degree, config.gamma).fit(x, labels)
    return svm if _predicts_both(svm, x) else None


def _predicts_both(svm: SplitClassifier, x: np.ndarray, first: int = 64) -> bool:
    """Whether the SVM labels some of x 0 and some 1 (x: the samples it was fitted on). Its two witnesses (a free
    support vector of each class) almost always settle it; else the first `first` points, and the rest only when
    those show one class: the same answer as predicting every point, at a fraction of the cost."""
    witnesses = svm.witnesses()
    if len(witnesses) == 2 and len(set(svm.predict(x[witnesses]).tolist())) == 2:
        return True
    seen = set(svm.predict(x[:first]).tolist())
    if len(seen) < 2 and len(x) > first:
        seen |= set(svm.predict(x[first:]).tolist())
    return len(seen) == 2


def _thin(x: np.ndarray, labels: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `cap` rows, each class (labels 0/1) keeping its share, evenly spaced in sample order (deterministic,
    no RNG); the rows stay in sample order."""
    keep = np.zeros(len(labels), dtype=bool)
    good = labels == 0
    for rows in (np.flatnonzero(good), np.flatnonzero(~good)):
        if len(rows):
            k = max(1, round(cap * len(rows) / len(labels)))
            keep[rows[np.linspace(0, len(rows) - 1, k).round().astype(np.int64)]] = True
    return x[keep], labels[keep]


class SplitMemo:
    """Split answers (`fit_split`: an SVM or "not splittable") by the sha256 of their exact inputs and settings, for
    the runs of one batch (`MethodContext.memo`: a sweep's cells that differ only in their trace, whose carbon-blind
    methods fit the same nodes). It keeps answers until their arrays reach `max_bytes`, then stops adding: a run that
    repeats another asks for its fits in the order they were made, where evicting the oldest would miss every one.
    Fits are deterministic, so an answer from here is the one fitting would give."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes, self.bytes = max_bytes, 0
        self.answers: dict[bytes, SplitClassifier | None] = {}
        self.hits = 0

    @staticmethod
    def digest(inputs: bytes, config: TreeConfig) -> bytes:
        settings = (config.kernel, config.degree, config.gamma, config.svm_max_samples, config.solver)
        return hashlib.sha256(repr(settings).encode() + inputs).digest()

    def get(self, digest: bytes) -> tuple[bool, SplitClassifier | None]:
        """(found, answer)."""
        if digest in self.answers:
            self.hits += 1
            return True, self.answers[digest]
        return False, None

    def put(self, digest: bytes, svm: SplitClassifier | None) -> None:
        size = 64 + (sum(v.nbytes for v in vars(svm).values() if isinstance(v, np.ndarray)) if svm is not None else 0)
        if self.bytes + size <= self.max_bytes:
            self.answers[digest], self.bytes = svm, self.bytes + size


class RebuildCache:
    """What the last tree built with it computed, for the next rebuild over the same samples plus new ones:

    - its splits, keyed by their node's samples and labels (the bytes themselves, so equal keys are equal inputs): a
      node whose samples and labels did not change gets the same SVM, or the same "not splittable", without fitting
      again (fits are deterministic; ~8 % of a 500-lbs `cenas` run's fits repeat a node of the previous tree);
      with a `SplitMemo` (`shared`), also the answers of the other runs of its batch;
    - the root's dominance numbers, updated for the appended samples (`GrowingCounts`) instead of recounted.

    The tree is the one built without it.
    """

    def __init__(self, shared: SplitMemo | None = None) -> None:
        self.previous: dict[bytes, SplitClassifier | None] = {}
        self.current: dict[bytes, SplitClassifier | None] = {}
        self.hits = 0
        self.root_counts = GrowingCounts()
        self.shared = shared

    def new_tree(self) -> None:
        """Keep the splits of the tree just built; forget the ones before it."""
        self.previous, self.current = self.current, {}

    def split(self, x: np.ndarray, labels: np.ndarray, config: TreeConfig) -> SplitClassifier | None:
        """`fit_split(x, labels, config)`, reusing the previous tree's answer for the same x and labels."""
        key = np.ascontiguousarray(x).tobytes() + np.ascontiguousarray(labels).tobytes()
        if key in self.previous:
            svm, self.hits = self.previous[key], self.hits + 1
        elif self.shared is None:
            svm = fit_split(x, labels, config)
        else:
            digest = SplitMemo.digest(key, config)
            found, svm = self.shared.get(digest)
            if not found:
                svm = fit_split(x, labels, config)
                self.shared.put(digest, svm)
        self.current[key] = svm
        return svm


def build_tree(
    x: npt.ArrayLike, f: npt.ArrayLike, ref_point: npt.ArrayLike, config: TreeConfig, cache: RebuildCache | None = None
) -> Node:
    """Build the tree over samples x (n, d) with true objectives f (n, m), maximisation; with `cache`, the previous
    tree's work is reused where it applies (`RebuildCache`: the same tree, fewer fits and counts)."""
    xs, fs = np.asarray(x, dtype=np.float64), np.asarray(f, dtype=np.float64)
    ref = np.asarray(ref_point, dtype=np.float64)
    cache = RebuildCache() if cache is None else cache  # a fresh one computes everything
    cache.new_tree()
    root = Node(np.arange(len(xs)), 0, hypervolume(fs, ref))
    frontier = [root]
    while frontier:
        node = frontier.pop(0)
        if node.n <= config.leaf_size or node.height + 1 > config.max_height:
            continue
        counts = cache.root_counts(fs) if node is root else dominance_counts(fs[node.rows])
        labels = labels_from_counts(counts, config.good_ratio)
        svm = cache.split(xs[node.rows], labels, config)
        if svm is None:
            continue
        node.svm = svm
        for direction in (0, 1):
            rows = node.rows[labels == direction]
            kid = Node(rows, node.height + 1, hypervolume(fs[rows], ref), parent=node)
            node.kids.append(kid)
            frontier.append(kid)
    return root


def leaves(root: Node) -> list[Node]:
    out, stack = [], [root]
    while stack:
        node = stack.pop(0)
        if node.is_leaf:
            out.append(node)
        else:
            stack.extend(node.kids)
    return out


def uct(node: Node, cp: float) -> float:
    """x̄ + 2·Cp·sqrt(2 ln(n_parent) / n); +inf for the root or an empty node."""
    if node.parent is None or node.n == 0:
        return math.inf
    return node.value + 2.0 * cp * math.sqrt(2.0 * math.log(node.parent.n) / node.n)


def path_to(node: Node) -> Path:
    path: Path = []
    while node.parent is not None:
        path.append((node.parent, node.parent.kids.index(node)))
        node = node.parent
    return path[::-1]


def _argmax_random_tie(values: list[float], rng: np.random.Generator) -> int:
    best = max(values)
    ties = [i for i, v in enumerate(values) if v == best]
    return ties[0] if len(ties) == 1 else int(rng.choice(ties))


def leaf_select(root: Node, cp: float, rng: np.random.Generator) -> tuple[Node, Path]:
    """CE-NAS's default: the leaf with the highest UCT (each with its own parent's count), ties at random."""
    candidates = leaves(root)
    chosen = candidates[_argmax_random_tie([uct(leaf, cp) for leaf in candidates], rng)]
    return chosen, path_to(chosen)


def mcts_select(root: Node, cp: float, rng: np.random.Generator) -> tuple[Node, Path]:
    """Descend from the root, taking the kid with the highest UCT at each level (ties at random)."""
    node = root
    while not node.is_leaf:
        node = node.kids[_argmax_random_tie([uct(kid, cp) for kid in node.kids], rng)]
    return node, path_to(node)


def in_region(x: npt.ArrayLike, path: Path) -> npt.NDArray[np.bool_]:
    """Which points (n, d) the SVMs along `path` send the same way as the path."""
    pts = np.atleast_2d(np.asarray(x, dtype=np.float64))
    inside = np.ones(len(pts), dtype=bool)
    for parent, direction in path:
        if not inside.any():
            break
        assert parent.svm is not None
        idx = np.flatnonzero(inside)
        inside[idx] = parent.svm.predict(pts[idx]) == direction
    return inside
