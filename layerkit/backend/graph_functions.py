"""Keras 2's graph functions, run eagerly on PyTorch autograd.

    loss = K.mean(model.get_layer("block1_conv1").output[:, :, :, 3])
    grads = K.gradients(loss, model.input)[0]
    grads /= K.sqrt(K.mean(K.square(grads))) + 1e-5
    iterate = K.function([model.input], [loss, grads])
    loss_value, grads_value = iterate([image])       # numpy in, numpy out

Who owns what: symbolic expressions are recorded as TensorOp nodes (layers floor);
`K.gradients` records one more node whose call asks autograd; `Function` plans the nodes
between its inputs and outputs once (`graph.evaluate`), and each call runs them on fresh
tensors, starting the gradient tape at exactly the tensors gradients are taken with
respect to. Nothing is kept between calls.
"""

import numpy as np
import torch

from .. import config
from ..graph import evaluate
from ..graph.node import flatten
from ..graph.symbolic import KerasTensor
from ..layers.core.input_layer import Input
from ..layers.core.tensor_op import TensorOp
from ..training import convert
from ..utils.naming import reset_names
from . import state

_LEARNING_PHASE = []  # the one `K.learning_phase()` placeholder, made on first use


# ---------------------------------------------------------------- placeholders & phase
def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """A symbolic input of `shape` (batch entry included; None for unknown sizes).

    Example:
        >>> combination = K.placeholder((1, 400, 381, 3))
    """
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder: give shape=(...) or ndim=")
        shape = (None,) * ndim
    return Input(batch_shape=tuple(shape), dtype=dtype, name=name, sparse=sparse)


def is_placeholder(x):
    return isinstance(x, KerasTensor) and x.node is not None and not x.node.input_tensors


def is_keras_tensor(x):
    """True for symbolic tensors (model inputs/outputs, layer outputs, their expressions)."""
    if not isinstance(x, (torch.Tensor, KerasTensor, np.ndarray)):
        raise ValueError(f"is_keras_tensor: expected a tensor, received {type(x).__name__}")
    return isinstance(x, KerasTensor)


def learning_phase():
    """A symbolic int scalar: 1 in training, 0 in inference (feed it to a K.function)."""
    if not _LEARNING_PHASE:
        _LEARNING_PHASE.append(Input(batch_shape=(), dtype="int32", name="keras_learning_phase"))
    return _LEARNING_PHASE[0]


def set_learning_phase(value):
    """Sets the default learning phase (0 inference, 1 training) of `K.function` calls."""
    state.set_default_phase(value)


# ---------------------------------------------------------------- gradients
class _Gradients(TensorOp):
    """d sum(loss) / d wrt for each `wrt` (symbolic tensors or weights)."""

    def __init__(self, loss, wrt):
        shapes = [tuple(w.shape) for w in wrt]
        dtypes = [config.standardize_dtype(w.dtype) for w in wrt]
        super().__init__(self._gradients, (loss, list(wrt)), {}, name="gradients",
                         output_spec=(shapes, dtypes, True))
        self.loss = loss
        self.wrt = [w for w in wrt if isinstance(w, KerasTensor)]
        self.create_graph = False  # set by K.function when a later gradient needs it

    def _gradients(self, loss, wrt):
        if not loss.requires_grad:
            raise RuntimeError(
                f"'{self.name}': no gradient can flow to the loss. Gradients from "
                "K.gradients are computed by K.function; inside predict or a model's call "
                "use torch.autograd.grad on real tensors"
            )
        grads = torch.autograd.grad(loss.sum(), wrt, retain_graph=True,
                                    create_graph=self.create_graph, allow_unused=True)
        return [torch.zeros_like(w) if g is None else g for g, w in zip(grads, wrt)]


def gradients(loss, variables):
    """Symbolic gradients of `loss` (summed if not scalar) with respect to `variables`.

    Args:
        loss: a symbolic tensor.
        variables: a symbolic tensor (`model.input`, a layer's output) or a weight, or a
            list of them.

    Returns:
        A list of symbolic tensors shaped like `variables`, for `K.function` outputs.

    Raises:
        ValueError: when `loss` is not symbolic or does not depend on a variable.
    """
    variables = list(variables) if isinstance(variables, (list, tuple)) else [variables]
    if not isinstance(loss, KerasTensor):
        raise ValueError(
            f"K.gradients: the loss must be a symbolic tensor computed from model.input or "
            f"layer outputs, received {type(loss).__name__}"
        )
    ancestors = _ancestors(loss)
    for v in variables:
        if isinstance(v, KerasTensor):
            if id(v) not in ancestors:
                raise ValueError(
                    f"K.gradients: the loss {loss!r} does not depend on {v!r}, so there is "
                    "no gradient (tf.keras returned None). Take the gradient with respect "
                    "to a tensor the loss is computed from"
                )
            if not config.standardize_dtype(v.dtype).is_floating_point:
                raise ValueError(
                    f"K.gradients: {v!r} has dtype {v.dtype}; gradients exist only with "
                    "respect to floating-point tensors (an Embedding's integer input has "
                    "none: take it with respect to the embedding's output)"
                )
        elif not isinstance(v, torch.Tensor):
            raise TypeError(f"K.gradients: expected symbolic tensors or weights, received "
                            f"{type(v).__name__}")
    return list(_Gradients(loss, variables).record())


def _ancestors(tensor):
    """Ids of every symbolic tensor `tensor` is computed from (itself included)."""
    seen, stack = set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.node is not None:
            stack.extend(t.node.input_tensors)
    return seen


# ---------------------------------------------------------------- functions
class Function:
    """A callable evaluating symbolic `outputs` from numpy values of `inputs`.

    Args:
        inputs: list of symbolic tensors to feed (`model.input`, placeholders,
            `K.learning_phase()`).
        outputs: a symbolic tensor or a list of them (constants are allowed too).

    Call it with a list of numpy arrays, one per input; it returns a list of numpy arrays
    (a single array when `outputs` was not a list).
    """

    def __init__(self, inputs, outputs, updates=None, name=None):
        if updates:
            raise ValueError(
                "K.function(updates=...) runs TF1 graph updates, which layerkit does not "
                "have: apply the change in Python after the call (K.set_value)"
            )
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for t in self.inputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"K.function: inputs must be symbolic tensors (model.input, "
                                f"K.placeholder(...)), received {type(t).__name__}")
        self.single = not isinstance(outputs, (list, tuple))
        self.outputs = [outputs] if self.single else list(outputs)
        symbolic = [t for t in self.outputs if isinstance(t, KerasTensor)]
        fed = self.inputs + [learning_phase()]
        self.nodes = evaluate.plan(symbolic, fed)
        grads = [n.layer for n in self.nodes if isinstance(n.layer, _Gradients)]
        for op in grads:  # a gradient that feeds another gradient's loss keeps its graph
            op.create_graph = op.create_graph or any(
                other is not op and _depends_on(other.loss, op) for other in grads)
        self.needs_grad = {id(t) for op in grads for t in op.wrt}
        self.uses_autograd = bool(grads)

    def __call__(self, values=()):
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if len(values) != len(self.inputs):
            raise ValueError(
                f"K.function expects {len(self.inputs)} input value(s) for "
                f"{[t.name for t in self.inputs]}, received {len(values)}"
            )
        phase_tensor = learning_phase()
        feeds = {id(t): v for t, v in zip(self.inputs, values)}
        phase_value = int(np.asarray(feeds[id(phase_tensor)])) if id(phase_tensor) in feeds \
            else int(state.in_training())
        feeds[id(phase_tensor)] = phase_value
        tensors = {}
        with state.phase(phase_value), torch.set_grad_enabled(self.uses_autograd):
            for t in self.inputs + [phase_tensor]:
                tensors[id(t)] = self._feed(t, feeds[id(t)])
            evaluate.run(self.nodes, tensors, training=bool(phase_value),
                         on_value=self._start_tape)
            results = [_to_numpy(tensors[id(t)] if isinstance(t, KerasTensor) else t)
                       for t in self.outputs]
        return results[0] if self.single else results

    def _feed(self, tensor, value):
        """The value of an input as a fresh torch tensor of the input's dtype and shape."""
        dtype = config.standardize_dtype(tensor.dtype)
        if isinstance(value, torch.Tensor):
            out = value.detach().to(dtype)
        else:
            array = np.asarray(value)
            if array.dtype.kind not in "fiub":
                raise TypeError(f"K.function: the value for {tensor.name!r} must be numeric, "
                                f"received dtype {array.dtype}")
            if not convert.torch_can_view(array):  # reversed views (preprocess_input's
                # RGB->BGR x[..., ::-1]), big-endian data: torch refuses them, so one copy
                array = np.array(array, dtype=array.dtype.newbyteorder("="), order="C")
            out = torch.as_tensor(array).to(dtype)
        expected = tensor.shape
        if len(expected) != out.dim() or any(
                e is not None and e != s for e, s in zip(expected, out.shape)):
            raise ValueError(
                f"K.function: input {tensor.name!r} expects shape {expected}, received a "
                f"value of shape {tuple(out.shape)}"
            )
        return self._start_tape(tensor, out)

    def _start_tape(self, tensor, value):
        if id(tensor) in self.needs_grad and not value.requires_grad:
            value = value.detach().requires_grad_(True)
        return value


def _depends_on(tensor, op):
    ancestors = _ancestors(tensor)
    return any(id(out) in ancestors for out in flatten(op.output))


def _to_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """Returns a `Function` computing `outputs` from numpy values of `inputs`."""
    return Function(inputs, outputs, updates=updates, name=name)


# ---------------------------------------------------------------- values
def variable(value, dtype=None, name=None, constraint=None):
    """A tensor holding `value` (floatx for floats), readable and settable with
    `K.get_value` / `K.set_value`."""
    array = np.array(value, dtype=dtype if dtype is not None else None)
    out = torch.as_tensor(array)
    return out.to(config.floatx_dtype()) if dtype is None and out.is_floating_point() else out


def eval(x):  # noqa: A001 (Keras's name)
    """The value of a tensor as numpy (symbolic tensors must need no input)."""
    if isinstance(x, KerasTensor):
        return Function([], [x])([])[0]
    return get_value(x)


def get_value(x):
    """A tensor, weight or optimizer hyperparameter as numpy / a Python number."""
    if isinstance(x, KerasTensor):
        raise TypeError(f"K.get_value: {x!r} is symbolic; evaluate it with K.function")
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, float):
        return float(x)  # also an optimizer's hyperparameter value
    return np.asarray(x)


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def set_value(x, value):
    """Sets a tensor (in place) or an optimizer hyperparameter (`model.optimizer.lr`)."""
    if hasattr(x, "assign") and not isinstance(x, torch.Tensor):
        x.assign(value)
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"K.set_value: cannot set a {type(x).__name__} in place. For an optimizer "
            "setting assign the attribute instead (model.optimizer.learning_rate = value)"
        )
    value = np.asarray(value)
    if value.shape != tuple(x.shape):
        raise ValueError(f"K.set_value: the value has shape {value.shape}, the tensor "
                         f"{tuple(x.shape)}")
    with torch.no_grad():
        x.copy_(torch.as_tensor(value, dtype=x.dtype))


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


def update(x, new_x):
    set_value(x, get_value(new_x) if isinstance(new_x, torch.Tensor) else new_x)
    return x


def update_add(x, increment):
    return update(x, get_value(x) + np.asarray(get_value(increment)))


def update_sub(x, decrement):
    return update(x, get_value(x) - np.asarray(get_value(decrement)))


def clear_session():
    """Resets layer names (`dense`, `dense_1`, ... start again) and the learning phase."""
    reset_names()
    _LEARNING_PHASE.clear()
    state.set_default_phase(0)

