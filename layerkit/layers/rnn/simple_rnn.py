"""SimpleRNN: `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`."""

from ... import activations
from .base_rnn import BaseRNN

_TORCH_KERNELS = {activations.tanh: "rnn_tanh", activations.relu: "rnn_relu"}


class SimpleRNN(BaseRNN):
    """Fully connected RNN whose output is fed back as the next input state.

    Runs torch's fused `rnn_tanh` / `rnn_relu` kernel for the tanh and relu activations
    without recurrent dropout in training (and masks that only pad), else Keras's cell loop.

    Args:
        units: positive int, size of the output and of the state.
        activation: default 'tanh'.
        use_bias: whether to add a bias.
        kernel_initializer / recurrent_initializer / bias_initializer: Keras defaults
            glorot_uniform / orthogonal / zeros.
        kernel_regularizer / recurrent_regularizer / bias_regularizer / activity_regularizer.
        kernel_constraint / recurrent_constraint / bias_constraint.
        dropout / recurrent_dropout: fraction of inputs / states dropped in training (one
            mask per sequence).
        seed: int for reproducible dropout masks.
        return_sequences: return (batch, timesteps, units) instead of the last output.
        return_state: also return the final state: `[output, h]`.
        go_backwards: process the sequence in reverse (outputs in processed order).
        stateful: carry the final states of a batch over to the next (same batch size).
        unroll: accepted for compatibility (no effect).
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Input: (batch, timesteps, features) and optionally a mask (batch, timesteps).

    Example:
        >>> SimpleRNN(32)  # after Embedding(10000, 32)
    """

    _torch_kernel = "rnn_tanh"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
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
            go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self._torch_kernel = _TORCH_KERNELS.get(self.activation)

    def _fused_math(self):
        return self._torch_kernel is not None

    def _step(self, xw_t, states, rec_masks):
        h = self.activation(xw_t + self._recurrent_projection(states[0], rec_masks, 1))
        return [h]

    def get_config(self):
        config = super().get_config()
        del config["use_cudnn"]  # not a SimpleRNN argument in Keras (the kernel is chosen alone)
        return config
