"""Checksums in the files layerkit writes, checked whenever a file is read.

Who owns what:
- `Sealer` records checksums while layerkit writes an HDF5 file: of every dataset (per
  4 MiB block of its little-endian bytes: CRC-32 for arrays under `LARGE` bytes, the much
  cheaper 64-bit `sum64` digest for larger ones), of every text attribute (`model_config`,
  `layer_names`, `weight_names`, ...) and of the other members of a `.keras` zip
  (`config.json`, `metadata.json`; CRC-32). `close()` stores them as JSON in the root
  attribute `layerkit_integrity` and marks every top-level group with the attribute
  `layerkit_sealed`, so that a damaged root attribute cannot pass the file off as one
  without checksums. Keras reads neither, so the files stay ordinary Keras files.
- `Verifier` (one per HDF5 file read, owned by `h5_format.Reader`) checks them. A file with
  the manifest must have a checksum for every dataset and text attribute it is read for; a
  file without it (written by Keras) is validated in other ways (see `h5_format`).
- Loading with `verify=False` skips all of it, to salvage what a damaged file still holds.
- `sum64` computes the large arrays' digests (its docstring argues what they catch).

The record, `{"version", "algorithm", "datasets", "attributes", "members"}`: version 2
(algorithm "crc32+sum64", written now) stores a dataset as `[block, crc, ...]` (CRC-32) or
`["sum64", block, digest, ...]`; version 1 (algorithm "crc32", written by layerkit before
sum64) only the first kind. Both are read.

One manifest rather than an attribute per dataset: HDF5 needs ~60 us to open an
attribute, which would make checksums the slowest part of loading many-layer models.
Large weights are read in pieces of `CHUNK` bytes, each block summed on a thread pool as
soon as it is in memory, while the next piece is read: the sums read the bytes from the
cache, and where a core is free they cost no wall time beyond the pieces' bookkeeping and
the last block (CRC-32, at 1.5-3.5 GB/s a core, made a bare `load_weights` of VGG16 from
the page cache 1.55x slower; on a busy machine sum64 costs about as much CPU as the copy).
"""

import concurrent.futures
import itertools
import json
import os
import sys
import zlib

import numpy as np

from . import sum64

MANIFEST_ATTR = "layerkit_integrity"
MARKER_ATTR = "layerkit_sealed"
MARKED = 8  # top-level members marked (a weights-only file may have 20,000)
VERSION = 2
ALGORITHM = "crc32+sum64"
READABLE = {(1, "crc32"), (2, ALGORITHM)}
BLOCK = 4 * 2 ** 20  # CRC-32 block
LARGE = 256 * 2 ** 10  # arrays of at least this many bytes get sum64 digests
CHUNK = 16 * 2 ** 20  # bytes read from HDF5 at a time while verifying a large dataset
_THREADED = 2 * BLOCK  # buffers at least this large are checked on the thread pool
_POOL = []
# A forked child inherits the pool object but not its threads: start a new one there.
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_POOL.clear)


def _pool():
    if not _POOL:
        workers = max(1, min(4, os.cpu_count() or 1))
        _POOL.append(concurrent.futures.ThreadPoolExecutor(workers, "layerkit-checksum"))
    return _POOL[0]


def _bytes(array):
    """The C-order little-endian bytes of `array`, as a flat uint8 array (no copy if possible)."""
    array = np.asarray(array)
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and _BIG_ENDIAN):
        array = array.astype(array.dtype.newbyteorder("<"))
    array = np.ascontiguousarray(array)
    return array.reshape(-1).view(np.uint8) if array.size else np.zeros(0, np.uint8)


_BIG_ENDIAN = sys.byteorder == "big"


def _pieces(data, block):
    return [data[i:i + block] for i in range(0, data.size, block)] or [data]


def block_crcs(array, block=BLOCK):
    """CRC-32 of each `block`-byte piece of the array's little-endian bytes.

    Returns:
        A list of ints (one, CRC of nothing, for an empty array).
    """
    data = _bytes(array)
    if data.size < _THREADED:
        return [zlib.crc32(piece) for piece in _pieces(data, block)]
    return list(_pool().map(zlib.crc32, _pieces(data, block)))


def dataset_checksum(array):
    """The manifest's entry for a dataset holding `array`: `[block, crc, ...]` under
    `LARGE` bytes, else `["sum64", block, digest, ...]`."""
    data = _bytes(array)
    if data.size < LARGE:  # LARGE <= BLOCK: one CRC
        return [BLOCK, zlib.crc32(data)]
    mapper = _pool().map if data.size >= _THREADED else map
    return [sum64.NAME, sum64.BLOCK] + sum64.digests(data, sum64.BLOCK, mapper)


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
        self._pending = {}

    def dataset(self, parent, name, data):
        """Creates the dataset `name` in `parent` holding `data`; records its checksum
        (a large array's is summed on the thread pool while the next ones are written:
        `data` must not change before `close()`)."""
        array = np.asarray(data)
        created = parent.create_dataset(name, data=array)
        bytes_ = _bytes(array)
        if bytes_.size < max(LARGE, _THREADED):
            self.datasets[created.name] = dataset_checksum(bytes_)
        else:
            self._pending[created.name] = [_pool().submit(sum64.block_digest, piece)
                                           for piece in _pieces(bytes_, sum64.BLOCK)]
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
        for path, futures in self._pending.items():
            self.datasets[path] = [sum64.NAME, sum64.BLOCK] + [f.result() for f in futures]
        self._pending = {}
        self.handle.attrs[MANIFEST_ATTR] = json.dumps({
            "version": VERSION, "algorithm": ALGORITHM, "datasets": self.datasets,
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
            if (record["version"], record["algorithm"]) not in READABLE:
                raise ValueError(f"version {record['version']!r}, algorithm "
                                 f"{record['algorithm']!r}")
            self.datasets = dict(record["datasets"])
            self.attributes = dict(record["attributes"])
            self.members = dict(record["members"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{where}: the checksum record {MANIFEST_ATTR!r} is damaged "
                             f"({error}); {SALVAGE}") from None

    @property
    def checking(self):
        """Whether datasets read from this file are checked."""
        return self.enabled and self.sealed

    def dataset(self, path, array, what, later=False):
        """Checks `array`, read from the dataset at `path`, against its recorded checksum.

        Args:
            path: the dataset's absolute path in the file.
            array: the data read, in the dataset's own dtype.
            what: 'layer ... weight ...', for messages.
            later: a large array may be checked on the thread pool while the caller reads
                on; `finish()` then reports the result.
        """
        if self.checking:
            self._check(self._entry(path, what), array, what, later)

    def _check(self, entry, array, what, later=False):
        """Compares `array`'s digests with `entry` (see `_entry`) now, or at `finish()`."""
        function = zlib.crc32 if entry[0] == "crc32" else sum64.block_digest
        data = _bytes(array)
        if data.size <= entry[1]:
            self._compare([function(data)], entry, what)
        elif later and data.size >= _THREADED:
            futures = [_pool().submit(function, p) for p in _pieces(data, entry[1])]
            self._pending.append((futures, entry, what))
        else:
            self._compare([function(p) for p in _pieces(data, entry[1])], entry, what)

    def read_into(self, dataset, memory, what):
        """Reads an HDF5 dataset into `memory` and checks it (mismatches: see `finish`).

        Args:
            dataset: the dataset (`.id`: its h5py DatasetID, `.name`: its path).
            memory: a C-contiguous array of the dataset's shape and dtype (often a
                tensor's memory).
            what: 'layer ... weight ...', for messages.

        A dataset with sum64 digests is read in pieces of about `CHUNK` bytes, and each
        block, once read, is summed on the thread pool while the next piece is read; the
        sums read the bytes just copied, from the cache, never the file again.
        """
        import h5py

        entry = self._entry(dataset.name, what) if self.checking else None
        if entry is not None and entry[0] == sum64.NAME and memory.ndim:
            flat = _bytes(memory)
            if np.may_share_memory(flat, memory):  # else not its own bytes (big-endian)
                self._pending.append((self._stream(dataset.id, memory, flat, entry[1]),
                                      entry, what))
                return
        if memory.size:
            dataset.id.read(h5py.h5s.ALL, h5py.h5s.ALL, memory)
        if entry is not None:
            self._check(entry, memory, what, later=True)

    @staticmethod
    def _stream(dsid, memory, flat, block):
        """Reads `dsid` into `memory` piece by piece, submitting each `block` of `flat`
        (memory's bytes) to the pool once read; returns the futures of the digests."""
        futures, done = [], 0
        for end in _read_pieces(dsid, memory):
            while done + block <= end:
                futures.append(_pool().submit(sum64.block_digest, flat[done:done + block]))
                done += block
        if done < flat.size or not futures:
            futures.append(_pool().submit(sum64.block_digest, flat[done:]))
        return futures

    def finish(self):
        """Waits for the checks started by `dataset(..., later=True)` and `read_into`;
        raises on the first mismatch."""
        pending, self._pending = self._pending, []
        for futures, entry, what in pending:
            self._compare([f.result() for f in futures], entry, what)

    def _entry(self, path, what):
        """The recorded checksum of the dataset at `path`: `(kind, block, values)`."""
        stored = self.datasets.get(path)
        if stored is None:
            raise ValueError(f"{self.where}: {what} has no checksum although the file "
                             f"carries checksums: the file is damaged. {SALVAGE}")
        kind, numbers = "crc32", stored
        if isinstance(stored, list) and stored and stored[0] == sum64.NAME:
            kind, numbers = sum64.NAME, stored[1:]
        if not isinstance(numbers, list) or len(numbers) < 2 or not all(
                type(v) is int for v in numbers) or numbers[0] <= 0:
            raise ValueError(f"{self.where}: {what}: malformed checksum; {SALVAGE}")
        return kind, numbers[0], numbers[1:]

    def _compare(self, found, entry, what):
        _, block, expected = entry
        if found != expected:
            first = next((i for i, (a, b) in enumerate(zip(found, expected)) if a != b),
                         min(len(found), len(expected)))
            raise ValueError(
                f"{self.where}: {what}: checksum mismatch (bytes from {first * block} on "
                f"differ from what layerkit wrote): the file is damaged. {SALVAGE}")

    def text(self, key, strings, what):
        """Checks a text attribute (`key` is '<object path>:<attribute name>')."""
        if not self.checking:
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
        if not self.checking:
            return
        if name not in self.members:
            raise ValueError(f"{self.where}: {name} has no checksum although the file "
                             f"carries checksums: the file is damaged. {SALVAGE}")
        if zlib.crc32(data) != self.members[name]:
            raise ValueError(f"{self.where}: {name}: checksum mismatch: the file is damaged. "
                             f"{SALVAGE}")


def _read_pieces(dsid, memory):
    """Reads the dataset `dsid` into `memory` a few rows (axis 0) at a time; yields how
    many bytes of `memory` are filled after each piece."""
    import h5py

    row = memory.nbytes // memory.shape[0] if memory.shape[0] else 0
    rows = max(1, CHUNK // max(row, 1))
    if rows >= memory.shape[0]:
        if memory.size:
            dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, memory)
        yield memory.nbytes
        return
    space = dsid.get_space()
    corner = (0,) * (memory.ndim - 1)
    for start in range(0, memory.shape[0], rows):
        count = min(rows, memory.shape[0] - start)
        space.select_hyperslab((start,) + corner, (count,) + memory.shape[1:])
        piece = memory[start:start + count]
        dsid.read(h5py.h5s.create_simple(piece.shape), space, piece)
        yield (start + count) * row


SALVAGE = ("To salvage what it still holds, load it with verify=False (load_model(path, "
            "verify=False) / model.load_weights(path, verify=False))")
