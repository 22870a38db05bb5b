"""`launch(fn, nprocs)`: runs `fn` on `nprocs` local worker processes, as torchrun would.

For notebooks and tests. Each worker gets torchrun's variables (`RANK`, `WORLD_SIZE`,
`LOCAL_RANK`, `LOCAL_WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`), so a strategy created inside
`fn` joins the group exactly as under `torchrun --nproc_per_node=nprocs`. The parent never
hangs: it waits at most `timeout` seconds, and as soon as one worker raises it stops the others
and raises `WorkerError` carrying that worker's traceback.
"""

import multiprocessing
import os
import pickle
import queue as queue_module
import socket
import time
import traceback


class WorkerError(RuntimeError):
    """A worker raised: the message names its rank and holds its traceback.

    Attributes:
        rank: the failing worker's rank.
        remote_traceback: the worker's formatted traceback.
    """

    def __init__(self, rank, remote_traceback):
        last = remote_traceback.strip().splitlines()[-1] if remote_traceback.strip() else ""
        super().__init__(f"worker rank {rank} failed: {last}\n\n--- traceback of rank {rank} "
                         f"---\n{remote_traceback}")
        self.rank = rank
        self.remote_traceback = remote_traceback


def launch(fn, nprocs, args=(), timeout=300.0, start_method="spawn"):
    """Runs `fn(*args)` on `nprocs` processes and returns their results, by rank.

    Args:
        fn: a picklable function (defined at module level; with `start_method='spawn'` not
            in `__main__` of a notebook). Inside, `MirroredStrategy()` joins the group.
        nprocs: number of worker processes (>= 1).
        args: positional arguments for `fn`, the same on every rank.
        timeout: seconds before all workers are stopped and `TimeoutError` is raised.
        start_method: 'spawn' (default, safe with torch's threads) or 'fork'/'forkserver'.

    Returns:
        A list of the `nprocs` return values (each must be picklable).

    Raises:
        WorkerError: when a worker raised (the first one to report).
        TimeoutError: when the workers did not all finish within `timeout`.
    """
    if isinstance(nprocs, bool) or not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"launch: nprocs must be an int >= 1, received {nprocs!r}")
    context = multiprocessing.get_context(start_method)
    reports = context.Queue()
    port = _free_port()
    workers = [context.Process(target=_worker, args=(rank, nprocs, port, fn, args, reports),
                               daemon=True, name=f"layerkit-rank-{rank}")
               for rank in range(nprocs)]
    for worker in workers:
        worker.start()
    try:
        return _collect(workers, reports, time.monotonic() + float(timeout), timeout)
    finally:
        _stop(workers)


def _collect(workers, reports, deadline, timeout):
    results, silent_exit = {}, {}
    while len(results) < len(workers):
        try:
            rank, ok, payload = reports.get(timeout=0.05)
        except queue_module.Empty:
            rank = None
        if rank is not None:
            if not ok:
                raise WorkerError(rank, payload)
            results[rank] = payload
            continue
        now = time.monotonic()
        for rank, worker in enumerate(workers):
            if rank not in results and worker.exitcode is not None:
                # its report may still be in the pipe: give it a moment before judging
                first = silent_exit.setdefault(rank, now)
                if now - first > 2.0:
                    raise WorkerError(rank, f"the process exited with code {worker.exitcode} "
                                            "without a result or a Python exception")
        if now > deadline:
            pending = [r for r in range(len(workers)) if r not in results]
            raise TimeoutError(f"launch: ranks {pending} did not finish within {timeout:g} s; "
                               "all workers were stopped")
    return [results[rank] for rank in range(len(workers))]


def _stop(workers):
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(5)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _worker(rank, nprocs, port, fn, args, reports):
    """Runs in the child: torchrun's variables, then `fn`, then one report to the parent."""
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(nprocs), LOCAL_RANK=str(rank),
                      LOCAL_WORLD_SIZE=str(nprocs), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    try:
        result = fn(*args)
        pickle.dumps(result)  # an unpicklable result fails here, where it can be reported
        reports.put((rank, True, result))
    except BaseException:  # noqa: BLE001 - every failure must reach the parent
        reports.put((rank, False, traceback.format_exc()))
    finally:
        reports.close()
        reports.join_thread()  # the report is in the pipe before the process may be stopped
        _leave_group()


def _leave_group():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
