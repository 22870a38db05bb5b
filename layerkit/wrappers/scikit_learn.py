"""`KerasClassifier` / `KerasRegressor`: the Keras 2 scikit-learn wrappers.

`from layerkit.wrappers.scikit_learn import KerasClassifier` works like
`keras.wrappers.scikit_learn` did (gone from Keras 3): `build_fn` returns a compiled model;
other keyword arguments go to `build_fn` when it takes them, else to `fit` / `predict` /
`evaluate`. `GridSearchCV` and `cross_val_score` clone the wrapper through
`get_params` / `set_params`, so every fold builds a fresh model.
"""

import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from ..utils.numerical import to_categorical

_FIT_ARGS = ("batch_size", "epochs", "verbose", "callbacks", "validation_split",
             "validation_data", "shuffle", "class_weight", "sample_weight", "initial_epoch",
             "steps_per_epoch", "validation_steps", "validation_freq")
_PREDICT_ARGS = ("batch_size", "verbose", "steps")


class BaseWrapper(BaseEstimator):
    """Shared logic: parameter routing, cloning and fitting.

    Args:
        build_fn: a function (or callable object) returning a compiled model.
        **sk_params: arguments for `build_fn` and for `fit` / `predict`.
    """

    def __init__(self, build_fn=None, **sk_params):
        if build_fn is not None and not callable(build_fn):
            raise TypeError(f"{type(self).__name__}: build_fn must be callable, received "
                            f"{build_fn!r}")
        self.build_fn = build_fn
        self.sk_params = sk_params
        self._check_params(sk_params)

    def _check_params(self, params):
        legal = set(_FIT_ARGS) | set(_PREDICT_ARGS) | set(self._build_args())
        unknown = sorted(set(params) - legal)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: {unknown} are neither build_fn arguments nor fit / "
                f"predict arguments; build_fn takes {sorted(self._build_args())}"
            )

    def _build_args(self):
        fn = self.build_fn if self.build_fn is not None else getattr(self, "__call__", None)
        if fn is None:
            return []
        return list(inspect.signature(fn).parameters)

    def get_params(self, **params):
        """The constructor arguments (scikit-learn's cloning protocol)."""
        return dict(self.sk_params, build_fn=self.build_fn)

    def set_params(self, **params):
        if "build_fn" in params:
            self.build_fn = params.pop("build_fn")
        self._check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The subset of sk_params (and `override`) that `fn` accepts."""
        names = set(inspect.signature(fn).parameters) if callable(fn) else set(fn)
        res = {k: v for k, v in self.sk_params.items() if k in names}
        res.update({k: v for k, v in (override or {}).items() if k in names})
        return res

    def fit(self, x, y, **kwargs):
        """Builds a fresh model with `build_fn` and trains it; returns the History."""
        if self.build_fn is None:
            raise ValueError(f"{type(self).__name__}: build_fn is required")
        self.model = self.build_fn(**self.filter_sk_params(self.build_fn))
        y = self._prepare_targets(np.asarray(y))
        fit_args = self.filter_sk_params(_FIT_ARGS, kwargs)
        return self.model.fit(x, y, **fit_args)

    def _prepare_targets(self, y):
        return y


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """scikit-learn classifier around a layerkit model (Keras 2 semantics).

    Integer or string labels are mapped to 0..n-1 (`classes_`); with a
    categorical_crossentropy loss they are one-hot encoded first.
    """

    def fit(self, x, y, sample_weight=None, **kwargs):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        else:
            self.classes_, y = np.unique(y.reshape(-1), return_inverse=True)
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return super().fit(x, y, **kwargs)

    def _prepare_targets(self, y):
        loss = getattr(self.model.compiled.loss_fn, "name", "")
        if loss == "categorical_crossentropy" and y.ndim == 1:
            return to_categorical(y, self.n_classes_)
        return y

    def predict_proba(self, x, **kwargs):
        """Class probabilities, shape (n, n_classes) (a sigmoid output gives [1-p, p])."""
        probs = self.model.predict(x, **self.filter_sk_params(_PREDICT_ARGS, kwargs))
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def predict(self, x, **kwargs):
        """Predicted labels, in the original label values."""
        probs = self.predict_proba(x, **kwargs)
        return self.classes_[np.argmax(probs, axis=1)]

    def score(self, x, y, **kwargs):
        """Mean accuracy on (x, y) (what GridSearchCV and cross_val_score maximise)."""
        return float(np.mean(self.predict(x, **kwargs) == np.asarray(y).reshape(-1)))


class KerasRegressor(RegressorMixin, BaseWrapper):
    """scikit-learn regressor around a layerkit model; `score` is the negated loss."""

    def predict(self, x, **kwargs):
        out = self.model.predict(x, **self.filter_sk_params(_PREDICT_ARGS, kwargs))
        return np.squeeze(out, axis=-1) if out.ndim == 2 and out.shape[1] == 1 else out

    def score(self, x, y, **kwargs):
        args = self.filter_sk_params(_PREDICT_ARGS, kwargs)
        result = self.model.evaluate(x, np.asarray(y), **args)
        return -float(result[0] if isinstance(result, list) else result)
