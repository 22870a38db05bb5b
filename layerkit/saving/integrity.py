"""Checksums in the files layerkit writes, checked whenever a file is read.

Who owns what:
- `Sealer` records checksums while layerkit writes an HDF5 file: the CRC-32 of every
  dataset (per 4 MiB block of its little-endian bytes), of every text attribute
  (`model_config`, `layer_names`, `weight_names`, ...) and of the other members of a
  `.keras` zip (`config.json`, `metadata.json`). `close()` stores them as JSON in the root
  attribute `layerkit_integrity` and marks every top-level group with the attribute
  `layerkit_sealed`, so that a damaged root attribute cannot pass the file off as one
  without checksums. Keras reads neither, so the files stay ordinary Keras files.
- `Verifier` (one per HDF5 file read, owned by `h5_format.Reader`) checks them. A file with
  the manifest must have a checksum for every dataset and text attribute it is read for; a
  file without it (written by Keras) is validated in other ways (see `h5_format`).
- Loading with `verify=False` skips all of it, to salvage what a damaged file still holds.

One manifest rather than an attribute per dataset: HDF5 needs ~60 us to open an
attribute, which would make checksums the slowest part of loading many-layer models.
CRC-32 (zlib) runs at about 3 GB/s per core and releases the GIL, so large weights are
checked on a thread pool while the next ones are read.
"""

import concurrent.futures
import itertools
import json
import os
import zlib

import numpy as np

MANIFEST_ATTR = "layerkit_integrity"
MARKER_ATTR = "layerkit_sealed"
MARKED = 8  # top-level members marked (a weights-only file may have 20,000)
VERSION = 1
BLOCK = 4 * 2 ** 20
_THREADED = 2 * BLOCK  # buffers at least this large are checked on the thread pool
_POOL = []
# A forked child inherits the pool object but not its threads: start a new one there.
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_POOL.clear)


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
    """The manifest's entry for a dataset holding `array`: block size, then block CRCs."""
    return [BLOCK] + block_crcs(array)


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
    """Writes datasets and text attributes into an open HDF5 file, recording checksums.

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
        self.datasets = {}
        self.attributes = {}
        self.members = {}

    def dataset(self, parent, name, data):
        """Creates the dataset `name` in `parent` holding `data`; records its checksum."""
        array = np.asarray(data)
        created = parent.create_dataset(name, data=array)
        self.datasets[created.name] = dataset_checksum(array)
        return created

    def text(self, obj, key, value):
        """Sets the text attribute `key` of `obj` and records its checksum."""
        obj.attrs[key] = value
        self.attributes[f"{obj.name}:{key}"] = text_crc(texts(value))

    def member(self, name, data):
        """Records the checksum of another member of a `.keras` zip (bytes)."""
        self.members[name] = zlib.crc32(data)

    def adopt(self, group):
        """Records what other code wrote into `group` with plain h5py (small groups only)."""
        import h5py

        def record(_, obj):
            self._record_texts(obj)
            if isinstance(obj, h5py.Dataset):
                self.datasets[obj.name] = dataset_checksum(obj[()])
        self._record_texts(group)
        group.visititems(record)

    def _record_texts(self, obj):
        for key, value in obj.attrs.items():
            strings = texts(value)
            if strings is not None:
                self.attributes[f"{obj.name}:{key}"] = text_crc(strings)

    def close(self):
        """Writes the manifest and the markers; call it last."""
        self.handle.attrs[MANIFEST_ATTR] = json.dumps({
            "version": VERSION, "algorithm": "crc32", "datasets": self.datasets,
            "attributes": self.attributes, "members": self.members})
        for name in top_members(self.handle):
            self.handle[name].attrs[MARKER_ATTR] = 1


def top_members(handle):
    """The first few top-level members (name order): those that carry the marker."""
    return list(itertools.islice(handle, MARKED))


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
        self.datasets, self.attributes, self.members = {}, {}, {}
        self._pending = []
        if not (self.enabled and self.sealed):
            return
        try:
            record = json.loads(manifest)
            if record["version"] != VERSION or record["algorithm"] != "crc32":
                raise ValueError(f"version {record['version']!r}")
            self.datasets = dict(record["datasets"])
            self.attributes = dict(record["attributes"])
            self.members = dict(record["members"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{where}: the checksum record {MANIFEST_ATTR!r} is damaged "
                             f"({error}); {SALVAGE}") from None

    def dataset(self, path, array, what, later=False):
        """Checks `array`, read from the dataset at `path`, against its recorded checksum.

        Args:
            path: the dataset's absolute path in the file.
            array: the data read, in the dataset's own dtype.
            what: 'layer ... weight ...', for messages.
            later: a large array may be checked on the thread pool while the caller reads
                on; `finish()` then reports the result.
        """
        if not (self.enabled and self.sealed):
            return
        stored = self.datasets.get(path)
        if stored is None:
            raise ValueError(f"{self.where}: {what} has no checksum although the file "
                             f"carries checksums: the file is damaged. {SALVAGE}")
        if not isinstance(stored, list) or len(stored) < 2 or not all(
                isinstance(v, int) for v in stored) or stored[0] <= 0:
            raise ValueError(f"{self.where}: {what}: malformed checksum; {SALVAGE}")
        block = stored[0]
        data = _bytes(array)
        pieces = [data[i:i + block] for i in range(0, len(data), block)] or [data]
        if later and len(data) >= _THREADED:
            self._pending.append(([_pool().submit(zlib.crc32, p) for p in pieces],
                                  stored, what))
        else:
            self._compare([zlib.crc32(p) for p in pieces], stored, what)

    def finish(self):
        """Waits for the checks `dataset(..., later=True)` started; raises on a mismatch."""
        pending, self._pending = self._pending, []
        for futures, stored, what in pending:
            self._compare([f.result() for f in futures], stored, what)

    def _compare(self, found, stored, what):
        expected = stored[1:]
        if found != expected:
            block = next((i for i, (a, b) in enumerate(zip(found, expected)) if a != b),
                         min(len(found), len(expected)))
            raise ValueError(
                f"{self.where}: {what}: checksum mismatch (bytes from {block * stored[0]} on "
                f"differ from what layerkit wrote): the file is damaged. {SALVAGE}")

    def text(self, key, strings, what):
        """Checks a text attribute (`key` is '<object path>:<attribute name>')."""
        if not self.enabled or not self.sealed:
            return
        expected = self.attributes.get(key)
        if expected is None:
            raise ValueError(f"{self.where}: {what} has no checksum although the file "
                             f"carries checksums: the file is damaged. {SALVAGE}")
        if text_crc(strings) != expected:
            raise ValueError(f"{self.where}: {what}: checksum mismatch: the file is damaged. "
                             f"{SALVAGE}")

    def member(self, name, data):
        """Checks another zip member's bytes (`config.json`) against the manifest."""
        if not self.enabled or not self.sealed:
            return
        if name not in self.members:
            raise ValueError(f"{self.where}: {name} has no checksum although the file "
                             f"carries checksums: the file is damaged. {SALVAGE}")
        if zlib.crc32(data) != self.members[name]:
            raise ValueError(f"{self.where}: {name}: checksum mismatch: the file is damaged. "
                             f"{SALVAGE}")


SALVAGE = ("To salvage what it still holds, load it with verify=False (load_model(path, "
            "verify=False) / model.load_weights(path, verify=False))")
