"""Random-number-generator states in HDF5, without pickle: what exact resume needs.

Who owns what: `training.rng` snapshots (`capture(model)`) and sets (`restore(state,
model)`) every generator a `fit` draws from (re-exported here); this module stores a
snapshot as numeric datasets and scalar attributes of an HDF5 group (`write(group,
state)`) and reads it back, checking every field (`read(reader, group)`).
"""

import numpy as np

from ..training.rng import capture as capture
from ..training.rng import restore as restore

_MT_WORDS = 624  # words of the Mersenne Twister state (Python's random and NumPy's)


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
    named = state.get("generators") or {}
    if named:  # the loop's own generators (a data-parallel fit's loading generator)
        group_named = group.create_group("generators")
        for name, value in named.items():
            group_named.create_dataset(name, data=value)


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
        "cuda": [], "layers": {}, "generators": {},
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
    named = reader.group(group, "generators", required=False)
    for name in (named.keys() if named is not None else ()):
        state["generators"][name] = reader.dataset(named, name)
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
