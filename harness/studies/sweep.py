"""`harness sweep`: run every cell of a study into a content-addressed record store, resumably, on any executor.

Store layout (`OUT/`): `records/KEY.json` (the full run record) and `records/KEY.sha256` (its checksum; `records/.lock`
is held by the one sweep writing the store, which first removes temp files a killed sweep left), where KEY is
the sha256 of the canonical JSON of the cell's resolved run spec (every method option, typed), the project version and
the hash of every data file the cell reads (from the verified tables). A cell whose record and checksum exist and
agree, and whose record's spec is the cell's, is done and skipped; every write is an atomic rename and the checksum is
written after the record, so a sweep killed at any moment (kill -9 included) and started again runs the missing cells
only, and ends with the same bytes as an uninterrupted sweep. Workers only compute: they return the record's text, and
this process writes it, so results do not depend on the executor or the worker count.

Cells that differ only in their trace run together, as one task in one worker (`bundles`), their runs sharing a
memo (`MethodContext.memo`): a method whose search does not see the carbon (vanilla LaMOO, one-shot LaMOO, random
allocation) repeats the same tree fits on every trace, and finds them there. What a memo holds never changes a record
(tested: a bundled sweep's records equal each cell run alone).

Executors: `LocalPool` (a process pool, one worker per core by default), `DaskExecutor` (a `LocalCluster` bound to
127.0.0.1, or an existing scheduler at `tcp://HOST:PORT`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness import __version__
from harness.config import RunSpec
from harness.errors import HarnessError, os_error
from harness.io import atomic_write_text, read_checked, write_checked
from harness.studies.analysis import AnalysisCell, analysis_key, run_analysis
from harness.studies.spec import Cell, Study

RECORDS = "records"
Task = RunSpec | AnalysisCell
"""What a worker computes: a search run (RunSpec) or a cell of an analysis study."""
Bundle = Sequence[Task]
"""Tasks one worker runs in order, their runs sharing a memo (`bundles`)."""


# ------------------------------------------------------------------------------------------------------- keys
def resolved_spec(spec: RunSpec) -> dict[str, Any]:
    """The run spec with every method option resolved and typed (dotted keys): what a run's result depends on."""
    from harness.methods import resolve_options
    from harness.options import flatten, options_dict

    data = spec.to_dict()
    data["budget"] = {k: v for k, v in data["budget"].items() if v is not None}
    data["method_options"] = flatten(options_dict(resolve_options(spec.method, spec.method_options)))
    return data


def data_hashes(spec: RunSpec) -> dict[str, str]:
    """Hash of every data file the run reads (as the verified tables recorded them when built)."""
    from harness.benchmarks import get_benchmark
    from harness.carbon.traces import load_trace
    from harness.runner import data_hashes as hashes

    return hashes(get_benchmark(spec.benchmark), load_trace(spec.trace))


def model_hashes(spec: RunSpec) -> dict[str, str]:
    """Hash of every trained model the run reads (`Method.model_files`: RL weights, forecaster models)."""
    from harness.carbon.traces import load_trace
    from harness.methods import create_method

    return create_method(spec.method, spec.method_options).model_files(load_trace(spec.trace).region)


def cell_key(spec: RunSpec, data: dict[str, str] | None = None) -> str:
    """Content address of a cell: sha256 of its resolved spec, the project version, its data files' hashes (`data`,
    when the caller already has them for the cell's benchmark and trace) and its trained models' hashes."""
    document = {"spec": resolved_spec(spec), "version": __version__, "data": data or data_hashes(spec)}
    models = model_hashes(spec)
    if models:  # keys of runs that read no trained model are as before models were hashed
        document["models"] = models
    return hashlib.sha256(json.dumps(document, sort_keys=True, allow_nan=False).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------ store
@dataclass(frozen=True)
class Store:
    """Run records of one study, addressed by cell key."""

    root: Path

    @property
    def folder(self) -> Path:
        return self.root / RECORDS

    def record_path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def is_done(self, key: str, task: Task) -> bool:
        """The record and its checksum exist, agree, and the record is this cell's (run or analysis result)."""
        from harness.results import parse_record
        from harness.runner import spec_dict

        data = read_checked(self.record_path(key))
        if data is None:
            return False
        try:
            document = json.loads(data)
            if isinstance(task, AnalysisCell):
                return task.matches(document)
            record = parse_record(document)
        except (OSError, ValueError, KeyError, TypeError):
            return False
        expected = json.loads(json.dumps(spec_dict(task, _typed_options(task)), sort_keys=True))
        return record.spec == expected

    def put(self, key: str, text: str) -> None:
        """Write a record, then its checksum (each atomically)."""
        write_checked(self.record_path(key), text)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's lock (one sweep writes a store at a time) and clear temp files a killed sweep left."""
        from filelock import FileLock, Timeout

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.folder / ".lock"))
            lock.acquire(timeout=0)
        except Timeout:
            raise HarnessError(f"another sweep is writing to {self.root}; wait for it or use another --out") from None
        except OSError as exc:
            raise os_error(exc, f"cannot write to {self.root}") from None
        try:
            for stale in self.folder.glob(".*.part"):
                stale.unlink(missing_ok=True)
            yield
        finally:
            lock.release()

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.is_dir() else []


def _typed_options(spec: RunSpec) -> Any:
    from harness.methods import resolve_options

    return resolve_options(spec.method, spec.method_options)


# --------------------------------------------------------------------------------------------------- executors
def run_cell(task: Task, memo: dict[str, Any] | None = None) -> str:
    """Simulate one run (or compute one analysis cell) and return its record as JSON text (nothing is written);
    `memo`: shared with the other runs of its bundle."""
    from harness.runner import execute

    return run_analysis(task) if isinstance(task, AnalysisCell) else execute(task, memo=memo).to_json()


def run_bundle(tasks: Bundle) -> list[str]:
    """Worker task: `run_cell` for each task in order, the runs sharing one memo; their record texts."""
    memo: dict[str, Any] | None = {} if len(tasks) > 1 else None
    return [run_cell(task, memo) for task in tasks]


def bundles(tasks: Sequence[Task]) -> list[list[int]]:
    """Indices of `tasks` grouped to run together: search runs whose specs differ only in their trace (in order of
    first appearance); every analysis cell alone."""
    groups: dict[str, list[int]] = {}
    for i, task in enumerate(tasks):
        if isinstance(task, AnalysisCell):
            key = f"analysis {i}"
        else:
            key = json.dumps(task.to_dict() | {"trace": None}, sort_keys=True, default=str)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def run_bundled(executor: Executor, tasks: Sequence[Task]) -> Iterator[list[tuple[int, str]]]:
    """Run `tasks` on `executor`, grouped by `bundles`; as each bundle finishes, its (task index, record text) pairs."""
    groups = bundles(tasks)
    for index, texts in executor.run([[tasks[i] for i in group] for group in groups]):
        yield list(zip(groups[index], texts, strict=True))


class Executor(Protocol):
    """Runs `run_bundle` over bundles of tasks; yields (bundle index, record texts) as bundles finish, in any order."""

    description: str

    def run(self, work: Sequence[Bundle]) -> Iterator[tuple[int, list[str]]]: ...

    def status(self) -> tuple[int, int]:
        """(bundles running now, workers connected), for progress lines."""
        ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class SerialExecutor:
    description = "this process"
    running = 0

    def run(self, work: Sequence[Bundle]) -> Iterator[tuple[int, list[str]]]:
        for i, bundle in enumerate(work):
            self.running = 1
            yield i, run_bundle(bundle)
        self.running = 0

    def status(self) -> tuple[int, int]:
        return self.running, 1

    def close(self) -> None:
        return None

    def abort(self) -> None:
        return None


def watch_parent(pid: int, every_s: float = 1.0) -> None:
    """In a pool worker: exit as soon as the sweep process `pid` is gone (killed with SIGKILL, say), so that no
    worker outlives it holding memory and a core. Checked from a daemon thread every `every_s` seconds."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(every_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                continue  # alive, another user's (a reused pid): nothing to do

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


class LocalPool:
    """A process pool; at most `workers` bundles run at once (a bounded queue keeps cancellation prompt)."""

    def __init__(self, workers: int) -> None:
        import multiprocessing

        self.workers = workers
        self.description = f"local pool, {workers} worker{'s' * (workers != 1)}"
        context = multiprocessing.get_context("forkserver")  # no fork of a process that may hold threads (rich, torch)
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=watch_parent, initargs=(os.getpid(),)
        )
        self.pending: dict[Future[list[str]], int] = {}

    def status(self) -> tuple[int, int]:
        running = sum(f.running() for f in list(self.pending))  # the pool marks its call queue running too
        return min(running, self.workers), self.workers

    def run(self, work: Sequence[Bundle]) -> Iterator[tuple[int, list[str]]]:
        self.pending = pending = {}
        queue = iter(enumerate(work))
        for i, bundle in queue:
            pending[self.pool.submit(run_bundle, bundle)] = i
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                yield index, future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending[self.pool.submit(run_bundle, nxt[1])] = nxt[0]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop now: cancel queued cells and terminate the workers (no orphan processes; their cells rerun later).
        A worker stopped while sending its result leaves part of a message in the result pipe, on which the pool's
        manager thread would wait forever: once the workers are gone this process closes its own copy of the pipe's
        write end, the last one, so that the wait ends (end of file) and the pool shuts down."""
        processes = list(getattr(self.pool, "_processes", {}).values())  # the pool keeps no public handle
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
        writer = getattr(getattr(self.pool, "_result_queue", None), "_writer", None)
        if writer is not None:
            writer.close()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Dask distributed: a LocalCluster on 127.0.0.1 (`local_workers`) or an existing scheduler (`address`)."""

    def __init__(self, address: str | None = None, local_workers: int | None = None, timeout_s: float = 10.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise HarnessError("Dask executors need `pip install 'cenas-bench[dask]'`") from None
        self.cluster = None
        try:
            if address is None:
                self.cluster = LocalCluster(
                    n_workers=local_workers or 1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    scheduler_port=0,
                    silence_logs=50,
                )
                self.client = Client(self.cluster, timeout=timeout_s)
                self.description = f"Dask LocalCluster on 127.0.0.1, {local_workers or 1} workers"
            else:
                self.client = _connect(Client, address, timeout_s)
                self.description = f"Dask scheduler {address}"
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            raise HarnessError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        if address is not None and not self.status()[1]:
            warnings.warn(
                f"the Dask scheduler at {address} has no workers yet: cells wait until some connect "
                f"(`dask worker {address}` on each machine, or dask-jobqueue; docs/studies.md)",
                NoWorkersWarning,
                stacklevel=2,
            )

    def status(self) -> tuple[int, int]:
        workers = self.client.scheduler_info().get("workers", {})
        return sum(len(tasks) for tasks in self.client.processing().values()), len(workers)

    def run(self, work: Sequence[Bundle]) -> Iterator[tuple[int, list[str]]]:
        from distributed import as_completed

        futures = {self.client.submit(run_bundle, bundle, pure=False): i for i, bundle in enumerate(work)}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def abort(self) -> None:
        self.close()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()


def _connect(client_class: Any, address: str, timeout_s: float) -> Any:
    """A Dask client of the scheduler at `address`, or one HarnessError line within about `timeout_s` seconds: a
    service that is not a Dask scheduler may accept the connection and never answer (an HTTP server), or answer with
    bytes Dask misreads; the attempt runs in a daemon thread so that neither can hold the sweep."""
    import threading

    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["client"] = client_class(address, timeout=timeout_s)
        except BaseException as exc:  # whatever a wrong service makes Dask raise, reported below in one line
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, name="dask-connect", daemon=True)
    thread.start()
    thread.join(timeout_s + 5.0)
    if thread.is_alive():
        raise HarnessError(
            f"no Dask scheduler answered at {address} within {timeout_s + 5.0:.0f} s (is it a Dask "
            "scheduler's address? `dask scheduler` prints it)"
        )
    error = outcome.get("error")
    if isinstance(error, (OSError, TimeoutError, ValueError)):
        raise HarnessError(f"cannot reach the Dask scheduler at {address}: {error}")
    if error is not None:
        raise HarnessError(f"{address} did not answer as a Dask scheduler ({type(error).__name__}: {str(error)[:200]})")
    return outcome["client"]


class SweepWarning(UserWarning):
    """Something a sweep's user should read before it runs (printed as one `warning:` line)."""


class NoWorkersWarning(SweepWarning):
    """A Dask scheduler with no worker connected: a sweep on it waits."""


def worker_limit() -> int:
    """The most local workers a sweep starts: 4 per core (each is a process of ~200 MB; more only contend)."""
    return 4 * (os.cpu_count() or 1)


def make_executor(workers: int | None, scheduler: str | None, dask_local: int | None) -> Executor:
    """The executor the options ask for (checked first: one error line each)."""
    if scheduler and dask_local:
        raise HarnessError("give --scheduler or --dask-local, not both")
    for name, value in (("workers", workers), ("dask-local", dask_local)):
        if value is not None and value < 1:
            raise HarnessError(f"--{name} must be at least 1 (got {value})")
        if value is not None and value > worker_limit():
            warnings.warn(
                f"--{name} {value} is more than 4 per core; using {worker_limit()}", SweepWarning, stacklevel=2
            )
    workers = min(workers, worker_limit()) if workers else workers
    dask_local = min(dask_local, worker_limit()) if dask_local else dask_local
    if scheduler:
        if scheduler.startswith("tls://"):
            raise HarnessError(
                "--scheduler tls://... needs Dask security settings, which harness sweep does not take: "
                "reach the scheduler over tcp:// (e.g. through an SSH tunnel)"
            )
        if not scheduler.startswith("tcp://"):
            raise HarnessError(f"--scheduler must be an address like tcp://HOST:PORT (got {scheduler!r})")
        return DaskExecutor(address=scheduler)
    if dask_local:
        return DaskExecutor(local_workers=dask_local)
    count = workers or (os.cpu_count() or 1)
    return SerialExecutor() if count == 1 else LocalPool(count)


def run_texts(specs: list[RunSpec], workers: int | None = None) -> list[str]:
    """Run `specs` outside any store on a local executor (`workers` processes, default one per core); their record
    texts in spec order."""
    executor = make_executor(workers, None, None)
    try:
        texts = dict(pair for finished in run_bundled(executor, specs) for pair in finished)
    finally:
        executor.close()
    return [texts[i] for i in range(len(specs))]


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
        if spec is None or (spec.method, json.dumps(spec.method_options, sort_keys=True)) in seen:
            continue
        seen.add((spec.method, json.dumps(spec.method_options, sort_keys=True)))
        require(create_method(spec.method, spec.method_options).needs(), f"method {spec.method}")


def check_study_folder(folder: Path, name: str) -> None:
    """`folder` may receive study `name`'s results: it is absent, empty, holds only a records/ folder (a sweep cut
    before its index), or is that study's own folder (its study.json names it). Anything else is a folder this
    command did not make, or another study's: one error line, nothing written."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise HarnessError(f"{folder} is a file, not a folder")
    index = folder / "study.json"
    if index.is_file():
        try:
            owner = json.loads(index.read_text(encoding="utf-8"))["study"]["name"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HarnessError(f"{index} is not a study index ({exc}): refusing to write into {folder}") from None
        if owner != name:
            raise HarnessError(
                f"{folder} holds the results of study {owner!r}: write study {name!r} into its own folder"
            )
        return
    if {p.name for p in folder.iterdir()} - {"records"}:
        raise HarnessError(
            f"{folder} is not empty and holds no study.json: refusing to write study {name!r} into a "
            "folder this command did not make"
        )


def write_index(study: Study, out: Path, cells: list[tuple[Cell | AnalysisCell, str]]) -> Path:
    """`OUT/study.json`: the resolved study and every cell's key and spec (what `load_study` reads)."""
    document = {
        "study": study.to_dict(),
        "version": __version__,
        "cells": [
            {"key": key, "label": cell.label()}
            | ({"method": cell.name} if isinstance(cell, Cell) and cell.name != cell.spec.method else {})
            for cell, key in cells
        ],
    }
    path = out / "study.json"
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return path


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
