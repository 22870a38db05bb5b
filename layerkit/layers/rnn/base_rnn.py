"""What SimpleRNN, LSTM and GRU share: arguments, weights, masks, dropout, two engines.

Who owns what:
- `BaseRNN.__init__` stores the arguments every recurrent layer takes; a subclass adds its
  own (LSTM's `unit_forget_bias`, GRU's `reset_after`), and says how many gates it packs
  (`_gates`), how many states it carries (`_n_states`) and which torch kernel computes
  the same math (`_torch_kernel`).
- `BaseRNN.call` prepares the sequence (time reversal, one dropout mask per sequence, the
  mask) and runs one of two engines:
  * torch's fused kernel (`torch._VF.lstm` / `gru` / `rnn_tanh` / `rnn_relu`) when the
    subclass's math is torch's (`_fused_math`), with the weights converted from the Keras
    layout on the fly (`_torch_params`). A mask whose valid steps form one block per row
    (right or left padding) runs as a packed sequence.
  * the cell loop below, one `_step` per timestep, for everything else (other
    activations, recurrent dropout, masks with holes, GRU reset_after=False).
  Both follow Keras 3's rules: at a masked step the state is carried over and the output
  repeats the previous output (zeros before the first valid step; zeros everywhere masked
  when `zero_output_for_mask`); go_backwards returns outputs in processed order.
"""

import torch
from torch.nn.utils import rnn as rnn_utils

from ... import activations, constraints, initializers, regularizers
from ..layer import Layer
from ..regularization.noise_utils import seeded_generator
from ..weight_options import weight_options_config


class BaseRNN(Layer):
    """Base of the recurrent layers; see SimpleRNN, LSTM and GRU for the arguments.

    Weights (Keras layout, gates packed along the last axis): `kernel` (input_dim,
    gates*units), `recurrent_kernel` (units, gates*units), `bias` (gates*units,).
    """

    _gates = 1
    _n_states = 1
    _torch_kernel = None
    # Saturating gates make denormal gradients: flush-to-zero measured ~3x faster (W5).
    denormal_prone = True

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, implementation=2, use_cudnn="auto", **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"{who}(units={units!r}): units must be a positive integer, "
                             f"received {units!r}")
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise ValueError(f"{who}({arg}={rate!r}): {arg} must be a float in [0, 1), "
                                 f"received {rate!r}")
        if implementation not in (1, 2):
            raise ValueError(f"{who}(implementation={implementation!r}): implementation "
                             f"must be 1 or 2, received {implementation!r}")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"{who}(use_cudnn={use_cudnn!r}): use_cudnn must be 'auto', "
                             f"True or False, received {use_cudnn!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for compatibility: a Python loop either way
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.implementation = implementation
        self.use_cudnn = use_cudnn  # Keras's name for "use the fused kernel"
        self.states = None  # the carried-over states when stateful
        self._generator = None

    # ------------------------------------------------------------------ weights
    def build(self, input_shape):
        self._check_rank(len(input_shape), input_shape)
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs a known "
                             f"feature dimension, received input shape {input_shape}")
        width = self._gates * self.units
        self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer,
                        self.kernel_regularizer, constraint=self.kernel_constraint)
        self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                        self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            self.add_weight("bias", self._bias_shape(), self._bias_initializer(),
                            self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def _input_bias(self):
        """The bias added to the input projection x @ kernel (all of it, for most cells)."""
        return self.bias

    def _check_rank(self, rank, shape):
        if rank != 3:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects input of rank 3 "
                f"(batch, timesteps, features), received input shape {tuple(shape)}; "
                "add a time axis (e.g. Reshape) or an Embedding before it"
            )

    # ------------------------------------------------------------------ call
    def call(self, inputs, initial_state=None, training=False, mask=None):
        self._check_rank(inputs.dim(), (None,) + tuple(inputs.shape[1:]))
        x = inputs if inputs.dtype == self.kernel.dtype else inputs.to(self.kernel.dtype)
        states = self._initial_states(x, initial_state)
        if mask is not None:
            mask = mask.to(device=x.device, dtype=torch.bool)
        if self.go_backwards:
            x = x.flip(1)  # (B, T, F) in processed order
            mask = None if mask is None else mask.flip(1)
        in_masks, rec_masks = self._dropout_masks(x, states[0], training)
        if self._fused(training, mask):
            if in_masks is not None:  # one mask for all gates: drop inputs before the kernel
                x = x * in_masks[:, None, :]
            sequence, last, states = self._run_fused(x, states, mask)
        else:
            sequence, last, states = self._run_loop(x, states, mask, in_masks, rec_masks)
        if self.stateful:
            self.states = [s.detach() for s in states]
        output = sequence if self.return_sequences else last
        return [output] + list(states) if self.return_state else output

    def _initial_states(self, x, initial_state):
        batch = x.shape[0]
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            if len(states) != self._n_states:
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}) expects {self._n_states} "
                    f"initial state tensor(s) of shape (batch, {self.units}), received "
                    f"{len(states)}"
                )
            return [torch.as_tensor(s, dtype=x.dtype, device=x.device) for s in states]
        if self.stateful and self.states is not None:
            if self.states[0].shape[0] != batch:
                raise ValueError(
                    f"Layer '{self.name}' is stateful: every batch must hold "
                    f"{self.states[0].shape[0]} samples, received {batch}; use a fixed "
                    "batch_size (and drop the last partial batch) or call reset_states()"
                )
            return list(self.states)
        zeros = x.new_zeros((batch, self.units))
        return [zeros] * self._n_states

    def reset_states(self, states=None):
        """Forgets (or sets) the carried-over states of a stateful layer."""
        self.states = None if states is None else [torch.as_tensor(s) for s in states]

    reset_state = reset_states

    # ------------------------------------------------------------------ dropout
    def _per_gate_masks(self):
        """Keras draws one mask per gate with implementation 1 (forced by recurrent_dropout)."""
        return self._gates > 1 and (self.implementation == 1 or self.recurrent_dropout > 0)

    def _dropout_masks(self, x, h, training):
        """One mask per sequence (the same at every timestep), only when training.

        Returns:
            (input masks, recurrent masks): each None, (B, F) or per gate (gates, B, F).
        """
        if not training:
            return None, None
        per_gate = self._gates if self._per_gate_masks() else None
        return (self._draw(x[:, 0], self.dropout, per_gate),
                self._draw(h, self.recurrent_dropout, per_gate))

    def _draw(self, like, rate, count):
        if rate == 0:
            return None
        shape = tuple(like.shape) if count is None else (count,) + tuple(like.shape)
        keep = 1.0 - rate
        mask = torch.empty(shape, dtype=like.dtype, device=like.device)
        return mask.bernoulli_(keep, generator=seeded_generator(self, like.device)) / keep

    # ------------------------------------------------------------------ fused engine
    def _fused_math(self):
        """Whether this configuration computes exactly what `_torch_kernel` computes."""
        return False

    def _fused(self, training, mask):
        """Whether to run torch's fused kernel (else the cell loop)."""
        ok = (self._fused_math()
              and not (training and self.recurrent_dropout > 0)
              and not (training and self.dropout > 0 and self._per_gate_masks())
              and (mask is None or _one_block_per_row(mask)))
        if self.use_cudnn is True and not ok:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): use_cudnn=True, but this "
                "configuration has no fused torch kernel (it needs activation='tanh', "
                "recurrent_activation='sigmoid', no recurrent dropout in training, "
                "reset_after=True for GRU and a padding-only mask); pass use_cudnn='auto'"
            )
        return ok and self.use_cudnn is not False

    def _torch_params(self):
        """[weight_ih, weight_hh(, bias_ih, bias_hh)] in torch's layout.

        Keras stores (in, gates*units); torch wants (gates*units, in): transposed copies
        (the fused kernel reads contiguous weights faster than strided views).
        Keras has one bias; torch adds b_ih and b_hh, so b_hh is zero.
        """
        params = [self.kernel.T.contiguous(), self.recurrent_kernel.T.contiguous()]
        if self.bias is not None:
            params += [self.bias, torch.zeros_like(self.bias)]
        return params

    def _run_fused(self, x, states, mask):
        """Runs `_torch_kernel`; returns (sequence (B, T, u), last (B, u), states)."""
        params = self._torch_params()
        if mask is None:
            sequence, states = self._vf(x, None, states, params)
            # The last output is the final h: taking it from the states, not from
            # sequence[:, -1], spares the backward a (B, T, units) gradient (W5: -25%).
            return sequence, states[0], states
        steps = x.shape[1]
        time = torch.arange(steps, device=x.device)
        lengths = mask.sum(1)  # (B,)
        first = torch.where(mask, time, steps).amin(1)  # first valid step per row
        # Shift each row left so its valid block starts at 0: (B, T, F) -> (B, T, F).
        idx = (first[:, None] + time).clamp(max=steps - 1)
        shifted = x.gather(1, idx[..., None].expand(-1, -1, x.shape[2]))
        packed = rnn_utils.pack_padded_sequence(shifted, lengths.cpu(), batch_first=True,
                                                enforce_sorted=False)
        sorted_states = [s[packed.sorted_indices] for s in states]
        data, final = self._vf(packed.data, packed.batch_sizes, sorted_states, params)
        out = rnn_utils.PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                       packed.unsorted_indices)
        block, _ = rnn_utils.pad_packed_sequence(out, batch_first=True, total_length=steps)
        # Back to time order: before the block zeros, after it the last valid output.
        offset = (time[None] - first[:, None]).clamp(min=0)
        offset = torch.minimum(offset, (lengths - 1)[:, None])
        sequence = block.gather(1, offset[..., None].expand(-1, -1, block.shape[2]))
        keep = mask if self.zero_output_for_mask else (time[None] >= first[:, None])
        sequence = torch.where(keep[..., None], sequence, torch.zeros_like(sequence))
        final = [s[packed.unsorted_indices] for s in final]
        return sequence, sequence[:, -1], final

    def _vf(self, data, batch_sizes, states, params):
        """Calls torch._VF.<kernel> for one layer, one direction, no dropout."""
        kernel = getattr(torch._VF, self._torch_kernel)
        hx = tuple(s[None] for s in states) if self._n_states > 1 else states[0][None]
        flags = (self.bias is not None, 1, 0.0, torch.is_grad_enabled(), False)
        if batch_sizes is None:
            result = kernel(data, hx, params, *flags, True)  # batch_first=True
        else:
            result = kernel(data, batch_sizes, hx, params, *flags)
        return result[0], [s[0] for s in result[1:]]  # states (1, B, u) -> (B, u)

    # ------------------------------------------------------------------ cell loop
    def _run_loop(self, x, states, mask, in_masks, rec_masks):
        """Keras's generic loop; returns (sequence or None, last output, final states)."""
        xw = self._input_projection(x, in_masks)  # (B, T, gates*units), all steps at once
        output = torch.zeros_like(states[0])
        outputs = []
        for t in range(x.shape[1]):
            new = self._step(xw[:, t], states, rec_masks)
            if mask is None:
                states, output = new, new[0]
            else:
                keep = mask[:, t, None]  # (B, 1)
                states = [torch.where(keep, n, s) for n, s in zip(new, states)]
                previous = torch.zeros_like(output) if self.zero_output_for_mask else output
                output = torch.where(keep, new[0], previous)
            if self.return_sequences:
                outputs.append(output)
        sequence = torch.stack(outputs, 1) if outputs else None
        return sequence, output, states

    def _input_projection(self, x, in_masks):
        """x @ kernel + input bias, with the input dropout masks (shared or per gate)."""
        if in_masks is None:
            xw = torch.matmul(x, self.kernel)  # (B, T, F) @ (F, gates*u)
        elif in_masks.dim() == 2:
            xw = torch.matmul(x * in_masks[:, None, :], self.kernel)
        else:
            kernels = self.kernel.chunk(self._gates, dim=1)
            xw = torch.cat([torch.matmul(x * m[:, None, :], k)
                            for m, k in zip(in_masks, kernels)], dim=-1)
        bias = self._input_bias()
        return xw if bias is None else xw + bias

    def _recurrent_projection(self, h, rec_masks, gates):
        """h @ recurrent_kernel[:, :gates*units], with per-gate recurrent dropout masks."""
        u = self.units
        if rec_masks is None:
            return torch.matmul(h, self.recurrent_kernel[:, :gates * u])
        if rec_masks.dim() == 2:
            return torch.matmul(h * rec_masks, self.recurrent_kernel[:, :gates * u])
        kernels = self.recurrent_kernel[:, :gates * u].chunk(gates, dim=1)
        return torch.cat([torch.matmul(h * m, k) for m, k in zip(rec_masks, kernels)], dim=-1)

    def _step(self, xw_t, states, rec_masks):
        """One timestep: projected input (B, gates*u) and states → new states (h first)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shapes, config
    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences and not self.return_state else None

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output] + [(batch, self.units)] * self._n_states
        return output

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            **weight_options_config(self, "kernel", "recurrent", "bias"),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
            use_cudnn=self.use_cudnn,
        )
        if self._gates > 1:  # Keras's SimpleRNN has no `implementation` argument
            config["implementation"] = self.implementation
        return config


def _one_block_per_row(mask):
    """Whether every row's valid steps are one non-empty contiguous block (one sync)."""
    steps = mask.shape[1]
    time = torch.arange(steps, device=mask.device)
    lengths = mask.sum(1)
    first = torch.where(mask, time, steps).amin(1)
    last = torch.where(mask, time, -1).amax(1) + 1
    return bool(((last - first == lengths) & (lengths > 0)).all())
