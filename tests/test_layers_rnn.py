"""SimpleRNN, LSTM, GRU, Bidirectional and TimeDistributed against the Keras 3 oracle.

Every recurrent layer runs on two engines (torch's fused kernel, the cell loop); both are
compared with Keras and with each other (outputs and gradients). Configs, a training step
and save/load of each layer: tests/test_layer_contract.py.
"""

import keras
import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.layers.core.embedding import Embedding
from layerkit.layers.rnn import GRU, LSTM, Bidirectional, SimpleRNN, TimeDistributed
from layerkit.layers.rnn.base_rnn import BaseRNN

from helpers import randn, to_numpy

ATOL = 1e-5

KINDS = {
    "simple_rnn": (SimpleRNN, keras.layers.SimpleRNN, {}),
    "simple_rnn_relu": (SimpleRNN, keras.layers.SimpleRNN, {"activation": "relu"}),
    "lstm": (LSTM, keras.layers.LSTM, {}),
    "gru": (GRU, keras.layers.GRU, {}),
    "gru_reset_before": (GRU, keras.layers.GRU, {"reset_after": False}),
}
FUSABLE = ["simple_rnn", "simple_rnn_relu", "lstm", "gru"]


def _twin(kind, features=4, units=3, **options):
    """(ours, theirs) built on (None, T, features) with the same random nonzero weights."""
    ours_cls, keras_cls, extra = KINDS[kind]
    theirs = keras_cls(units, **extra, **options)
    theirs.build((None, 5, features))
    weights = [randn(*w.shape, seed=i + 1, scale=0.5) for i, w in enumerate(theirs.get_weights())]
    theirs.set_weights(weights)
    ours = ours_cls(units, **extra, **options)
    ours.build((None, 5, features))
    ours.set_weights(weights)
    return ours, theirs


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _assert_close(ours, theirs, atol=ATOL):
    ours, theirs = _as_list(ours), _as_list(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=atol)


def _loop_only(layer):
    """Forces the cell loop (Keras's use_cudnn=False)."""
    layer.use_cudnn = False
    return layer


def _fused_only(monkeypatch):
    """Makes the loop engine fail, proving the fused kernel ran."""
    def no_loop(*args, **kwargs):
        raise AssertionError("the cell loop ran where the fused kernel was expected")
    monkeypatch.setattr(BaseRNN, "_run_loop", no_loop)


# ------------------------------------------------------------------ outputs vs Keras
def _both_engines(layer, x, mask=None, fusable=True):
    """Outputs of the fused engine (proved to run when `fusable`) and of the cell loop."""
    with pytest.MonkeyPatch.context() as patch:
        if fusable:
            _fused_only(patch)
        fused = layer(x, mask=mask)
    loop = _loop_only(layer)(x, mask=mask)
    layer.use_cudnn = "auto"
    return fused, loop


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backwards"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_rnn_matches_keras(kind, return_sequences, go_backwards):
    options = dict(return_sequences=return_sequences, return_state=True,
                   go_backwards=go_backwards)
    ours, theirs = _twin(kind, **options)
    x = randn(3, 5, 4, seed=7)
    expected = theirs(x)
    for out in _both_engines(ours, torch.from_numpy(x), fusable=kind in FUSABLE):
        _assert_close(out, expected)
        assert len(out) == (3 if kind == "lstm" else 2)
        shapes = ours.compute_output_shape((None, 5, 4))
        assert [tuple(o.shape) for o in out] == [(3,) + tuple(s[1:]) for s in shapes]


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_rnn_without_bias_matches_keras(kind):
    ours, theirs = _twin(kind, use_bias=False, return_sequences=True)
    x = randn(2, 5, 4, seed=5)
    expected = theirs(x)
    for out in _both_engines(ours, torch.from_numpy(x), fusable=kind != "gru_reset_before"):
        _assert_close(out, expected)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_rnn_without_state_returns_one_tensor(kind, return_sequences):
    ours, theirs = _twin(kind, return_sequences=return_sequences)
    x = randn(2, 5, 4, seed=6)
    out = ours(torch.from_numpy(x))
    assert isinstance(out, torch.Tensor)
    _assert_close(out, theirs(x))
    assert ours.compute_output_shape((None, 5, 4)) == (
        (None, 5, 3) if return_sequences else (None, 3))


MASKS = {
    "right_pad": [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]],
    "left_pad": [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]],
    "holes": [[1, 0, 1, 0, 1], [0, 1, 1, 0, 0], [1, 1, 1, 1, 0]],
    "empty_row": [[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]],
}


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backwards"])
@pytest.mark.parametrize("mask_kind", list(MASKS))
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_rnn_with_mask_matches_keras(kind, mask_kind, go_backwards):
    ours, theirs = _twin(kind, return_sequences=True, return_state=True,
                         go_backwards=go_backwards)
    x = randn(3, 5, 4, seed=8)
    mask = np.array(MASKS[mask_kind], dtype=bool)
    expected = theirs(x, mask=mask)
    fusable = kind != "gru_reset_before" and mask_kind in ("right_pad", "left_pad")
    for out in _both_engines(ours, torch.from_numpy(x), torch.from_numpy(mask),
                             fusable=fusable):
        _assert_close(out, expected)


@pytest.mark.parametrize("mask_kind", ["right_pad", "holes"])
def test_masked_last_output_matches_keras(mask_kind):
    ours, theirs = _twin("gru", go_backwards=True)
    x = randn(3, 5, 4, seed=10)
    mask = np.array(MASKS[mask_kind], dtype=bool)
    _assert_close(ours(torch.from_numpy(x), mask=torch.from_numpy(mask)),
                  theirs(x, mask=mask))


@pytest.mark.parametrize("zero_output", [False, True], ids=["repeat", "zeros"])
@pytest.mark.parametrize("mask_kind", ["right_pad", "left_pad"])
def test_packed_engine_runs_padding_masks(mask_kind, zero_output, monkeypatch):
    ours, theirs = _twin("lstm", return_sequences=True, return_state=True,
                         zero_output_for_mask=zero_output)
    _fused_only(monkeypatch)
    x = randn(3, 5, 4, seed=9)
    mask = np.array(MASKS[mask_kind], dtype=bool)
    _assert_close(ours(torch.from_numpy(x), mask=torch.from_numpy(mask)),
                  theirs(x, mask=mask))


def test_masked_steps_repeat_previous_output():
    """Keras 3 (zero_output_for_mask=False): SimpleRNN over [3, 0, 5, 0] gives o1 o1 o3 o3."""
    model = models.Sequential([Embedding(6, 2, mask_zero=True),
                               SimpleRNN(2, return_sequences=True)])
    out = to_numpy(model(torch.tensor([[3, 0, 5, 0]])))[0]
    np.testing.assert_array_equal(out[1], out[0])
    np.testing.assert_array_equal(out[3], out[2])
    assert not np.allclose(out[2], out[0])


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_embedding_mask_zero_in_sequential_matches_keras(kind):
    ours_cls, keras_cls, _ = KINDS[kind]
    ids = np.array([[0, 0, 3, 4, 5], [1, 2, 0, 0, 0], [5, 0, 6, 0, 7]])
    theirs = keras.Sequential([keras.Input((5,), dtype="int32"),
                               keras.layers.Embedding(8, 4, mask_zero=True),
                               keras_cls(3, return_sequences=True),
                               keras_cls(2), keras.layers.Dense(1)])
    ours = models.Sequential([Embedding(8, 4, mask_zero=True, input_length=5),
                              ours_cls(3, return_sequences=True), ours_cls(2),
                              layers.Dense(1)])
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(to_numpy(ours(torch.from_numpy(ids))), to_numpy(theirs(ids)),
                               atol=ATOL)


# ------------------------------------------------------------------ fused == loop
@pytest.mark.parametrize("mask_kind", [None, "right_pad", "left_pad"])
@pytest.mark.parametrize("kind", FUSABLE)
def test_fused_and_loop_give_same_outputs_and_gradients(kind, mask_kind):
    fused, _ = _twin(kind, return_sequences=True)
    loop = _loop_only(KINDS[kind][0](3, return_sequences=True, **KINDS[kind][2]))
    loop.build((None, 5, 4))
    loop.set_weights(fused.get_weights())
    x = torch.from_numpy(randn(3, 5, 4, seed=3))
    mask = None if mask_kind is None else torch.tensor(MASKS[mask_kind], dtype=torch.bool)
    results = []
    for layer in (fused, loop):
        xi = x.clone().requires_grad_(True)
        out = layer(xi, mask=mask)
        (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
        results.append([out, xi.grad] + [p.grad for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-5)


# ------------------------------------------------------------------ dropout
def _identity_rnn(**options):
    """Linear SimpleRNN with kernel I, recurrent kernel R and no bias."""
    layer = SimpleRNN(6, activation="linear", use_bias=False, return_sequences=True,
                      **options)
    layer.build((None, 4, 6))
    return layer


def test_input_dropout_one_mask_per_sequence_training_only():
    layer = _identity_rnn(dropout=0.5, seed=1)
    layer.set_weights([np.eye(6, dtype="float32"), np.zeros((6, 6), "float32")])
    x = torch.ones(8, 4, 6)
    out = to_numpy(layer(x, training=True))  # output_t = x_t * mask
    assert set(np.unique(out)) <= {0.0, 2.0} and (out == 0).any() and (out == 2).any()
    for t in range(1, 4):
        np.testing.assert_array_equal(out[:, t], out[:, 0])
    np.testing.assert_array_equal(to_numpy(layer(x)), np.ones((8, 4, 6)))  # inference


def test_recurrent_dropout_one_mask_per_sequence():
    layer = _identity_rnn(recurrent_dropout=0.5, seed=2)
    layer.set_weights([np.eye(6, dtype="float32"), np.eye(6, dtype="float32")])
    x = torch.zeros(8, 4, 6)
    x[:, 0] = 1.0  # h_0 = 1, then h_t = h_{t-1} * mask: the same mask gives 2**t or 0
    out = to_numpy(layer(x, training=True))
    kept = out[:, 1] != 0
    assert kept.any() and (~kept).any()
    for t in range(1, 4):
        np.testing.assert_array_equal(out[:, t], np.where(kept, 2.0 ** t, 0.0))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_seeded_input_dropout_fused_equals_loop(kind):
    fused, _ = _twin(kind, dropout=0.4, seed=5, return_sequences=True)
    loop = _loop_only(KINDS[kind][0](3, dropout=0.4, seed=5, return_sequences=True))
    loop.build((None, 5, 4))
    loop.set_weights(fused.get_weights())
    x = torch.from_numpy(randn(3, 5, 4, seed=4))
    a, b = fused(x, training=True), loop(x, training=True)
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-6)
    assert not np.allclose(to_numpy(a), to_numpy(fused(x)))


@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_reset_before", "simple_rnn"])
def test_recurrent_dropout_trains_and_is_off_at_inference(kind):
    ours, theirs = _twin(kind, dropout=0.3, recurrent_dropout=0.3, seed=3)
    x = randn(2, 5, 4, seed=5)
    _assert_close(ours(torch.from_numpy(x)), theirs(x))  # inference: no dropout
    out = ours(torch.from_numpy(x), training=True)
    assert tuple(out.shape) == (2, 3) and not np.allclose(to_numpy(out), to_numpy(theirs(x)))


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("layer,features,count", [
    (lambda: LSTM(3), 4, 96), (lambda: GRU(4), 7, 156), (lambda: GRU(4, reset_after=False), 7, 144),
    (lambda: SimpleRNN(5), 3, 45), (lambda: LSTM(2, use_bias=False), 3, 40),
], ids=["lstm", "gru", "gru_reset_before", "simple_rnn", "lstm_no_bias"])
def test_weight_counts_match_keras(layer, features, count):
    ours = layer()
    ours.build((None, 5, features))
    config = {k: v for k, v in ours.get_config().items()
              if k not in ("name", "implementation", "dtype", "zero_output_for_mask")}
    theirs = getattr(keras.layers, type(ours).__name__).from_config(config)
    theirs.build((None, 5, features))
    assert ours.count_params() == theirs.count_params() == count
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]


def test_lstm_initializers():
    layer = LSTM(8)
    layer.build((None, 5, 6))
    kernel, recurrent, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(8), np.ones(8), np.zeros(16)])
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(8), atol=1e-5)  # orthogonal
    limit = np.sqrt(6 / (6 + 32))  # glorot_uniform on the packed (6, 32) kernel
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    no_forget = LSTM(8, unit_forget_bias=False)
    no_forget.build((None, 5, 6))
    np.testing.assert_array_equal(no_forget.get_weights()[2], np.zeros(32))


def test_gru_bias_layout():
    after, before = GRU(4), GRU(4, reset_after=False)
    after.build((None, 2, 3))
    before.build((None, 2, 3))
    assert after.get_weights()[2].shape == (2, 12)
    assert before.get_weights()[2].shape == (12,)


# ------------------------------------------------------------------ wrappers
@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
@pytest.mark.parametrize("kind,merge_mode", [
    ("lstm", "concat"), ("lstm", "sum"), ("lstm", "mul"), ("lstm", "ave"), ("lstm", None),
    ("gru", "concat"), ("simple_rnn", None)])
def test_bidirectional_matches_keras(kind, merge_mode, return_sequences, masked):
    ours_cls, keras_cls, _ = KINDS[kind]
    ours = Bidirectional(ours_cls(3, return_sequences=return_sequences), merge_mode=merge_mode)
    theirs = keras.layers.Bidirectional(keras_cls(3, return_sequences=return_sequences),
                                        merge_mode=merge_mode)
    theirs.build((None, 5, 4))
    ours.build((None, 5, 4))
    weights = [randn(*w.shape, seed=i, scale=0.5) for i, w in enumerate(theirs.get_weights())]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    x = randn(3, 5, 4, seed=11)
    mask = np.array(MASKS["right_pad"], dtype=bool) if masked else None
    out = ours(torch.from_numpy(x), mask=None if mask is None else torch.from_numpy(mask))
    _assert_close(out, theirs(x, mask=mask))
    shapes = ours.compute_output_shape((None, 5, 4))
    assert [tuple(o.shape) for o in _as_list(out)] == [
        (3,) + tuple(s[1:]) for s in (shapes if merge_mode is None else [shapes])]


def test_bidirectional_return_state_and_weight_order():
    ours = Bidirectional(LSTM(3, return_state=True, name="enc"))
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(3, return_state=True))
    theirs.build((None, 5, 4))
    ours.build((None, 5, 4))
    weights = [randn(*w.shape, seed=i, scale=0.5) for i, w in enumerate(theirs.get_weights())]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    np.testing.assert_array_equal(ours.forward_layer.get_weights()[0], weights[0])
    np.testing.assert_array_equal(ours.backward_layer.get_weights()[0], weights[3])
    assert ours.forward_layer.name == "forward_enc" and ours.backward_layer.go_backwards
    x = randn(2, 5, 4, seed=12)
    out = ours(torch.from_numpy(x))
    assert len(out) == 5 and tuple(out[0].shape) == (2, 6)
    _assert_close(out, theirs(x))
    assert ours.count_params() == theirs.count_params() == 2 * 96


def test_time_distributed_dense_matches_keras():
    ours = TimeDistributed(layers.Dense(3, activation="relu"))
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="relu"))
    theirs.build((None, 5, 4))
    ours.build((None, 5, 4))
    weights = [randn(4, 3, seed=1), randn(3, seed=2)]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    x = randn(2, 5, 4, seed=13)
    out = ours(torch.from_numpy(x))
    _assert_close(out, theirs(x))
    assert ours.compute_output_shape((None, 5, 4)) == (None, 5, 3)
    assert ours.count_params() == theirs.count_params() == 15


def test_time_distributed_on_4d_input():
    ours = TimeDistributed(layers.Flatten())
    out = ours(torch.arange(24.0).reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(to_numpy(out), np.arange(24.0).reshape(2, 3, 4))
    assert ours.compute_output_shape((None, 3, 2, 2)) == (None, 3, 4)


# ------------------------------------------------------------------ config, errors
def test_bidirectional_clone_has_same_outputs():
    layer = Bidirectional(LSTM(3, return_sequences=True), merge_mode="ave")
    x = torch.from_numpy(randn(2, 5, 4, seed=14))
    out = layer(x)
    clone = Bidirectional.from_config(layer.get_config())
    clone.build((None, 5, 4))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(out))


@pytest.mark.parametrize("make,match", [
    (lambda: LSTM(0), r"LSTM\(units=0\): units must be a positive integer"),
    (lambda: GRU(3, dropout=1.5), r"GRU\(dropout=1.5\): dropout must be a float in \[0, 1\)"),
    (lambda: SimpleRNN(3, recurrent_dropout=-0.1), r"recurrent_dropout must be a float"),
    (lambda: LSTM(3, implementation=3), r"implementation must be 1 or 2"),
    (lambda: LSTM(3, use_cudnn="yes"), r"use_cudnn must be 'auto', True or False"),
    (lambda: Bidirectional(LSTM(3), merge_mode="max"), r"merge_mode must be one of"),
    (lambda: Bidirectional(layers.Dense(3)), r"expected a recurrent layer"),
    (lambda: TimeDistributed("dense"), r"expected a layer instance"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer", [lambda: LSTM(3, name="rnn"),
                                   lambda: TimeDistributed(layers.Dense(2), name="rnn")],
                         ids=["lstm", "time_distributed"])
def test_wrong_input_rank(layer):
    with pytest.raises(ValueError, match=r"'rnn'.*rank"):
        layer()(torch.zeros(2, 4))


def test_use_cudnn_true_refuses_configurations_without_fused_kernel():
    layer = GRU(3, reset_after=False, use_cudnn=True)
    with pytest.raises(ValueError, match="use_cudnn=True"):
        layer(torch.zeros(2, 5, 4))


def test_stateful_carries_states_between_calls():
    ours = LSTM(3, stateful=True, return_sequences=True)
    x = torch.from_numpy(randn(2, 6, 4, seed=15))
    first, second = ours(x[:, :3]), ours(x[:, 3:])
    whole = LSTM(3, return_sequences=True)
    whole.build((None, 6, 4))
    whole.set_weights(ours.get_weights())
    np.testing.assert_allclose(to_numpy(torch.cat([first, second], 1)), to_numpy(whole(x)),
                               atol=1e-6)
    ours.reset_states()
    np.testing.assert_allclose(to_numpy(ours(x[:, :3])), to_numpy(first), atol=1e-6)
    with pytest.raises(ValueError, match="stateful.*2 samples, received 1"):
        ours(x[:1, :3])


def test_initial_state_matches_keras():
    ours, theirs = _twin("lstm", return_sequences=True)
    x = randn(2, 5, 4, seed=16)
    h, c = randn(2, 3, seed=17), randn(2, 3, seed=18)
    out = ours(torch.from_numpy(x), initial_state=[torch.from_numpy(h), torch.from_numpy(c)])
    _assert_close(out, theirs(x, initial_state=[h, c]))


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "mask_zero"])
def test_embedding_lstm_fit_matches_keras(masked):
    """Embedding + LSTM + Dense, rmsprop, 3 epochs, shuffle=False: the same loss curve."""
    rng = np.random.RandomState(0)
    ids = rng.randint(1, 30, size=(48, 8))
    if masked:
        for row, pad in enumerate(rng.randint(0, 6, size=48)):
            ids[row, :pad] = 0  # pad_sequences' default 'pre' padding
    y = (ids[:, -1] > 15).astype("float32")
    theirs = keras.Sequential([keras.Input((8,), dtype="int32"),
                               keras.layers.Embedding(30, 8, mask_zero=masked),
                               keras.layers.LSTM(6),
                               keras.layers.Dense(1, activation="sigmoid")])
    ours = models.Sequential([Embedding(30, 8, mask_zero=masked, input_length=8), LSTM(6),
                              layers.Dense(1, activation="sigmoid")])
    ours.set_weights(theirs.get_weights())
    for model in (ours, theirs):
        model.compile("rmsprop", "binary_crossentropy")
    expected = theirs.fit(ids, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    history = ours.fit(ids, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)
