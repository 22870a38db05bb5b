"""Reading the pickles inside dataset files without letting them run code.

IMDB and Reuters store ragged sequences as object arrays in `.npz` files, and the CIFAR
batches are Python 2 pickles; both need unpickling. `RestrictedUnpickler` admits only the
globals that rebuilding numpy arrays needs (plain dicts, lists, bytes, str and ints need no
globals at all), so a tampered file cannot reach `os.system` & co. Never `pickle.load` or
`np.load(allow_pickle=True)` here.
"""

import codecs
import io
import pickle
import zipfile

import numpy as np

from layerkit.datasets import _cache


def _latin1_encode(obj, encoding="latin1"):
    # Python 3 pickles bytes with protocol <= 2 as `_codecs.encode(str, "latin1")`;
    # anything other than that exact call is refused.
    if not isinstance(obj, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(
            f"Refusing _codecs.encode({type(obj).__name__}, {encoding!r}) in a dataset pickle."
        )
    return obj.encode("latin1")


# The function numpy's own pickles call to rebuild an array (public name varies by version).
_RECONSTRUCT = np.empty(0).__reduce__()[0]

_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # numpy < 2 spelled the module `numpy.core`, numpy >= 2 `numpy._core`; files written by
    # either must load, so both names map to the running numpy's function.
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds numpy arrays and builtin containers.

    Example:
        >>> RestrictedUnpickler(open(path, "rb"), encoding="bytes").load()  # doctest: +SKIP
    """

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"Refusing to load the global {module}.{name} from a dataset file: only numpy "
                "arrays, dicts, lists, bytes, str and ints are allowed. The file may be "
                "corrupted or malicious."
            ) from None


def loads(data, encoding="ASCII"):
    """Unpickles bytes with `RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def _read_npy(fp):
    """Reads one `.npy` stream: numeric arrays without pickle, object arrays restricted."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    else:
        # 3.0 differs from 2.0 only in the header's text encoding, not in its layout.
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    array = RestrictedUnpickler(fp).load()
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise ValueError(f"object member holds {type(array).__name__}, expected an array")
    return array


def load_npz(path):
    """Loads every array of an `.npz` file into a dict, never running pickled code.

    Args:
        path: the `.npz` file.

    Returns:
        `{name: np.ndarray}` (object arrays as Keras's `np.load(allow_pickle=True)` gives).

    Raises:
        ValueError, zipfile.BadZipFile, pickle.UnpicklingError, EOFError: unreadable file
            (callers turn these into one clear error).
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[: -len(".npy")]] = _read_npy(io.BytesIO(raw.read()))
    return arrays


READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    zipfile.BadZipFile,
    pickle.UnpicklingError,
)


def read_npz(path, origin, keys):
    """Loads `keys` from a dataset `.npz` through the restricted unpickler.

    Raises:
        ValueError: the file is truncated, corrupt, or lacks one of `keys`.
    """
    try:
        arrays = load_npz(path)
        return [arrays[k] for k in keys]
    except READ_ERRORS as err:
        raise _cache.corrupt_file_error(path, origin, f"{type(err).__name__}: {err}") from err
