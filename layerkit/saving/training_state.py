"""What `compile` set and where the optimizer stands: saved so training continues exactly.

Who owns what:
- `compile_config(model)` / `training_config(model)` write Keras 3's `compile_config` and
  tf.keras's `training_config`; `compile_from_config` reads both and compiles the model.
- `optimizer_arrays(model)` / `load_optimizer_arrays(model, arrays)` ask the optimizer for
  its state (`state_arrays` / `load_state_arrays`, in Keras 3's variable order), building
  it on the model's trainable weights first, as Keras 3's `compile_from_config` does.
"""

from .. import losses, metrics, optimizers
from ..utils import serialization


# ----------------------------------------------------------------------------- compile
def _serialize_loss(loss):
    fn = getattr(loss, "fn", None)
    if type(loss).__name__ == "LossFunctionWrapper" and fn is not None and \
            losses.lookup.FUNCTIONS.get(getattr(fn, "__name__", None)) is fn:
        return fn.__name__
    return serialization.encode(losses.serialize(loss), "loss")


def _serialize_metric(metric):
    if isinstance(metric, str):
        return metric
    if isinstance(metric, metrics.Metric):
        return serialization.encode(metrics.serialize(metric), "metric")
    return serialization.encode(metric, "metric")


def _per_output(values, names, one):
    """One value for single-output models, a dict by output name otherwise."""
    if len(names) == 1:
        return one(values[0])
    return {name: one(v) for name, v in zip(names, values)}


def compile_config(model):
    """Keras 3's `compile_config` of a compiled model (None when not compiled)."""
    compiled = model.compiled
    if compiled is None:
        return None
    names = compiled.output_names
    weights = compiled.loss_weights
    return {
        "optimizer": _optimizer_record(model.optimizer),
        "loss": _per_output(compiled.loss_fns, names, _serialize_loss)
        if compiled.loss_fns else None,  # compile(loss=None): add_loss models
        "loss_weights": None if all(w == 1.0 for w in weights) else
        _per_output(weights, names, float),
        "metrics": _metric_lists(compiled.metric_identifiers, names),
        "weighted_metrics": _metric_lists(compiled.weighted_metric_identifiers, names),
        "run_eagerly": False, "steps_per_execution": 1, "jit_compile": model.jit_compile,
    }


def _metric_lists(per_output, names):
    if not any(per_output):
        return None
    return _per_output(per_output, names, lambda ms: [_serialize_metric(m) for m in ms])


def _optimizer_record(optimizer):
    record = serialization.encode(optimizers.serialize(optimizer), "optimizer")
    return {"module": "keras.optimizers", **record,
            "registered_name": None}


def training_config(model):
    """tf.keras 2.x's `training_config` attribute of `.h5` files (None when not compiled)."""
    config = compile_config(model)
    if config is None:
        return None
    optimizer = config.pop("optimizer")
    config["optimizer_config"] = {"class_name": optimizer["class_name"],
                                  "config": optimizer["config"]}
    return config


def compile_from_config(model, config, custom_objects=None, safe_mode=True):
    """Compiles `model` as described by a Keras 3 compile_config or tf.keras training_config.

    Raises:
        ValueError: for unknown optimizers, losses or metrics.
    """
    if not isinstance(config, dict):
        raise ValueError(f"compile config must be a dict, received {type(config).__name__}")
    opt = config.get("optimizer", config.get("optimizer_config"))
    decode = lambda v: serialization.decode(v, custom_objects, safe_mode, "compile config")  # noqa
    try:
        optimizer = optimizers.get(_optimizer_identifier(decode(opt), custom_objects),
                                   custom_objects)
        metric_ids = _metric_identifiers(decode(config.get("metrics")))
        weighted_ids = _metric_identifiers(decode(config.get("weighted_metrics")))
        _check_metrics([metric_ids, weighted_ids], custom_objects)
        model.compile(optimizer=optimizer, loss=_loss_identifier(decode(config.get("loss"))),
                      metrics=_single(model, metric_ids),
                      weighted_metrics=_single(model, weighted_ids),
                      loss_weights=decode(config.get("loss_weights")))
    except (TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"cannot compile the loaded model from its saved compile config: "
                         f"{error}") from None


def _check_metrics(value, custom_objects):
    """Resolves every metric named in a saved compile config now, at load time, so a
    record naming something else (`{"class_name": "Popen"}`) fails here, not at the first
    `evaluate`.

    Raises:
        ValueError: naming the metric.
    """
    if value is None or callable(value) and not isinstance(value, (dict, str)):
        return
    if isinstance(value, list) or (isinstance(value, dict) and "class_name" not in value):
        for item in (value.values() if isinstance(value, dict) else value):
            _check_metrics(item, custom_objects)
        return
    if isinstance(value, str) and value.lower() in ("acc", "accuracy", "crossentropy", "ce"):
        return  # resolved from the targets' shapes at the first batch, as in Keras
    try:
        metrics.get(value, custom_objects)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        name = value.get("class_name") if isinstance(value, dict) else value
        raise ValueError(f"compile config: metric {str(name)[:100]!r} cannot be created: "
                         f"{error}") from None


def _single(model, metric_ids):
    """tf.keras writes `[[...]]` (one list per output); unwrap it for one output."""
    if isinstance(metric_ids, list) and len(metric_ids) == 1 and \
            isinstance(metric_ids[0], list) and len(model.output_names) == 1:
        return metric_ids[0]
    return metric_ids


def _optimizer_identifier(opt, custom_objects=None):
    if opt is None:
        return "rmsprop"
    if isinstance(opt, dict) and isinstance(opt.get("config"), dict):
        config = dict(opt["config"])
        config.pop("is_legacy_optimizer", None)
        class_name = opt.get("class_name")
        # tf.keras 2.11+ registers its optimizers as 'Custom>Adam' (a built-in all the same)
        if isinstance(class_name, str) and class_name.startswith("Custom>") and \
                class_name not in (custom_objects or {}):
            class_name = class_name[len("Custom>"):]
        return {"class_name": class_name, "config": config}
    return opt


def _loss_identifier(loss):
    if isinstance(loss, dict) and "class_name" not in loss:
        return {k: _loss_identifier(v) for k, v in loss.items()}
    if isinstance(loss, list):
        return [_loss_identifier(v) for v in loss]
    if isinstance(loss, dict):
        cls = losses.lookup.TABLE.get(loss.get("class_name"))
        config = dict(loss.get("config") or {})
        if isinstance(cls, type):
            serialization.drop_harmless(cls, config, f"loss {loss.get('class_name')}")
        # an object, not a dict: compile() reads a dict as {output name: loss}
        return losses.get({"class_name": loss["class_name"], "config": config})
    return loss


def _metric_identifiers(value):
    """Metric ids; tf.keras's `MeanMetricWrapper` records become the name the user wrote."""
    if value is None:
        return None
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _metric_identifiers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_metric_identifiers(v) for v in value]
    if isinstance(value, dict):
        config = dict(value.get("config") or {})
        name = config.get("name")
        if value.get("class_name") == "MeanMetricWrapper" and isinstance(name, str):
            return name if name in metrics.lookup.TABLE or name in ("acc", "accuracy") \
                else config.get("fn", name)
        cls = metrics.lookup.TABLE.get(value.get("class_name"))
        if isinstance(cls, type):
            serialization.drop_harmless(cls, config, f"metric {value.get('class_name')}")
        return {"class_name": value.get("class_name"), "config": config}
    return value


# ----------------------------------------------------------------------------- optimizer
def optimizer_arrays(model, param_names=None):
    """The optimizer state as `[(name, array)]` in Keras 3's order (empty if not built).

    Args:
        model: a compiled model.
        param_names: optional `{id(param): 'dense_kernel'}` for Keras-style names.
    """
    if model.optimizer is None:
        return []
    return model.optimizer.state_arrays(param_names)


def built_optimizer(model):
    """The model's optimizer, built on its trainable weights (as Keras 3 builds it when a
    model is compiled from a file) unless it already is."""
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_weights)
    return optimizer


def load_optimizer_arrays(model, arrays, where):
    """Restores the optimizer state written by `optimizer_arrays` (or by Keras 3).

    Args:
        model: the compiled model.
        arrays: numpy arrays in Keras 3's order.
        where: a description of the source, for messages.

    Raises:
        ValueError: when shapes or the iteration count are invalid (a count of arrays
            that does not match warns, and the optimizer starts fresh).
    """
    built_optimizer(model).load_state_arrays(arrays, where)
