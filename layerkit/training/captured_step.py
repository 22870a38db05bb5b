"""`compile(jit_compile=True)`: the built-in train step as one captured, compiled graph.

Who owns what: the model decides when its built-in `train_step` runs here and hands over
its public parts (the call, `compute_loss`, `apply_constraints`, `added_metrics`, the
weights it trains, the scope that sets their `requires_grad`); this module owns the graph:
forward, loss, gradients (`torch.autograd.grad`, traced by TorchDynamo), the optimizer's
update (`Optimizer.captured_update`), constraints and the running loss and metric sums
(`Compiled.update`), all in one `torch.compile(fullgraph=True)` function, and the decision
to fall back to the eager step.

What keeps the graph from recompiling: everything that changes per step enters as tensor
data. The learning rate and the optimizer's other per-step numbers are computed in Python
exactly as the eager step computes them (`Optimizer.captured_scalars`: schedules,
`ReduceLROnPlateau`, tf.keras `decay`, Adam's bias correction) and passed as one tensor;
`iterations` is counted outside the graph; the running sample count is a tensor
(`Compiled.prepare_capture`). A model's graphs are: one per batch shape (the last, smaller
batch of an epoch adds one, with a symbolic batch size) and per presence of sample weights.
Each captured step owns a copy of the step's code object, so TorchDynamo's per-code cache
(and its recompile limit) is per model, not shared by every model of the process.

Same numbers as eager: the graph runs the eager step's operations in the same order with
the same per-step scalars; Inductor fuses the element-wise ones into C++ loops, which may
contract `a + b * c` into one fused multiply-add, so results agree with eager within
float32 rounding (tests/test_captured_step.py: 3 epochs, rtol 1e-5), not bitwise. Matrix
products and reductions are the same ATen kernels. Dropout and the other unseeded random
layers draw from torch's global generator inside the graph (Inductor's `fallback_random`),
so with the same seed they draw the masks eager draws. Denormals are flushed for the whole
graph when the optimizer would flush them in its update (`config.flush_denormal()` not
False, on CPU): eager flushes in the update only, so the two differ only where a forward
or backward value is below 1.2e-38.

Falls back to the eager step (with one warning per model, saying why) when the step cannot
be one graph: the first step of the model (always eager: it builds the metrics from the
first batch's shapes), an optimizer without a captured update (every built-in one has
one; a user's subclass needs `_update_captured`), a loss-scale optimizer (mixed_float16),
data-parallel training (the eager step then compiles its forward alone: `Model`), a
weight without a gradient, seeded noise layers (their `torch.Generator` cannot enter a
graph), or anything TorchDynamo refuses to trace. `.grad` of the weights is not set by
the captured step (the eager step leaves the last batch's gradients there).
"""

import types
import warnings

import torch

from .. import config
from ..utils.data_tuples import unpack_x_y_sample_weight

# Inductor's own RNG would draw different dropout masks than eager; torch's ops draw the
# same ones from the same seed.
_OPTIONS = {"fallback_random": True}


class CapturedStep:
    """The built-in train step of one compiled model as one compiled graph.

    Args:
        model: the compiled model (its `__call__`, `compute_loss`, `apply_constraints`,
            `added_metrics`, `optimizer` and `compiled` are used).
        params: the weights the step trains (the trainable weights as of compile).
        gradient_scope: a callable returning the context manager that makes exactly
            `params` require gradients for one step.
        constrained: whether some weight has a constraint to apply after the update.
    """

    def __init__(self, model, params, gradient_scope, constrained):
        self.model, self.params = model, params
        self.optimizer, self.compiled = model.optimizer, model.compiled
        self.gradient_scope = gradient_scope
        self.constrained = constrained
        self.steps = 0  # captured steps run
        self.fallback_reason = _static_reason(model, self.optimizer)
        self._warned = False
        self._graph = None
        self._first = True
        self._scalars = (None, None)  # (the floats, their tensor): reused while unchanged

    def __call__(self, data):
        """Runs one step on `data` in the graph; False when the caller must run the eager
        step instead (the model's first step, or capture is impossible)."""
        if self.fallback_reason is not None:
            self._warn()
            return False
        if self._first:  # builds metrics, optimizer slots and added-metric sums eagerly
            self._first = False
            return False
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        device = self.params[0].device
        self.compiled.prepare_capture(device)
        args = (x, y, sample_weight, self._scalar_tensor(device))
        flush = config.flush_denormal() is not False and device.type == "cpu"
        try:
            with self.gradient_scope(), config.denormals_flushed(flush):
                self._run(args)
        except Exception as error:  # noqa: BLE001 - any refusal: eager from now on
            self.fallback_reason = _describe(error)
            self._warn()
            return False
        self.optimizer.finish_captured_step()
        self.steps += 1
        return True

    def _scalar_tensor(self, device):
        """The optimizer's per-step numbers as a tensor (the last one while they repeat:
        a constant learning rate costs no tensor per step)."""
        values = self.optimizer.captured_scalars()
        if values != self._scalars[0]:
            self._scalars = (values, torch.tensor(values, dtype=self.params[0].dtype,
                                                  device=device))
        return self._scalars[1]

    def _run(self, args):
        """Calls the graph. TorchDynamo traces `torch.autograd.grad` only under its
        `trace_autograd_ops` setting, and setting it costs ~10 µs (a tenth of a small
        step): it is set for the first call, and again only when a later call must
        recompile (a new batch shape) and the trace without it was refused."""
        if self._graph is None:
            step = _train_graph(self.model, self.params, self.optimizer, self.compiled,
                                self.constrained)
            self._graph = torch.compile(_own_copy(step), fullgraph=True, options=_OPTIONS)
            with _autograd_ops_traced():
                return self._graph(*args)
        try:
            return self._graph(*args)
        except Exception as error:  # noqa: BLE001 - refused before the graph ran
            if torch._dynamo.config.trace_autograd_ops or "trace_autograd_ops" not in str(error):
                raise
        with _autograd_ops_traced():
            return self._graph(*args)

    def _warn(self):
        if self._warned:
            return
        self._warned = True
        warnings.warn(f"Model '{self.model.name}': jit_compile=True, but the train step runs "
                      f"eagerly: {self.fallback_reason}", stacklevel=4)


def _train_graph(model, params, optimizer, compiled, constrained):
    """The step that becomes one graph (the eager `Model.train_step`, with gradients from
    `torch.autograd.grad` and the optimizer's captured update). The model and its parts
    are closed over, not passed: TorchDynamo checks arguments at every call, and a model
    as an argument costs far more to check than the step takes to run."""

    def step(x, y, sample_weight, scalars):
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred, sample_weight)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        if any(g is None for g in grads):
            raise _Refused("a trained weight gets no gradient from the loss")
        with torch.no_grad():
            optimizer.captured_update(params, list(grads), scalars)
            if constrained:
                model.apply_constraints()
            compiled.update(loss.detach(), y, y_pred, sample_weight)
            added = model.added_metrics()
            if added:
                compiled.update_added_metrics(added)

    return step


class _Refused(Exception):
    pass


def _static_reason(model, optimizer):
    """Why this model's step cannot be captured, known before tracing; None if it can."""
    if not getattr(optimizer, "supports_capture", False):
        return (f"the optimizer {type(optimizer).__name__} has no captured update (every "
                "built-in optimizer has one; a subclass needs _update_captured)")
    if getattr(model, "distribute_strategy", None) is not None:
        return ("under a strategy DDP all-reduces the gradients in an eager backward, so only "
                "the forward runs through torch.compile")
    for module in model.modules():
        if getattr(module, "seed", None) is not None and hasattr(module, "seed_generator"):
            return (f"layer '{module.name}' draws from its own seeded torch.Generator, which "
                    "cannot enter a compiled graph")
    return None


def _describe(error):
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return (f"TorchDynamo could not capture it as one graph ({type(error).__name__}: "
            f"{first[:300]})")


def _own_copy(fn):
    """`fn` with its own code object: TorchDynamo caches compiled graphs per code object,
    so each model gets its own cache and recompile limit."""
    code = fn.__code__.replace()
    copy = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)
    copy.__qualname__ = fn.__qualname__
    return copy


class _autograd_ops_traced:
    """TorchDynamo traces `torch.autograd.grad` into the graph (its
    `trace_autograd_ops` setting) while a captured step compiles."""

    def __enter__(self):
        dynamo_config = torch._dynamo.config
        self.before = dynamo_config.trace_autograd_ops
        dynamo_config.trace_autograd_ops = True

    def __exit__(self, *exc):
        torch._dynamo.config.trace_autograd_ops = self.before
