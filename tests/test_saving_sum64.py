"""sum64, the checksum of large weights (`layerkit.saving.sum64`), and how loading uses it.

The digest must catch what CRC-32 caught for the damage files suffer (changed bytes,
exchanged or moved pieces, truncation), be pinned (files must verify on every machine
and in later versions), and be computed over the weights as they are read into the
model's tensors, never over a second read of the file.
"""

import io
import json
import zipfile

import h5py
import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.saving import integrity, load_model, load_weights, sum64

BLOCK_WORDS = 2 ** 17  # a 1 MiB block: 256 rows of sum64.ROW words


def _block(seed=0):
    return np.random.default_rng(seed).integers(0, 2 ** 63, BLOCK_WORDS, dtype=np.uint64)


def _digest(words):
    return sum64.block_digest(words.astype("<u8").view(np.uint8))


# ------------------------------------------------------------------------ the digest
def test_the_digest_is_pinned_and_independent_of_alignment_and_buffer_type():
    assert sum64.block_digest(np.arange(300001, dtype="<u4")) == 6081058437504280711
    assert sum64.block_digest(b"layerkit") == 7155189637967270267
    assert sum64.block_digest(b"") == 17302163679514438912
    data = np.random.default_rng(1).integers(0, 256, 100_003, dtype=np.uint8)
    shifted = np.empty(data.size + 1, np.uint8)[1:]  # the same bytes at an odd address
    shifted[:] = data
    assert shifted.ctypes.data % 8 and sum64.block_digest(shifted) == \
        sum64.block_digest(data) == sum64.block_digest(data.tobytes())


def test_every_byte_change_and_every_word_exchange_is_caught():
    words = _block()
    data = words.view(np.uint8)
    reference = sum64.block_digest(data)
    rng = np.random.default_rng(2)
    for position in rng.integers(0, data.size, 300):
        changed = data.copy()
        changed[position] ^= rng.integers(1, 256, dtype=np.uint8)
        assert sum64.block_digest(changed) != reference
    # up to three changed words anywhere (the docstring's proof), including near ends
    for _ in range(100):
        changed = words.copy()
        for index in rng.choice(np.r_[0:8, BLOCK_WORDS - 8:BLOCK_WORDS, 600:1700],
                                rng.integers(1, 4), replace=False):
            changed[[index]] += np.uint64(rng.integers(1, 2 ** 63))  # wraps
        assert _digest(changed) != reference
    near = rng.integers(0, BLOCK_WORDS - sum64.ROW, 300)  # in one row half the time
    far = rng.integers(0, BLOCK_WORDS, 300)
    for i, j in zip(np.r_[near, far], np.r_[near + rng.integers(1, sum64.ROW, 300),
                                            rng.integers(0, BLOCK_WORDS, 300)]):
        if words[i] != words[j]:
            changed = words.copy()
            changed[[i, j]] = changed[[j, i]]
            assert _digest(changed) != reference
            changed = words.copy()  # changes that cancel in the row sums
            changed[[i, j]] += np.uint64(2 ** 63)  # +2^63 and -2^63 (mod 2^64)
            assert _digest(changed) != reference
    assert sum64.block_digest(data[:-1]) != reference  # truncated
    assert sum64.block_digest(np.append(data, np.uint8(0))) != reference  # zero appended


def test_exchanged_rows_with_equal_sums_are_caught_where_plain_sums_miss_them():
    # One-hot rows (identity-like weights): every 4 KiB row sums to the same value, so row
    # sums and ROW-wide column sums cannot see two rows exchanged; the prime-width ones can.
    floats = np.zeros((BLOCK_WORDS // sum64.ROW, 2 * sum64.ROW), np.float32)
    floats[np.arange(len(floats)), 2 * (np.arange(len(floats)) * 7 % sum64.ROW)] = 1.0
    words = floats.reshape(-1).view(np.uint64)
    reference = _digest(words)
    rng = np.random.default_rng(3)
    for a, b in rng.choice(len(floats), (40, 2)):
        if a == b:
            continue
        swapped = floats.copy()
        swapped[[a, b]] = swapped[[b, a]]
        moved = swapped.reshape(-1).view(np.uint64)
        plain = [np.add.reduce(w.reshape(-1, sum64.ROW), axis=axis)
                 for w in (words, moved) for axis in (0, 1)]
        assert all(np.array_equal(x, y) for x, y in zip(plain[:2], plain[2:]))
        assert _digest(moved) != reference


def test_exchanged_and_moved_segments_are_caught():
    words = _block(4)
    reference = _digest(words)
    rng = np.random.default_rng(5)
    for _ in range(150):
        length = int(rng.integers(1, sum64.SKEW))
        first, second = sorted(rng.choice(BLOCK_WORDS - length, 2, replace=False))
        if second - first < length:
            continue
        changed = words.copy()
        changed[first:first + length] = words[second:second + length]
        changed[second:second + length] = words[first:first + length]
        assert _digest(changed) != reference
        rolled = words.copy()  # a segment rotated by one word (a shifted write)
        rolled[first:second] = np.roll(words[first:second], 1)
        assert _digest(rolled) != reference


# -------------------------------------------------------------- loading large weights
@pytest.fixture
def small_blocks(monkeypatch):
    """sum64 for weights from 16 KiB, in 32 KiB blocks, read in ~20 KiB pieces, summed on
    the thread pool when written from 64 KiB: what a VGG16 does with 4 MiB blocks, 16 MiB
    pieces and 8 MiB, at a test's size."""
    monkeypatch.setattr(integrity, "LARGE", 16 * 2 ** 10)
    monkeypatch.setattr(integrity, "_THREADED", 64 * 2 ** 10)
    monkeypatch.setattr(sum64, "BLOCK", 32 * 2 ** 10)
    monkeypatch.setattr(integrity, "CHUNK", 20 * 2 ** 10)


def _big_model(seed=0):
    torch.manual_seed(seed)
    return models.Sequential([layers.Dense(300, input_shape=(200,), name="big"),
                              layers.Dense(40, name="mid"), layers.Dense(2, name="out")])


def _weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def test_large_weights_are_summed_over_the_tensors_memory_as_they_are_read(
        small_blocks, tmp_path, monkeypatch):
    model = _big_model()
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r") as handle:
        entries = json.loads(handle.attrs["layerkit_integrity"])["datasets"]
    kernel = entries["/model_weights/big/big/kernel:0"]
    assert kernel[:2] == ["sum64", 32 * 2 ** 10] and len(kernel) == 2 + 8  # 240,000 bytes
    assert kernel[2:] == [sum64.block_digest(piece) for piece in np.array_split(
        model.layers[0].kernel.detach().numpy().reshape(-1).view(np.uint8), range(
            32768, 240_000, 32768))]  # summed on the pool while saving: the same digests
    assert isinstance(entries["/model_weights/big/big/bias:0"][0], int)  # small: CRC-32
    target = _big_model(seed=1)
    memory = target.layers[0].kernel.detach().numpy()
    start, end = memory.ctypes.data, memory.ctypes.data + memory.nbytes
    summed, reads, digest = [], [], sum64.block_digest

    def record(data):
        summed.append((data.ctypes.data, data.nbytes))
        return digest(data)
    monkeypatch.setattr(sum64, "block_digest", record)
    real_pieces = integrity._read_pieces

    def count_pieces(dsid, memory):
        for end_byte in real_pieces(dsid, memory):
            reads.append(end_byte)
            yield end_byte
    monkeypatch.setattr(integrity, "_read_pieces", count_pieces)
    target.load_weights(path)
    assert _weights_equal(target, model)
    kernel_blocks = [(a, n) for a, n in summed if start <= a < end]
    assert len(kernel_blocks) == 8 and all(a + n <= end for a, n in kernel_blocks)
    assert sorted(a - start for a, _ in kernel_blocks) == list(range(0, 240_000, 32768))
    assert len(reads) >= 12  # the kernel came in pieces (200 rows of 1,200 bytes)


def _data_range(raw, dataset):
    with h5py.File(io.BytesIO(raw), "r") as handle:
        item = handle[dataset]
        return item.id.get_offset(), item.id.get_storage_size()


def _damage(rng, raw, start, size):
    """A copy of `raw` with the bytes of [start, start + size) changed in one of the ways
    files are damaged; never the same bytes."""
    raw = bytearray(raw)
    original = bytes(raw)
    kind = rng.choice(["bytes", "exchange", "copy", "zero"])
    if kind == "bytes":
        for position in rng.integers(start, start + size, rng.integers(1, 9)):
            raw[position] = (raw[position] + rng.integers(1, 256)) % 256
    else:
        length = int(rng.integers(1, 9000))
        a, b = sorted(rng.choice(size - length, 2, replace=False) + start)
        if kind == "exchange":
            raw[a:a + length], raw[b:b + length] = original[b:b + length], original[a:a + length]
        elif kind == "copy":  # a misdirected write: one piece written over another
            raw[b:b + length] = original[a:a + length]
        else:
            raw[a:a + length] = bytes(length)
    return bytes(raw)


@pytest.mark.parametrize("kind", ["h5", "weights.h5", "keras"])
def test_damaged_large_weights_never_load_silently(small_blocks, tmp_path, kind):
    model = _big_model()
    source = tmp_path / f"m.{kind}"
    (model.save_weights if kind == "weights.h5" else model.save)(source)
    member = None
    raw = source.read_bytes()
    if kind == "keras":
        with zipfile.ZipFile(source) as archive:
            member = {n: archive.read(n) for n in archive.namelist()}
        raw = member["model.weights.h5"]
    dataset = {"h5": "model_weights/big/big/kernel:0",
               "weights.h5": "layers/dense/vars/0", "keras": "layers/dense/vars/0"}[kind]
    start, size = _data_range(raw, dataset)
    rng = np.random.default_rng(6)
    caught = 0
    for case in range(25):
        damaged = _damage(rng, raw, start, size)
        if damaged == raw:
            continue
        path = tmp_path / f"case{case}.{kind}"
        if member is None:
            path.write_bytes(damaged)
        else:
            with zipfile.ZipFile(path, "w") as archive:
                for name, data in dict(member, **{"model.weights.h5": damaged}).items():
                    archive.writestr(name, data)
        target = _big_model(seed=1)
        with pytest.raises(ValueError, match="layer 'big', weight .*checksum mismatch") \
                as info:
            load_model(path) if kind != "weights.h5" else target.load_weights(path)
        assert str(path) in str(info.value)
        caught += 1
    assert caught >= 20
    salvaged = load_model(path, verify=False) if kind != "weights.h5" else target
    if kind == "weights.h5":
        target.load_weights(path, verify=False)
    assert not _weights_equal(salvaged, model)


def test_a_truncated_large_weight_file_fails_naming_the_file(small_blocks, tmp_path):
    model = _big_model()
    path = tmp_path / "m.h5"
    model.save(path)
    raw = path.read_bytes()
    start, size = _data_range(raw, "model_weights/big/big/kernel:0")
    for cut in (start + size // 2, start + size - 1, len(raw) - 1):
        short = tmp_path / f"short{cut}.h5"
        short.write_bytes(raw[:cut])
        with pytest.raises(ValueError) as info:
            load_weights(_big_model(seed=1), short)
        assert str(short) in str(info.value)


def test_files_with_sum64_digests_load_in_keras3(small_blocks, tmp_path):
    import keras

    model = _big_model()
    for name in ("m.h5", "m.keras"):
        model.save(tmp_path / name)
        with h5py.File(tmp_path / name, "r") if name.endswith(".h5") else h5py.File(
                io.BytesIO(zipfile.ZipFile(tmp_path / name).read("model.weights.h5")),
                "r") as handle:
            assert "sum64" in handle.attrs["layerkit_integrity"]
        oracle = keras.saving.load_model(tmp_path / name)
        assert all(np.array_equal(a, np.asarray(b))
                   for a, b in zip(model.get_weights(), oracle.get_weights()))
