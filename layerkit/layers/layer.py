"""The Layer contract: a `torch.nn.Module` with Keras's lazy `build(input_shape)`.

Who owns what:
- `__init__` stores and validates arguments (plus the Keras-wide ones: name, trainable,
  dtype, input_shape / input_dim / batch_input_shape / batch_size).
- `build(input_shape)` creates weights, only through `add_weight`.
- `call(inputs, training=False, ...)` is plain torch math.
- `__call__` builds on first use, runs `call`, applies the activity regularizer and turns
  torch errors into messages that name the layer and the input shape.

Weights are `nn.Parameter`s stored in Keras layouts (a Dense kernel is (in, out)), so
`get_weights`/`set_weights` move numpy arrays in and out without transposes. A layer starts
in inference mode (`self.training` False): `layer(x)` behaves like Keras (no dropout) and
`layer.train()` switches a plain PyTorch loop to training behaviour; the engine always
passes `training=` explicitly.
"""

import functools
import inspect

import numpy as np
import torch
from torch import nn

from .. import activations, config, constraints, initializers, regularizers
from ..graph import evaluate, tensor_info
from ..graph.node import Node, flatten, is_symbolic, map_structure
from ..graph.shapes import infer_output_shape, is_shape, to_shape_tuple
from ..graph.symbolic import KerasTensor
from ..mixed_precision import policy as dtype_policies
from ..utils import keras1_args, registry, serialization
from ..utils.naming import to_snake_case, unique_name
from .tracking_cache import TrackedWeights

_KERAS_KWARGS = ("input_shape", "batch_input_shape", "input_dim", "batch_size")


class _Calls:
    """Layer calls in progress: how deep, whether on symbolic tensors, the losses added.

    `added` holds the (layer, loss) pairs `add_loss` received since the outermost call in
    progress began (Keras 3 clears a model's losses when its outermost call starts); each
    layer keeps a reference to the list of its latest call, so `layer.losses` reads the
    losses of the latest forward pass and nothing accumulates across passes.
    """

    depth = 0
    symbolic = 0
    added = []


_CALLS = _Calls()


class AddedMetric:
    """A value `add_metric` received in a call (kept beside the added losses)."""

    __slots__ = ("name", "value")

    def __init__(self, name, value):
        self.name, self.value = name, value


class Layer(TrackedWeights, nn.Module):
    """Base class of every layer.

    Args:
        trainable: whether the layer's weights are updated by `fit`.
        name: unique name; Keras's snake-case counter name (`dense`, `dense_1`) if None.
        dtype: the dtype of weights and computations (floatx when None).
        activity_regularizer: penalty on the layer's output, added to the loss.
        input_shape / input_dim / batch_input_shape / batch_size: Keras's way to declare the
            input of the first layer of a Sequential model.
    """

    supports_masking = False  # True: the input mask passes through to the output
    denormal_prone = False  # True: fit flushes denormals to zero (config "auto" policy)
    _dtype_policy = None  # a mixed_precision.Policy when the call runs under one

    def __init_subclass__(cls, **kwargs):
        # Keras marks a layer built after its build() runs, also when a user calls
        # build() directly; wrap each subclass's own build so that it is never rebuilt.
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _marks_built(cls.__dict__["build"])
        if "__init__" in cls.__dict__:
            cls.__init__ = _rejects_keras1_args(cls.__dict__["__init__"], cls.__name__)
        if cls.__module__.startswith("layerkit.") and not cls.__name__.startswith("_"):
            registry.register("layers", cls)  # user classes come through custom_objects

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None,
                 **kwargs):
        super().__init__()
        unknown = set(kwargs) - set(_KERAS_KWARGS)
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}; "
                f"layers accept trainable, name, dtype and {', '.join(_KERAS_KWARGS)}"
            )
        if name is not None and (not isinstance(name, str) or "." in name or not name):
            raise ValueError(
                f"{type(self).__name__}: name must be a non-empty string without '.', "
                f"received {name!r}"
            )
        self._name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        policy = dtype_policies.for_layer(dtype)  # None: no autocast, no casts
        if policy is not None:
            self._dtype_policy = policy
            dtype = policy.variable_dtype
        self._dtype_name = dtype if isinstance(dtype, str) or dtype is None else str(dtype)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._batch_input_shape = _batch_input_shape_from(kwargs)
        self._init_tracking()  # weight records and cached weight lists
        self.built = False
        self._build_input_shape = None
        self._activity_loss = None
        self._loss_callables = []  # add_loss(callable): weight penalties, evaluated on read
        self._inbound_nodes = []
        self.input_spec = None  # an InputSpec (or a list, one per input), set by build
        self.training = False

    # ----------------------------------------------------------------- identity
    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        """The layer's weight dtype as a string (floatx when not given)."""
        return self._dtype_name or config.floatx()

    @property
    def declared_dtype(self):
        """The dtype given to the constructor (None when the layer follows floatx)."""
        return self._dtype_name

    @property
    def batch_input_shape(self):
        """The batch input shape declared with `input_shape=` / `batch_input_shape=` /
        `input_dim=` (None when none was declared)."""
        return self._batch_input_shape

    @property
    def activity_loss(self):
        """The activity-regularization penalty of the latest forward pass (None without an
        activity regularizer or before a call)."""
        return self._activity_loss

    @property
    def dtype_policy(self):
        """The layer's `mixed_precision.Policy` (Keras 3)."""
        return self._dtype_policy or dtype_policies.Policy(self.dtype)

    @property
    def compute_dtype(self):
        """The dtype `call` computes in ('bfloat16' under 'mixed_bfloat16')."""
        return self._dtype_policy.compute_dtype if self._dtype_policy else self.dtype

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights (Keras 3's name for `dtype`)."""
        return self.dtype

    @property
    def torch_dtype(self):
        return config.standardize_dtype(self.dtype)

    # ----------------------------------------------------------------- weights
    def add_weight(self, name, shape, initializer="glorot_uniform", regularizer=None,
                   trainable=True, constraint=None, dtype=None, storage_order=None):
        """Creates a weight, fills it with `initializer` and registers it as `self.<name>`.

        Args:
            name: attribute name (`kernel`, `bias`, ...), unique within the layer.
            shape: tuple of ints, in the Keras layout.
            initializer / regularizer / constraint: names, objects or callables.
            trainable: False for statistics such as BatchNormalization's moving mean.
            storage_order: optional permutation of the Keras axes giving the order in
                memory: the weight keeps its Keras shape, but `weight.permute(order)` is
                contiguous (a convolution kernel stored as torch's (out, in, k...) costs
                no copy per call). Values and initializer draws do not change.

        Returns:
            The `nn.Parameter`.
        """
        init = initializers.get(initializer)
        value = init(tuple(shape), dtype=config.standardize_dtype(dtype or self.dtype))
        if storage_order is not None:
            inverse = sorted(range(len(storage_order)), key=lambda i: storage_order[i])
            value = value.permute(*storage_order).contiguous().permute(*inverse)
        param = nn.Parameter(value.to(config.device()),
                             requires_grad=bool(trainable) and self._trainable)
        self.register_parameter(name, param)
        self.record_weight(param, bool(trainable), regularizers.get(regularizer),
                           constraints.get(constraint))
        return param

    def get_weights(self):
        """Returns the weights as numpy arrays in Keras layouts and Keras order."""
        return [p.detach().cpu().numpy().copy() for p in self.ordered_weights()]

    def set_weights(self, weights):
        """Sets the weights from numpy arrays in Keras layouts and Keras order.

        Raises:
            ValueError: when the number of arrays or a shape does not match.
        """
        params = self.ordered_weights()
        if len(weights) != len(params):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): set_weights expected a list of "
                f"{len(params)} arrays with shapes {[tuple(p.shape) for p in params]}, "
                f"received {len(weights)} arrays"
            )
        for i, (p, w) in enumerate(zip(params, weights)):
            w = np.asarray(w)
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}): weight {i} "
                    f"('{self._param_name(p)}') expected shape {tuple(p.shape)}, "
                    f"received {tuple(w.shape)}"
                )
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype))

    def _param_name(self, param):
        for name, p in self.named_parameters():
            if p is param:
                return name
        return "?"

    def count_params(self):
        """Number of scalars in all weights of the (built) layer."""
        if not self.built:
            raise ValueError(
                f"Layer '{self.name}' is not built yet, so its weights do not exist: call it "
                "on data, or give the first layer an input_shape"
            )
        return sum(p.numel() for p in self.ordered_weights())

    # ----------------------------------------------------------------- losses
    def regularization_losses(self):
        """Weight penalties (tensors) of this layer and its sub-layers."""
        return [reg(p) for p, _, reg, _ in self._all_records() if reg is not None]

    def apply_constraints(self):
        """Projects constrained weights in place (the engine calls this after each step)."""
        with torch.no_grad():
            for p, _, _, constraint in self._all_records():
                if constraint is not None:
                    p.copy_(constraint(p))

    @property
    def losses(self):
        """Weight penalties, the activity penalties and `add_loss` terms of the latest call,
        and the values of losses added as callables."""
        found = self.regularization_losses()
        for layer in self.cached("modules", self._module_list):
            if isinstance(layer, Layer) and layer._activity_loss is not None:
                found.append(layer._activity_loss)
        return found + self.added_losses()

    def added_losses(self):
        """The `add_loss` terms of this layer and its sub-layers: those added during the
        latest call, then the callables' current values."""
        modules = self.cached("modules", self._module_list)  # compute_loss: every step
        call_losses = self.__dict__.get("_call_losses", ())
        found = []
        if call_losses:
            members = {id(m) for m in modules}
            found = [loss for layer, loss in call_losses
                     if id(layer) in members and type(loss) is not AddedMetric]
        for layer in modules:
            if isinstance(layer, Layer):
                found.extend(_as_loss_tensor(fn())
                             for fn in layer.__dict__.get("_loss_callables", ()))
        return found

    def _module_list(self):
        return list(self.modules())

    def added_metrics(self):
        """The `(name, value)` pairs `add_metric` received during the latest call of this
        layer and its sub-layers (tf.keras 2's metric tensors)."""
        added = [(layer, item) for layer, item in self.__dict__.get("_call_losses", ())
                 if type(item) is AddedMetric]
        if not added:  # the usual case: no module walk on the step's hot path
            return []
        members = {id(m) for m in self.modules()}
        return [(item.name, item.value) for layer, item in added if id(layer) in members]

    def add_metric(self, value, name=None, aggregation=None):
        """tf.keras 2's `add_metric`: reports the running mean of `value` in the logs of
        `fit` / `evaluate` as `name` (`val_<name>` for validation), reset at each epoch.

        Args:
            value: a tensor computed in `call` (its elements are averaged), a number, or a
                symbolic tensor of a functional model (`model.add_metric(K.mean(x), ...)`).
            name: the log key (required).
            aggregation: None or 'mean' (tf.keras's only aggregation for tensors).

        Raises:
            ValueError: without a name, with another aggregation, or for a symbolic tensor
                outside a forward pass of its graph.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"Layer '{self.name}': add_metric needs a name for the metric "
                             f"(the log key), received name={name!r}")
        if aggregation not in (None, "mean"):
            raise ValueError(f"Layer '{self.name}': add_metric(name={name!r}) supports "
                             f"aggregation=None or 'mean', received {aggregation!r}")
        if isinstance(value, KerasTensor):
            computed = evaluate.value_of(value)
            if computed is None:
                self._add_symbolic_metric(value, name)
                return
            value = computed
        value = _as_loss_tensor(value)
        if _CALLS.depth:
            _CALLS.added.append((self, AddedMetric(name, value)))
        elif not _CALLS.symbolic:
            raise ValueError(f"Layer '{self.name}': add_metric(name={name!r}) outside a "
                             "forward pass; call it inside call(), or with a symbolic "
                             "tensor on a functional model")

    def _add_symbolic_metric(self, value, name):
        """A symbolic metric outside a graph evaluation (Functional overrides this)."""
        if _CALLS.symbolic:
            return  # the call traced for the output shape: real calls add the real value
        raise ValueError(
            f"Layer '{self.name}': add_metric received the symbolic tensor {value!r} outside "
            "a forward pass of the graph it belongs to; use model.add_metric(...) on the "
            "functional model")

    def add_loss(self, losses, inputs=None):
        """Adds loss terms that training minimises along with the compiled loss.

        Args:
            losses: a tensor (summed if not scalar) computed in `call`; a list of them; a
                zero-argument callable (kept, evaluated at every step: weight penalties);
                or a symbolic tensor: inside `call` it takes its value in the current
                forward pass, on a functional model it becomes part of the graph.
            inputs: accepted for Keras 2 compatibility (conditional losses); unused.

        Example:
            >>> def call(self, inputs):
            ...     self.add_loss(K.mean(K.square(inputs)))
            ...     return inputs
        """
        for loss in losses if isinstance(losses, (list, tuple)) else [losses]:
            if callable(loss) and not isinstance(loss, (torch.Tensor, KerasTensor)):
                self._loss_callables.append(loss)
                continue
            if isinstance(loss, KerasTensor):
                value = evaluate.value_of(loss)
                if value is None:
                    self._add_symbolic_loss(loss)
                    continue
                loss = value
            loss = _as_loss_tensor(loss)
            if _CALLS.depth:
                _CALLS.added.append((self, loss))
            else:  # outside any call: a constant term, kept (Keras 2's unconditional loss)
                self._loss_callables.append(lambda value=loss: value)

    def _add_symbolic_loss(self, loss):
        """A symbolic loss added outside any graph evaluation (Functional overrides this)."""
        if _CALLS.symbolic:
            return  # the call traced for the output shape: real calls add the real value
        raise ValueError(
            f"Layer '{self.name}': add_loss received the symbolic tensor {loss!r} outside a "
            "forward pass of the graph it belongs to. Add it inside call() of a layer used "
            "in a functional model, or with model.add_loss(...) on the functional model"
        )

    # ----------------------------------------------------------------- build / call
    def build(self, input_shape):
        """Creates the weights for `input_shape` (a tuple whose batch entry may be None)."""
        self.built = True

    def call(self, inputs, training=False):
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def forward(self, inputs, *args, training=False, **kwargs):
        if _accepts(type(self), "training"):
            return self.call(inputs, *args, training=training, **kwargs)
        return self.call(inputs, *args, **kwargs)

    def _maybe_build(self, input_shape):
        if self.built:
            return
        if is_shape(input_shape):
            input_shape = to_shape_tuple(input_shape)  # else a list of shapes, one per input
        self._build_input_shape = input_shape
        self.build(input_shape)
        self.built = True

    def __call__(self, inputs, *args, training=None, mask=None, **kwargs):
        if type(inputs) is not torch.Tensor and is_symbolic(inputs):  # tensors: fast path
            return self._symbolic_call(inputs, args, dict(kwargs, training=training, mask=mask))
        if not self.built:
            self._maybe_build(_shape_of(inputs))
        if training is None:
            training = self.training
        if mask is None:
            mask = tensor_info.get_mask(inputs)  # the previous layer's output mask
        if mask is not None and _accepts(type(self), "mask"):
            kwargs["mask"] = mask
        if not _CALLS.depth:  # the outermost call: a fresh list of added losses
            _CALLS.added = []
        self.__dict__["_call_losses"] = _CALLS.added  # bypasses nn.Module's slow setattr
        _CALLS.depth += 1
        try:
            if self._dtype_policy is None:
                outputs = super().__call__(inputs, *args, training=training, **kwargs)
            else:  # autocast in the compute dtype, float32 at its edge (mixed_precision)
                outputs = self._dtype_policy.run(super().__call__, inputs, *args,
                                                 training=training, **kwargs)
        except (RuntimeError, ValueError, TypeError) as e:
            raise _named_error(self, inputs, e) from e
        finally:
            _CALLS.depth -= 1
        first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
        if self.activity_regularizer is not None:
            self._activity_loss = self.activity_regularizer(first) / first.shape[0]
        if mask is None and not self.supports_masking and \
                type(self).compute_mask is Layer.compute_mask:
            return outputs  # no mask in, none made: the common case, kept cheap
        out_mask = self.compute_mask(inputs, mask)
        if out_mask is not None:
            # several outputs (return_state): the mask belongs to the sequence output(s)
            masks = out_mask if isinstance(out_mask, (list, tuple)) else [out_mask]
            for tensor, m in zip(outputs if first is not outputs else [outputs], masks):
                if m is not None and isinstance(tensor, torch.Tensor):
                    tensor_info.set_mask(tensor, m)
        return outputs

    def _symbolic_call(self, inputs, args, kwargs):
        """Records a Node and returns KerasTensor(s) with the inferred output shape(s)."""
        if args:
            raise TypeError(
                f"Layer '{self.name}': extra positional arguments are not supported on "
                "symbolic tensors; pass them as keyword arguments"
            )
        shapes = map_structure(lambda t: t.shape, inputs)
        dtypes = map_structure(lambda t: config.standardize_dtype(t.dtype), inputs)
        _CALLS.symbolic += 1
        try:
            self._maybe_build(shapes)
            self.check_input_spec(shapes)
            if type(self).compute_output_shape is Layer.compute_output_shape:
                out_shapes = infer_output_shape(self, shapes, dtypes)
            else:
                out_shapes = self.compute_output_shape(shapes)
        except (RuntimeError, ValueError, TypeError) as e:
            raise _incompatible_input_error(self, inputs, e) from e
        finally:
            _CALLS.symbolic -= 1
        make = lambda shape: KerasTensor(shape, self.dtype, source_layer=self)  # noqa: E731
        outputs = make(out_shapes) if is_shape(out_shapes) else [make(s) for s in out_shapes]
        call_kwargs = {k: v for k, v in kwargs.items() if v is not None}
        Node(self, inputs, outputs, call_kwargs)
        return outputs

    def check_input_spec(self, shapes):
        """Checks input shape(s) against `input_spec` (done when graphs are connected and
        before training, never per batch)."""
        if self.input_spec is None:
            return
        specs = self.input_spec if isinstance(self.input_spec, list) else [self.input_spec]
        shapes = [shapes] if is_shape(shapes) else shapes
        for index, (spec, shape) in enumerate(zip(specs, shapes)):
            spec.check(self.name, shape, index)

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call in a graph."""
        return self._first_node().inputs

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call in a graph."""
        return self._first_node().outputs

    @property
    def inbound_nodes(self):
        """The graph Nodes of this layer's calls on symbolic tensors, in call order (the
        list itself: `graph.node.Node` appends each new call)."""
        return self._inbound_nodes

    def get_build_config(self):
        """Keras 3's `{'input_shape': ...}` this layer was built for (None if unknown)."""
        if not self.built or self._build_input_shape is None:
            return None
        return {"input_shape": self._build_input_shape}

    @property
    def seed_generator(self):
        """The torch.Generator a seeded noise layer draws from (None before its first draw,
        and for layers without a seed)."""
        return getattr(self, "_generator", None)

    @seed_generator.setter
    def seed_generator(self, generator):
        self._generator = generator

    def _first_node(self):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called on symbolic tensors, so it has no "
                "input/output. Build the model from an Input or give the first layer an "
                "input_shape"
            )
        return self._inbound_nodes[0]

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs: passed through when `supports_masking`, else None."""
        return mask if self.supports_masking else None

    def compute_output_shape(self, input_shape):
        """Output shape for `input_shape`; inferred by running the layer on meta tensors."""
        self._maybe_build(input_shape)
        if is_shape(input_shape):
            input_shape = to_shape_tuple(input_shape)
        return infer_output_shape(self, input_shape, self.torch_dtype)

    @property
    def input_shape(self):
        if self._build_input_shape is None:
            raise AttributeError(f"Layer '{self.name}' has not been built: no input shape yet")
        return self._build_input_shape

    @property
    def output_shape(self):
        return self.compute_output_shape(self.input_shape)

    # ----------------------------------------------------------------- config
    def get_config(self):
        """Constructor arguments, Keras names (subclasses add their own)."""
        mixed = self._dtype_policy is not None and self._dtype_policy.is_mixed
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": self._dtype_policy.name if mixed else self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def keyword_arguments(cls):
        """Names `cls(...)` accepts (None when some constructor takes any keyword): the
        constructors' own arguments plus the Keras-wide input_shape & co."""
        return serialization.constructor_arguments(cls, stop=Layer, extra=_KERAS_KWARGS)

    def extra_repr(self):
        return f"name={self.name!r}"


def activate(activation, z):
    """Applies `activation` to pre-activations `z`, recording `z` as the output's logits
    when the activation is sigmoid or softmax (crossentropy then computes from them
    exactly; see `layerkit.graph.tensor_info`)."""
    out = activation(z)
    if activation is activations.sigmoid:
        tensor_info.set_logits(out, z, "sigmoid")
    elif activation is activations.softmax:
        tensor_info.set_logits(out, z, "softmax")
    return out


def _as_loss_tensor(loss):
    """An added loss as a floating tensor (numbers and numpy become floatx)."""
    if isinstance(loss, torch.Tensor):
        return loss if loss.is_floating_point() else loss.to(config.floatx_dtype())
    return torch.as_tensor(np.asarray(loss), dtype=config.floatx_dtype(), device=config.device())


registry.register("layers", Layer)


def _marks_built(build):
    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        result = build(self, *args, **kwargs)
        self.built = True
        if self._build_input_shape is None:
            self._build_input_shape = args[0] if args else kwargs.get("input_shape")
        return result

    return wrapper


def _rejects_keras1_args(init, owner):
    """Wraps `init` so that Keras 1 argument names (`output_dim=`, `border_mode=`, ...) raise
    an error naming the Keras 2 argument, before Python's bare "unexpected keyword"."""
    accepted = frozenset(inspect.signature(init).parameters)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if kwargs and not keras1_args.LAYER_NAMES.isdisjoint(kwargs):
            found = keras1_args.renamed(kwargs, keras1_args.LAYER_ARGS, owner, accepted)
            if found:
                raise keras1_args.error(owner, found)
        init(self, *args, **kwargs)

    return wrapper


def _accepts(cls, argument):
    """Whether `cls.call` takes `argument` ('training', 'mask'); user layers often don't.

    The answer is kept on the class itself, with the class it was computed for (a subclass
    inherits the attribute but may define another `call`): a dict keyed by class was
    misread inside `torch.compile` (a Dense after an LSTM was passed `mask=`)."""
    cached = getattr(cls, "_call_accepts", None)
    if cached is None or cached[0] is not cls:
        params = inspect.signature(cls.call).parameters
        anything = any(p.kind is p.VAR_KEYWORD for p in params.values())
        cached = (cls, {name: anything or name in params for name in ("training", "mask")})
        setattr(cls, "_call_accepts", cached)
    return cached[1][argument]


def _shape_of(inputs):
    """Keras shape(s) of a tensor or a list of tensors, batch entry None."""
    if isinstance(inputs, (list, tuple)):
        return [_shape_of(t) for t in inputs]
    return (None,) + tuple(inputs.shape[1:])


def _incompatible_input_error(layer, inputs, error):
    """An error naming the layer, the layers its inputs come from and the shapes."""
    sources = []
    for tensor in flatten(inputs):
        node = tensor.node
        sources.append(f"'{node.layer.name}'" if node is not None else "an input")
    shapes = map_structure(lambda t: t.shape, inputs)
    named = ValueError(
        f"Layer '{layer.name}' ({type(layer).__name__}) cannot be called on the output of "
        f"layer {', '.join(sources)} with shape {shapes}: {error}"
    )
    named._layerkit_named = True
    return named


def _named_error(layer, inputs, error):
    """Re-raises a torch error with the layer's name and the input shape in the message."""
    if getattr(error, "_layerkit_named", False):
        return error
    message = (f"Layer '{layer.name}' ({type(layer).__name__}) failed on input of shape "
               f"{_shape_of(inputs)}: {error}")
    try:
        named = type(error)(message)
    except Exception:  # exception types with unusual constructors keep their message
        return error
    named._layerkit_named = True
    return named


def _batch_input_shape_from(kwargs):
    """Reads Keras's input_shape / input_dim / batch_input_shape / batch_size arguments."""
    if kwargs.get("batch_input_shape") is not None:
        return to_shape_tuple(kwargs["batch_input_shape"])
    shape = kwargs.get("input_shape")
    if shape is None and kwargs.get("input_dim") is not None:
        shape = (kwargs["input_dim"],)
    if shape is None:
        return None
    shape = to_shape_tuple(shape)
    if any(d is not None and d <= 0 for d in shape):
        raise ValueError(f"input_shape must contain positive dimensions, received {shape}")
    return (kwargs.get("batch_size"),) + shape
