"""Every bad input to fit / evaluate / predict / *_on_batch is answered by layerkit before
any step, in its own words: the argument, what was expected, what was received. Never a
torch or numpy traceback, never a silent cast; the weights stay as they were.

One exception to "before any step": NaN / inf in an x array that fit uses as it is (no
copy) is found in its batch, as the batch is cut (issue 17: no call reads its whole input
to check it); the batches before it have trained, the bad one changes nothing
(test_batch_finite_checks.py pins that down). Those cases are `PER_BATCH` below.

Booleans are not bad input: they become 0.0 / 1.0 in floatx (lossless), as labels from
`y > 0.5` and masks are commonly passed; the last tests pin that down.
"""

import os
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch

from layerkit import layers, models

N = 40
RNG = np.random.RandomState(0)
X = RNG.rand(N, 5).astype("float32")
LABELS = np.arange(N) % 3
FIT, EVALUATE, PREDICT, TRAIN_ON_BATCH = "fit", "evaluate", "predict", "train_on_batch"
ALL = (FIT, EVALUATE, PREDICT, TRAIN_ON_BATCH)
WITH_Y = (FIT, EVALUATE, TRAIN_ON_BATCH)
TRAINING = (FIT, TRAIN_ON_BATCH)


def _with(array, index, value, dtype=None):
    array = array.astype(dtype or array.dtype).copy()
    array[index] = value
    return array


def _ragged_list():
    rows = X.tolist()
    rows[7] = rows[7][:3]
    return rows


def _object_rows():
    rows = np.empty(N, dtype=object)
    rows[:] = [np.arange(5.0)] * N
    rows[9] = np.arange(2.0)
    return rows


def _structured():
    records = np.zeros(N, dtype=[("a", "f4"), ("b", "f4")])
    return records


# name: (arguments that replace the good ones, exact message start, the methods it applies to)
CASES = {
    # x
    "x_ragged_list": (dict(x=_ragged_list()), "x is ragged: x[7] has 3 elements but x[0] has "
                      "5 elements; every sample needs the same shape. Pad sequences", ALL),
    "x_object_ragged": (dict(x=_object_rows()), "x is ragged: x[9] has 2 elements but x[0] "
                        "has 5 elements", ALL),
    "x_object_none": (dict(x=_with(X, (4, 2), None, object)), "x has None at index (4, 2); "
                      "expected numbers: fill in missing values first", ALL),
    "x_object_text": (dict(x=_with(X, (1, 0), "cat", object)), "x has the text 'cat' at "
                      "index (1, 0); expected numbers. Convert text with a Tokenizer", ALL),
    "x_strings": (dict(x=np.full((N, 5), "a")), "x has dtype <U1 ('U'); expected numbers", ALL),
    "x_complex": (dict(x=X + 0.5j), "x has complex dtype complex64; expected real numbers "
                  "(layerkit does not drop imaginary parts)", ALL),
    "x_complex_tensor": (dict(x=torch.from_numpy(X) * (1 + 1j)), "x has complex dtype "
                         "torch.complex64; expected real numbers", ALL),
    "x_complex_sparse": (dict(x=scipy.sparse.csr_matrix(X.astype("complex128"))),
                         "x has complex dtype complex128; expected real numbers", ALL),
    "x_overflow": (dict(x=_with(X, (3, 1), 1e39, "float64")), "x has the value 1e+39 at index "
                   "(3, 1), which overflows float32 (largest 3.403e+38) and would become inf; "
                   "rescale the data", ALL),
    "x_overflow_tensor": (dict(x=torch.from_numpy(_with(X, (5, 4), -2e40, "float64"))),
                          "x has the value -2e+40 at index (5, 4), which overflows float32",
                          ALL),
    "x_nan": (dict(x=_with(X, (3, 1), np.nan)), "x contains NaN or inf (first at index "
              "(3, 1)); clean or impute the data before training", ALL),
    "x_inf_float64": (dict(x=_with(X, (30, 2), np.inf, "float64")), "x contains NaN or inf "
                      "(first at index (30, 2))", ALL),
    "x_nan_tensor": (dict(x=torch.from_numpy(_with(X, (6, 0), np.nan))),
                     "x contains NaN or inf (first at index (6, 0))", ALL),
    "x_nan_sparse": (dict(x=scipy.sparse.csr_matrix(_with(X, (8, 3), np.nan))),
                     "x contains NaN or inf (first at index (8, 3))", ALL),
    "x_nan_pandas": (dict(x=pd.DataFrame(_with(X, (2, 2), np.nan))),
                     "x contains NaN or inf (first at index (2, 2))", ALL),
    "x_pandas_text_column": (dict(x=pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2],
                                                  "d": X[:, 3], "city": ["x"] * N})),
                             "x is a pandas DataFrame with non-numeric columns 'city' (",
                             ALL),
    "x_structured": (dict(x=_structured()), "x is a structured array with fields ('a', 'b'); "
                     "expected plain numbers", ALL),
    "x_dates": (dict(x=np.zeros((N, 5), "datetime64[s]")), "x has dtype datetime64[s]; "
                "expected numbers", ALL),
    "x_uint64_overflow": (dict(x=_with(np.ones((N, 5), "uint64"), (2, 2), 2**63 + 1)),
                          "x has the value 9223372036854775809 at index (2, 2), beyond "
                          "int64's range", ALL),
    "x_none": (dict(x=None), "x is None; expected an array with one row per sample", ALL),
    "x_scalar": (dict(x=np.float32(3.0)), "x is a single number (shape ()); expected an "
                 "array with one row per sample", ALL),
    "x_empty": (dict(x=np.zeros((0, 5), "float32"), y=LABELS[:0]), "x is empty (shape "
                "(0, 5)); expected samples", ALL),
    # y
    "y_ragged": (dict(y=[[0]] * (N - 1) + [[0, 1]]), "y is ragged: y[39] has 2 elements but "
                 "y[0] has 1 elements", WITH_Y),
    "y_complex": (dict(y=LABELS + 0j), "y has complex dtype complex128; expected real numbers",
                  WITH_Y),
    "y_nan": (dict(y=_with(LABELS, 4, np.nan, "float64")), "y contains NaN or inf (first at "
              "index (4,))", WITH_Y),
    "y_object_none": (dict(y=_with(LABELS, 4, None, object)), "y has None at index (4,)",
                      WITH_Y),
    # sample_weight
    "sample_weight_rank": (dict(sample_weight=np.ones((N, 3))), "sample_weight must have "
                           "shape (40,) or (40, 1), one weight per sample; received shape "
                           "(40, 3). For a weight per class pass class_weight", WITH_Y),
    "sample_weight_rank3": (dict(sample_weight=np.ones((N, 1, 1))), "sample_weight must have "
                            "shape (40,) or (40, 1), one weight per sample; received shape "
                            "(40, 1, 1)", WITH_Y),
    "sample_weight_length": (dict(sample_weight=np.ones(4)), "Data cardinality is ambiguous: "
                             "x has 40 samples but sample_weight has 4", WITH_Y),
    "sample_weight_zeros": (dict(sample_weight=np.zeros(N)), "sample_weight gives every "
                            "sample the weight 0, so no sample would count toward the loss",
                            WITH_Y),
    "sample_weight_negative": (dict(sample_weight=_with(np.ones(N), 6, -2.0)), "sample_weight "
                               "must be non-negative; received -2 at index 6", WITH_Y),
    "sample_weight_nan": (dict(sample_weight=_with(np.ones(N), 6, np.nan)), "sample_weight "
                          "contains NaN or inf (first at index (6,))", WITH_Y),
    "sample_weight_complex": (dict(sample_weight=np.ones(N) + 1j), "sample_weight has complex "
                              "dtype complex128", WITH_Y),
    "sample_weight_text": (dict(sample_weight=["1"] * N), "sample_weight has dtype <U1",
                           WITH_Y),
    "sample_weight_overflow": (dict(sample_weight=_with(np.ones(N), 1, 1e300)), "sample_weight "
                               "has the value 1e+300 at index (1,), which overflows float32",
                               WITH_Y),
    # class_weight
    "class_weight_str_keys": (dict(class_weight={"0": 1, "1": 2}), "class_weight keys must be "
                              "integer class indices, e.g. {0: 1.0, 1: 3.0}; received the key "
                              "'0' (str)", TRAINING),
    "class_weight_float_keys": (dict(class_weight={0.0: 1, 1.0: 2}), "class_weight keys must "
                                "be integer class indices, e.g. {0: 1.0, 1: 3.0}; received the "
                                "key 0.0 (float)", TRAINING),
    "class_weight_out_of_range": (dict(class_weight={0: 1, 3: 2}), "class_weight has the key "
                                  "3, but the model's output has 3 classes; expected keys in "
                                  "[0, 3)", TRAINING),
    "class_weight_negative_key": (dict(class_weight={-1: 2}), "class_weight has the key -1, "
                                  "but the model's output has 3 classes", TRAINING),
    "class_weight_negative_value": (dict(class_weight={0: -1.0}), "class_weight[0] must be a "
                                    "non-negative finite number; received -1.0", TRAINING),
    "class_weight_nan_value": (dict(class_weight={1: float("nan")}), "class_weight[1] must be "
                               "a non-negative finite number; received nan", TRAINING),
    "class_weight_text_value": (dict(class_weight={1: "2"}), "class_weight[1] must be a "
                                "non-negative finite number; received '2'", TRAINING),
    "class_weight_not_a_dict": (dict(class_weight=[1.0, 2.0, 3.0]), "class_weight must be a "
                                "dict mapping class indices to weights, e.g. {0: 1.0, 1: 3.0}; "
                                "received list", TRAINING),
    "class_weight_all_zero": (dict(class_weight={0: 0, 1: 0, 2: 0}), "class_weight gives "
                              "every sample the weight 0", TRAINING),
    "class_weight_times_sample_weight_zero": (
        dict(class_weight={0: 0, 1: 1, 2: 1}, sample_weight=(LABELS == 0).astype("float32")),
        "sample_weight x class_weight gives every sample the weight 0", TRAINING),
    # validation_data (fit only): named as validation_data, not as x
    "validation_x_nan": (dict(validation_data=(_with(X, (1, 1), np.nan), LABELS)),
                         "validation_data[0] contains NaN or inf (first at index (1, 1))",
                         (FIT,)),
    "validation_weights_rank": (dict(validation_data=(X, LABELS, np.ones((N, 2)))),
                                "validation_data[2] must have shape (40,) or (40, 1)", (FIT,)),
    "validation_y_ragged": (dict(validation_data=(X, [[0]] * (N - 1) + [[0, 1]])),
                            "validation_data[1] is ragged: validation_data[1][39] has 2 "
                            "elements", (FIT,)),
}

CALLS = [(case, method) for case in sorted(CASES) for method in CASES[case][2]]
# found batch by batch by fit (float32 x viewed as it is: numpy, tensor, pandas; validation x)
PER_BATCH = {("x_nan", FIT), ("x_nan_tensor", FIT), ("x_nan_pandas", FIT),
             ("validation_x_nan", FIT)}


def _model():
    model = models.Sequential([layers.Dense(4, input_shape=(5,), name="first"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _call(model, method, x, y, sample_weight=None, class_weight=None, validation_data=None):
    if method == FIT:
        return model.fit(x, y, sample_weight=sample_weight, class_weight=class_weight,
                         validation_data=validation_data, batch_size=8, epochs=1, verbose=0)
    if method == EVALUATE:
        return model.evaluate(x, y, sample_weight=sample_weight, batch_size=8, verbose=0)
    if method == PREDICT:
        return model.predict(x, batch_size=8)
    return model.train_on_batch(x, y, sample_weight=sample_weight, class_weight=class_weight)


def _raised_by_layerkit(excinfo):
    """The innermost frame of the traceback is layerkit's own code (not torch's or numpy's),
    and no torch / numpy exception hides behind it."""
    tb = excinfo.tb
    while tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename
    layerkit_dir = os.sep + "layerkit" + os.sep
    cause = excinfo.value.__cause__ or (None if excinfo.value.__suppress_context__
                                        else excinfo.value.__context__)
    return layerkit_dir in where and cause is None


@pytest.mark.parametrize("case,method", CALLS, ids=[f"{c}-{m}" for c, m in CALLS])
def test_bad_input_is_named_before_any_step(case, method):
    overrides, message, _ = CASES[case]
    model = _model()
    model.predict(X[:2])  # built: the weights to compare exist
    before = model.get_weights()
    arguments = dict(x=X, y=LABELS)
    arguments.update(overrides)
    with pytest.raises(ValueError, match="^" + re.escape(message)) as excinfo:
        _call(model, method, **arguments)
    assert _raised_by_layerkit(excinfo), excinfo.getrepr()
    if (case, method) in PER_BATCH:
        return  # earlier batches trained (see the module's docstring)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_table_covers_every_method():
    methods = {m for _, _, ms in CASES.values() for m in ms}
    assert methods == set(ALL)
    assert len(CALLS) >= 150


# ---------------------------------------------------------------------------- streams
def _generator(x, y, sample_weight=None):
    while True:
        yield (x, y) if sample_weight is None else (x, y, sample_weight)


STREAM_CASES = {
    "nan": (dict(x=_with(X[:8], (2, 1), np.nan)), "x of batch 0 from generator contains NaN "
            "or inf (first at index (2, 1))"),
    "ragged": (dict(x=_ragged_list()[:8]), "x of batch 0 from generator is ragged: x of batch "
               "0 from generator[7] has 3 elements"),
    "complex": (dict(x=X[:8] + 1j), "x of batch 0 from generator has complex dtype"),
    "overflow": (dict(y=_with(LABELS[:8], 0, 1e39, "float64")), "y of batch 0 from generator "
                 "has the value 1e+39 at index (0,), which overflows float32"),
    "weights_rank": (dict(sample_weight=np.ones((8, 2))), "sample_weight of batch 0 from "
                     "generator must have shape (8,) or (8, 1), one weight per sample; "
                     "received shape (8, 2)"),
}


@pytest.mark.parametrize("case", sorted(STREAM_CASES))
def test_bad_batches_from_a_generator_are_named(case):
    overrides, message = STREAM_CASES[case]
    batch = dict(x=X[:8], y=LABELS[:8], sample_weight=None)
    batch.update(overrides)
    model = _model()
    with pytest.raises(ValueError, match="^" + re.escape(message)) as excinfo:
        model.fit(_generator(**batch), steps_per_epoch=2, verbose=0)
    assert _raised_by_layerkit(excinfo)


def test_predict_names_the_nan_sample_far_into_a_large_array():
    """Checked batch by batch as predict draws them: the index is the sample's in x."""
    x = np.random.RandomState(1).rand(5000, 5).astype("float32")
    x[4321, 3] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            "x contains NaN or inf (first at index (4321, 3)); clean or impute the data before "
            "training (found nan checking samples 4320 to 4351)")):
        _model().predict(x, batch_size=32)


def test_class_weight_labels_must_be_indices():
    y = (LABELS > 0).astype("float32")
    y[5] = -1
    with pytest.raises(ValueError, match=re.escape(
            "class_weight needs class indices in y; received the label -1 at index 5")):
        model = _binary_model()
        model.compile(optimizer="sgd", loss="mse")  # a loss that takes any target
        model.fit(X, y, class_weight={0: 2.0}, verbose=0)


# ---------------------------------------------------------------------------- booleans
def _binary_model():
    model = models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(5,),
                                            kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


def test_booleans_are_zero_and_one_in_floatx():
    x_bool, y_bool = X > 0.5, LABELS > 0
    w_bool = np.arange(N) % 4 > 0
    runs = []
    for x, y, w in ((x_bool, y_bool, w_bool),
                    (x_bool.astype("float32"), y_bool.astype("float32"), w_bool.astype("f4"))):
        model = _binary_model()
        model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, shuffle=False, verbose=0)
        runs.append((model.predict(x), model.evaluate(x, y, sample_weight=w, verbose=0),
                     model.train_on_batch(x, y, sample_weight=w)))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
