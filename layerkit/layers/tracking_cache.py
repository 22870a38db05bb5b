"""The weight lists of a layer tree, cached until the tree changes.

Who owns what:
- `TrackedWeights` (a base of `Layer`) owns what lists a layer's weights: the weight
  records `add_weight` appends to, the sub-layers, `trainable`, and the Keras accessors
  `weights`, `trainable_weights` / `trainable_variables`, `non_trainable_weights`,
  `ordered_weights`. It also owns the registration of modules and parameters on a layer
  (`__setattr__`, `__delattr__`, `add_module`, `register_parameter`).
- This module owns the *change clock*, one process-wide counter. Everything that can change
  a tree's lists advances it: a weight created, a module or parameter set, added or deleted
  on a layer, `trainable` set anywhere, a metric set on a model (`models.model`), compile.
- An `AccessorCache` (one per layer) keeps lists computed at one clock value and answers
  from them while the clock stands still: the custom `train_step` of Keras's guide reads
  `trainable_weights` and `metrics` at every step, and training never advances the clock.

Plain torch containers (ModuleList, ModuleDict, nn.Sequential: Sequential and functional
models keep their layers in one) change without telling a layer, so a cache also keeps
their contents and compares them at each read. A tree holding any other plain torch module
(an `nn.Linear` inside a layer) is not cached: its lists are computed at every read.
"""

import torch
from torch import nn

_PLAIN_TYPES = frozenset({int, float, bool, str, tuple, type(None), dict, list, set})
_CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.Sequential)
_ACCESSORS = ("weights", "trainable_weights", "non_trainable_weights", "trainable",
              "_sublayers", "_collect_records")


class _Clock:
    tick = 0


def invalidate():
    """Advances the change clock: every cached list is computed again at its next read."""
    _Clock.tick += 1


def clock():
    """The change clock's current value (tests check that training leaves it alone)."""
    return _Clock.tick


class AccessorCache:
    """Lists computed for one layer tree at one clock value.

    A copy of a layer (`copy.deepcopy`, pickling) starts with an empty cache: the lists
    name the original's parameters.
    """

    __slots__ = ("tick", "containers", "cacheable", "values")

    def __init__(self):
        self.tick = -1
        self.containers = ()
        self.cacheable = False
        self.values = {}

    def __copy__(self):
        return AccessorCache()

    def __deepcopy__(self, memo):
        return AccessorCache()

    def __reduce__(self):
        return (AccessorCache, ())

    def read(self, owner, key, compute):
        """The value of `compute()` for `owner`'s tree, computed once per tree state.

        The caller must not mutate what it receives (the public accessors copy it)."""
        if torch.compiler.is_compiling():  # a graph (jit_compile's captured step) walks
            return compute()  # the tree once, guarded on it, not on the global clock
        if self.tick != _Clock.tick or not self._containers_unchanged():
            self._restart(owner)
        if not self.cacheable:
            return compute()
        value = self.values.get(key)
        if value is None:
            value = self.values[key] = compute()
        return value

    def _containers_unchanged(self):
        for container, contents in self.containers:
            if _contents(container) != contents:
                return False
        return True

    def _restart(self, owner):
        self.tick = _Clock.tick
        self.values = {}
        containers, self.cacheable = [], True
        for module in owner.modules():
            if isinstance(module, _CONTAINERS):
                containers.append((module, _contents(module)))
                if next(module.parameters(recurse=False), None) is not None:
                    self.cacheable = False  # a parameter set on the container itself
            elif not isinstance(module, TrackedWeights) or _overrides_accessors(module):
                self.cacheable = False
        self.containers = tuple(containers)


def _overrides_accessors(layer):
    """Whether `layer`'s class computes a list its own way (its answer may change without
    the tree changing, so the trees holding it are not cached)."""
    cls = type(layer)
    return any(getattr(cls, name) is not getattr(TrackedWeights, name) for name in _ACCESSORS)


def _contents(container):
    return tuple(container.values() if isinstance(container, nn.ModuleDict) else container)


class TrackedWeights:
    """The weight-listing half of the Layer contract (see the module docstring).

    Weights are the `nn.Parameter`s `add_weight` created, each recorded with its own
    trainable flag, regularizer and constraint; sub-layers are the layer children, looked
    up through plain containers.
    """

    def _init_tracking(self):
        # object.__setattr__: neither is a module, a parameter nor a plain setting
        object.__setattr__(self, "_weight_records", [])  # (param, trainable, reg, constraint)
        object.__setattr__(self, "_accessors", AccessorCache())

    def record_weight(self, param, trainable, regularizer, constraint):
        """Records a parameter `add_weight` registered (the tree's lists change)."""
        self._weight_records.append((param, trainable, regularizer, constraint))
        invalidate()

    def cached(self, key, compute):
        """`compute()` (a list of this tree), computed again only after the tree changed.
        The list is shared: callers copy it before handing it out."""
        return self._accessors.read(self, key, compute)

    # ------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        # Plain settings (numbers, strings, tuples, ...) skip nn.Module.__setattr__, whose
        # Parameter/Module/buffer checks cost ~4 us each: a Dense sets ~28 attributes, so
        # building a 20,000-layer model from a config spent a quarter of its time there.
        own = self.__dict__  # (subclasses may set arguments before Module.__init__ ran)
        modules, params = own.get("_modules", ()), own.get("_parameters", ())
        if type(value) in _PLAIN_TYPES and not (name in params or name in modules or
                                                name in own.get("_buffers", ())):
            object.__setattr__(self, name, value)
            return
        if isinstance(value, (nn.Module, nn.Parameter)) or name in modules or name in params:
            invalidate()
        super().__setattr__(name, value)

    def __delattr__(self, name):
        invalidate()
        super().__delattr__(name)

    def add_module(self, name, module):
        invalidate()
        super().add_module(name, module)

    def register_parameter(self, name, param):
        invalidate()
        super().register_parameter(name, param)

    # ------------------------------------------------------------- the tree
    def _sublayers(self):
        """Direct sub-layers, looking through plain containers (ModuleDict, ModuleList)."""
        found = []
        for child in self.children():
            if isinstance(child, TrackedWeights):
                found.append(child)
            else:
                found.extend(c for c in child.children() if isinstance(c, TrackedWeights))
        return found

    def _all_records(self):
        return self.cached("records", self._collect_records)

    def _collect_records(self):
        records = list(self._weight_records)
        for sub in self._sublayers():
            records.extend(sub._all_records())
        return records

    # ------------------------------------------------------------- the accessors
    @property
    def weights(self):
        """All weights, trainable first (Keras order within each layer)."""
        return list(self.cached("weights", self._collect_weights))

    def _collect_weights(self):
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        """The weights `fit` trains: none when the layer is frozen."""
        return list(self.cached("trainable_weights", self._collect_trainable))

    def _collect_trainable(self):
        if not self._trainable:
            return []
        own = [p for p, trainable, _, _ in self._weight_records if trainable]
        return own + [w for sub in self._sublayers() for w in sub.trainable_weights]

    @property
    def trainable_variables(self):
        """tf.keras / Keras 3 spelling of `trainable_weights`."""
        return self.trainable_weights

    @property
    def non_trainable_weights(self):
        """Statistics (`trainable=False` weights), and every weight of a frozen layer."""
        return list(self.cached("non_trainable_weights", self._collect_non_trainable))

    def _collect_non_trainable(self):
        if not self._trainable:
            return [p for p, _, _, _ in self._all_records()]
        own = [p for p, trainable, _, _ in self._weight_records if not trainable]
        return own + [w for sub in self._sublayers() for w in sub.non_trainable_weights]

    def ordered_weights(self):
        """Weights in creation order, sub-layers' included: the order of `get_weights`,
        `set_weights` and Keras files (Keras 3's: stable when a layer is frozen)."""
        return [p for p, _, _, _ in self._all_records()]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezes or unfreezes the layer (and its sub-layers); `compile` picks it up."""
        self._trainable = bool(value)
        invalidate()
        for p, own_trainable, _, _ in self._weight_records:
            p.requires_grad_(self._trainable and own_trainable)
        for sub in self._sublayers():
            sub.trainable = value
