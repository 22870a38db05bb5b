"""Keras names layerkit does not have: the errors that say so and what to use instead.

Who owns what: package `__getattr__` hooks (`layers`, `models`, `utils`, `callbacks`,
`optimizers`) call `attribute_error`; `utils.registry` calls `lookup_advice` for string
names (`compile(optimizer='ftrl')`). Anything not listed gets Python's usual error.
"""

_CUSTOM_LAYER = ("write a Layer subclass whose call() uses torch (a Lambda layer for "
                 "weightless math)")
_OPTIMIZERS = "one of SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam"

ATTRIBUTES = {
    "layerkit.layers": {
        **{n: _CUSTOM_LAYER + " (torch.nn.functional has the 1D/3D kernels)" for n in (
            "Conv3D", "Convolution3D", "Conv3DTranspose", "Conv1DTranspose",
            "SeparableConv1D", "MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling3D",
            "GlobalAveragePooling3D", "UpSampling3D", "ZeroPadding3D", "Cropping3D",
            "LocallyConnected1D", "LocallyConnected2D", "ConvLSTM2D")},
        "UpSampling1D": "RepeatVector for a single step, or a Lambda with "
                        "torch.repeat_interleave(x, size, dim=1)",
        "ZeroPadding1D": "a Lambda with torch.nn.functional.pad(x, (0, 0, left, right))",
        "Cropping1D": "a Lambda slicing x[:, left:x.shape[1] - right]",
        "AlphaDropout": "Dropout (or GaussianDropout)",
        **{n: "SimpleRNN, LSTM or GRU (layerkit has no cell API)" for n in (
            "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells")},
        **{n: _CUSTOM_LAYER + " (torch.nn.functional.scaled_dot_product_attention)" for n in (
            "Attention", "AdditiveAttention", "MultiHeadAttention")},
        "Merge": "the merge layers of Keras 2: Add, Concatenate, Dot, Multiply, Average, "
                 "... or the functions add, concatenate, dot",
        "TimeDistributedDense": "TimeDistributed(Dense(...)), or Dense on a 3-D input",
        "MaxoutDense": _CUSTOM_LAYER,
        "Highway": _CUSTOM_LAYER,
    },
    "layerkit.models": {
        "clone_model": "models.model_from_json(model.to_json()) (fresh weights; add "
                       ".set_weights(model.get_weights()) to copy them)",
        "model_from_yaml": "to_json() / models.model_from_json (tf.keras 2.6 removed YAML)",
    },
    "layerkit.utils": {
        "multi_gpu_model": "one device: model.to('cuda'); several GPUs: torch.nn.DataParallel "
                           "or DistributedDataParallel around the model in a PyTorch loop",
        "HDF5Matrix": "h5py datasets sliced in a utils.Sequence (or loaded as numpy arrays)",
        **{n: "pass custom_objects={...} to models.load_model / model_from_json" for n in (
            "custom_object_scope", "CustomObjectScope", "get_custom_objects")},
    },
    "layerkit.callbacks": {
        "BaseLogger": "nothing: fit always averages the epoch's metrics (remove it)",
        "RemoteMonitor": "LambdaCallback(on_epoch_end=...) posting the logs yourself",
    },
    "layerkit.optimizers": {n: _OPTIMIZERS for n in (
        "Ftrl", "Lion", "Adafactor", "LossScaleOptimizer", "TFOptimizer")},
}

# string names in compile(...) and get(...), by kind, lower-case
LOOKUPS = {
    "optimizer": {n: _OPTIMIZERS for n in ("ftrl", "lion", "adafactor")},
    "loss": {n: "a function fn(y_true, y_pred) returning one value per sample, passed as "
                "loss=fn" for n in ("binary_focal_crossentropy",
                                    "categorical_focal_crossentropy", "tversky", "dice",
                                    "ctc")},
    "metric": {n: "Precision / Recall / AUC, or a function fn(y_true, y_pred) in "
                  "metrics=[...]" for n in ("f1_score", "fbeta_score", "r2_score",
                                            "mean_iou", "iou", "one_hot_iou")},
}


class NotInLayerkitError(ImportError):
    """A Keras name layerkit lacks. An ImportError, so `from layerkit.layers import Conv3D`
    shows this message instead of Python's bare "cannot import name"."""


def attribute_error(module, name):
    """The error for `module.name` (raise it from the package's `__getattr__`).

    Returns:
        A `NotInLayerkitError` with advice for a listed Keras name, else an AttributeError.
    """
    advice = ATTRIBUTES.get(module, {}).get(name)
    if advice is None:
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    keras_path = module.replace("layerkit", "keras", 1)
    return NotInLayerkitError(f"layerkit does not implement {keras_path}.{name}. Instead: "
                              f"{advice}.")


def lookup_advice(kind, name):
    """Advice for a string name of `kind` layerkit lacks (e.g. optimizer 'ftrl'), or None."""
    return LOOKUPS.get(kind, {}).get(name.lower())
