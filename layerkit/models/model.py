"""Model: a Layer that can be compiled, trained, evaluated and summarised.

Who owns what: the model computes one step (`train_step`, `test_step`, `predict_step`) and
holds the compiled loss, metrics and optimizer; `layerkit.training.trainer` runs the loops,
batches and callbacks, and reads the model only through public methods
(`build_from_shape`, `trainable_weights_at_compile`, `step_logs`, the steps). Subclass
Model and write `call` for a custom model.
"""

import warnings

import torch

from .. import optimizers
from ..graph import tensor_info
from ..layers import tracking_cache
from ..layers.layer import Layer
from ..training import trainer
from ..training.captured_step import CapturedStep
from ..metrics.metric import Metric
from ..mixed_precision.loss_scale_optimizer import LossScaleOptimizer
from ..training.compiled import (Compiled, CompiledLoss, CompiledMetrics, LossTracker,
                                 StepLogs, python_logs)
from ..utils import model_files
from ..utils.data_tuples import unpack_x_y_sample_weight
from ..utils.naming import unique_name


class Model(Layer):
    """Base class of Sequential and Functional, and of user models that define `call`.

    `Model(inputs, outputs)` returns a functional model (see `models.functional`).

    Args:
        name: model name (`model`, `model_1`, ... when None).
        trainable: whether fit updates the weights.
    """

    # The class `Model(inputs, outputs)` builds. `models.functional` sets it when it
    # defines Functional (a subclass of Model, so this module cannot import it: no cycle).
    functional_class = None

    def __new__(cls, *args, **kwargs):
        # `Model(inputs, outputs)` builds a functional model (the one __new__ trick).
        if cls is Model and (args or {"inputs", "outputs", "input", "output"} & set(kwargs)):
            return super().__new__(Model.functional_class)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        Functional = Model.functional_class
        if isinstance(self, Functional) or not _functional_arguments(args, kwargs):
            self._init_model(*args, **kwargs)
            return
        # A functional subclass (`class M(Model)` built with `super().__init__(inputs,
        # outputs)`, Keras's way to give a functional model its own train_step): the
        # instance becomes a subclass of both M and Functional, M's methods first.
        self.__class__ = _functional_subclass(type(self), Functional)
        Functional.__init__(self, *args, **kwargs)

    def _init_model(self, name=None, trainable=True, **kwargs):
        super().__init__(name=name or unique_name(self._default_name()), trainable=trainable,
                         **kwargs)
        self.compiled = None
        self._compiled_loss = self._compiled_metrics = self._step_logs = None
        self._loss_tracker = None
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._jit_compile = False
        self._compiled_forward = None
        self._captured = None
        self._params = None
        self._penalties = None

    @classmethod
    def _default_name(cls):
        return "model"

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        """The model's layers, in order."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """Returns a layer by `name` or by `index` (position in `layers`).

        Raises:
            ValueError: if neither or both are given, or nothing matches.
        """
        if (name is None) == (index is None):
            raise ValueError("get_layer: provide exactly one of name= or index=")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer(index={index}): model '{self.name}' has {len(layers)} layers"
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name!r}. Existing layers are: {[l.name for l in layers]}"
        )

    @property
    def output_names(self):
        """Names of the model's outputs (one for Sequential and subclassed models)."""
        return [self.layers[-1].name] if self.layers else ["output"]

    @property
    def input_names(self):
        return [self.name + "_input"]

    def check_input_shape(self, shape):
        """Raises if data of `shape` cannot feed the model (subclasses know their input)."""

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints the tf.keras summary table (Layer (type) / Output Shape / Param #)."""
        from .summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, jit_compile=None, **kwargs):
        """Configures the model for training.

        Args:
            optimizer: name ('rmsprop', 'adam', ...; case-insensitive) or optimizer object.
            loss: name, function or Loss object.
            metrics: list of names ('acc', 'accuracy', 'mae', ...), functions or Metric objects.
            loss_weights: scalar weights of the outputs' losses.
            weighted_metrics: metrics that take sample/class weights into account.
            run_eagerly: accepted for compatibility; layerkit always runs eagerly.
            jit_compile: True runs the built-in train step (forward, loss, gradients,
                optimizer update, metric sums) as one `torch.compile`d graph after an
                eager first step (`layerkit.training.captured_step`: same numbers as eager
                within float32 rounding; eager with a warning where it cannot be
                captured; an overridden `train_step` runs eagerly; under a strategy the
                step runs eagerly around a compiled forward, as DDP all-reduces in the
                eager backward), and the forward of the built-in test and predict steps
                through `torch.compile`. "auto" and
                None: eager (Keras 3 on the torch backend resolves "auto" to eager; a
                compile costs seconds a small model's fit rarely wins back).
        """
        unknown = set(kwargs) - {"sample_weight_mode", "target_tensors", "steps_per_execution"}
        if unknown:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(unknown)}")
        self.optimizer = optimizers.get(optimizer)
        if self.dtype_policy.name == "mixed_float16" and \
                not isinstance(self.optimizer, LossScaleOptimizer):
            self.optimizer = LossScaleOptimizer(self.optimizer)  # Keras 3 wraps it too
        self._scales_loss = isinstance(self.optimizer, LossScaleOptimizer)
        self.distribute_strategy = _current_strategy()
        self.compiled = Compiled(loss, metrics, weighted_metrics, loss_weights,
                                 output_names=self.output_names)
        self._jit_compile = _resolve_jit_compile(jit_compile)
        if self._jit_compile and type(self).train_step is not Model.train_step:
            warnings.warn(f"Model '{self.name}': jit_compile=True compiles the built-in "
                          "train step only (also where an override calls it through "
                          "super()); this model's own train_step runs eagerly", stacklevel=2)
        self._loss_tracker = LossTracker(self.compiled)
        self._compiled_loss = CompiledLoss(self.compiled)
        self._compiled_metrics = CompiledMetrics(self.compiled)
        self._step_logs = StepLogs(self.compiled)
        self._params = None
        self._penalties = None
        self._compiled_forward = None
        self._captured = None
        tracking_cache.invalidate()  # `metrics` now lists the new loss tracker
        if self.built:
            self._trainable_params()

    def build_from_shape(self, input_shape):
        """Builds the model for inputs of `input_shape` (batch entry None; a list for several
        inputs) unless it is built: what `fit`, `evaluate` and `predict` do with the data's
        shape before the first step."""
        self._maybe_build(input_shape)

    def trainable_weights_at_compile(self):
        """The weights the built-in `train_step` trains: the trainable weights as of
        `compile` (as in Keras, a later change of `trainable` needs a new compile). The first
        call builds the optimizer's slots for them; `fit` calls it before `on_train_begin`,
        so a callback can load optimizer state."""
        return self._trainable_params()

    def _trainable_params(self):
        """Trainable weights as of `compile` (Keras: a later freeze needs a new compile)."""
        if self._params is None:
            self._params = list(self.trainable_weights)
            chosen = {id(p) for p in self._params}
            self._others = [p for p in self.parameters() if id(p) not in chosen]
            self.optimizer.build(self._params)
            self._constrained = any(c is not None for _, _, _, c in self._all_records())
        elif self._trainable_changed():
            warnings.warn(
                f"Model '{self.name}': the trainable weights changed since compile (a layer's "
                "`trainable` was set after compile). As in Keras, the change takes effect "
                "at the next compile()", stacklevel=3)
        return self._params

    def _trainable_changed(self):
        current = self.trainable_weights
        return len(current) != len(self._params) or any(
            a is not b for a, b in zip(current, self._params))

    # ------------------------------------------------------------------ steps
    def _penalty_terms(self):
        """(weight, regularizer) pairs and activity-regularized layers, found once."""
        if self._penalties is None:
            weights = [(p, reg) for p, _, reg, _ in self._all_records() if reg is not None]
            active = [m for m in self.modules()
                      if isinstance(m, Layer) and m.activity_regularizer is not None]
            self._penalties = (weights, active)
        return self._penalties

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras 3's `compute_loss`: the compiled loss of the batch plus every weight and
        activity penalty and the `add_loss` terms of the forward pass that computed
        `y_pred` (each summed). `x` and `training` are accepted for overrides.

        Returns:
            A 0-dim tensor.

        Raises:
            ValueError: compiled with loss=None and nothing was added with add_loss.
        """
        loss = self.compiled.loss(y, y_pred, sample_weight)
        added = self.added_losses()
        if loss is None:
            if not added:
                raise ValueError(
                    f"Model '{self.name}' was compiled with loss=None and adds no loss with "
                    "add_loss(): there is nothing to minimise. Pass compile(loss=...)")
            loss = 0.0
        weights, active = self._penalty_terms()
        for param, regularizer in weights:
            loss = loss + regularizer(param)
        for layer in active:
            loss = loss + layer.activity_loss
        for term in added:
            loss = loss + (term if term.dim() == 0 else term.sum())
        return loss

    def train_step(self, data):
        """One optimisation step on `data` (`(x,)`, `(x, y)` or `(x, y, sample_weight)`,
        see `layerkit.utils.unpack_x_y_sample_weight`); returns the logs.

        Override it to customise `fit` (Keras's "Customizing what happens in fit()"):
        `self(x, training=True)`, `self.compute_loss(x, y, y_pred, sample_weight)`,
        `self.zero_grad()`, `loss.backward()`, `self.optimizer.apply(grads, weights)`,
        `metric.update_state(...)` for `metric in self.metrics`, and return
        `{m.name: m.result() for m in self.metrics}`.
        """
        if self._jit_compile and self._captured_step()(data):
            return self._step_logs
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        params = self._params if self._params is not None else self._trainable_params()
        with _gradients_for(params, self._others):
            y_pred = self._step_forward(x)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            for p in params:
                p.grad = None
            (self.optimizer.scale_loss(loss) if self._scales_loss else loss).backward()
        self.optimizer.step()
        if self._constrained:
            self.apply_constraints()
        # Metrics update without gradients; y_pred keeps its cached logits (no detach).
        self.compiled.update(loss.detach(), y, y_pred, sample_weight)
        added = self.added_metrics()
        if added:
            self.compiled.update_added_metrics(added)
        return self._step_logs

    def _step_forward(self, x):
        """The eager train step's forward. jit_compile=True under a strategy: the step is
        not one captured graph (DDP all-reduces gradients in its eager backward), so the
        forward alone runs through `torch.compile`; otherwise CapturedStep compiles the
        whole step, or the step runs eagerly."""
        if self._jit_compile and self.distribute_strategy is not None:
            return self._forward(x, training=True)
        return self(x, training=True)

    def _captured_step(self):
        if self._captured is None:
            params = self._trainable_params()
            self._captured = CapturedStep(self, params,
                                          lambda: _gradients_for(params, self._others),
                                          self._constrained)
        return self._captured

    def _forward(self, x, training):
        if not self._jit_compile:
            return self(x, training=training)
        if self._compiled_forward is None:
            self._maybe_build((None,) + tuple(x.shape[1:]))
            # torch's RNG ops in the graph: the random draws eager makes
            self._compiled_forward = torch.compile(self._forward_and_info,
                                                   options={"fallback_random": True})
        outputs, info = self._compiled_forward(x, training=training)
        return tensor_info.attach(outputs, info)

    def _forward_and_info(self, x, training):
        """The outputs and, explicitly, their masks and logits: a compiled function returns
        fresh tensors, so what the outputs carry must cross as values (`tensor_info`)."""
        outputs = self.forward(x, training=training)
        return outputs, tensor_info.info_of(outputs)

    def test_step(self, data):
        """Evaluates one batch (see `train_step` for `data`); returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self._forward(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        self.compiled.update(loss, y, y_pred, sample_weight)
        added = self.added_metrics()
        if added:
            self.compiled.update_added_metrics(added)
        return self._step_logs

    def predict_step(self, data):
        """The outputs for one batch (`x` or `(x,)`)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self._forward(x, training=False)

    # ------------------------------------------------------------------ step contract
    @property
    def metrics(self):
        """The metrics a step updates and `fit` resets at each epoch (and `evaluate` at its
        start): the loss tracker ('loss'), the compiled metrics (one `compile_metrics`
        entry), then `Metric` objects set as attributes of the model (Keras 3's order)."""
        return list(self.cached("metrics", self._collect_metrics))

    def _collect_metrics(self):
        found = []
        if self.compiled is not None:
            found.append(self._loss_tracker)
            if self.compiled.has_metrics():
                found.append(self._compiled_metrics)
        found.extend(v for v in vars(self).values()
                     if isinstance(v, Metric) and v is not self._loss_tracker)
        return found

    def __setattr__(self, name, value):
        # `metrics` lists the Metric attributes: setting or replacing one changes the list
        if isinstance(value, Metric) or isinstance(self.__dict__.get(name), Metric):
            tracking_cache.invalidate()
        super().__setattr__(name, value)

    def zero_grad(self, set_to_none=True):
        """torch's `Module.zero_grad` in one pass over the model's parameters (the list is
        kept until the model changes): gradients become None, or zeros with
        `set_to_none=False`."""
        for p in self.cached("parameters", self._parameter_list):
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
                continue
            if p.grad.grad_fn is not None:
                p.grad.detach_()
            else:
                p.grad.requires_grad_(False)
            p.grad.zero_()

    def _parameter_list(self):
        return list(self.parameters())

    @property
    def compiled_loss(self):
        """tf.keras's `compiled_loss(y, y_pred, sample_weight, regularization_losses)`."""
        return self._compiled_loss

    @property
    def compiled_metrics(self):
        """tf.keras's `compiled_metrics.update_state(y, y_pred, sample_weight)`."""
        return self._compiled_metrics

    def reset_metrics(self):
        """Resets every metric of `self.metrics` (and the compiled running means)."""
        if self.compiled is not None:
            self.compiled.reset()
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self):
        """{name: value} of `self.metrics` (compiled metrics flattened), as Keras 3."""
        return python_logs({m.name: m.result() for m in self.metrics})

    @property
    def step_logs(self):
        """What the built-in steps return: the compiled running loss and metric means, read
        (one device synchronisation) only when someone asks (`training.compiled.StepLogs`)."""
        return self._step_logs

    # ------------------------------------------------------------------ loops
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, max_queue_size=10, workers=1,
            use_multiprocessing=False, **kwargs):
        """Trains the model; returns a `History`. Arguments as in tf.keras (`max_queue_size`
        is accepted and unused: DataLoaders prefetch on their own)."""
        return trainer.fit(
            self, x=x, y=y, batch_size=batch_size, epochs=epochs, verbose=verbose,
            callbacks=callbacks, validation_split=validation_split,
            validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
            sample_weight=sample_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq,
            workers=workers, use_multiprocessing=use_multiprocessing, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, max_queue_size=10, workers=1,
                 use_multiprocessing=False, **kwargs):
        """Returns the loss (and metrics) on the data: a scalar, a list or a dict."""
        return trainer.evaluate(
            self, x=x, y=y, batch_size=batch_size, verbose=verbose,
            sample_weight=sample_weight, steps=steps, callbacks=callbacks,
            return_dict=return_dict, workers=workers, use_multiprocessing=use_multiprocessing,
            **kwargs)

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False, **kwargs):
        """Returns the model's outputs for `x` as a numpy array, computed in batches."""
        return trainer.predict(self, x=x, batch_size=batch_size, verbose=verbose, steps=steps,
                               callbacks=callbacks, workers=workers,
                               use_multiprocessing=use_multiprocessing, **kwargs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One step on one batch; returns the loss (and metrics) like `evaluate`."""
        return trainer.train_on_batch(self, x=x, y=y, sample_weight=sample_weight,
                                      class_weight=class_weight, reset_metrics=reset_metrics,
                                      return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True,
                      return_dict=False):
        """Evaluates one batch; returns the loss (and metrics) like `evaluate`."""
        return trainer.test_on_batch(self, x=x, y=y, sample_weight=sample_weight,
                                     reset_metrics=reset_metrics, return_dict=return_dict)

    def predict_on_batch(self, x):
        """Returns the outputs for one batch as numpy."""
        return trainer.predict_on_batch(self, x)

    # seed-era aliases: one training loop, these are spellings of it
    def fit_generator(self, generator, *args, **kwargs):
        return self.fit(generator, *args, **kwargs)

    def evaluate_generator(self, generator, *args, **kwargs):
        return self.evaluate(generator, *args, **kwargs)

    def predict_generator(self, generator, *args, **kwargs):
        return self.predict(generator, *args, **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a model from `get_config()` (or a Keras 3 / tf.keras config); `Model`
        itself rebuilds a functional model, as in Keras."""
        return model_files.call("model_of_class",
                                Model.functional_class if cls is Model else cls, config,
                                custom_objects)

    # ------------------------------------------------------------------ saving
    def save(self, filepath, overwrite=True, include_optimizer=True, save_format=None):
        """Saves architecture, weights, compile settings and optimizer state.

        `.keras` writes the Keras 3 zip; `.h5` / `.hdf5` the Keras 2 HDF5 layout. The file
        is written to a temporary file and renamed, so an interrupted save never leaves a
        half-written file.
        """
        model_files.call("save_model", self, filepath, overwrite=overwrite,
                         include_optimizer=include_optimizer, save_format=save_format)

    def save_weights(self, filepath, overwrite=True, save_format=None):
        """Saves the weights only (Keras 2 HDF5 layout for `.h5`)."""
        model_files.call("save_weights", self, filepath, overwrite=overwrite,
                         save_format=save_format)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, verify=True):
        """Loads weights saved by layerkit or Keras (`by_name` matches layers by name;
        `verify=False` skips layerkit's checksums, to salvage a damaged file)."""
        model_files.call("load_weights", self, filepath, by_name=by_name,
                         skip_mismatch=skip_mismatch, verify=verify)

    def to_json(self, **kwargs):
        """The architecture as a JSON string (Keras format)."""
        return model_files.call("model_to_json", self, **kwargs)

    @property
    def metrics_names(self):
        """['loss', metric names...] once the metrics are known (after a step)."""
        return ["loss"] + (self.compiled.metric_names() if self.compiled else [])


class _gradients_for:
    """Gradients flow to `params` and to no `others` for one step, whatever `trainable`
    says now: a model trains the weights that were trainable when it was compiled (Keras
    2's GAN freezes the discriminator inside the combined model only, by setting
    `trainable = False` after compiling the discriminator itself)."""

    def __init__(self, params, others):
        self.enable = [p for p in params if not p.requires_grad]
        self.disable = [p for p in others if p.requires_grad]

    def __enter__(self):
        for p in self.enable:
            p.requires_grad_(True)
        for p in self.disable:
            p.requires_grad_(False)

    def __exit__(self, *exc):
        for p in self.enable:
            p.requires_grad_(False)
        for p in self.disable:
            p.requires_grad_(True)


def _resolve_jit_compile(jit_compile):
    """`compile(jit_compile=...)`: True compiles; False, None and "auto" run eagerly."""
    if jit_compile is None or isinstance(jit_compile, str) and jit_compile == "auto":
        return False
    if not isinstance(jit_compile, (bool, int)):
        raise ValueError(f"compile(jit_compile={jit_compile!r}): expected True, False or "
                         "'auto'")
    return bool(jit_compile)


def _functional_arguments(args, kwargs):
    """Whether `Model.__init__` was given functional inputs and outputs."""
    from ..graph.symbolic import KerasTensor

    if {"inputs", "outputs", "input", "output"} & set(kwargs):
        return True
    first = args[0] if args else None
    if isinstance(first, (list, tuple)) and first:
        first = first[0]
    elif isinstance(first, dict) and first:
        first = next(iter(first.values()))
    return isinstance(first, KerasTensor)


_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls, functional):
    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, functional), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return _FUNCTIONAL_SUBCLASSES[cls]


def _current_strategy():
    """The strategy of the `layerkit.distribute` scope `compile` runs in (None outside one):
    `fit` trains data-parallel under it even when called outside the scope, as in Keras."""
    from ..distribute.strategy import get_strategy, has_strategy

    return get_strategy() if has_strategy() else None
