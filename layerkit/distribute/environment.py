"""Where this process stands in a distributed run: the one place layerkit reads the launcher's
environment variables.

`config.py` holds layerkit's settings and reads no environment; the launcher's variables are
not settings but facts about how the process was started, so they are read here, once, by
`detect()`:
- `torchrun` (and `layerkit.distribute.launch`): `RANK`, `WORLD_SIZE`, `LOCAL_RANK`,
  `LOCAL_WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`;
- otherwise Keras / TensorFlow's `TF_CONFIG` (JSON: `cluster` with `chief` and `worker`
  addresses, `task` with `type` and `index`): ranks are the chief, then the workers in order;
  the first address is the rendezvous; processes sharing a host get local ranks 0, 1, ...;
- otherwise a single process (rank 0 of 1).
"""

import json
import os
from typing import NamedTuple


class ProcessEnvironment(NamedTuple):
    """This process's place in the run (all ints except the address)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    master_addr: str = "127.0.0.1"
    master_port: int = 29500
    source: str = "single"  # 'torchrun', 'TF_CONFIG' or 'single'


_TORCHRUN = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def detect(environ=None):
    """Reads the launcher's variables (`os.environ` when `environ` is None).

    Returns:
        A `ProcessEnvironment`.

    Raises:
        ValueError: when the variables are incomplete or inconsistent, naming them.
    """
    environ = os.environ if environ is None else environ
    if "RANK" in environ or "WORLD_SIZE" in environ:
        return _from_torchrun(environ)
    if environ.get("TF_CONFIG"):
        return _from_tf_config(environ["TF_CONFIG"])
    return ProcessEnvironment()


def _from_torchrun(environ):
    missing = [name for name in _TORCHRUN if name not in environ]
    if missing:
        raise ValueError(
            f"layerkit.distribute: RANK/WORLD_SIZE are set but {missing} are not. Start the "
            "script with torchrun (which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and "
            "MASTER_PORT) or unset RANK and WORLD_SIZE for a single process"
        )
    world_size = _int(environ, "WORLD_SIZE", minimum=1)
    rank = _int(environ, "RANK", minimum=0)
    if rank >= world_size:
        raise ValueError(f"layerkit.distribute: RANK={rank} must be < WORLD_SIZE={world_size}")
    local_rank = _int(environ, "LOCAL_RANK", minimum=0, default=0)
    local_world = _int(environ, "LOCAL_WORLD_SIZE", minimum=1, default=world_size)
    return ProcessEnvironment(rank, world_size, local_rank, local_world,
                              environ["MASTER_ADDR"], _int(environ, "MASTER_PORT", minimum=1),
                              "torchrun")


def _from_tf_config(text):
    try:
        spec = json.loads(text)
        cluster, task = spec["cluster"], spec["task"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(
            "layerkit.distribute: TF_CONFIG must be JSON like {\"cluster\": {\"worker\": "
            "[\"host:port\", ...]}, \"task\": {\"type\": \"worker\", \"index\": 0}}; "
            f"could not read it ({type(e).__name__}: {e})"
        ) from None
    unsupported = sorted(set(cluster) - {"chief", "worker"})
    if unsupported or kind not in ("chief", "worker"):
        raise ValueError(
            f"layerkit.distribute: TF_CONFIG tasks of type {unsupported or [kind]} are not "
            "supported; data-parallel training uses 'chief' and 'worker' tasks only"
        )
    tasks = [("chief", i, a) for i, a in enumerate(cluster.get("chief", []))] + \
            [("worker", i, a) for i, a in enumerate(cluster.get("worker", []))]
    ranks = [(t, i) for t, i, _ in tasks]
    if (kind, index) not in ranks:
        raise ValueError(f"layerkit.distribute: TF_CONFIG task {kind}:{index} is not in the "
                         f"cluster {cluster}")
    rank = ranks.index((kind, index))
    hosts = [address.rsplit(":", 1)[0] for _, _, address in tasks]
    master_host, _, master_port = tasks[0][2].rpartition(":")
    if not master_port.isdigit():
        raise ValueError(f"layerkit.distribute: TF_CONFIG address {tasks[0][2]!r} needs a "
                         "port (host:port)")
    local_rank = hosts[:rank].count(hosts[rank])
    return ProcessEnvironment(rank, len(tasks), local_rank, hosts.count(hosts[rank]),
                              master_host, int(master_port), "TF_CONFIG")


def _int(environ, name, minimum, default=None):
    if name not in environ and default is not None:
        return default
    value = environ[name]
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ValueError(
            f"layerkit.distribute: environment variable {name} must be an int >= {minimum}, "
            f"received {value!r}"
        )
    return number
