"""GRU: gated recurrent unit, Keras gate order z (update), r (reset), h (candidate)."""

import torch

from ... import activations
from .base_rnn import BaseRNN


def _keras_to_torch_gates(w):
    """Reorders packed gate blocks on the last axis: Keras z, r, h → torch r, z, n."""
    z, r, h = w.chunk(3, dim=-1)
    return torch.cat([r, z, h], dim=-1)


class GRU(BaseRNN):
    """Gated Recurrent Unit (Cho et al., 2014), Keras 3 / tf.keras 2 formulation.

    `z = sigma(x W_z + h U_z + b)`, `r = sigma(x W_r + h U_r + b)`,
    reset_after=True: `hh = act(x W_h + b_in + r * (h U_h + b_rec))` (torch's GRU);
    reset_after=False: `hh = act(x W_h + b + (r * h) U_h)` (Keras <= 2.2 default);
    `h = z * h_prev + (1 - z) * hh`. Runs torch's fused `_VF.gru` for reset_after=True
    with tanh / sigmoid, no recurrent dropout in training and padding-only masks.

    Args:
        units, activation, recurrent_activation, use_bias, initializers, regularizers,
            constraints, dropout, recurrent_dropout, seed, return_sequences, return_state,
            go_backwards, stateful, unroll, implementation, use_cudnn: as in LSTM.
        reset_after: apply the reset gate after the recurrent matmul (default True); the
            bias then has shape (2, 3*units): [input bias; recurrent bias].

    `return_state=True` returns `[output, h]`.

    Example:
        >>> GRU(32, reset_after=False)
    """

    _gates = 3
    _torch_kernel = "gru"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, use_cudnn="auto", **kwargs):
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
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def _fused_math(self):
        return (self.reset_after and self.activation is activations.tanh
                and self.recurrent_activation is activations.sigmoid)

    def _torch_params(self):
        """Keras (in, 3u) z,r,h → torch (3u, in) r,z,n; input bias → b_ih, recurrent bias → b_hh.

        Transposes and a cat per call: cheap next to the kernel, and gradients flow back.
        """
        params = [_keras_to_torch_gates(self.kernel).T,
                  _keras_to_torch_gates(self.recurrent_kernel).T]
        if self.bias is not None:
            params += [_keras_to_torch_gates(self.bias[0]), _keras_to_torch_gates(self.bias[1])]
        return params

    def _step(self, xw_t, states, rec_masks):
        h = states[0]
        sigma = self.recurrent_activation
        x_z, x_r, x_h = xw_t.chunk(3, dim=-1)
        if self.reset_after:
            inner = self._recurrent_projection(h, rec_masks, 3)  # (B, 3u)
            if self.bias is not None:
                inner = inner + self.bias[1]
            h_z, h_r, h_h = inner.chunk(3, dim=-1)
            z, r = sigma(x_z + h_z), sigma(x_r + h_r)
            candidate = self.activation(x_h + r * h_h)
        else:
            h_z, h_r = self._recurrent_projection(h, rec_masks, 2).chunk(2, dim=-1)
            z, r = sigma(x_z + h_z), sigma(x_r + h_r)
            h_dropped = h if rec_masks is None else h * rec_masks[2]
            candidate = self.activation(
                x_h + torch.matmul(r * h_dropped, self.recurrent_kernel[:, 2 * self.units:]))
        return [z * h + (1 - z) * candidate]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.serialize(self.recurrent_activation),
                      reset_after=self.reset_after)
        return config
