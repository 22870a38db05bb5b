"""Random-number-generator states in HDF5, without pickle: what exact resume needs.

Who owns what: `capture(model)` snapshots every generator a `fit` draws from (Python's
`random`, NumPy's global MT19937, torch's global CPU generator, the CUDA generators, and
the private generator of each seeded Dropout / noise / RNN layer); `write(group, state)`
stores the snapshot as numeric datasets and scalar attributes of an HDF5 group;
`read(reader, group)` reads it back, checking every field; `restore(state, model)` sets
the generators. The trainer draws each epoch's permutation (`torch.randperm`) and every
Dropout mask from these generators, so restoring the snapshot taken at an epoch end makes
the following epochs draw exactly what an uninterrupted run draws.
"""

import random
import warnings

import numpy as np
import torch

_MT_WORDS = 624  # words of the Mersenne Twister state (Python's random and NumPy's)


def capture(model=None):
    """Snapshots the global generators (and the seeded layers' own ones of `model`).

    Args:
        model: a model whose seeded layers' generators are included, or None.

    Returns:
        A dict of numpy arrays and numbers: 'python', 'numpy', 'torch', 'cuda', 'layers'.
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
    }


def _layer_generators(model):
    """(position in `model.modules()`, generator) of the layers that drew seeded noise."""
    if model is None:
        return []
    return [(i, module._generator) for i, module in enumerate(model.modules())
            if isinstance(getattr(module, "_generator", None), torch.Generator)]


def write(group, state):
    """Stores a `capture()` snapshot in the HDF5 group `group` (datasets and attributes)."""
    python = group.create_dataset("python", data=state["python"]["words"])
    python.attrs["version"] = state["python"]["version"]
    if state["python"]["gauss"] is not None:
        python.attrs["gauss"] = float(state["python"]["gauss"])
    numpy_state = state["numpy"]
    keys = group.create_dataset("numpy", data=numpy_state["keys"])
    keys.attrs["algorithm"] = numpy_state["algorithm"]
    for name in ("pos", "has_gauss", "cached"):
        keys.attrs[name] = numpy_state[name]
    group.create_dataset("torch", data=state["torch"])
    cuda = group.create_group("cuda")
    for i, value in enumerate(state["cuda"]):
        cuda.create_dataset(str(i), data=value)
    layers = group.create_group("layers")
    for index, (device, value) in state["layers"].items():
        layers.create_dataset(str(index), data=value).attrs["device"] = device


def read(reader, group):
    """Reads a snapshot written by `write` through an `h5_format.Reader`.

    Raises:
        ValueError: for a missing or malformed field, naming it.
    """
    where = reader.where
    words = reader.dataset(group, "python")
    keys = reader.dataset(group, "numpy")
    python_ds, keys_ds = group["python"], group["numpy"]
    if words.shape != (_MT_WORDS + 1,) or keys.shape != (_MT_WORDS,):
        raise ValueError(f"{where}: rng_state holds Mersenne Twister states of shapes "
                         f"{words.shape} and {keys.shape}; expected ({_MT_WORDS + 1},) and "
                         f"({_MT_WORDS},)")
    gauss = python_ds.attrs.get("gauss")
    state = {
        "python": {"version": attr_int(python_ds, "version", where),
                   "words": words, "gauss": None if gauss is None else float(gauss)},
        "numpy": {"algorithm": _attr_text(keys_ds, "algorithm", where), "keys": keys,
                  "pos": attr_int(keys_ds, "pos", where),
                  "has_gauss": attr_int(keys_ds, "has_gauss", where),
                  "cached": float(keys_ds.attrs.get("cached", 0.0))},
        "torch": reader.dataset(group, "torch"),
        "cuda": [], "layers": {},
    }
    cuda = reader.group(group, "cuda", required=False)
    if cuda is not None:
        state["cuda"] = [reader.dataset(cuda, str(i)) for i in range(len(cuda))]
    layers = reader.group(group, "layers", required=False)
    for name in (layers.keys() if layers is not None else ()):
        if not name.isdigit():
            raise ValueError(f"{where}: rng_state/layers/{name!r} is not a layer position")
        device = _attr_text(layers[name], "device", where)
        state["layers"][int(name)] = (device, reader.dataset(layers, name))
    return state


def attr_int(obj, name, where):
    """The integer attribute `name` of an HDF5 object (ValueError naming it otherwise)."""
    value = obj.attrs.get(name)
    if value is None or np.asarray(value).dtype.kind not in "iu" or np.asarray(value).size != 1:
        raise ValueError(f"{where}: {obj.name} attribute {name!r} must be an integer, "
                         f"received {value!r}")
    return int(np.asarray(value).reshape(()))


def _attr_text(obj, name, where):
    value = obj.attrs.get(name)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise ValueError(f"{where}: {obj.name} attribute {name!r} must be text, received "
                         f"{value!r}")
    return value


def restore(state, model=None, where="the backup"):
    """Sets the generators to a snapshot from `capture` or `read`.

    Args:
        state: the snapshot.
        model: the model whose seeded layers' generators are set (positions must match).
        where: the snapshot's source, for messages.

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
                not hasattr(module, "_generator"):
            raise ValueError(f"{where}: holds the generator state of a seeded layer at "
                             f"position {index}, but the model has no seeded layer there; "
                             "was the backup made by another model?")
        try:
            generator = torch.Generator(device=device)
            generator.set_state(_byte_tensor(value))
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{where}: invalid generator state for layer "
                             f"{getattr(module, 'name', index)!r} ({error})") from None
        module._generator = generator
