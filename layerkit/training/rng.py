"""The random generators a `fit` draws from: snapshot and restore, for exact resume.

Who owns what: `capture(model)` snapshots every generator a `fit` draws from (Python's
`random`, NumPy's global MT19937, torch's global CPU generator, the CUDA generators, and
the `seed_generator` of each seeded Dropout / noise / RNN layer of `model`, and the named
`generators` whoever runs the loop adds: a data-parallel fit's shared data-loading
generator) as numpy arrays and numbers; `restore(state, model, generators=...)` sets them.
`TrainingState` calls both; saving stores a snapshot in HDF5 (`saving.rng_state.write` /
`read`). The trainer draws each epoch's permutation (`torch.randperm`) and every Dropout
mask from these generators, so restoring a snapshot makes the following batches draw
exactly what an uninterrupted run draws. A snapshot holds one process's generators: under
data parallelism each rank has its own (see `TrainingState` and `BackupAndRestore`).
"""

import random
import warnings

import numpy as np
import torch


def capture(model=None, generators=None):
    """Snapshots the global generators (and the seeded layers' own ones of `model`).

    Args:
        model: a model whose seeded layers' generators are included, or None.
        generators: None, or a dict {name: generator} of further generators (anything with
            torch.Generator's `get_state()` / `set_state(state)`).

    Returns:
        A dict of numpy arrays and numbers: 'python', 'numpy', 'torch', 'cuda', 'layers',
        'generators' ({name: state}).
    """
    version, words, gauss = random.getstate()
    algorithm, keys, pos, has_gauss, cached = np.random.get_state()
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = [s.numpy() for s in torch.cuda.get_rng_state_all()]
    return {
        "python": {"version": int(version), "words": np.asarray(words, dtype=np.uint64),
                   "gauss": gauss},
        "numpy": {"algorithm": algorithm, "keys": np.asarray(keys, dtype=np.uint32),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state().numpy(),
        "cuda": cuda,
        "layers": {index: (str(gen.device), gen.get_state().numpy())
                   for index, gen in _layer_generators(model)},
        "generators": {name: gen.get_state().numpy().copy()
                       for name, gen in (generators or {}).items()},
    }


def _layer_generators(model):
    """(position in `model.modules()`, generator) of the layers that drew seeded noise."""
    if model is None:
        return []
    return [(i, module.seed_generator) for i, module in enumerate(model.modules())
            if isinstance(getattr(module, "seed_generator", None), torch.Generator)]


def restore(state, model=None, where="the backup", generators=None):
    """Sets the generators to a snapshot from `capture` (or read back from a file).

    Args:
        state: the snapshot.
        model: the model whose seeded layers' generators are set (positions must match).
        where: the snapshot's source, for messages.
        generators: the named generators of `capture` to set ({name: generator}); a named
            state the snapshot holds for a generator absent here is not used, and a
            generator the snapshot has no state for is left as it is (a backup written
            before it existed).

    Raises:
        ValueError: when a state is rejected by its generator or names no seeded layer.
    """
    python = state["python"]
    try:
        random.setstate((python["version"], tuple(int(w) for w in python["words"]),
                         python["gauss"]))
        numpy_state = state["numpy"]
        np.random.set_state((numpy_state["algorithm"],
                             np.asarray(numpy_state["keys"], dtype=np.uint32),
                             numpy_state["pos"], numpy_state["has_gauss"],
                             numpy_state["cached"]))
        torch.set_rng_state(_byte_tensor(state["torch"]))
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{where}: invalid random generator state ({error}); delete the "
                         "backup to start over") from None
    _restore_cuda(state["cuda"], where)
    _restore_layers(state["layers"], model, where)
    _restore_named(state.get("generators", {}), generators or {}, where)


def _byte_tensor(array):
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError(f"a torch generator state is a 1-D uint8 array, received "
                         f"{array.dtype} of shape {array.shape}")
    return torch.from_numpy(array.copy())


def _restore_cuda(states, where):
    if not states:
        return
    if not torch.cuda.is_available() or torch.cuda.device_count() != len(states):
        warnings.warn(f"{where}: saved {len(states)} CUDA generator states, but "
                      f"{torch.cuda.device_count() if torch.cuda.is_available() else 0} CUDA "
                      "devices are visible; CUDA generators are not restored", stacklevel=3)
        return
    torch.cuda.set_rng_state_all([_byte_tensor(s) for s in states])


def _restore_layers(states, model, where):
    if not states:
        return
    modules = list(model.modules()) if model is not None else []
    for index, (device, value) in sorted(states.items()):
        module = modules[index] if 0 <= index < len(modules) else None
        if module is None or getattr(module, "seed", None) is None or \
                not hasattr(module, "seed_generator"):
            raise ValueError(f"{where}: holds the generator state of a seeded layer at "
                             f"position {index}, but the model has no seeded layer there; "
                             "was the backup made by another model?")
        try:
            generator = torch.Generator(device=device)
            generator.set_state(_byte_tensor(value))
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{where}: invalid generator state for layer "
                             f"{getattr(module, 'name', index)!r} ({error})") from None
        module.seed_generator = generator


def _restore_named(states, generators, where):
    for name, value in states.items():
        if name in generators:
            try:
                generators[name].set_state(_byte_tensor(value))
            except (TypeError, ValueError, RuntimeError) as error:
                raise ValueError(f"{where}: invalid state for the generator {name!r} "
                                 f"({error})") from None
