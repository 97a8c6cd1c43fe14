"""The ready-to-train queue R: one-shot-scored candidates, taken lowest dominance number first (spec §3.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cenas.lamoo.dominance import pick_least_dominated


@dataclass
class Candidate:
    x: np.ndarray  # continuous point, shape (d,)
    arch: int
    f_oneshot: np.ndarray  # one-shot objectives, maximisation, shape (m,)
    seq: int


@dataclass
class ReadyQueue:
    """Capacity rule (reference semantics): sampling may start while |R| <= capacity, so R holds at most
    capacity + (number of one-shot GPUs) items; training takes the least-dominated item, ties FIFO."""

    capacity: int
    items: list[Candidate] = field(default_factory=list)

    def accepting(self) -> bool:
        return len(self.items) <= self.capacity

    def push(self, candidate: Candidate) -> None:
        self.items.append(candidate)

    def __len__(self) -> int:
        return len(self.items)

    def pop_best(self, against: np.ndarray | None = None) -> Candidate:
        """Remove and return the item with the lowest dominance number within R (plus `against`, if given)."""
        f = np.array([c.f_oneshot for c in self.items])
        return self.items.pop(pick_least_dominated(f, against))
