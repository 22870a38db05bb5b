"""Checksums in the files layerkit writes, checked whenever a file is read.

Who owns what:
- `Sealer` stamps an HDF5 file while layerkit writes it: every dataset gets the attribute
  `layerkit_crc32` (the block size, then the CRC-32 of each block of its little-endian
  bytes), and `close()` writes the root attribute `layerkit_integrity`: JSON with the
  CRC-32 of every text attribute (`model_config`, `layer_names`, `weight_names`, ...) and
  of the other members of a `.keras` zip (`config.json`). Keras reads neither attribute,
  so the files stay ordinary Keras files.
- `Verifier` (one per HDF5 file read, owned by `h5_format.Reader`) checks them. A file with
  the root attribute must carry a checksum on every dataset and text attribute it is read
  for; a file without it (written by Keras) must carry none: anything in between is damage.
- Loading with `verify=False` skips all of it, to salvage what a damaged file still holds.

CRC-32 (zlib) runs at about 3.5 GB/s per core and releases the GIL, so the blocks of large
weights are checked on several threads.
"""

import concurrent.futures
import json
import os
import zlib

import numpy as np

DATASET_ATTR = "layerkit_crc32"
MANIFEST_ATTR = "layerkit_integrity"
VERSION = 1
BLOCK = 4 * 2 ** 20
_THREADED = 2 * BLOCK  # buffers at least this large are checked on the thread pool
_POOL = []


def _pool():
    if not _POOL:
        workers = max(1, min(4, os.cpu_count() or 1))
        _POOL.append(concurrent.futures.ThreadPoolExecutor(workers, "layerkit-crc32"))
    return _POOL[0]


def _bytes(array):
    """The C-order little-endian bytes of `array`, as a flat memoryview (no copy if possible)."""
    array = np.asarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    array = np.ascontiguousarray(array)
    return memoryview(array.reshape(-1).view(np.uint8)) if array.size else memoryview(b"")


def block_crcs(array, block=BLOCK):
    """CRC-32 of each `block`-byte piece of the array's little-endian bytes.

    Returns:
        A list of ints (one, CRC of nothing, for an empty array).
    """
    data = _bytes(array)
    pieces = [data[i:i + block] for i in range(0, len(data), block)] or [data]
    if len(data) < _THREADED:
        return [zlib.crc32(piece) for piece in pieces]
    return list(_pool().map(zlib.crc32, pieces))


def dataset_checksum(array):
    """The `layerkit_crc32` attribute value of a dataset holding `array`."""
    return np.array([BLOCK] + block_crcs(array), dtype=np.int64)


def texts(value):
    """The strings of a text attribute value (str, bytes or an array of them), else None."""
    if isinstance(value, (str, bytes)):
        value = [value]
    array = np.asarray(value)
    if array.dtype.kind not in "OSU":
        return None
    out = []
    for item in array.reshape(-1):
        if isinstance(item, bytes):
            try:
                item = item.decode("utf-8")
            except UnicodeDecodeError:
                return None
        if not isinstance(item, str):
            return None
        out.append(item)
    return out


def text_crc(strings):
    return zlib.crc32(json.dumps(strings, ensure_ascii=False).encode("utf-8"))


# ============================================================================== writing
class Sealer:
    """Writes datasets and text attributes with their checksums into an open HDF5 file.

    Args:
        handle: an `h5py.File` open for writing.

    Example:
        >>> with h5py.File(tmp, "w") as handle:
        ...     sealer = Sealer(handle)
        ...     sealer.dataset(handle, "x", np.zeros(3))
        ...     sealer.close()
    """

    def __init__(self, handle):
        self.handle = handle
        self.attributes = {}
        self.members = {}

    def dataset(self, parent, name, data):
        """Creates the dataset `name` in `parent` holding `data`, with its checksum."""
        array = np.asarray(data)
        created = parent.create_dataset(name, data=array)
        created.attrs[DATASET_ATTR] = dataset_checksum(array)
        return created

    def text(self, obj, key, value):
        """Sets the text attribute `key` of `obj` and records its checksum."""
        obj.attrs[key] = value
        self.attributes[f"{obj.name}:{key}"] = text_crc(texts(value))

    def member(self, name, data):
        """Records the checksum of another member of a `.keras` zip (bytes)."""
        self.members[name] = zlib.crc32(data)

    def adopt(self, group):
        """Stamps what other code wrote into `group` with plain h5py (small groups only)."""
        import h5py

        def stamp(_, obj):
            self._stamp_texts(obj)
            if isinstance(obj, h5py.Dataset) and DATASET_ATTR not in obj.attrs:
                obj.attrs[DATASET_ATTR] = dataset_checksum(obj[()])
        self._stamp_texts(group)
        group.visititems(stamp)

    def _stamp_texts(self, obj):
        for key, value in obj.attrs.items():
            strings = texts(value) if key != DATASET_ATTR else None
            if strings is not None:
                self.attributes[f"{obj.name}:{key}"] = text_crc(strings)

    def close(self):
        """Writes the root manifest; call it last."""
        self.handle.attrs[MANIFEST_ATTR] = json.dumps({
            "version": VERSION, "algorithm": "crc32", "attributes": self.attributes,
            "members": self.members})


# ============================================================================== reading
class Verifier:
    """Checks the checksums of one HDF5 file as it is read.

    Args:
        manifest: the root `layerkit_integrity` text, or None (a Keras-written file).
        where: the file's name, for messages.
        verify: False skips every check.

    Raises:
        ValueError: for a manifest that is not layerkit's JSON.
    """

    def __init__(self, manifest, where, verify=True):
        self.where = where
        self.enabled = bool(verify)
        self.sealed = manifest is not None
        self.attributes, self.members = {}, {}
        if not (self.enabled and self.sealed):
            return
        try:
            record = json.loads(manifest)
            self.attributes = dict(record["attributes"])
            self.members = dict(record["members"])
            if record["version"] != VERSION or record["algorithm"] != "crc32":
                raise ValueError(f"version {record['version']!r}")
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{where}: the checksum record {MANIFEST_ATTR!r} is damaged "
                             f"({error}); {_SALVAGE}") from None

    def dataset(self, stored, array, what):
        """Checks `array` (what was read) against the dataset's `layerkit_crc32` value.

        Args:
            stored: the attribute's value, or None when the dataset has none.
            array: the data read, in the dataset's own dtype.
            what: 'layer ... weight ...', for messages.
        """
        if not self.enabled or not self._present(stored is not None, what):
            return
        stored = np.asarray(stored).reshape(-1)
        if stored.size < 2 or stored.dtype.kind not in "iu" or stored[0] <= 0:
            raise ValueError(f"{self.where}: {what}: malformed checksum; {_SALVAGE}")
        found = block_crcs(array, int(stored[0]))
        expected = [int(v) for v in stored[1:]]
        if found != expected:
            block = next((i for i, (a, b) in enumerate(zip(found, expected)) if a != b),
                         min(len(found), len(expected)))
            raise ValueError(
                f"{self.where}: {what}: checksum mismatch (bytes from "
                f"{block * int(stored[0])} differ from what layerkit wrote): the file is "
                f"damaged. {_SALVAGE}")

    def text(self, key, strings, what):
        """Checks a text attribute (`key` is '<object path>:<attribute name>')."""
        if not self.enabled or not self.sealed:
            return
        expected = self.attributes.get(key)
        if expected is None:
            raise ValueError(f"{self.where}: {what} has no checksum although the file "
                             f"carries checksums: the file is damaged. {_SALVAGE}")
        if text_crc(strings) != expected:
            raise ValueError(f"{self.where}: {what}: checksum mismatch: the file is damaged. "
                             f"{_SALVAGE}")

    def member(self, name, data):
        """Checks another zip member's bytes (`config.json`) against the manifest."""
        if not self.enabled or not self.sealed:
            return
        if name not in self.members:
            raise ValueError(f"{self.where}: {name} has no checksum although the file "
                             f"carries checksums: the file is damaged. {_SALVAGE}")
        if zlib.crc32(data) != self.members[name]:
            raise ValueError(f"{self.where}: {name}: checksum mismatch: the file is damaged. "
                             f"{_SALVAGE}")

    def _present(self, has_checksum, what):
        """Whether a checksum is to be checked; raises when presence contradicts the file."""
        if has_checksum == self.sealed:
            return has_checksum
        if self.sealed:
            raise ValueError(f"{self.where}: {what} has no checksum although the file carries "
                             f"checksums: the file is damaged. {_SALVAGE}")
        raise ValueError(f"{self.where}: {what} carries a layerkit checksum but the file's "
                         f"checksum record {MANIFEST_ATTR!r} is missing: the file is damaged. "
                         f"{_SALVAGE}")


_SALVAGE = ("To salvage what it still holds, load it with verify=False (load_model(path, "
            "verify=False) / model.load_weights(path, verify=False))")
