"""Strategies with Keras's names: one process per device, PyTorch's DDP underneath.

    strategy = layerkit.distribute.MirroredStrategy()
    with strategy.scope():
        model = build_model()
        model.compile(...)
    model.fit(x, y, batch_size=64)      # 64 is the global batch

Who owns what: a `Strategy` joins the process group that the launcher described
(`environment.detect()`: torchrun, TF_CONFIG or nothing), picks this rank's device, and
answers where the process stands (`num_replicas_in_sync`, `rank`, `is_chief`). `scope()` makes
it the current strategy (`get_strategy()`), which is how `compile` and `fit` find it. Sharding,
reduction and writing live in their own modules; the strategy offers them for its group.

TensorFlow's MirroredStrategy is one process driving all local GPUs; here, as in PyTorch, it is
one process per GPU, started by `torchrun --nproc_per_node=N script.py` (or
`layerkit.distribute.launch`). Without a launcher it is a single process, so a script runs
unchanged with and without torchrun.
"""

import contextlib

import numpy as np

from .. import config
from . import collectives, environment, reduction, sharding


class Strategy:
    """Data parallelism over the processes the launcher started (base of the Keras names).

    Args:
        timeout: seconds any collective waits for the other ranks before raising
            `CollectiveError` (default 300).
        environ: a mapping read instead of `os.environ` (tests).
    """

    def __init__(self, timeout=None, environ=None):
        self._env = environment.detect(environ)
        self._device = collectives.initialize(self._env, timeout)
        if self._device.type == "cuda":
            config.set_device(self._device)

    @property
    def num_replicas_in_sync(self):
        """Number of processes training together (Keras's name)."""
        return self._env.world_size

    @property
    def rank(self):
        return self._env.rank

    @property
    def local_rank(self):
        return self._env.local_rank

    @property
    def is_chief(self):
        """True on rank 0, the process that prints and writes files."""
        return self._env.rank == 0

    @property
    def device(self):
        """The torch device this rank computes on (`cuda:LOCAL_RANK` or `cpu`)."""
        return self._device

    @property
    def environment(self):
        """The `ProcessEnvironment` this strategy was created from."""
        return self._env

    @contextlib.contextmanager
    def scope(self):
        """Makes this the current strategy: models built and compiled inside use it."""
        _STACK.append(self)
        try:
            yield self
        finally:
            _STACK.remove(self)

    def shared_seed(self, seed=None):
        """A seed every rank agrees on: `seed`, or one drawn on rank 0 and broadcast."""
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1)) if self.is_chief else None
        return int(collectives.broadcast_object(seed, what="the shuffling seed"))

    def epoch_shards(self, order, batch_size):
        """This rank's `Shard`s of one epoch (see `layerkit.distribute.sharding`)."""
        return sharding.epoch_shards(order, batch_size, self.num_replicas_in_sync, self.rank)

    def reduce_metrics(self, metrics):
        """Sums the metrics' states across ranks, in place (see `reduction`)."""
        return reduction.all_reduce_metrics(metrics)

    def should_stop(self, flag):
        """OR of `flag` over all ranks."""
        return reduction.should_stop(flag)

    def run(self, fn, args=(), kwargs=None):
        """Keras's `strategy.run`: one replica per process, so `fn(*args, **kwargs)`."""
        return fn(*args, **(kwargs or {}))

    def __repr__(self):
        return (f"<{type(self).__name__} rank={self.rank} "
                f"num_replicas_in_sync={self.num_replicas_in_sync} device={self.device}>")


class MirroredStrategy(Strategy):
    """Keras's single-machine strategy: one process per local GPU (or CPU process).

    Args:
        devices: None (one device per process: `cuda:LOCAL_RANK`), or a list whose length
            must be the number of local processes, for scripts written for TensorFlow.
        cross_device_ops: accepted for TensorFlow scripts; gradients are all-reduced by DDP
            (NCCL on GPUs, gloo on CPUs) whatever is passed.
        timeout: see `Strategy`.
    """

    def __init__(self, devices=None, cross_device_ops=None, timeout=None, environ=None):
        super().__init__(timeout=timeout, environ=environ)
        if devices is not None and len(devices) != self._env.local_world_size:
            raise ValueError(
                f"MirroredStrategy(devices={list(devices)}): layerkit runs one process per "
                f"device and this machine has {self._env.local_world_size} process(es). "
                f"Start the script with torchrun --nproc_per_node={len(devices)}, or pass "
                "devices=None"
            )


class MultiWorkerMirroredStrategy(Strategy):
    """Keras's several-machine strategy: `torchrun --nnodes=M --nproc_per_node=N` or TF_CONFIG.

    Args:
        cluster_resolver / communication_options: accepted for TensorFlow scripts; the
            cluster comes from torchrun's variables or TF_CONFIG.
        timeout: see `Strategy`.
    """

    def __init__(self, cluster_resolver=None, communication_options=None, timeout=None,
                 environ=None):
        super().__init__(timeout=timeout, environ=environ)


class _DefaultStrategy(Strategy):
    """What `get_strategy()` answers outside any scope: this process alone, nothing joined."""

    def __init__(self):  # noqa: D107 - reads no environment, joins no group
        self._env = environment.ProcessEnvironment()
        self._device = config.device()


_STACK = []


def get_strategy():
    """The strategy of the innermost `strategy.scope()`; outside any scope, a default
    single-process strategy (tf.distribute's default strategy)."""
    return _STACK[-1] if _STACK else _DefaultStrategy()


def strategy_of(model):
    """The strategy a `fit` of `model` runs under: the current `scope()`'s, else the one
    `model` was compiled under (`model.distribute_strategy`), else the default one."""
    if has_strategy():
        return get_strategy()
    return getattr(model, "distribute_strategy", None) or _DefaultStrategy()


def has_strategy():
    """True inside a `strategy.scope()` (tf.distribute's name)."""
    return bool(_STACK)
