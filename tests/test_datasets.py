"""layerkit.datasets against Keras 3's loaders on small files in Keras's exact formats.

Every fixture is written into tmp_path (npz with object arrays, JSON, gzip'ed IDX, CIFAR
pickle batches with bytes keys, tar.gz) and loaded through the real code path; the Keras
oracle reads the same files (its `get_file` is pointed at them). No network is used.
"""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_get_file import isolated  # noqa: F401  (the shared autouse fixture "offline")

from layerkit import config
from layerkit.datasets import (
    _cifar_pickle,
    _safe_pickle,
    boston_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from layerkit.utils import file_utils
from layerkit.utils.file_utils import DownloadError

FASHION_SUBDIR = os.path.join("datasets", "fashion-mnist")


def keras_datasets():
    import keras.src.datasets as kd  # conftest selects the torch backend

    return kd


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ragged(rng, n, vocab=40, lengths=(1, 12)):
    """Object array of Python lists of Python ints (built element-wise, as Keras stores)."""
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = [int(w) for w in rng.integers(1, vocab, rng.integers(*lengths))]
    return out


def write_imdb(path, seed=0, n_train=30, n_test=25):
    rng = np.random.default_rng(seed)
    np.savez(
        path,
        x_train=ragged(rng, n_train),
        y_train=rng.integers(0, 2, n_train),
        x_test=ragged(rng, n_test),
        y_test=rng.integers(0, 2, n_test),
    )
    return str(path)


def write_reuters(path, n=40):
    rng = np.random.default_rng(1)
    np.savez(path, x=ragged(rng, n, vocab=60), y=rng.integers(0, 46, n))
    return str(path)


def placed(folder, name, writer, monkeypatch=None, module=None):
    """Writes a fixture at folder/name; optionally makes it the module's official hash."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = writer(Path(folder) / name)
    if module is not None:
        monkeypatch.setattr(module, "FILE_HASH", sha256(path))
    return str(path)


def assert_same(ours, theirs):
    """Equal flattened results: type, dtype, shape and values (object arrays compared as lists)."""
    for a, b in zip(ours, theirs, strict=True):
        assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == object:
            assert a.tolist() == b.tolist()
            assert all(type(s) is list for s in a.ravel()) == all(
                type(s) is list for s in b.ravel()
            )
        else:
            assert a.tobytes() == b.tobytes()  # bit-identical (and fast on 150 MB images)


def flat(result):
    (x_train, y_train), (x_test, y_test) = result
    return [x_train, y_train, x_test, y_test]


# --------------------------------------------------------------------------- imdb / reuters

IMDB_CASES = {
    "defaults": {},
    "num_words-skip_top": {"num_words": 20, "skip_top": 5},
    "maxlen": {"maxlen": 8},
    "no-start-no-shift": {"start_char": None, "index_from": 0},
    "oov-none": {"num_words": 15, "oov_char": None},
    "seed": {"seed": 7, "index_from": 2, "start_char": 9},
}


def test_imdb_shapes_and_object_lists(tmp_path, monkeypatch):
    placed(tmp_path / "lk" / "datasets", "imdb.npz", write_imdb, monkeypatch, imdb)
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    assert x_train.dtype == object and x_train.shape == (30,) and x_test.shape == (25,)
    assert y_train.dtype == np.int64 and y_train.shape == (30,)
    assert all(type(s) is list and s[0] == 1 and type(s[1]) is int for s in x_train)


def test_imdb_maxlen_drops_and_counts_start_char(tmp_path, monkeypatch):
    def writer(path):
        x = np.empty(3, dtype=object)
        x[0], x[1], x[2] = [5, 6, 7], [5, 6], [9]
        np.savez(path, x_train=x, y_train=np.array([0, 1, 1]), x_test=x, y_test=np.array([1, 0, 0]))
        return str(path)

    placed(tmp_path / "lk" / "datasets", "imdb.npz", writer, monkeypatch, imdb)
    # [1, 8, 9, 10] has length 4: maxlen=4 drops it (len < maxlen is kept), no truncation.
    (x_train, _), _ = imdb.load_data(maxlen=4, seed=0)
    assert sorted(map(len, x_train)) == [2, 3]
    (x_train, _), _ = imdb.load_data(maxlen=5, seed=0, num_words=100)
    assert sorted(x_train.tolist()) == [[1, 8, 9], [1, 8, 9, 10], [1, 12]]
    # num_words=None: the single largest index (12) also becomes oov_char (w < num_words).
    (x_train, _), _ = imdb.load_data(seed=0)
    assert [1, 2] in x_train.tolist() and [1, 8, 9, 10] in x_train.tolist()
    with pytest.raises(ValueError, match="maxlen=2"):
        imdb.load_data(maxlen=2)


def test_imdb_nb_words_alias_warns(tmp_path, monkeypatch):
    placed(tmp_path / "lk" / "datasets", "imdb.npz", write_imdb, monkeypatch, imdb)
    with pytest.warns(UserWarning, match="renamed `num_words`"):
        old = imdb.load_data(nb_words=10)
    assert_same(flat(old), flat(imdb.load_data(num_words=10)))


REUTERS_CASES = {
    "defaults": {},
    "num_words": {"num_words": 30, "skip_top": 4},
    "maxlen-split": {"maxlen": 9, "test_split": 0.3},
    "no-start": {"start_char": None, "index_from": 0, "oov_char": None, "num_words": 25},
}


def test_reuters_split_and_label_names(tmp_path, monkeypatch):
    placed(tmp_path / "kh" / "datasets", "reuters.npz", write_reuters, monkeypatch, reuters)
    (x_train, y_train), (x_test, y_test) = reuters.load_data()
    assert (len(x_train), len(x_test)) == (32, 8) and y_train.dtype == np.int64
    names = reuters.get_label_names()
    assert len(names) == 46 and names[0] == "cocoa" and names[3] == "earn" and names[-1] == "lead"
    assert names == keras_datasets().reuters.get_label_names()


@pytest.mark.parametrize(
    "module, fname", [(imdb, "imdb_word_index.json"), (reuters, "reuters_word_index.json")]
)
def test_word_index_matches_keras(tmp_path, monkeypatch, module, fname):
    folder = tmp_path / "home" / ".keras" / "datasets"
    folder.mkdir(parents=True)
    (folder / fname).write_text('{"the": 1, "and": 2, "caf\\u00e9": 3}', encoding="utf-8")
    monkeypatch.setattr(
        module, "WORD_INDEX_HASH", hashlib.md5((folder / fname).read_bytes()).hexdigest()
    )
    kd = keras_datasets()
    keras_module = getattr(kd, module.__name__.rsplit(".", 1)[1])
    monkeypatch.setattr(keras_module, "get_file", lambda *a, **k: str(folder / fname))
    assert (
        module.get_word_index() == keras_module.get_word_index() == {"the": 1, "and": 2, "café": 3}
    )


# --------------------------------------------------------------------------- mnist / boston


def write_mnist(path):
    rng = np.random.default_rng(2)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 6, dtype=np.uint8),
        x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 3, dtype=np.uint8),
    )
    return str(path)


def write_boston(path):
    rng = np.random.default_rng(3)
    np.savez(path, x=rng.normal(size=(21, 13)), y=rng.normal(size=21))
    return str(path)


def test_mnist_shapes(tmp_path, monkeypatch):
    placed(tmp_path / "lk" / "datasets", "mnist.npz", write_mnist, monkeypatch, mnist)
    (x_train, y_train), (x_test, _) = mnist.load_data()
    assert x_train.dtype == y_train.dtype == np.uint8
    assert x_train.shape == (6, 28, 28) and x_test.shape == (3, 28, 28)


NPZ_CASES = (
    [(imdb, "imdb.npz", write_imdb, kw, f"imdb-{name}") for name, kw in IMDB_CASES.items()]
    + [
        (reuters, "reuters.npz", write_reuters, kw, f"reuters-{name}")
        for name, kw in REUTERS_CASES.items()
    ]
    + [(mnist, "mnist.npz", write_mnist, {}, "mnist")]
    + [
        (boston_housing, "boston_housing.npz", write_boston, kw, f"boston-{i}")
        for i, kw in enumerate([{}, {"test_split": 0.5, "seed": 3}, {"test_split": 0.0}])
    ]
)


@pytest.mark.parametrize(
    "module, fname, writer, kwargs", [c[:4] for c in NPZ_CASES], ids=[c[4] for c in NPZ_CASES]
)
def test_npz_loaders_match_keras(tmp_path, monkeypatch, module, fname, writer, kwargs):
    path = placed(tmp_path / "lk" / "datasets", fname, writer, monkeypatch, module)
    keras_module = getattr(keras_datasets(), module.__name__.rsplit(".", 1)[1])
    monkeypatch.setattr(keras_module, "get_file", lambda *a, **k: path)
    assert_same(flat(module.load_data(**kwargs)), flat(keras_module.load_data(**kwargs)))


def test_boston_split_by_hand_and_invalid_split(tmp_path, monkeypatch):
    placed(
        tmp_path / "lk" / "datasets",
        "boston_housing.npz",
        write_boston,
        monkeypatch,
        boston_housing,
    )
    (x_train, y_train), (x_test, _) = boston_housing.load_data()
    with np.load(tmp_path / "lk" / "datasets" / "boston_housing.npz") as f:
        order = np.arange(21)
        np.random.RandomState(113).shuffle(order)
        np.testing.assert_array_equal(y_train, f["y"][order[:16]])  # int(21 * 0.8) = 16
        np.testing.assert_array_equal(x_test, f["x"][order[16:]])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        boston_housing.load_data(test_split=1.0)


# --------------------------------------------------------------------------- fashion-mnist


def idx_bytes(array, magic):
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_fashion(folder, n_train=7, n_test=4, mtime=1504176606):
    rng = np.random.default_rng(4)
    contents = {
        "train-labels-idx1-ubyte.gz": idx_bytes(rng.integers(0, 10, n_train, dtype=np.uint8), 2049),
        "train-images-idx3-ubyte.gz": idx_bytes(
            rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), 2051
        ),
        "t10k-labels-idx1-ubyte.gz": idx_bytes(rng.integers(0, 10, n_test, dtype=np.uint8), 2049),
        "t10k-images-idx3-ubyte.gz": idx_bytes(
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), 2051
        ),
    }
    Path(folder).mkdir(parents=True, exist_ok=True)
    for name, raw in contents.items():
        (Path(folder) / name).write_bytes(gzip.compress(raw, mtime=mtime))
    return {name: hashlib.sha256(raw).hexdigest() for name, raw in contents.items()}


def test_fashion_mnist_matches_keras_and_checks_content_not_gzip_header(
    tmp_path, monkeypatch, recwarn
):
    folder = tmp_path / "lk" / FASHION_SUBDIR
    monkeypatch.setattr(fashion_mnist, "FILES", write_fashion(folder))
    kd = keras_datasets()
    monkeypatch.setattr(kd.fashion_mnist, "get_file", lambda fname, **k: str(folder / fname))
    ours = flat(fashion_mnist.load_data())
    assert_same(ours, flat(kd.fashion_mnist.load_data()))
    assert ours[0].shape == (7, 28, 28) and ours[3].shape == (4,) and ours[0].dtype == np.uint8
    write_fashion(folder, mtime=1591347949)  # Debian rewrote only the gzip header
    assert_same(flat(fashion_mnist.load_data()), ours)
    assert not [w for w in recwarn if "official hash" in str(w.message)]


def test_fashion_mnist_found_in_system_folder(tmp_path, monkeypatch, offline):
    monkeypatch.setattr(fashion_mnist, "FILES", write_fashion(tmp_path / "system"))
    (x_train, _), (x_test, _) = fashion_mnist.load_data()
    assert x_train.shape == (7, 28, 28) and x_test.shape == (4, 28, 28) and offline == []


@pytest.mark.skipif(
    not os.path.isdir("/usr/share/datasets/fashion-mnist"),
    reason="Debian package dataset-fashion-mnist not installed",
)
def test_fashion_mnist_real_debian_copy(monkeypatch, recwarn):
    monkeypatch.setattr(
        file_utils, "SYSTEM_DIRS", {FASHION_SUBDIR: ("/usr/share/datasets/fashion-mnist",)}
    )
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert not [w for w in recwarn if "official hash" in str(w.message)]


def test_fashion_mnist_truncated_gz_is_value_error(tmp_path, monkeypatch):
    folder = tmp_path / "lk" / FASHION_SUBDIR
    monkeypatch.setattr(fashion_mnist, "FILES", write_fashion(folder))
    target = folder / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz.*Delete it"):
        fashion_mnist.load_data()
    assert target.exists()


# --------------------------------------------------------------------------- CIFAR


def _binstring(b):
    return (b"U" + bytes([len(b)]) if len(b) < 256 else b"T" + struct.pack("<I", len(b))) + b


def _py2_value(v):
    """Pickle opcodes as Python 2 + numpy emitted them for CIFAR (str = bytes, no memo)."""
    if isinstance(v, bytes):
        return _binstring(v)
    if isinstance(v, int):
        return b"J" + struct.pack("<i", v)
    if isinstance(v, list):
        return b"]" + (b"(" + b"".join(map(_py2_value, v)) + b"e" if v else b"")
    assert v.dtype == np.uint8 and v.ndim == 2
    dtype = (
        b"cnumpy\ndtype\n"
        + _binstring(b"u1")
        + b"K\x00K\x01\x87R"
        + b"(K\x03"
        + _binstring(b"|")
        + b"NNN"
        + b"J\xff\xff\xff\xff" * 2
        + b"K\x00tb"
    )
    return (
        b"cnumpy.core.multiarray\n_reconstruct\n"
        + b"cnumpy\nndarray\n"
        + b"K\x00\x85"
        + _binstring(b"b")
        + b"\x87R"
        + b"(K\x01"
        + _py2_value(v.shape[0])
        + _py2_value(v.shape[1])
        + b"\x86"
        + dtype
        + b"\x89"
        + _binstring(v.tobytes())
        + b"tb"
    )


def write_batch(path, batch, protocol):
    if protocol == "py2":
        body = b"".join(_py2_value(k) + _py2_value(v) for k, v in batch.items())
        Path(path).write_bytes(b"\x80\x02}(" + body + b"u.")
    else:
        Path(path).write_bytes(pickle.dumps(batch, protocol=protocol))


def cifar_batch(rng, n, label_keys=(b"labels",)):
    batch = {
        b"batch_label": b"training batch",
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }
    for key in label_keys:
        batch[key] = [int(v) for v in rng.integers(0, 100 if b"fine" in key else 10, n)]
    return batch


def write_cifar10(folder, n, protocol=3):
    rng = np.random.default_rng(5)
    Path(folder).mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        write_batch(Path(folder) / name, cifar_batch(rng, n), protocol)


def write_cifar100(folder, protocol=3):
    rng = np.random.default_rng(6)
    Path(folder).mkdir(parents=True, exist_ok=True)
    for name, n in (("train", 12), ("test", 5)):
        write_batch(
            Path(folder) / name, cifar_batch(rng, n, (b"fine_labels", b"coarse_labels")), protocol
        )


def tar_gz(folder, archive):
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=Path(folder).name)
    return str(archive)


@pytest.mark.parametrize("protocol", [2, "py2"])
def test_cifar_batch_formats_load_like_protocol_3(tmp_path, protocol):
    batch = cifar_batch(np.random.default_rng(7), 4)
    write_batch(tmp_path / "p3", batch, 3)
    write_batch(tmp_path / "other", batch, protocol)
    reference = _cifar_pickle.load_batch(tmp_path / "p3")
    data, labels = _cifar_pickle.load_batch(tmp_path / "other")
    np.testing.assert_array_equal(data, reference[0])
    assert labels == reference[1] == batch[b"labels"]
    np.testing.assert_array_equal(data[1, 2].ravel(), batch[b"data"][1, 2048:])  # blue plane


def test_cifar_batch_python2_format_matches_keras(tmp_path):
    batch = cifar_batch(np.random.default_rng(8), 3)
    write_batch(tmp_path / "py2", batch, "py2")
    from keras.src.datasets.cifar import load_batch

    ours, theirs = _cifar_pickle.load_batch(tmp_path / "py2"), load_batch(str(tmp_path / "py2"))
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_cifar10_full_size_matches_keras(tmp_path, monkeypatch):
    target = tmp_path / "kh" / "datasets" / "cifar-10-batches-py-target"
    write_cifar10(target / "cifar-10-batches-py", 10000)  # Keras hard-codes 5 x 10000 rows
    kd = keras_datasets()
    monkeypatch.setattr(kd.cifar10, "get_file", lambda *a, **k: str(target))
    ours = flat(cifar10.load_data())
    assert_same(ours, flat(kd.cifar10.load_data()))
    assert ours[0].shape == (50000, 32, 32, 3) and ours[1].shape == (50000, 1)
    assert ours[1].dtype == ours[3].dtype == np.uint8
    raw = _safe_pickle.RestrictedUnpickler(
        open(target / "cifar-10-batches-py" / "data_batch_1", "rb"), encoding="bytes"
    ).load()[b"data"]
    np.testing.assert_array_equal(ours[0][0, 0, 0], raw[0, [0, 1024, 2048]])


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cifar100_from_archive_matches_keras(tmp_path, monkeypatch, label_mode, data_format):
    import keras

    write_cifar100(tmp_path / "src" / "cifar-100-python")
    archive_dir = tmp_path / "lk" / "datasets"
    archive_dir.mkdir(parents=True)
    monkeypatch.setattr(
        cifar100,
        "FILE_HASH",
        sha256(
            tar_gz(
                tmp_path / "src" / "cifar-100-python",
                archive_dir / "cifar-100-python-target_archive",
            )
        ),
    )
    kd = keras_datasets()
    monkeypatch.setattr(kd.cifar100, "get_file", lambda *a, **k: str(tmp_path / "src"))
    previous = config.image_data_format(), keras.config.image_data_format()
    config.set_image_data_format(data_format)
    keras.config.set_image_data_format(data_format)
    try:
        ours = flat(cifar100.load_data(label_mode))
        theirs = flat(kd.cifar100.load_data(label_mode))
    finally:
        config.set_image_data_format(previous[0])
        keras.config.set_image_data_format(previous[1])
    assert_same(ours, theirs)
    assert ours[1].dtype == np.int64 and ours[1].shape == (12, 1)
    assert ours[0].shape == ((12, 32, 32, 3) if data_format == "channels_last" else (12, 3, 32, 32))
    assert (archive_dir / "cifar-100-python-target" / "cifar-100-python" / "train").is_file()


def test_cifar10_layouts_and_toronto_archive_name(tmp_path, offline):
    write_cifar10(tmp_path / "src" / "cifar-10-batches-py", 3)
    datasets = tmp_path / "home" / ".keras" / "datasets"
    datasets.mkdir(parents=True)
    tar_gz(tmp_path / "src" / "cifar-10-batches-py", datasets / "cifar-10-python.tar.gz")
    with pytest.warns(UserWarning, match="used as placed"):  # synthetic, so not the official hash
        first = flat(cifar10.load_data())
    assert first[0].shape == (15, 32, 32, 3)
    os.remove(datasets / "cifar-10-python.tar.gz")  # the extracted Keras 3 folder is reused
    assert_same(flat(cifar10.load_data()), first)
    os.rename(
        datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py",
        datasets / "cifar-10-batches-py",
    )  # tf.keras layout
    assert_same(flat(cifar10.load_data()), first)
    assert offline == []


def test_cifar100_bad_label_mode():
    with pytest.raises(ValueError, match="'fine' or 'coarse'"):
        cifar100.load_data("medium")


# --------------------------------------------------------------------------- safety


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_cifar_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    batch = {b"data": _Evil(marker), b"labels": [1]}
    (tmp_path / "evil").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(ValueError, match=r"Refusing to load the global (posix|os)\.system"):
        _cifar_pickle.load_batch(tmp_path / "evil")
    assert not marker.exists()


def test_hostile_npz_object_array_is_refused_without_running(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": (1,)}
    )
    folder = tmp_path / "lk" / "datasets"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "imdb.npz", "w") as zf:
        zf.writestr("x_train.npy", header.getvalue() + pickle.dumps(_Evil(marker), protocol=2))
    with (
        pytest.warns(UserWarning, match="used as placed"),
        pytest.raises(ValueError, match=r"imdb\.npz.*Refusing to load the global"),
    ):
        imdb.load_data()
    assert not marker.exists() and (folder / "imdb.npz").exists()


def test_codecs_encode_only_for_latin1(tmp_path):
    payload = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00zlib\x86R."
    with pytest.raises(pickle.UnpicklingError, match="Refusing _codecs.encode"):
        _safe_pickle.loads(payload)
    assert (
        _safe_pickle.loads(payload.replace(b"X\x04\x00\x00\x00zlib", b"X\x06\x00\x00\x00latin1"))
        == b"abc"
    )


# --------------------------------------------------------------------------- cache behaviour


def test_offline_error_names_file_url_and_every_folder(tmp_path):
    with pytest.raises(DownloadError) as info:
        imdb.load_data(cache_dir=tmp_path / "mine")
    message = str(info.value)
    assert "'imdb.npz'" in message and imdb.ORIGIN in message
    for root in ("mine", "lk", "kh", "home/.keras", "tmp/.keras"):
        assert str(tmp_path / root / "datasets") in message
    with pytest.raises(DownloadError, match="system") as info:
        fashion_mnist.load_data()
    with pytest.raises(DownloadError, match="cifar-10-python.tar.gz"):
        cifar10.load_data()


def test_official_hash_mismatch_warns_keeps_file_and_never_downloads(tmp_path, offline):
    path = placed(tmp_path / "kh" / "datasets", "mnist.npz", write_mnist)
    before = Path(path).read_bytes()
    with pytest.warns(UserWarning, match=f"{mnist.FILE_HASH}.*used as placed"):
        (x_train, _), _ = mnist.load_data()
    assert x_train.shape == (6, 28, 28) and Path(path).read_bytes() == before and offline == []


def test_download_from_origin_is_verified_and_atomic(tmp_path, monkeypatch, offline):
    source = write_imdb(tmp_path / "served.npz")
    monkeypatch.setattr(imdb, "ORIGIN", Path(source).as_uri())
    monkeypatch.setattr(imdb, "FILE_HASH", sha256(source))
    result = imdb.load_data(cache_dir=tmp_path / "mine")
    landed = tmp_path / "mine" / "datasets" / "imdb.npz"
    assert landed.read_bytes() == Path(source).read_bytes() and offline == [imdb.ORIGIN]
    assert sorted(os.listdir(landed.parent)) == ["imdb.npz"]
    assert_same(flat(result), flat(imdb.load_data(path=source)))
    monkeypatch.setattr(imdb, "FILE_HASH", "f" * 64)
    with pytest.raises(ValueError, match="incomplete or corrupted"):
        imdb.load_data(cache_dir=tmp_path / "other")
    assert os.listdir(tmp_path / "other" / "datasets") == []


def test_search_order_and_absolute_path(tmp_path, monkeypatch):
    roots = [tmp_path / "mine", tmp_path / "lk", tmp_path / "kh", tmp_path / "home" / ".keras"]
    for i, root in enumerate(roots):
        placed(root / "datasets", "imdb.npz", lambda p, i=i: write_imdb(p, seed=i, n_train=10 + i))
    monkeypatch.setattr(imdb, "FILE_HASH", None)
    for i, root in enumerate(roots):
        assert len(imdb.load_data(cache_dir=tmp_path / "mine")[0][0]) == 10 + i
        os.remove(root / "datasets" / "imdb.npz")
    elsewhere = write_imdb(tmp_path / "elsewhere.npz", n_train=4)
    assert len(imdb.load_data(path=elsewhere)[0][0]) == 4


@pytest.mark.parametrize("cut", [10, 200, -30])
def test_truncated_npz_is_value_error_naming_the_file(tmp_path, monkeypatch, cut):
    path = placed(tmp_path / "lk" / "datasets", "reuters.npz", write_reuters, monkeypatch, reuters)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[:cut])
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"reuters\.npz.*Delete it"):
        reuters.load_data()
    assert os.path.exists(path)


def test_corrupt_word_index_and_cifar_archive(tmp_path, monkeypatch):
    folder = tmp_path / "lk" / "datasets"
    folder.mkdir(parents=True)
    (folder / "imdb_word_index.json").write_text('{"the": 1,')
    monkeypatch.setattr(imdb, "WORD_INDEX_HASH", None)
    with pytest.raises(ValueError, match=r"imdb_word_index\.json.*Delete it"):
        imdb.get_word_index()
    (folder / "cifar-100-python.tar.gz").write_bytes(b"\x1f\x8b\x08garbage")
    monkeypatch.setattr(cifar100, "FILE_HASH", sha256(folder / "cifar-100-python.tar.gz"))
    with pytest.raises(ValueError, match="cifar-100-python.tar.gz"):
        cifar100.load_data()
