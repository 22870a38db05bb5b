"""One data iterator and one training state (issue 14, item 2).

- every data form `fit` takes becomes one `EpochIterator`, and every form of the same
  batches trains to the same weights, class weights included;
- the iterator owns steps (arrays continue across epochs with steps_per_epoch), skipping
  on resume, and the seam a distributed strategy splits batches at;
- `TrainingState.snapshot()` / `restore()` resume a fit bitwise through public API only;
- the trainer, the iterator, the state and the callbacks read no other object's `_private`
  attribute, and the trainer imports nothing from models / callbacks / saving.
"""

import ast
import pathlib

import numpy as np
import pytest
import torch

import layerkit
from layerkit import layers, models, optimizers, utils
from layerkit.callbacks import Callback
from layerkit.training import epoch_iterator as epoch_iterator_module
from layerkit.training import trainer
from layerkit.training.data_adapters import ArrayAdapter
from layerkit.training.epoch_iterator import EpochIterator
from layerkit.training.state import Snapshot, TrainingState

X = np.random.default_rng(0).normal(size=(24, 3)).astype("float32")
Y = (X.sum(1, keepdims=True) > 0).astype("float32")
PACKAGE = pathlib.Path(layerkit.__file__).parent


def _model(seed=3, dropout=False):
    utils.set_random_seed(seed)
    model = models.Sequential([layers.Dense(4, activation="tanh", input_shape=(3,))] +
                              ([layers.Dropout(0.3)] if dropout else []) +
                              [layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    return model


class Batches(utils.Sequence):
    def __init__(self, weights=None):
        self.weights = weights

    def __len__(self):
        return 3

    def __getitem__(self, i):
        part = slice(8 * i, 8 * i + 8)
        if self.weights is None:
            return X[part], Y[part]
        return X[part], Y[part], self.weights[part]


def _generator():
    while True:
        for i in range(3):
            yield X[8 * i:8 * i + 8], Y[8 * i:8 * i + 8]


def _forms():
    import pandas as pd
    import scipy.sparse as sp

    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)),
        batch_size=8)
    image_flow = layerkit.preprocessing.image.ImageDataGenerator().flow(
        X.reshape(24, 3, 1, 1), Y, batch_size=8, shuffle=False)
    return {
        "numpy": (dict(x=X, y=Y), "ArrayAdapter"),
        "lists": (dict(x=X.tolist(), y=Y.tolist()), "ArrayAdapter"),
        "pandas": (dict(x=pd.DataFrame(X), y=pd.DataFrame(Y)), "ArrayAdapter"),
        "sparse": (dict(x=sp.csr_matrix(X), y=Y), "ArrayAdapter"),
        "tensor": (dict(x=torch.from_numpy(X), y=torch.from_numpy(Y)), "ArrayAdapter"),
        "Sequence": (dict(x=Batches()), "StreamAdapter"),
        "generator": (dict(x=_generator(), steps_per_epoch=3), "StreamAdapter"),
        "DataLoader": (dict(x=loader), "StreamAdapter"),
        "Dataset": (dict(x=loader.dataset), "StreamAdapter"),
        "image iterator": (dict(x=image_flow, reshape=True), "StreamAdapter"),
    }


@pytest.fixture
def recorded(monkeypatch):
    """Every EpochIterator the trainer builds, and the batches each epoch drew."""
    built = []

    class Recording(EpochIterator):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.drawn = 0
            built.append(self)

        def enumerate_epoch(self, skip=0):
            for step, data in super().enumerate_epoch(skip):
                self.drawn += 1
                yield step, data

    monkeypatch.setattr(trainer, "EpochIterator", Recording)
    return built


def _reference_weights():
    model = _model()
    model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("form", list(_forms()))
def test_every_data_form_is_one_iterator_and_trains_alike(form, recorded):
    arguments, adapter = _forms()[form]
    arguments = dict(arguments)
    reference = _reference_weights()
    if arguments.pop("reshape", False):
        utils.set_random_seed(3)
        model = models.Sequential([layers.Flatten(input_shape=(3, 1, 1)),
                                   layers.Dense(4, activation="tanh"),
                                   layers.Dense(1, activation="sigmoid")])
        model.compile(optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    else:
        model = _model()
    recorded.clear()
    model.fit(batch_size=8, epochs=2, shuffle=False, verbose=0, **arguments)
    assert len(recorded) == 1 and type(recorded[0].adapter).__name__ == adapter
    assert recorded[0].drawn == 6  # 3 batches x 2 epochs, all through enumerate_epoch
    for ours, theirs in zip(model.get_weights(), reference):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_class_and_sample_weights_are_applied_alike_to_arrays_and_streams():
    weights = np.linspace(0.5, 2.0, 24).astype("float32")
    by_array, by_stream = _model(), _model()
    by_array.fit(X, Y, sample_weight=weights, class_weight={0: 1.0, 1: 3.0}, batch_size=8,
                 epochs=2, shuffle=False, verbose=0)
    by_stream.fit(Batches(weights), class_weight={0: 1.0, 1: 3.0}, epochs=2, shuffle=False,
                  verbose=0)
    for a, b in zip(by_array.get_weights(), by_stream.get_weights()):
        np.testing.assert_array_equal(a, b)
    plain = _model()
    plain.fit(X, Y, sample_weight=weights, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert not np.array_equal(plain.get_weights()[0], by_array.get_weights()[0])


def test_all_zero_class_weights_are_rejected_before_training():
    with pytest.raises(ValueError, match="class_weight gives every sample the weight 0"):
        _model().fit(X, Y, class_weight={0: 0.0, 1: 0.0}, verbose=0)


def _first_values(iterator, skip=0):
    return [(step, float(data[0][0, 0])) for step, data in iterator.enumerate_epoch(skip)]


def test_steps_per_epoch_continues_across_epochs_for_training_arrays_only():
    model = _model()
    rows = {float(X[i, 0]): i for i in range(24)}
    train = EpochIterator(model, X[:20], Y[:20], batch_size=8, steps=2)
    seen = [[rows[v] for _, v in _first_values(train)] for _ in range(3)]
    assert seen == [[0, 8], [16, 0], [8, 16]]  # 3 batches per pass, 2 per epoch
    validation = EpochIterator(model, X[:20], Y[:20], batch_size=8, steps=2, continues=False)
    assert [[rows[v] for _, v in _first_values(validation)] for _ in range(2)] == \
        [[0, 8], [0, 8]]
    assert (train.num_batches, validation.num_batches) == (2, 2)
    assert EpochIterator(model, X[:20], Y[:20], batch_size=8, steps=5,
                         continues=False).num_batches == 3


def test_a_skipped_epoch_draws_the_same_shuffle_and_counts_on():
    model = _model()
    iterator = EpochIterator(model, X, Y, batch_size=8, shuffle=True)
    torch.manual_seed(5)
    whole = _first_values(iterator)
    torch.manual_seed(5)
    rest = _first_values(iterator, skip=2)
    assert rest == whole[2:] and rest[0][0] == 2


def test_the_sharding_seam_splits_each_global_batch():
    class FirstHalf(ArrayAdapter):
        def local_range(self, start, stop):
            return start, start + (stop - start + 1) // 2

    model = _model()
    iterator = EpochIterator(model, batch_size=8, adapter=FirstHalf(
        torch.from_numpy(X), torch.from_numpy(Y), batch_size=8))
    sizes = [len(data[0]) for _, data in iterator.enumerate_epoch()]
    firsts = [float(data[0][0, 0]) for _, data in iterator.enumerate_epoch()]
    assert sizes == [4, 4, 4] and firsts == [float(X[i, 0]) for i in (0, 8, 16)]


def test_validation_split_is_cut_by_the_iterator_and_served_as_validation():
    model = _model()
    train = EpochIterator(model, X, Y, batch_size=8, validation_split=0.25)
    val = train.validation_iterator(batch_size=4)
    assert (train.num_batches, val.num_batches) == (3, 2)
    held_out = np.concatenate([data[0].numpy() for _, data in val.enumerate_epoch()])
    np.testing.assert_array_equal(held_out, X[18:])
    with pytest.raises(ValueError, match="validation_split works on arrays only"):
        EpochIterator(model, Batches(), validation_split=0.25)


# ---------------------------------------------------------------------------- state
def test_snapshot_points_at_the_next_batch_and_restore_sets_the_generators():
    model = _model(dropout=True)
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    state = TrainingState(model)
    state.begin_epoch(2)
    torch.rand(3)  # the epoch draws
    state.step = 2
    inside = state.snapshot()
    after = torch.rand(4)
    state.end_epoch()
    assert (state.snapshot().epoch, state.snapshot().step) == (3, 0)
    assert (inside.epoch, inside.step, int(inside.running["seen"])) == (2, 2, 24)
    fresh = TrainingState(model)
    fresh.restore(inside, "memory")
    assert fresh.take_restored() is inside and fresh.take_restored() is None
    torch.rand(3)  # the generators are now those of the epoch's start
    fresh.continue_epoch(inside)
    np.testing.assert_array_equal(torch.rand(4).numpy(), after.numpy())
    with pytest.raises(TypeError, match="expected a Snapshot"):
        fresh.restore({"epoch": 1})
    with pytest.raises(ValueError, match="epoch_rng"):
        Snapshot(1, 2)


class Keep(Callback):
    """Keeps the weights and a snapshot after batch `batch` of epoch `epoch` (public API)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.kept, self.epoch = (epoch, batch), None, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.kept = (self.model.get_weights(), self.training_state.snapshot())


class Resume(Callback):
    def __init__(self, kept):
        super().__init__()
        self.kept = kept

    def on_train_begin(self, logs=None):
        weights, snapshot = self.kept
        self.model.set_weights(weights)
        self.training_state.restore(snapshot)


def test_a_fit_resumed_from_a_snapshot_ends_bitwise_like_an_uninterrupted_one():
    keep = Keep(1, 1)
    whole = _model(dropout=True)
    history = whole.fit(X, Y, batch_size=8, epochs=3, shuffle=True, verbose=0,
                        callbacks=[keep])
    resumed = _model(seed=9, dropout=True)  # other weights and generators until restored
    torch.rand(7)
    rest = resumed.fit(X, Y, batch_size=8, epochs=3, shuffle=True, verbose=0,
                       callbacks=[Resume(keep.kept)])
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert rest.epoch == [1, 2]
    assert rest.history["loss"] == history.history["loss"][1:]
    assert rest.history["accuracy"] == history.history["accuracy"][1:]


# ---------------------------------------------------------------------------- structure
OWN = (["training/trainer.py", "training/epoch_iterator.py", "training/state.py",
        "training/rng.py", "training/callback.py", "training/history.py",
        "training/progbar_logger.py", "models/model.py"]
       + [f"training/data_adapters/{p.name}" for p in
          (PACKAGE / "training" / "data_adapters").glob("*.py")]
       + [f"callbacks/{p.name}" for p in (PACKAGE / "callbacks").glob("*.py")])


def _private_reads(path):
    """`obj._name` for objects other than self / cls / modules of torch and numpy."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and \
                not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", "torch",
                                                                       "np"):
                continue
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_the_loop_the_iterator_the_state_and_the_callbacks_read_no_privates():
    found = [hit for name in OWN for hit in _private_reads(PACKAGE / name)]
    allowed = {"layer._activity_loss"}  # the Layer contract has no public accessor yet
    assert [hit for hit in found if hit.split(" ", 1)[1] not in allowed] == []


def test_training_imports_nothing_from_models_callbacks_or_saving():
    upward = []
    for path in (PACKAGE / "training").rglob("*.py"):
        depth = len(path.relative_to(PACKAGE / "training").parts)  # 1: training/x.py
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = (node.module or "").split(".")[0] if node.level == depth + 1 \
                    else None
                if target in ("models", "callbacks", "saving"):
                    upward.append(f"{path.name}: from {'.' * node.level}{node.module}")
    assert upward == []
    assert not any("_resume_point" in p.read_text() for p in PACKAGE.rglob("*.py"))


def test_callbacks_receive_the_training_state_in_fit_evaluate_and_predict():
    seen = []

    class Look(Callback):
        def on_train_begin(self, logs=None):
            seen.append(("fit", isinstance(self.training_state, TrainingState)))

        def on_test_begin(self, logs=None):
            seen.append(("evaluate", isinstance(self.training_state, TrainingState)))

        def on_predict_begin(self, logs=None):
            seen.append(("predict", isinstance(self.training_state, TrainingState)))

    model = _model()
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[Look()])
    model.evaluate(X, Y, verbose=0, callbacks=[Look()])
    model.predict(X, callbacks=[Look()])
    assert seen == [("fit", True), ("evaluate", True), ("predict", True)]
    assert epoch_iterator_module.ARGUMENTS == ("x", "y", "sample_weight")
