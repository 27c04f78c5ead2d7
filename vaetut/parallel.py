"""Independent trainings in parallel: worker processes on this machine (joblib's loky) or an existing Dask cluster.

`run` is the engine and `fit_many` its public face. A task runs in a worker exactly as it would
here: it sets its own seed and thread count (one torch thread by default), so its result is
bit-identical to the serial one whatever runs where. The data every task needs (the training
images) goes to each worker once per call, not once per task: as numpy arrays, which joblib
memory-maps (Varoquaux et al., joblib) and Dask broadcasts (``client.scatter(broadcast=True)``,
Rocklin 2015, *Dask: parallel computation with blocked algorithms and task scheduling*), turned
into a tensor once per worker. Local workers persist across calls (loky's reusable executor),
ignore Ctrl-C (the caller handles it and terminates them) and a worker's death ends the run with
`WorkerDied`.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .models import positive_int
from .train import MAX_THREADS, History, fit

__all__ = ["Job", "fit_many", "run", "WorkerDied", "DASK_HINT"]

DASK_HINT = "pip install 'vaetut[dask]'"
NO_WORKER_TIMEOUT = 30.0  # seconds a Dask cluster may have no worker before the run gives up
GLOBAL_RNG = (
    threading.Lock()
)  # Dask runs tasks in threads: seeding and drawing from torch's global RNG must not interleave


class WorkerDied(RuntimeError):
    """A worker process died during a parallel run (killed, out of memory): the run is abandoned."""


@dataclass
class Job:
    """One training of `fit_many`: ``vaetut.fit(model, y, **fit_kwargs)``."""

    model: torch.nn.Module
    y: torch.Tensor
    fit_kwargs: dict = field(default_factory=dict)


# --- in the workers ------------------------------------------------------------------------------------------------

_CACHE: dict = {}  # token -> tensors: the data of the current call, one copy per worker process
_CACHE_LOCK = threading.Lock()


def _worker_init() -> None:
    """A local worker ignores Ctrl-C: the caller gets it and terminates the workers (no traceback from each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _tensors(token: str, arrays: tuple) -> tuple:
    """The call's data as tensors, made once per worker process (a private, writable copy of the shared arrays)."""
    with _CACHE_LOCK:
        if token not in _CACHE:
            _CACHE.clear()  # the previous call's data
            _CACHE[token] = tuple(a if isinstance(a, torch.Tensor) else torch.from_numpy(np.array(a)) for a in arrays)
        return _CACHE[token]


def _call(function, token: str, arrays: tuple, task: tuple):
    return function(_tensors(token, arrays), *task)


# --- in the caller -------------------------------------------------------------------------------------------------


def caller_state():
    """Everything a task may change in the caller's process: the RNGs and torch's thread count."""
    return random.getstate(), np.random.get_state(), torch.random.get_rng_state(), torch.get_num_threads()


def restore(state) -> None:
    python, numpy, torch_cpu, threads = state
    random.setstate(python)
    np.random.set_state(numpy)
    torch.random.set_rng_state(torch_cpu)
    torch.set_num_threads(threads)


def _shareable(tensor: torch.Tensor):
    """A numpy view of tensor's data (joblib memory-maps it, Dask ships it without pickling), or the tensor itself."""
    tensor = tensor.detach().cpu().contiguous()
    try:
        return tensor.numpy()
    except TypeError:  # a dtype numpy lacks (bfloat16): pickled as a tensor instead
        return tensor


def check_engine(n_jobs, scheduler, n_tasks: int) -> int | None:
    """The number of local workers (None on a cluster), checked before any work."""
    if scheduler is not None:
        if n_jobs is not None:
            raise ValueError("give n_jobs (local workers) or scheduler (a Dask cluster), not both")
        if not isinstance(scheduler, str) and type(scheduler).__name__ != "Client":
            raise TypeError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786', got {scheduler!r}")
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ImportError(f"scheduler= needs dask and distributed: {DASK_HINT}") from None
        return None
    if n_jobs is None:
        return max(1, min(os.cpu_count() or 1, n_tasks))
    n_jobs = positive_int("n_jobs", n_jobs)
    if n_jobs > MAX_THREADS:
        raise ValueError(f"n_jobs must be at most {MAX_THREADS}, got {n_jobs}")
    return min(n_jobs, max(n_tasks, 1))


def run(function, tasks: Sequence[tuple], data: tuple, *, n_jobs: int | None = None, scheduler=None) -> list:
    """``[function(data, *task) for task in tasks]``, in order, on ``n_jobs`` local workers or a Dask cluster.

    ``function`` must be importable (a module-level function); ``data`` is a tuple of tensors
    every task reads and none writes, sent to each worker once. n_jobs=1 runs here, in turn.
    ``scheduler``: the address of a running Dask scheduler (``"tcp://HOST:PORT"``) or a
    ``distributed.Client``. Raises `WorkerDied` if a worker dies, and a task's own error as is.
    """
    tasks = list(tasks)
    n_jobs = check_engine(n_jobs, scheduler, len(tasks))
    if scheduler is None and n_jobs == 1:
        return [function(data, *task) for task in tasks]
    token = uuid.uuid4().hex
    arrays = tuple(_shareable(t) for t in data)
    if scheduler is not None:
        return _on_cluster(function, tasks, token, arrays, scheduler)
    return _on_local_workers(function, tasks, token, arrays, n_jobs)


def _on_local_workers(function, tasks, token, arrays, n_jobs) -> list:
    from joblib import Parallel, delayed, parallel_config
    from joblib.externals.loky.process_executor import BrokenProcessPool

    try:
        with parallel_config(backend="loky", initializer=_worker_init):
            return Parallel(n_jobs=n_jobs)(delayed(_call)(function, token, arrays, task) for task in tasks)
    except BrokenProcessPool as error:  # loky has terminated the other workers
        raise WorkerDied(f"a worker process died (killed, or out of memory): {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _on_cluster(function, tasks, token, arrays, scheduler) -> list:
    import distributed

    own = isinstance(scheduler, str)
    if own:
        try:
            client = distributed.Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler}: {_first_line(error)}") from None
    else:
        client = scheduler
    futures: list = []
    try:
        try:
            client.wait_for_workers(1, timeout=NO_WORKER_TIMEOUT)
        except TimeoutError:
            raise WorkerDied(f"the Dask cluster has no worker (waited {NO_WORKER_TIMEOUT:.0f} s)") from None
        shared = client.scatter(list(arrays), broadcast=True, hash=False)

        def submit(task):
            nonlocal shared
            if any(s.status != "finished" for s in shared):  # the data went down with its workers: send it again
                shared = client.scatter(list(arrays), broadcast=True, hash=False)
            return client.submit(_call, function, token, shared, task, pure=False)

        futures = [submit(task) for task in tasks]
        return _gather(client, futures, tasks, submit)
    finally:
        if futures:
            client.cancel(futures, force=True)  # on error or Ctrl-C: nothing more starts
        if own:
            client.close()


def _gather(client, futures: list, tasks: list, submit) -> list:
    """The futures' results, each fetched as soon as it is ready (a worker that dies later cannot lose it).

    A task the cluster lost (its worker died) is submitted again, up to 3 times: its result does not
    depend on where it runs. A clear `WorkerDied` instead of waiting for a cluster with no worker left.
    """
    import distributed

    results: dict[int, object] = {}
    again = [0] * len(futures)
    alone_since = None
    while len(results) < len(futures):
        for i, future in enumerate(futures):
            if i in results:
                continue
            if future.status == "finished":
                results[i] = future.result()
                future.release()
            elif future.status == "error":
                error = future.exception()
                if isinstance(error, distributed.KilledWorker):
                    raise WorkerDied(f"a Dask worker died running a task, again and again: {_first_line(error)}")
                raise error
            elif future.status in ("cancelled", "lost"):
                again[i] += 1
                if again[i] > 3:
                    raise WorkerDied("the Dask cluster lost a task 3 times: its workers keep dying")
                futures[i] = submit(tasks[i])
        if client.scheduler_info().get("workers"):
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > NO_WORKER_TIMEOUT:
            raise WorkerDied(f"every Dask worker died: none for {NO_WORKER_TIMEOUT:.0f} s")
        time.sleep(0.1)
    return [results[i] for i in range(len(futures))]


# --- fit_many ------------------------------------------------------------------------------------------------------


def _fit_job(data: tuple, index: int, model: torch.nn.Module, fit_kwargs: dict, threads: int):
    torch.set_num_threads(threads)
    history = fit(model, data[index], **fit_kwargs)
    return history, model.state_dict(), model.training


def _check_jobs(jobs) -> list[Job]:
    if isinstance(jobs, (str, bytes)) or not isinstance(jobs, Sequence):
        raise TypeError(f"jobs must be a sequence of Job or (model, y, fit_kwargs), got {type(jobs).__name__}")
    checked = []
    for i, job in enumerate(jobs):
        if not isinstance(job, Job):
            if not isinstance(job, (tuple, list)) or len(job) not in (2, 3):
                raise TypeError(f"jobs[{i}] must be a Job or a tuple (model, y, fit_kwargs), got {job!r:.80}")
            job = Job(*job)
        if not isinstance(job.model, torch.nn.Module):
            raise TypeError(f"jobs[{i}]: model must be a torch.nn.Module, got {type(job.model).__name__}")
        if not isinstance(job.y, torch.Tensor):
            raise TypeError(f"jobs[{i}]: y must be a torch.Tensor, got {type(job.y).__name__}")
        if not isinstance(job.fit_kwargs, dict):
            raise TypeError(f"jobs[{i}]: fit_kwargs must be a dict, got {type(job.fit_kwargs).__name__}")
        checked.append(job)
    if not checked:
        raise ValueError("jobs must not be empty")
    models = [id(job.model) for job in checked]
    if len(set(models)) != len(models):
        raise ValueError("jobs must not share a model: each job trains its own")
    return checked


def fit_many(jobs, n_jobs: int | None = None, scheduler=None, *, threads: int = 1) -> list[History]:
    """Train several independent models in parallel: ``[vaetut.fit(model, y, **fit_kwargs) for each job]``.

    jobs: `Job` objects or tuples ``(model, y, fit_kwargs)``. Returns the list of `History`, in
    order, and leaves each trained model's weights in the caller's model object, exactly (bit
    for bit) as calling `vaetut.fit` on each in turn in one process with ``threads`` torch
    threads would. Each distinct ``y`` goes to each worker once. ``n_jobs`` local worker
    processes (None: one per core, at most one per job; 1: in turn, in this process) or
    ``scheduler``, the address of a Dask scheduler (see `run`). ``fit_kwargs`` go to `fit` as they
    are, seed included: a training draws all its randomness from its ``seed``. The caller's
    thread count is left as it was.
    """
    jobs = _check_jobs(jobs)
    threads = positive_int("threads", threads)
    if threads > MAX_THREADS:
        raise ValueError(f"threads must be at most {MAX_THREADS}, got {threads}")
    data, where = [], {}
    for job in jobs:  # each distinct tensor once
        if id(job.y) not in where:
            where[id(job.y)] = len(data)
            data.append(job.y)
    tasks = [(where[id(job.y)], job.model, job.fit_kwargs, threads) for job in jobs]
    saved = torch.get_num_threads()
    try:
        results = run(_fit_job, tasks, tuple(data), n_jobs=n_jobs, scheduler=scheduler)
    finally:
        torch.set_num_threads(saved)
    histories = []
    for job, (history, weights, training) in zip(jobs, results):
        if "device" in job.fit_kwargs:
            job.model.to(job.fit_kwargs["device"])
        job.model.load_state_dict(weights)
        job.model.train(training)
        histories.append(history)
    return histories
