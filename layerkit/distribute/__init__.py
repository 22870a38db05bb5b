"""Data-parallel training on PyTorch's distributed engine, with Keras's names.

Who owns what:
- `environment` reads how the process was launched (torchrun's variables or TF_CONFIG): the
  only module of layerkit that reads environment variables.
- `collectives` joins the process group and runs the collectives, with timeouts and errors
  that say what was being synchronised.
- `strategy` holds `MirroredStrategy` / `MultiWorkerMirroredStrategy` and `scope()`.
- `sharding` is the pure arithmetic of which samples each rank takes, and the gradient factor
  that keeps uneven batches exact.
- `replica` binds a model to DDP for a `fit` (gradient all-reduce, the factor, ghost shards).
- `shared_memory` all-reduces among CPU ranks of one host through a /dev/shm segment (the
  replica's DDP communication hook and the epoch-end sums); gloo and NCCL elsewhere.
- `sync_batch` sums `BatchNormalization(synchronized=True)`'s moments across ranks during
  a replica's training step (a differentiable all-gather that keeps uneven shards exact).
- `data_parallel` is what the trainer calls: sharded epoch iterators, reductions at each
  epoch's end, the OR-reduced stop flag (None in one process: the loop is unchanged).
- `reduction` turns per-rank accumulators into global numbers (metrics, stop flag, BN stats).
- `chief` lets rank 0 print and write files.
- `launch` starts local worker processes (notebooks, tests) and never hangs.
"""

from .chief import chief_only as chief_only
from .chief import is_chief as is_chief
from .chief import write_atomically as write_atomically
from .collectives import CollectiveError as CollectiveError
from .launch import WorkerError as WorkerError
from .launch import launch as launch
from .reduction import all_reduce_metrics as all_reduce_metrics
from .reduction import should_stop as should_stop
from .strategy import MirroredStrategy as MirroredStrategy
from .strategy import MultiWorkerMirroredStrategy as MultiWorkerMirroredStrategy
from .strategy import Strategy as Strategy
from .strategy import get_strategy as get_strategy
from .strategy import has_strategy as has_strategy
