"""Bad inputs to compile / fit / evaluate / predict fail before any training step, with
messages that say what was expected and what was received — and leave the weights alone."""

import re

import numpy as np
import pytest

from layerkit import layers, models

X = np.random.RandomState(0).rand(10, 5).astype("float32")
LABELS = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])


def _model(loss="sparse_categorical_crossentropy", units=3, activation="softmax",
           metrics=None, compile=True):
    model = models.Sequential([layers.Dense(4, input_shape=(5,), name="first"),
                               layers.Dense(units, activation=activation)])
    if compile:
        model.compile(optimizer="sgd", loss=loss, metrics=metrics)
    return model


def _with_nan(array, index, value=np.nan):
    array = array.astype("float32").copy()
    array[index] = value
    return array


BAD_FITS = {
    "width": (dict(x=np.zeros((10, 6), "float32")), ValueError, re.escape(
        "Input 0 of layer 'first' is incompatible with the layer: expected shape (None, 5), "
        "but received input with shape (None, 6)")),
    "rank": (dict(x=np.zeros((10, 5, 1), "float32")), ValueError,
             r"layer 'first'.*expected shape \(None, 5\), but received input with shape "
             r"\(None, 5, 1\)"),
    "one_hot_sparse_ce": (dict(y=np.eye(3)[LABELS]), ValueError, re.escape(
        "sparse_categorical_crossentropy on output 'dense' expects integer class labels of "
        "shape (batch_size,) "
        "or (batch_size, 1), but received targets of shape (10, 3), which look one-hot "
        "encoded")),
    "label_too_big": (dict(y=LABELS + 1), ValueError, re.escape(
        "sparse_categorical_crossentropy on output 'dense' expects labels in [0, 3) for an "
        "output with 3 "
        "classes, but received labels from 1 to 3")),
    "y_length": (dict(y=LABELS[:9]), ValueError,
                 "x has 10 samples but y has 9. Make sure all arrays contain the same number"),
    "sample_weight_length": (dict(sample_weight=np.ones(4)), ValueError,
                             "x has 10 samples but sample_weight has 4"),
    "nan_y": (dict(y=_with_nan(LABELS, 4)), ValueError,
              re.escape("y contains NaN or inf (first at index (4,))")),
    "strings": (dict(x=np.full((10, 5), "a")), ValueError,
                r"x has dtype <U1 \('U'\); expected numbers"),
    "empty": (dict(x=np.zeros((0, 5), "float32"), y=np.zeros(0, "int64")), ValueError,
              re.escape("x is empty (shape (0, 5)); expected samples")),
    "no_y": (dict(y=None), ValueError, r"y \(the targets\) is required"),
    "batch_size_zero": (dict(batch_size=0), ValueError,
                        "batch_size must be a positive integer, received 0"),
    "batch_size_float": (dict(batch_size=2.5), ValueError,
                         "batch_size must be a positive integer, received 2.5"),
    "batch_size_bool": (dict(batch_size=True), ValueError,
                        "batch_size must be a positive integer, received True"),
    "epochs_negative": (dict(epochs=-1), ValueError,
                        "epochs must be a non-negative integer, received -1"),
    "epochs_float": (dict(epochs=1.5), ValueError,
                     "epochs must be a non-negative integer, received 1.5"),
    "validation_split_big": (dict(validation_split=1.5), ValueError,
                             re.escape("validation_split must be a float in (0, 1), received 1.5")),
    "validation_split_negative": (dict(validation_split=-0.2), ValueError,
                                  re.escape("validation_split must be a float in (0, 1), "
                                            "received -0.2")),
    "validation_split_no_train": (dict(validation_split=0.95), ValueError, re.escape(
        "validation_split=0.95 leaves 0 training and 10 validation samples out of 10; both "
        "need at least one")),
    "verbose": (dict(verbose=3), ValueError,
                "verbose must be 0, 1, 2 or 'auto', received 3"),
    "validation_data_1_tuple": (dict(validation_data=(X,)), ValueError, re.escape(
        "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight)")),
    "validation_data_4_tuple": (dict(validation_data=(X, LABELS, LABELS, LABELS)), ValueError,
                                r"validation_data must be a tuple \(x_val, y_val\)"),
    "validation_data_dict": (dict(validation_data={"x": X}), ValueError,
                             r"validation_data must be a tuple .* received dict"),
    "validation_data_width": (dict(validation_data=(np.zeros((3, 4)), LABELS[:3])), ValueError,
                              r"layer 'first'.*expected shape \(None, 5\), but received input "
                              r"with shape \(None, 4\)"),
    "validation_data_labels": (dict(validation_data=(X[:3], np.array([0, 5, 1]))), ValueError,
                               r"expects labels in \[0, 3\) .* received labels from 0 to 5"),
    "unknown_kwarg": (dict(foo=1), TypeError,
                      re.escape("fit() got unexpected keyword arguments ['foo']")),
    "callback_not_a_callback": (dict(callbacks=[print]), TypeError,
                                "callbacks must be layerkit.callbacks.Callback instances, "
                                "received builtin_function_or_method"),
}


@pytest.mark.parametrize("case", sorted(BAD_FITS))
def test_bad_fit_raises_before_training(case, capsys):
    overrides, error, pattern = BAD_FITS[case]
    model = _model()
    before = model.get_weights()
    kwargs = dict(x=X, y=LABELS, epochs=2, batch_size=4, verbose=1)
    kwargs.update(overrides)
    with pytest.raises(error, match=pattern):
        model.fit(**kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert capsys.readouterr().out == ""  # not even an 'Epoch 1/2' line


@pytest.mark.parametrize("index,value,found", [((2, 3), np.nan, "nan checking samples 0 to 3"),
                                               ((7, 0), np.inf, "inf checking samples 4 to 7")])
def test_nan_in_x_is_found_in_its_batch_before_its_step(index, value, found):
    """x that fit uses as it is is checked batch by batch as it is cut (issue 17): the
    batches before the bad one train, the bad one changes no weight."""
    model, reference = _model(), _model()
    reference.set_weights(model.get_weights())
    first = index[0] // 4 * 4  # batch_size 4, no shuffling: the bad batch starts here
    if first:
        reference.fit(X[:first], LABELS[:first], batch_size=4, shuffle=False, verbose=0)
    with pytest.raises(ValueError, match=re.escape(
            f"x contains NaN or inf (first at index {index}); clean or impute the data before "
            f"training (found {found})")):
        model.fit(_with_nan(X, index, value), LABELS, epochs=2, batch_size=4, shuffle=False,
                  verbose=0)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_categorical_ce_with_integer_labels():
    model = _model(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "categorical_crossentropy on output 'dense' expects one-hot targets of shape "
            "(batch_size, 3), but "
            "received targets of shape (10,), which look like integer labels")):
        model.fit(X, LABELS, verbose=0)


def test_fit_before_compile():
    model = _model(compile=False)
    with pytest.raises(RuntimeError, match=re.escape(
            "You must compile your model before training: call "
            "model.compile(optimizer='rmsprop', loss='...') first")):
        model.fit(X, LABELS)
    with pytest.raises(RuntimeError, match="You must compile your model before evaluating"):
        model.evaluate(X, LABELS)
    with pytest.raises(RuntimeError, match="You must compile your model before training"):
        model.train_on_batch(X, LABELS)


def test_compile_without_loss_needs_an_added_loss_to_train():
    # compile(loss=None) is Keras's way for models that add their own loss (the book's
    # VAE); with no loss at all, training says so before the first step
    model = _model(loss=None)
    with pytest.raises(ValueError, match=r"compiled with loss=None and adds no loss with "
                                         r"add_loss\(\): there is nothing to minimise"):
        model.fit(np.zeros((4, 5)), np.zeros((4,)), verbose=0)


def test_unknown_optimizer_suggests_the_closest():
    with pytest.raises(ValueError, match=re.escape(
            "Unknown optimizer: 'adamm'. Did you mean 'Adam' or 'Nadam' or 'AdamW'?")):
        _model(compile=False).compile(optimizer="adamm", loss="mse")


def test_unknown_loss_suggests_the_closest_not_fifty():
    with pytest.raises(ValueError, match=r"^Unknown loss: 'binary_crossentropyy'\. Did you "
                                         r"mean 'binary_crossentropy' or [^,]*\?$"):
        _model(loss="binary_crossentropyy")


def test_unknown_loss_message_grammar():
    with pytest.raises(ValueError, match=r"^Unknown loss: 'msee'\. Did you mean 'mse' or "
                                         r"'msle'"):
        _model(loss="msee")


def test_unknown_loss_without_close_name_gives_a_few_examples():
    with pytest.raises(ValueError) as info:
        _model(loss="zzz")
    message = str(info.value)
    assert "no valid name is close" in message and "binary_crossentropy" in message
    assert message.count(",") < 12  # a few examples, not the whole table


def test_keras_loss_layerkit_lacks_says_what_to_use():
    with pytest.raises(ValueError, match="'dice'. layerkit does not implement it. Instead: a "
                                         r"function fn\(y_true, y_pred\)"):
        _model(loss="dice")


def test_unknown_activation_suggests_the_closest():
    with pytest.raises(ValueError, match=r"Unknown activation: 'rel'\. Did you mean 'relu'"):
        layers.Dense(3, activation="rel")


def test_unknown_metric_fails_at_compile_suggesting_the_closest():
    with pytest.raises(ValueError, match=r"Unknown metric: 'accurcy'\. Did you mean "
                                         r"'accuracy'"):
        _model(metrics=["accurcy"])


@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_evaluate_and_predict_check_the_input_width(method):
    model = _model()
    args = (np.zeros((4, 7), "float32"),) + ((LABELS[:4],) if method == "evaluate" else ())
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'first' is incompatible with the layer: expected shape "
            "(None, 5), but received input with shape (None, 7)")):
        getattr(model, method)(*args)


def test_evaluate_checks_labels_and_kwargs():
    model = _model()
    with pytest.raises(ValueError, match=r"expects labels in \[0, 3\)"):
        model.evaluate(X, LABELS + 3, verbose=0)
    with pytest.raises(TypeError, match=re.escape(
            "evaluate() got unexpected keyword arguments ['epochs']")):
        model.evaluate(X, LABELS, epochs=2)
    with pytest.raises(TypeError, match=re.escape(
            "predict() got unexpected keyword arguments ['y']")):
        model.predict(X, y=LABELS)


def test_compile_unknown_keyword():
    with pytest.raises(TypeError, match=re.escape(
            "compile() got unexpected keyword arguments ['lr']")):
        _model(compile=False).compile(optimizer="sgd", loss="mse", lr=0.1)


@pytest.mark.parametrize("initial_epoch", [-1, 5, 1.5])
def test_bad_initial_epoch(initial_epoch):
    model = _model()
    with pytest.raises(ValueError, match=r"initial_epoch must be an integer between 0 and "
                                         r"epochs=3, received"):
        model.fit(X, LABELS, epochs=3, initial_epoch=initial_epoch, verbose=0)
