"""Symbolic tensors: what `Input(...)` and layer calls on it return, a shape and a dtype.

Indexing, arithmetic and `layerkit.backend` functions on symbolic tensors record the
operation into the graph (Keras 2's graph mode, kept for the notes' `model.output[:, 386]`
and `K.mean(layer.output)`), so the result can be a model output or go to `K.function`.
The recording itself belongs to the layers floor (an operation is a weightless layer);
it registers itself here with `set_op_recorder`, so this ground-floor module imports
nothing above it.
"""

import operator

from .shapes import to_shape_tuple

_RECORDER = []  # the one function recording `fn(*args, **kwargs)` on symbolic arguments


def set_op_recorder(recorder):
    """Installs `recorder(fn, args, kwargs, name) -> KerasTensor(s)` (done by layers)."""
    _RECORDER[:] = [recorder]


def apply_op(fn, args, kwargs=None, name=None, output_spec=None):
    """Records `fn(*args, **kwargs)` where some arguments are symbolic tensors.

    Args:
        fn: a torch function; it receives real (or meta) tensors in place of the
            symbolic ones.
        args, kwargs: its arguments, symbolic tensors anywhere in lists/tuples/dicts.
        name: the operation's base name (`get_item`, `mean`, ...).
        output_spec: ([shapes], [torch dtypes], several) when running `fn` on stand-ins
            cannot tell (sizes that are values of symbolic tensors).

    Returns:
        A KerasTensor (or a list of them when `fn` returns several tensors).
    """
    return _RECORDER[0](fn, tuple(args), dict(kwargs or {}), name or fn.__name__,
                        output_spec)


def _binary(name, fn, reflected=False):
    def method(self, other):
        if reflected:
            return apply_op(fn, (other, self), name=name)
        return apply_op(fn, (self, other), name=name)

    method.__name__ = name
    return method


class KerasTensor:
    """A placeholder for a batch of data: a shape (entries may be None) and a dtype.

    Supports indexing, arithmetic and comparisons with numbers, arrays and other
    symbolic tensors; each records an operation (see the module docstring). Equality
    (`==`) stays identity, as graph bookkeeping needs; use `K.equal` for the op.

    Args:
        shape: full shape including the batch dimension.
        dtype: dtype name, e.g. 'float32' or 'int32'.
        source_layer: the layer that produced it (an InputLayer for model inputs).
    """

    __array_ufunc__ = None  # numpy defers to our reflected operators (2 * tensor)

    def __init__(self, shape, dtype, source_layer=None):
        self.shape = to_shape_tuple(shape)
        self.dtype = dtype
        self.source_layer = source_layer
        self.history = None  # (Node, output index), set by the Node that produced it

    @property
    def node(self):
        return self.history[0] if self.history is not None else None

    @property
    def name(self):
        return self.source_layer.name if self.source_layer is not None else None

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        raise TypeError(
            f"{self!r} is symbolic: it has no length. Call the model on data to get values"
        )

    def __bool__(self):
        raise TypeError(
            f"{self!r} is symbolic: it has no truth value. Use it in a K.function or a "
            "model, or call the model on data to get values"
        )

    def __iter__(self):
        raise TypeError(f"{self!r} is symbolic: it cannot be iterated. Index it instead")

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __getitem__(self, key):
        return apply_op(operator.getitem, (self, key), name="get_item")

    def __neg__(self):
        return apply_op(operator.neg, (self,), name="negative")

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_op(operator.abs, (self,), name="absolute")

    __add__ = _binary("add", operator.add)
    __radd__ = _binary("add", operator.add, reflected=True)
    __sub__ = _binary("subtract", operator.sub)
    __rsub__ = _binary("subtract", operator.sub, reflected=True)
    __mul__ = _binary("multiply", operator.mul)
    __rmul__ = _binary("multiply", operator.mul, reflected=True)
    __truediv__ = _binary("divide", operator.truediv)
    __rtruediv__ = _binary("divide", operator.truediv, reflected=True)
    __floordiv__ = _binary("floor_divide", operator.floordiv)
    __rfloordiv__ = _binary("floor_divide", operator.floordiv, reflected=True)
    __mod__ = _binary("mod", operator.mod)
    __rmod__ = _binary("mod", operator.mod, reflected=True)
    __pow__ = _binary("power", operator.pow)
    __rpow__ = _binary("power", operator.pow, reflected=True)
    __matmul__ = _binary("matmul", operator.matmul)
    __rmatmul__ = _binary("matmul", operator.matmul, reflected=True)
    __lt__ = _binary("less", operator.lt)
    __le__ = _binary("less_equal", operator.le)
    __gt__ = _binary("greater", operator.gt)
    __ge__ = _binary("greater_equal", operator.ge)
    __hash__ = object.__hash__
