"""What travels with a tensor besides its values: its Keras mask and its crossentropy logits.

Who owns what: this module is the only place that knows how a mask or the logits of a
sigmoid/softmax output are kept. Layers, losses, metrics and models go through
`get_mask` / `set_mask`, `get_logits` / `set_logits`, `carry_logits`, and, at the
`torch.compile` boundary, `info_of` / `attach`. No other module reads or writes the
attributes named below.

Where it is kept, and why:
- Eager code keeps both on the tensor itself, under Keras's own names (`_keras_mask`,
  `_keras_logits`), as Keras 3 does (`backend/common/masking.py`, `activations.py`):
  a mask must reach a loss called by hand (`loss_fn(y, model(x))` in a custom
  `train_step` or a `GradientTape` loop), and Keras user code reads `x._keras_mask`.
- Inside layerkit the mask goes explicitly wherever the code allows: `Layer.__call__`
  passes `mask=` to `call` and asks `compute_mask` for the output's mask; only the hop
  from one layer's output to the next layer's input uses `get_mask` / `set_mask`.
- What crosses a `torch.compile` boundary is what the compiled function returns. An
  attribute written inside it reaches the returned tensors only if TorchDynamo replays
  the write as a side effect (torch 2.13 does; it is not part of torch.compile's
  contract). `Model` therefore compiles a forward that returns
  `(outputs, info_of(outputs))`, the masks and logits as explicit tensors, and calls
  `attach(outputs, info)` on the far side. Losses, metrics and users' own `Loss`
  subclasses then see exactly what an eager forward gives, so `jit_compile=True` and
  eager compute the same numbers. (An explicit `logits=` argument on the compiled loss
  alone would miss users' `Loss` subclasses that call `binary_crossentropy` inside.)

The logits decision (numbers follow Keras 3's TensorFlow backend and tf.keras): a layer's
sigmoid/softmax activation (`layers.layer.activate`: Dense, the convolutions, Activation)
records its input as the output's logits (Keras 3's `activations.sigmoid` / `softmax` do
so on every backend), and `binary_crossentropy` / `categorical_crossentropy` /
`sparse_categorical_crossentropy` on such an output compute from the logits, exactly (a
saturated sigmoid with logit 40 and target 0 costs 40, not -log(1e-7) = 16.1). Keras 3's
torch backend records the logits but its crossentropy ignores them and clips; the
difference shows only where a probability is within 1e-7 of 0 or 1, and layerkit keeps
the exact value (tests/test_fit_oracle.py pins it). The logits count only for the
matching crossentropy: softmax logits never feed a sigmoid crossentropy (tf.keras 2.5 did).
A probability array that left the model (`model.predict(x)`, numpy) has no logits and
takes the clipped path in layerkit and in Keras 3 alike. The design sketch chose the
logits at compile time from the model's last activation; recording them where the
activation runs covers Sequential, functional and subclassed models alike (a subclassed
model's last activation is unknown until it runs) and a custom step's
`loss_fn(y, model(x))`, while the compiled forward still returns them explicitly.
"""

_MASK = "_keras_mask"
_LOGITS = "_keras_logits"
_ACTIVATION = "_keras_activation"  # 'sigmoid' or 'softmax': which crossentropy may use them


def get_mask(x):
    """The mask carried by `x` (a boolean tensor), or None.

    Args:
        x: a tensor, or a list/tuple of them (then a list of masks, or None when none has
            one).
    """
    if isinstance(x, (list, tuple)):
        masks = [getattr(t, _MASK, None) for t in x]
        return masks if any(m is not None for m in masks) else None
    return getattr(x, _MASK, None)


def set_mask(x, mask):
    """Makes `x` carry `mask` (None removes it); returns `x`."""
    if mask is None:
        if getattr(x, _MASK, None) is not None:
            delattr(x, _MASK)
    else:
        setattr(x, _MASK, mask)
    return x


def set_logits(output, logits, activation):
    """Records that `output = activation(logits)` ('sigmoid' or 'softmax'); returns it."""
    setattr(output, _LOGITS, logits)
    setattr(output, _ACTIVATION, activation)
    return output


def get_logits(x, activation):
    """The logits `x` was computed from by `activation`, in `x`'s dtype, or None.

    Args:
        x: a probability tensor.
        activation: 'sigmoid' or 'softmax'; logits of another activation give None.
    """
    if getattr(x, _ACTIVATION, None) != activation:
        return None
    logits = getattr(x, _LOGITS, None)
    return None if logits is None else logits.to(x.dtype)


def carry_logits(new, old):
    """Gives `new` (a reshaped or cast `old`) `old`'s logits, reshaped alike; returns `new`."""
    logits = getattr(old, _LOGITS, None)
    if logits is not None and new is not old:
        set_logits(new, logits.reshape(new.shape), getattr(old, _ACTIVATION))
    return new


_KINDS = (None, "sigmoid", "softmax")


def info_of(outputs):
    """What each output carries, as explicit values: one `(mask, logits, kind)` triple per
    tensor of `outputs` (a tensor or a flat list/tuple), kind an int so that the triple
    crosses a `torch.compile` boundary as plain data."""
    flat = outputs if isinstance(outputs, (list, tuple)) else (outputs,)
    return tuple((getattr(t, _MASK, None), getattr(t, _LOGITS, None),
                  _KINDS.index(getattr(t, _ACTIVATION, None))) for t in flat)


def attach(outputs, info):
    """Inverse of `info_of`: makes `outputs` carry the masks and logits in `info`; returns
    `outputs`."""
    flat = outputs if isinstance(outputs, (list, tuple)) else (outputs,)
    for tensor, (mask, logits, kind) in zip(flat, info):
        if mask is not None:
            setattr(tensor, _MASK, mask)
        if logits is not None and kind:
            set_logits(tensor, logits, _KINDS[kind])
    return outputs
