"""Every data path takes any numpy layout — negative strides (the book's reversed
sequences, `samples[:, ::-1, :]`), strided views, Fortran order, read-only memory,
memory-mapped `.npy`, big-endian — and gives bitwise the results of the C-contiguous array;
copies are made only where torch cannot view the memory as it is."""

import numpy as np
import pytest
import torch

import layerkit
from layerkit import layers, models, utils
from layerkit.training.data_adapters import arrays as data_adapter

N, STEPS, FEATURES = 24, 6, 3
RNG = np.random.RandomState(0)
X = RNG.rand(N, STEPS, FEATURES).astype("float32")
Y = (RNG.rand(N) > 0.5).astype("float32")
W = RNG.rand(N).astype("float32") + 0.5


def _negative_steps(a):
    """Same values, negative stride on the second axis (the reversed-sequence experiment)."""
    return np.ascontiguousarray(a[:, ::-1])[:, ::-1] if a.ndim > 1 else _negative_rows(a)


def _negative_rows(a):
    return np.ascontiguousarray(a[::-1])[::-1]


def _strided(a):
    wide = np.repeat(a, 2, axis=-1)  # every value twice along the last axis
    return wide[..., ::2]


def _rows_strided(a):
    return np.repeat(a, 3, axis=0)[::3]


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _memmap(tmp_path_factory, mode):
    def make(a):
        path = tmp_path_factory.mktemp("npy") / "a.npy"
        np.save(path, a)
        return np.load(path, mmap_mode=mode)
    return make


LAYOUTS = {
    "negative_steps": _negative_steps,
    "negative_rows": _negative_rows,
    "strided_view": _strided,
    "strided_rows": _rows_strided,
    "fortran": np.asfortranarray,
    "read_only": _read_only,
    "big_endian": lambda a: a.astype(a.dtype.newbyteorder(">")),
    "memmap_r": "r",
    "memmap_r+": "r+",
    "memmap_c": "c",
}
# where torch can view the memory as it is, fit must not copy the array
SHARED = {"strided_view", "strided_rows", "fortran", "read_only", "memmap_r", "memmap_r+",
          "memmap_c"}


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request, tmp_path_factory):
    make = LAYOUTS[request.param]
    if isinstance(make, str):
        make = _memmap(tmp_path_factory, make)
    return request.param, make


def _model():
    utils.set_random_seed(3)
    model = models.Sequential([layers.Conv1D(4, 3, activation="relu",
                                             input_shape=(STEPS, FEATURES)),
                               layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["acc"])
    return model


def _sequence(x, y, w):
    class Batches(utils.Sequence):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            part = slice(8 * i, 8 * i + 8)
            return x[part], y[part], w[part]
    return Batches()


def _generator(x, y, w):
    while True:
        for i in range(3):
            part = slice(8 * i, 8 * i + 8)
            yield x[part], y[part], w[part]


def _results(form, x, y, w):
    """What a data form gives for data (x, y, w): outputs, logs and final weights."""
    model = _model()
    if form == "fit":
        out = model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, shuffle=False,
                        verbose=0).history
    elif form == "fit_shuffled":
        torch.manual_seed(5)
        out = model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, verbose=0).history
    elif form == "validation_data":
        out = model.fit(X, Y, validation_data=(x, y, w), batch_size=8, epochs=1,
                        verbose=0).history
    elif form == "evaluate":
        out = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)
    elif form == "predict":
        out = model.predict(x, batch_size=8)
    elif form == "on_batch":
        out = [model.train_on_batch(x, y, sample_weight=w),
               model.test_on_batch(x, y, sample_weight=w), model.predict_on_batch(x)]
    elif form == "generator":
        out = model.fit(_generator(x, y, w), steps_per_epoch=3, epochs=2, verbose=0).history
        out["predict"] = model.predict(_generator(x, y, w), steps=3)
    elif form == "sequence":
        out = model.fit(_sequence(x, y, w), epochs=2, verbose=0).history
        out["evaluate"] = model.evaluate(_sequence(x, y, w), verbose=0)
        out["predict"] = model.predict(_sequence(x, y, w))
    return out, model.get_weights()


_BASELINES = {}


def _baseline(form):
    """The C-contiguous results, computed once per form."""
    if form not in _BASELINES:
        _BASELINES[form] = _results(form, X, Y, W)
    return _BASELINES[form]


FORMS = ["fit", "fit_shuffled", "validation_data", "evaluate", "predict", "on_batch",
         "generator", "sequence"]


def _assert_same(a, b):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for p, q in zip(a, b):
            _assert_same(p, q)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("error")  # torch's "not writable" warning included
@pytest.mark.parametrize("form", FORMS)
def test_layout_gives_the_contiguous_results(layout, form):
    _, make = layout
    x, y, w = make(X), make(Y), make(W)
    assert np.array_equal(x, X) and np.array_equal(y, Y) and np.array_equal(w, W)
    _assert_same(_results(form, x, y, w), _baseline(form))


def test_fit_views_what_torch_can_view_and_copies_the_rest(layout):
    name, make = layout
    x = make(X)
    tensor = data_adapter.to_array(x, "x")
    assert torch.equal(tensor, torch.from_numpy(X))
    assert np.shares_memory(tensor.numpy(), x) == (name in SHARED)


def test_predict_reads_the_users_array_batch_by_batch(layout):
    _, make = layout
    x = make(X)
    rows = data_adapter.to_array(x, "x", lazy=True)
    assert rows.array is x  # no copy up front; each batch converted as it is drawn
    batch = rows.rows(8, 16)
    assert batch.is_contiguous() and torch.equal(batch, torch.from_numpy(X[8:16]))


def test_a_contiguous_float32_batch_is_viewed_not_copied():
    rows = data_adapter.to_array(X, "x", lazy=True)
    assert np.shares_memory(rows.rows(0, 8).numpy(), X)


def test_the_books_reversed_sequences_train_like_their_copy():
    """Deep Learning with Python 6.3: a generator of `samples[:, ::-1, :]`."""
    def reversed_batches(data):
        while True:
            for i in range(3):
                samples = data[8 * i:8 * i + 8]
                yield samples[:, ::-1, :], Y[8 * i:8 * i + 8]
    runs = []
    for data in (X, np.ascontiguousarray(X[:, ::-1, :])[:, ::-1, :]):
        model = _model()
        model.fit(reversed_batches(data), steps_per_epoch=3, epochs=2, verbose=0)
        runs.append(model.get_weights())
    _assert_same(runs[0], runs[1])
    assert layerkit.config.floatx() == "float32"
