"""Where a sweep's cells run: `SerialExecutor`, `LocalPool` (a process pool, one worker per core by default) and
`DaskExecutor` (a `LocalCluster` bound to 127.0.0.1, or an existing scheduler at `tcp://HOST:PORT`). Workers only
compute: they return the record's text and the sweep writes it, so results do not depend on the executor or the worker
count.

Cells that differ only in their trace run together, as one task in one worker (`bundles`), their runs sharing a
memo (`MethodContext.memo`): a method whose search does not see the carbon (vanilla LaMOO, one-shot LaMOO, random
allocation) repeats the same tree fits on every trace, and finds them there. What a memo holds never changes a record
(tested: a bundled sweep's records equal each cell run alone).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from harness.config import RunSpec
from harness.errors import HarnessError
from harness.studies.analysis import AnalysisCell, run_analysis

Task = RunSpec | AnalysisCell
"""What a worker computes: a search run (RunSpec) or a cell of an analysis study."""
Bundle = Sequence[Task]
"""Tasks one worker runs in order, their runs sharing a memo (`bundles`)."""


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
