"""LSTM: long short-term memory, Keras gate order i, f, c, o (torch's order too)."""

import torch

from ... import activations, initializers
from .base_rnn import BaseRNN


class LSTM(BaseRNN):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997).

    `z = x_t @ kernel + h @ recurrent_kernel + bias`, split into i, f, c, o;
    `c = sigma(f) * c + sigma(i) * act(c_hat)`, `h = sigma(o) * act(c)`. Runs torch's fused
    `_VF.lstm` when activation='tanh', recurrent_activation='sigmoid', no recurrent dropout
    in training and the mask (if any) only pads; else Keras's cell loop.

    Args:
        units: positive int, size of the output and of each state.
        activation: default 'tanh'. recurrent_activation: default 'sigmoid' (tf.keras >= 2.3
            and Keras 3; Keras <= 2.2 used 'hard_sigmoid').
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, the
            regularizers and constraints: as in SimpleRNN.
        unit_forget_bias: initialize the forget-gate bias to 1 (and the rest with
            bias_initializer).
        dropout / recurrent_dropout / seed / return_sequences / return_state / go_backwards /
            stateful / unroll / zero_output_for_mask: as in SimpleRNN.
        implementation: 1 (one dropout mask per gate) or 2 (one shared mask; default).
        use_cudnn: 'auto' (fused kernel when possible), True (require it), False (cell loop).

    `return_state=True` returns `[output, h, c]`.

    Example:
        >>> LSTM(32, return_sequences=True)
    """

    _gates = 4
    _n_states = 2
    _torch_kernel = "lstm"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto",
                 **kwargs):
        super().__init__(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, unroll=unroll,
            use_cudnn=use_cudnn, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        u, init = self.units, self.bias_initializer

        def forget_bias_one(shape, dtype=None):  # [init(u), ones(u), init(2u)], as Keras
            return torch.cat([init((u,), dtype=dtype),
                              initializers.get("ones")((u,), dtype=dtype),
                              init((2 * u,), dtype=dtype)])
        return forget_bias_one

    def _fused_math(self):
        return (self.activation is activations.tanh
                and self.recurrent_activation is activations.sigmoid)

    def _step(self, xw_t, states, rec_masks):
        h, c = states
        z = xw_t + self._recurrent_projection(h, rec_masks, 4)  # (B, 4u)
        i, f, c_hat, o = z.chunk(4, dim=-1)
        sigma = self.recurrent_activation
        c = sigma(f) * c + sigma(i) * self.activation(c_hat)
        h = sigma(o) * self.activation(c)
        return [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.serialize(self.recurrent_activation),
                      unit_forget_bias=self.unit_forget_bias)
        return config
