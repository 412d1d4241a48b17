"""Where the heavy loops run: this process's cores (joblib) or a Dask cluster (dask.distributed).

The Monte Carlo draws (``ctip monte-carlo``) and the risk model's bootstrap (``ctip risk``) are
maps of a pure, top-level function over independent tasks, each carrying its own seed.
:func:`map_tasks` runs such a map

- on this machine (``scheduler="local"``, the default): joblib with ``n_jobs`` workers
  (processes or threads, as the caller prefers);
- on a Dask cluster (``scheduler="tcp://host:8786"``, the address of a running
  ``dask scheduler``): ``dask.distributed.Client.map``, one future per task, each submitted with
  ``pure=False`` so that no two tasks are merged; the workers need the same package version
  (the same ``requirements.lock`` and commit) as the client.

Either way the results come back **in task order** and are the same bytes: a task carries its
seed and never takes randomness, a thread count or a clock from the machine that runs it. Progress
is a rich bar on a terminal and a log line every 10% of the tasks (completion order on a cluster).

The scheduler is not an analysis choice (it changes where, never what), so it is not in
``params.yaml``, where changing it would rerun the stage: it is the ``--scheduler`` option of
``ctip monte-carlo`` and ``ctip risk``, or the environment variable ``CTIP_SCHEDULER`` (which
reaches the stages that ``dvc repro`` runs). ``docs/benchmarks.md`` has a two-node example.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from ctip_research.errors import SchedulerError
from ctip_research.log import get_logger, track

__all__ = [
    "DISTRIBUTED_CHUNKS",
    "LOCAL",
    "SCHEDULER_ENV",
    "is_local",
    "map_tasks",
    "resolve_scheduler",
]

T = TypeVar("T")

#: The scheduler value that keeps the work in this process's machine (joblib).
LOCAL = "local"
#: Environment variable read when no ``--scheduler`` is given.
SCHEDULER_ENV = "CTIP_SCHEDULER"
#: Tasks a chunked loop (the risk bootstrap) is split into on a cluster: enough to spread over a
#: few dozen cores; the result does not depend on it (each replicate has its own seed).
DISTRIBUTED_CHUNKS = 64
#: How long to wait for the Dask scheduler to answer.
CONNECT_TIMEOUT = "30s"

log = get_logger("parallel")


def resolve_scheduler(scheduler: str | None = None) -> str:
    """The scheduler to use: ``scheduler`` if given, else ``$CTIP_SCHEDULER``, else ``"local"``.

    Examples
    --------
    >>> resolve_scheduler("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    >>> resolve_scheduler(" LOCAL ")
    'local'
    """
    value = scheduler if scheduler is not None else os.environ.get(SCHEDULER_ENV, LOCAL)
    value = value.strip()
    if not value or value.lower() == LOCAL:
        return LOCAL
    return value


def is_local(scheduler: str | None) -> bool:
    """Whether ``scheduler`` means this machine (joblib) rather than a Dask cluster.

    Examples
    --------
    >>> is_local("local"), is_local(None), is_local("tcp://127.0.0.1:8786")
    (True, True, False)
    """
    return scheduler is None or resolve_scheduler(scheduler) == LOCAL


def _step(n: int) -> int:
    return max(1, n // 10)


def _map_local(
    func: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    *,
    n_jobs: int,
    prefer: Literal["processes", "threads"],
    description: str,
    progress: bool,
) -> list[T]:
    from joblib import Parallel, delayed

    if progress:
        log.info(
            "%s: %d tasks on this machine (joblib, n_jobs=%d)", description, len(tasks), n_jobs
        )
    if n_jobs == 1:  # no pool to start: the plain loop (and a traceback from the task itself)
        out: Any = (func(*args) for args in tasks)
    else:
        runner = Parallel(n_jobs=n_jobs, prefer=prefer, return_as="generator")
        out = runner(delayed(func)(*args) for args in tasks)
    results: list[T] = []
    start = time.perf_counter()
    step = _step(len(tasks))
    items = track(out, description, total=len(tasks)) if progress else out
    for i, res in enumerate(items, start=1):
        results.append(res)
        if progress and (i % step == 0 or i == len(tasks)):
            log.info("%s: %d/%d in %.0f s", description, i, len(tasks), time.perf_counter() - start)
    return results


def _map_distributed(
    func: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    *,
    address: str,
    description: str,
    progress: bool,
) -> list[T]:
    from dask.distributed import Client, as_completed

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"no Dask scheduler answered at {address} ({type(exc).__name__}); start one "
            "(`dask scheduler`) and its workers (`dask worker <address>`), or run with "
            f"--scheduler {LOCAL}"
        ) from None
    with client:
        workers = client.nthreads()
        log.info(
            "%s: %d tasks on the Dask cluster at %s (%d workers, %d threads)",
            description,
            len(tasks),
            address,
            len(workers),
            sum(workers.values()),
        )
        if not workers:
            log.warning("%s: the cluster has no worker yet; the tasks wait for one", description)
        if not tasks:
            return []
        columns = [list(c) for c in zip(*tasks, strict=True)]
        futures = client.map(func, *columns, pure=False)
        start = time.perf_counter()
        step = _step(len(tasks))
        done = as_completed(futures, loop=client.loop)
        items = track(done, description, total=len(tasks)) if progress else done
        for i, fut in enumerate(items, start=1):
            if fut.status == "error":  # raise the task's own exception at once
                fut.result()
            if progress and (i % step == 0 or i == len(tasks)):
                log.info(
                    "%s: %d/%d in %.0f s", description, i, len(tasks), time.perf_counter() - start
                )
        results: list[T] = client.gather(futures)
    return results


def map_tasks(
    func: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    *,
    scheduler: str | None = None,
    n_jobs: int = 1,
    prefer: Literal["processes", "threads"] = "processes",
    description: str = "tasks",
    progress: bool = True,
) -> list[T]:
    """``[func(*task) for task in tasks]``, on this machine or on a Dask cluster, in task order.

    Parameters
    ----------
    func
        A top-level (picklable) function, pure in its arguments.
    tasks
        One tuple of positional arguments per call.
    scheduler
        ``"local"`` (joblib on this machine) or the address of a Dask scheduler
        (``tcp://host:8786``); ``None`` reads ``$CTIP_SCHEDULER`` (:func:`resolve_scheduler`).
    n_jobs
        joblib workers when local (``-1`` = all cores); ignored on a cluster, where the workers
        the scheduler has decide.
    prefer
        joblib's backend hint when local: ``"processes"`` for Python-heavy tasks, ``"threads"``
        for numpy kernels that release the GIL.
    description
        What the progress bar and log lines call the tasks.
    progress
        Show the bar and the log lines.

    Returns
    -------
    list
        One result per task, in the order of ``tasks`` whatever the order of completion.

    Raises
    ------
    SchedulerError
        No Dask scheduler answers at the address.

    Examples
    --------
    >>> from operator import mul
    >>> map_tasks(mul, [(2, 3), (4, 5)], scheduler="local", progress=False)
    [6, 20]
    """
    where = resolve_scheduler(scheduler)
    if where == LOCAL:
        return _map_local(
            func, tasks, n_jobs=n_jobs, prefer=prefer, description=description, progress=progress
        )
    return _map_distributed(func, tasks, address=where, description=description, progress=progress)
