"""`harness sweep`: run every missing cell of a study into its record store (`harness.studies.store`), resumably, on
any executor (`harness.studies.executors`), then index it. A sweep killed at any moment (kill -9 included) and started
again runs the missing cells only, and ends with the same bytes as an uninterrupted sweep.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import HarnessError
from harness.studies.analysis import AnalysisCell, analysis_key
from harness.studies.executors import Executor, Task, run_bundled
from harness.studies.spec import Cell, Study
from harness.studies.store import Store, cell_key, check_study_folder, data_hashes, write_index


# ------------------------------------------------------------------------------------------------------- sweep
@dataclass
class SweepResult:
    total: int
    skipped: int
    ran: int
    keys: list[str]
    seconds: float


Progress = Callable[[int, int, float], None]
"""progress(done, total, elapsed_s) after every finished cell."""


def task_of(cell: Cell | AnalysisCell) -> Task:
    return cell if isinstance(cell, AnalysisCell) else cell.spec


def plan(study: Study, only: str | None = None) -> list[tuple[Cell | AnalysisCell, str]]:
    """(cell, key) for every cell of the study (optionally only those whose label contains every `only` term)."""
    cells = study.cells()
    if only:
        terms = [t.strip() for t in only.split(",") if t.strip()]
        cells = [c for c in cells if all(t in c.label() for t in terms)]
        if not cells:
            raise HarnessError(f"--only {only!r} matches no cell of study {study.name}")
    data: dict[tuple[str, str], dict[str, str]] = {}  # the same for every cell on one benchmark and trace
    keys = []
    for cell in cells:
        if isinstance(cell, AnalysisCell):
            keys.append(analysis_key(cell, __version__))
            continue
        pair = (cell.spec.benchmark, cell.spec.trace)
        if pair not in data:
            data[pair] = data_hashes(cell.spec)
        keys.append(cell_key(cell.spec, data[pair]))
    return list(zip(cells, keys, strict=True))


def sweep(
    study: Study, out: Path, executor: Executor, only: str | None = None, progress: Progress | None = None
) -> SweepResult:
    """Run the study's missing cells into `out` and write its index; returns what was done."""
    check_study_folder(out, study.name)
    start = time.monotonic()
    cells = plan(study, only)
    _require_extras(cells)
    store = Store(out)
    with store.writing():
        todo = [(cell, key) for cell, key in cells if not store.is_done(key, task_of(cell))]
        skipped = len(cells) - len(todo)
        done = skipped
        if progress:
            progress(done, len(cells), 0.0)
        for finished in run_bundled(executor, [task_of(cell) for cell, _ in todo]):
            for i, text in finished:
                store.put(todo[i][1], text)
                done += 1
            if progress:
                progress(done, len(cells), time.monotonic() - start)
        write_index(study, out, cells)
    return SweepResult(len(cells), skipped, len(todo), [k for _, k in cells], time.monotonic() - start)


def _require_extras(cells: list[tuple[Any, str]]) -> None:
    """One error line before any cell runs when a method's options need a module the install lacks (torch)."""
    from harness.methods import create_method
    from harness.optional import require

    seen = set()
    for cell, _ in cells:
        spec = getattr(cell, "spec", None)
        variant = spec and (spec.method, json.dumps(spec.method_options, sort_keys=True))
        if spec is None or variant in seen:
            continue
        seen.add(variant)
        require(create_method(spec.method, spec.method_options).needs(), f"method {spec.method}")


def log_line(name: str, done: int, total: int, elapsed_s: float, skipped: int) -> str:
    """A plain progress line: done/total, cells per minute and ETA (for non-terminal output)."""
    ran = done - skipped
    rate = ran / elapsed_s * 60 if elapsed_s > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else float("nan")
    eta_text = f"{eta:.1f} min" if eta == eta else "?"
    return f"sweep {name}: {done}/{total} cells, {rate:.1f} cells/min, ETA {eta_text}"


class Heartbeat:
    """A plain status line at least every `every_s` seconds while a sweep runs, even when no cell finishes (a long
    cell, or a scheduler without workers): cells done, bundles running, cells queued, workers connected. `done` is
    updated by the sweep's progress callback; `say(line)` prints."""

    def __init__(self, name: str, executor: Executor, say: Callable[[str], None], every_s: float = 30.0) -> None:
        import threading

        self.name, self.executor, self.say, self.every_s = name, executor, say, every_s
        self.done, self.total, self.last = 0, 0, time.monotonic()
        self.start = self.last
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="sweep-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def update(self, done: int, total: int) -> None:
        """A cell finished (or the sweep started); a line printed by the caller counts as a beat."""
        self.done, self.total, self.last = done, total, time.monotonic()

    def line(self) -> str:
        try:
            running, workers = self.executor.status()
        except Exception as exc:  # a status query must never stop a sweep
            return f"sweep {self.name}: {self.done}/{self.total} cells done; executor status unavailable ({exc})"
        queued = self.total - self.done
        return (
            f"sweep {self.name}: {self.done}/{self.total} cells done, {running} bundle(s) running, {queued} cells "
            f"to go, {workers} worker(s) connected, {time.monotonic() - self.start:.0f} s elapsed"
        )

    def _beat(self) -> None:
        while not self.stopped.wait(min(1.0, self.every_s)):
            if time.monotonic() - self.last >= self.every_s:
                self.last = time.monotonic()
                self.say(self.line())


def is_terminal() -> bool:
    return sys.stderr.isatty()
