"""Keras 2's `CuDNNLSTM` / `CuDNNGRU`: LSTM / GRU fixed to the settings cuDNN computed.

Keras 2.1–2.3 ran these only on a GPU, with tanh / sigmoid activations, no dropout, no
unrolling, biases on, and (GRU) the reset gate applied after the matrix product. layerkit's
LSTM and GRU run torch's fused kernels with exactly those settings on any device, so these
are factories returning an `LSTM` / `GRU` (saved under those names, which Keras 3 reads).
"""

from .rnn.gru import GRU
from .rnn.lstm import LSTM

# what cuDNN computed; passing any of these was an error in Keras 2
_FIXED = ("activation", "recurrent_activation", "use_bias", "dropout", "recurrent_dropout",
          "unroll", "implementation", "reset_after")


def _check(owner, cls, kwargs):
    fixed = sorted(set(kwargs) & set(_FIXED))
    if fixed:
        raise TypeError(
            f"{owner}() does not take {fixed}: cuDNN fixes them (tanh / sigmoid, no dropout, "
            f"biases on). Use {cls.__name__}(...) with the arguments you need instead"
        )


def CuDNNLSTM(units, **kwargs):  # noqa: N802 (Keras's class name)
    """An LSTM with cuDNN's settings (Keras 2 `keras.layers.CuDNNLSTM`).

    Args:
        units: positive int.
        **kwargs: LSTM arguments other than activations, dropout, use_bias and unroll
            (initializers, regularizers, constraints, unit_forget_bias, return_sequences,
            return_state, go_backwards, stateful, name, ...).

    Returns:
        An `LSTM`.
    """
    _check("CuDNNLSTM", LSTM, kwargs)
    return LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                **kwargs)


def CuDNNGRU(units, **kwargs):  # noqa: N802
    """A GRU with cuDNN's settings (Keras 2 `keras.layers.CuDNNGRU`): `reset_after=True`.

    Args:
        units: positive int.
        **kwargs: GRU arguments other than activations, dropout, use_bias, unroll and
            reset_after.

    Returns:
        A `GRU`.
    """
    _check("CuDNNGRU", GRU, kwargs)
    return GRU(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
               reset_after=True, **kwargs)
