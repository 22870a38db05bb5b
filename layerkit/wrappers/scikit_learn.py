"""`KerasClassifier` / `KerasRegressor`: layerkit models as scikit-learn estimators.

Two spellings, one class. The Keras 2 one the notes use
(`KerasClassifier(build_fn=create_network, epochs=10, batch_size=100, verbose=0)`), where
keyword arguments go to `build_fn` when it takes them and to `fit` / `predict` otherwise;
and SciKeras's (`KerasClassifier(model=get_model, model__units=32,
optimizer__learning_rate=1e-3, fit__validation_split=.1)`), where `model__`, `fit__`,
`predict__`, `compile__`, `optimizer__`, `loss__`, `metrics__` and `callbacks__` route a
parameter to one place. A model function may also take `meta` (what was learnt about the
data: `n_features_in_`, `classes_`, `n_classes_`, `target_type_`) and `compile_kwargs`.

Who owns what: the estimator owns parameters (`get_params` / `set_params`, so `clone`,
GridSearchCV and pickling work) and the data contract (validation, label encoding,
`classes_`, `n_features_in_`); `fit` builds a fresh model (`model_`) and hands training to
`Model.fit`, keeping its `history_`. `fit` returns the estimator, as scikit-learn expects
(Keras 2's returned the History; `.history` still answers its dict, as `history_` does).
"""

import contextlib
import copy
import inspect
import random

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

_FIT_ARGS = ("batch_size", "epochs", "verbose", "callbacks", "validation_split",
             "validation_data", "shuffle", "class_weight", "initial_epoch",
             "steps_per_epoch", "validation_steps", "validation_freq")
_PREDICT_ARGS = ("batch_size", "verbose", "steps")
_ROUTES = ("model", "fit", "predict", "compile", "optimizer", "loss", "metrics", "callbacks")


class BaseWrapper(BaseEstimator):
    """Shared logic: parameters, routing, building, fitting.

    Args:
        model: a function (or callable object) returning a layerkit model, compiled or
            not, or a model instance (copied at each fit, weights included).
        build_fn: the Keras 2 name for `model`.
        warm_start: keep training the fitted model on the next `fit`.
        random_state: an int seeds Python, NumPy and torch for build and fit (restored
            afterwards), so fits repeat exactly.
        optimizer, loss, metrics: used to compile a model the function left uncompiled.
        batch_size, verbose, callbacks, validation_split, shuffle, epochs: `fit` arguments.
        **kwargs: `build_fn` arguments, other fit/predict arguments, routed parameters.
    """

    def __init__(self, model=None, *, build_fn=None, warm_start=False, random_state=None,
                 optimizer="rmsprop", loss=None, metrics=None, batch_size=None, verbose=1,
                 callbacks=None, validation_split=0.0, shuffle=True, epochs=1, **kwargs):
        self.model = model
        self.build_fn = build_fn
        self.warm_start = warm_start
        self.random_state = random_state
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.epochs = epochs
        vars(self).update(kwargs)
        self._user_params = tuple(kwargs)

    # ----------------------------------------------------------------- parameters
    def get_params(self, deep=True):
        """Constructor arguments, the extra keyword arguments included."""
        params = super().get_params(deep=False)
        params.update({k: getattr(self, k) for k in self._user_params})
        return params

    def set_params(self, **params):
        """Sets constructor, build-function, fit/predict or routed (`fit__x`) parameters.

        Raises:
            ValueError: for a name that is none of those.
        """
        known = set(self._get_param_names())
        for name, value in params.items():
            if name not in known and name not in self._user_params:
                self._check_names([name])
                self._user_params += (name,)
            setattr(self, name, value)
        return self

    def _model_fn(self):
        return self.model if self.model is not None else self.build_fn

    def _fn_args(self):
        fn = self._model_fn()
        if fn is None or not callable(fn) or _is_model(fn):
            return set(), False
        parameters = inspect.signature(fn).parameters.values()
        return ({p.name for p in parameters},
                any(p.kind == p.VAR_KEYWORD for p in parameters))

    def _check_names(self, names):
        args, takes_any = self._fn_args()
        legal = set(_FIT_ARGS) | set(_PREDICT_ARGS) | args
        unknown = sorted(n for n in names if n not in legal and not takes_any
                         and n.split("__")[0] not in _ROUTES)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: {unknown} are neither build_fn arguments nor fit / "
                f"predict arguments; build_fn takes {sorted(args)}. Route a parameter "
                "explicitly with a prefix: model__, fit__, predict__, optimizer__, ..."
            )

    def _routed(self, prefix):
        start = prefix + "__"
        return {k[len(start):]: getattr(self, k) for k in self._user_params
                if k.startswith(start)}

    # ----------------------------------------------------------------- building
    def _build(self):
        fn = self._model_fn()
        if fn is None:
            raise ValueError(
                f"{type(self).__name__}: give model= (a function returning a model, or a "
                "model) or, in the Keras 2 spelling, build_fn="
            )
        if _is_model(fn):
            model = copy.deepcopy(fn)
        else:
            args, takes_any = self._fn_args()
            params = self.get_params()
            kwargs = {k: v for k, v in params.items() if k in args}
            if "meta" in args:
                kwargs["meta"] = self._meta()
            if "compile_kwargs" in args:
                kwargs["compile_kwargs"] = self._compile_kwargs(None)
            kwargs.update(self._routed("model"))
            model = fn(**kwargs)
        if getattr(model, "compiled", None) is None:
            model.compile(**self._compile_kwargs(model))
        return model

    def _meta(self):
        return {k: v for k, v in vars(self).items()
                if k.endswith("_") and not k.startswith("_") and k not in ("model_",
                                                                            "history_")}

    def _compile_kwargs(self, model):
        from .. import optimizers

        opt, opt_args = self.optimizer, self._routed("optimizer")
        if isinstance(opt, str):
            opt = optimizers.get(opt)
            opt = type(opt)(**opt_args) if opt_args else opt
        elif isinstance(opt, type):
            opt = opt(**opt_args)
        else:  # an instance: a fresh copy, so no state leaks between fits or clones
            opt = type(opt).from_config(opt.get_config())
        loss = self.loss if self.loss is not None else self._default_loss(model)
        if isinstance(loss, type):
            loss = loss(**self._routed("loss"))
        kwargs = {"optimizer": opt, "loss": loss, "metrics": self.metrics}
        kwargs.update(self._routed("compile"))
        return kwargs

    # ----------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Builds a fresh model (or, with `warm_start`, keeps the fitted one) and trains it.

        Args:
            X: array-like (n_samples, ...) or a list / dict of arrays for several inputs.
            y: targets (labels, one-hot rows or values).
            sample_weight: optional (n_samples,) weights.
            **kwargs: extra `Model.fit` arguments (`validation_data=...`).

        Returns:
            self.
        """
        fresh = not (self.warm_start and hasattr(self, "model_"))
        return self._fit(X, y, sample_weight, kwargs, fresh)

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """One more epoch on the fitted model (builds it on the first call); returns self."""
        return self._fit(X, y, sample_weight, dict(kwargs, epochs=1),
                         not hasattr(self, "model_"))

    def initialize(self, X, y=None):
        """Builds `model_` for data like (X, y) without training it; returns self."""
        X, y = self._validate(X, y, reset=True)
        with _seeded(self.random_state):
            self._learn_targets(y)
            self.model_ = self._build()
        return self

    def _fit(self, X, y, sample_weight, kwargs, fresh, classes=None):
        self._check_names(self._user_params)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None")
        X, y = self._validate(X, y, reset=fresh)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X) if hasattr(X, "shape") \
                else np.asarray(sample_weight)
        with _seeded(self.random_state):
            if fresh:
                self._learn_targets(y, classes)
                self.model_ = self._build()
                self.history_ = {}
            args = {k: getattr(self, k) for k in _FIT_ARGS if getattr(self, k, None) is not None}
            args.update(self._routed("fit"))
            args.update(kwargs)
            history = self.model_.fit(X, self._model_targets(y), sample_weight=sample_weight,
                                      **args)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(values)
        return self

    def _validate(self, X, y, reset):
        """scikit-learn's checks on array data; lists/dicts of arrays (several inputs) pass."""
        if _several_inputs(X):
            return X, (None if y is None else np.asarray(y))
        from sklearn.utils.validation import validate_data

        if y is None:  # predict, or initialize without targets
            return validate_data(self, X, reset=reset, allow_nd=True,
                                 accept_sparse=["csr"]), None
        return validate_data(self, X, y, reset=reset, allow_nd=True, accept_sparse=["csr"],
                             multi_output=True, y_numeric=isinstance(self, RegressorMixin))

    def _raw_predict(self, X, **kwargs):
        check_is_fitted(self)
        X, _ = self._validate(X, None, reset=False)
        args = {k: getattr(self, k) for k in _PREDICT_ARGS if getattr(self, k, None) is not None}
        args.update(self._routed("predict"))
        args.update({k: v for k, v in kwargs.items()})
        return np.asarray(self.model_.predict(X, **args))

    @property
    def history(self):
        """The training history dict, so that Keras 2 code reading the History that `fit`
        used to return (`clf.fit(X, y).history['loss']`) still works."""
        if not hasattr(self, "history_"):
            raise AttributeError(f"{type(self).__name__} has no history before fit()")
        return self.history_

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # subclasses: what is learnt from the targets, and what the model trains on
    def _learn_targets(self, y, classes=None):
        pass

    def _model_targets(self, y):
        return y

    def _default_loss(self, model):
        raise NotImplementedError


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """scikit-learn classifier around a layerkit model.

    Labels may be integers, strings or one-hot rows. They become 0..n-1 (`classes_`);
    a model compiled with categorical_crossentropy gets them one-hot. `predict` answers
    in the labels' own form; `score` is accuracy.

    Example:
        >>> clf = KerasClassifier(build_fn=create_network, epochs=10, batch_size=100,
        ...                       verbose=0)
        >>> cross_val_score(clf, features, target, cv=3)
    """

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """One more epoch; `classes` (all labels) is needed on the first call only when a
        batch may miss some. Returns self."""
        return self._fit(X, y, sample_weight, dict(kwargs, epochs=1),
                         not hasattr(self, "model_"), classes)

    def _learn_targets(self, y, classes=None):
        self.target_type_ = type_of_target(y, input_name="y")
        if self.target_type_ == "multilabel-indicator" and np.all(np.sum(y, axis=1) == 1):
            self.target_type_ = "one-hot"
            self.classes_ = np.arange(y.shape[1])
        elif self.target_type_ in ("binary", "multiclass"):
            labels = column_or_1d(y, warn=True)
            self.classes_ = np.unique(labels if classes is None else classes)
        else:
            raise ValueError(
                f"Unknown label type: {self.target_type_!r}. KerasClassifier takes binary or "
                "multiclass labels or one-hot rows; use KerasRegressor for continuous targets"
            )
        self.n_classes_ = len(self.classes_)

    def _model_targets(self, y):
        if self.target_type_ == "one-hot":
            index = np.argmax(y, axis=1)
        else:
            index = np.searchsorted(self.classes_, column_or_1d(y))
            if np.any(self.classes_[np.minimum(index, self.n_classes_ - 1)] != column_or_1d(y)):
                raise ValueError(f"y has labels outside the fitted classes {self.classes_}")
        units = self.model_.outputs[0].shape[-1] if self.model_.outputs else 1
        loss = getattr(self.model_.compiled.loss_fn, "name", "")
        if units and units > 1 and loss in ("categorical_crossentropy", "binary_crossentropy"):
            return np.eye(units, dtype="float32")[index]
        return index.astype("float32" if loss == "binary_crossentropy" else "int64")

    def _default_loss(self, model):
        units = model.outputs[0].shape[-1] if model is not None and model.outputs else None
        return "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"

    def predict_proba(self, X, **kwargs):
        """Class probabilities, shape (n_samples, n_classes) (a sigmoid output gives
        [1 - p, p])."""
        probs = self._raw_predict(X, **kwargs)
        probs = probs.reshape(len(probs), -1)
        if self.n_classes_ == 1:
            return np.ones((len(probs), 1), dtype=probs.dtype)
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def predict(self, X, **kwargs):
        """Predicted labels, in the form of the training labels."""
        index = np.argmax(self.predict_proba(X, **kwargs), axis=1)
        if self.target_type_ == "one-hot":
            return np.eye(self.n_classes_, dtype=int)[index]
        return self.classes_[index]


class KerasRegressor(RegressorMixin, BaseWrapper):
    """scikit-learn regressor around a layerkit model.

    `score` is R² (scikit-learn's and SciKeras's) for `model=`; a Keras 2 `build_fn=`
    estimator keeps Keras 2's score, the negated loss, so old grid searches rank the same.
    """

    def _learn_targets(self, y, classes=None):
        self.n_outputs_ = 1 if np.ndim(y) == 1 else np.shape(y)[1]

    def _default_loss(self, model):
        return "mse"

    def _model_targets(self, y):
        return np.asarray(y, dtype="float32")

    def predict(self, X, **kwargs):
        """Predictions, (n_samples,) for a one-unit output."""
        out = self._raw_predict(X, **kwargs).astype("float64")  # scikit-learn's precision
        return out.reshape(len(out)) if out.ndim == 2 and out.shape[1] == 1 else out

    def score(self, X, y, sample_weight=None):
        if self.model is None and self.build_fn is not None:
            result = self.model_.evaluate(X, np.asarray(y, dtype="float32"), verbose=0,
                                          sample_weight=sample_weight)
            return -float(result[0] if isinstance(result, list) else result)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _is_model(obj):
    from ..models.model import Model

    return isinstance(obj, Model)


def _several_inputs(X):
    """A dict or list of (n_samples, ...) arrays feeding a multi-input model."""
    if hasattr(X, "tocsr"):  # scipy.sparse (a dok_matrix is a dict)
        return False
    return isinstance(X, dict) or (isinstance(X, (list, tuple)) and len(X) > 0 and all(
        getattr(x, "ndim", 0) >= 2 for x in X))


@contextlib.contextmanager
def _seeded(random_state):
    """Seeds Python, NumPy and torch inside the block and restores them after."""
    if random_state is None:
        yield
        return
    import torch

    from ..config import set_random_seed

    if not isinstance(random_state, (int, np.integer)):
        random_state = int(np.random.RandomState(random_state).randint(2 ** 31))
    saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
    set_random_seed(int(random_state))
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.set_rng_state(saved[2])
