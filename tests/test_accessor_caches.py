"""The cached Keras accessors (`weights`, `trainable_weights`, `non_trainable_weights`,
`metrics`, `zero_grad`'s parameter list, `Mean.result`) answer what a fresh computation
answers after every kind of change, for Sequential, functional, functional-subclass and
subclassed models; training leaves the caches valid; and 3 epochs train to the weights the
tree gave before the caches existed, bit for bit."""

import contextlib
import copy
import hashlib

import numpy as np
import pytest
import torch
from torch import nn

import layerkit as lk
from layerkit import layers, metrics
from layerkit.layers import tracking_cache
from layerkit.metrics.metric import divide_no_nan


# ----------------------------------------------------------------------------- models
class FunctionalSub(lk.Model):
    pass


class Subclassed(lk.Model):
    def __init__(self):
        super().__init__()
        self.a = layers.Dense(4, name="a")
        self.b = layers.Dense(2, name="b")

    def call(self, x, training=False):
        return self.b(self.a(x))


def _graph():
    inputs = lk.Input((3,))
    return inputs, layers.Dense(2, name="b")(layers.Dense(4, name="a")(inputs))


def _sequential():
    return lk.Sequential([layers.Dense(4, input_shape=(3,), name="a"),
                          layers.Dense(2, name="b")])


def _functional():
    return lk.Model(*_graph())


def _functional_subclass():
    return FunctionalSub(*_graph())


def _subclassed():
    model = Subclassed()
    model(torch.zeros(1, 3))
    return model


KINDS = {"sequential": _sequential, "functional": _functional,
         "functional_subclass": _functional_subclass, "subclassed": _subclassed}


@contextlib.contextmanager
def _uncached():
    """Every accessor computed afresh: what the lists were before caching."""
    read = tracking_cache.AccessorCache.read
    tracking_cache.AccessorCache.read = lambda self, owner, key, compute: compute()
    try:
        yield
    finally:
        tracking_cache.AccessorCache.read = read


def _lists(model):
    found = {"weights": model.weights, "trainable": model.trainable_weights,
             "trainable_variables": model.trainable_variables,
             "non_trainable": model.non_trainable_weights,
             "ordered": model.ordered_weights()}
    found["parameters"] = model.cached("parameters", lambda: list(model.parameters()))
    if isinstance(model, lk.Model):
        found["metrics"] = model.metrics
    return {key: [id(v) for v in values] for key, values in found.items()}


def _check(model):
    """The cached lists equal fresh ones; returns them."""
    cached = _lists(model)
    with _uncached():
        fresh = _lists(model)
    assert cached == fresh
    return cached


# ----------------------------------------------------------------------------- weights
@pytest.mark.parametrize("make", KINDS.values(), ids=KINDS.keys())
def test_freezing_a_sublayer_after_a_read_changes_the_lists(make):
    model = make()
    before = _check(model)
    assert len(before["trainable"]) == 4 and before["non_trainable"] == []
    a = model.get_layer("a")
    a.trainable = False
    frozen = _check(model)
    assert frozen["trainable"] == [id(model.get_layer("b").kernel), id(model.get_layer("b").bias)]
    assert frozen["non_trainable"] == [id(a.kernel), id(a.bias)]
    assert frozen["ordered"] == before["ordered"]  # Keras's file order does not move
    a.trainable = True
    assert _check(model) == before
    model.trainable = False
    assert _check(model)["trainable"] == [] and len(model.non_trainable_weights) == 4


def test_freezing_deep_inside_nested_models():
    inner = lk.Sequential([layers.Dense(3, input_shape=(4,), name="deep")], name="inner")
    inputs = lk.Input((4,))
    outer = lk.Model(inputs, layers.Dense(1)(inner(inputs)))
    assert len(_check(outer)["trainable"]) == 4
    inner.get_layer("deep").trainable = False
    assert len(_check(outer)["trainable"]) == 2
    assert len(outer.non_trainable_weights) == 2


def test_adding_and_popping_layers_of_a_sequential_after_a_read():
    model = _sequential()
    assert len(_check(model)["weights"]) == 4
    model.add(layers.Dense(5))
    assert len(_check(model)["weights"]) == 6
    model.pop()
    model.pop()
    assert len(_check(model)["weights"]) == 2
    nested = lk.Sequential([model])  # a change inside a nested Sequential's container
    assert len(_check(nested)["weights"]) == 2
    model.add(layers.Dense(7))
    assert len(_check(nested)["weights"]) == 4


def test_layers_created_lazily_in_build():
    class Lazy(lk.Model):
        def build(self, input_shape):
            self.dense = layers.Dense(3)
            self.dense.build(input_shape)

        def call(self, x, training=False):
            return self.dense(x)

    model = Lazy()
    assert _check(model)["weights"] == []
    model(torch.zeros(2, 5))
    lists = _check(model)
    assert lists["trainable"] == [id(model.dense.kernel), id(model.dense.bias)]
    unbuilt = lk.Sequential([layers.Dense(2)])
    assert _check(unbuilt)["weights"] == []
    unbuilt.build((None, 3))
    assert len(_check(unbuilt)["weights"]) == 2


def test_torch_containers_and_attributes_changed_after_a_read():
    class Blocks(lk.Model):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([layers.Dense(2, name=f"d{i}") for i in range(3)])

        def call(self, x, training=False):
            for block in self.blocks:
                x = block(x)
            return x

    model = Blocks()
    model(torch.zeros(1, 2))
    first = _check(model)["trainable"]
    model.blocks.insert(0, model.blocks.pop(2))  # no module registration: order only
    assert _check(model)["trainable"] == first[4:] + first[:4]
    model.extra = layers.Dense(2)
    model.extra.build((None, 2))
    assert len(_check(model)["trainable"]) == 8
    del model.extra
    assert len(_check(model)["trainable"]) == 6
    model.blocks[0] = layers.Dense(2, name="replaced")
    model.blocks[0].build((None, 2))
    assert _check(model)["trainable"][:2] == [id(model.blocks[0].kernel),
                                              id(model.blocks[0].bias)]


def test_built_sublayers_set_replaced_and_deleted_on_a_plain_layer():
    first, other, second, third = (layers.Dense(units) for units in (1, 3, 2, 4))
    for layer in (first, other, second, third):
        layer.build((None, 2))  # built before the first read: only the tree changes below
    holder = layers.Layer()
    assert _check(holder)["weights"] == []
    holder.first = first
    assert _check(holder)["weights"] == [id(first.kernel), id(first.bias)]
    holder.first = other
    assert _check(holder)["weights"] == [id(other.kernel), id(other.bias)]
    holder.second = second
    assert len(_check(holder)["weights"]) == 4
    holder.first = None
    assert _check(holder)["weights"] == [id(second.kernel), id(second.bias)]
    del holder.second
    assert _check(holder)["weights"] == []
    holder.add_module("third", third)
    assert _check(holder)["weights"] == [id(third.kernel), id(third.bias)]
    scale, shift = nn.Parameter(torch.ones(())), nn.Parameter(torch.zeros(()))
    holder.scale = scale  # bare parameters: not Keras weights, but torch's parameters
    assert _check(holder)["parameters"] == [id(scale), id(third.kernel), id(third.bias)]
    holder.register_parameter("shift", shift)
    lists = _check(holder)
    assert lists["weights"] == [id(third.kernel), id(third.bias)]
    assert lists["parameters"] == [id(scale), id(shift), id(third.kernel), id(third.bias)]


def test_a_plain_torch_module_inside_is_never_stale():
    class WithLinear(lk.Model):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 2)
            self.dense = layers.Dense(2)

        def call(self, x, training=False):
            return self.dense(self.linear(x))

    model = WithLinear()
    model(torch.zeros(1, 3))
    assert len(_check(model)["parameters"]) == 4
    model.linear.register_parameter("scale", nn.Parameter(torch.ones(())))
    assert len(_check(model)["parameters"]) == 5
    del model.linear.scale
    assert len(_check(model)["parameters"]) == 4


def test_copies_list_their_own_weights():
    model = _sequential()
    model.trainable_weights  # noqa: B018 (fills the cache)
    clone = copy.deepcopy(model)
    ours = {id(w) for w in model.weights}
    assert len(clone.weights) == 4 and not ours & {id(w) for w in clone.weights}
    assert _check(clone)["parameters"] == [id(p) for p in clone.parameters()]


def test_the_returned_lists_are_the_callers():
    model = _sequential()
    model.trainable_weights.append("junk")
    model.metrics.append("junk")
    assert len(model.trainable_weights) == 4 and model.metrics == []


# ----------------------------------------------------------------------------- metrics
@pytest.mark.parametrize("make", KINDS.values(), ids=KINDS.keys())
def test_metrics_follow_attributes_and_compile(make):
    model = make()
    assert _check(model)["metrics"] == []
    model.compile("sgd", "mse")
    assert [m.name for m in model.metrics] == ["loss"]
    tracker = metrics.Mean(name="tracker")
    model.tracker = tracker
    assert _check(model)["metrics"][-1] == id(tracker)
    other = metrics.Mean(name="other")
    model.tracker = other
    assert [m.name for m in model.metrics] == ["loss", "other"]
    model.tracker = None
    assert [m.name for m in model.metrics] == ["loss"]
    model.tracker = tracker
    del model.tracker
    assert [m.name for m in model.metrics] == ["loss"]
    first = model.metrics[0]
    model.compile("sgd", "mse", metrics=["mae"])
    _check(model)
    names = [m.name for m in model.metrics]
    assert names == ["loss", "compile_metrics"] and model.metrics[0] is not first


# ----------------------------------------------------------------------------- zero_grad
def _with_grads(model):
    model.compile("sgd", "mse")
    x = torch.ones(4, 3)
    model(x, training=True).square().sum().backward()


@pytest.mark.parametrize("make", KINDS.values(), ids=KINDS.keys())
def test_zero_grad_is_torchs(make):
    model = make()
    _with_grads(model)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    model.zero_grad(set_to_none=False)
    for p, g in zip(model.parameters(), grads):
        assert p.grad is g and not g.requires_grad and torch.equal(g, torch.zeros_like(g))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_reaches_a_layer_added_after_it_ran():
    model = _sequential()
    _with_grads(model)
    model.zero_grad()
    model.add(layers.Dense(1))
    _with_grads(model)
    model.zero_grad()
    assert len(list(model.parameters())) == 6
    assert all(p.grad is None for p in model.parameters())


# ----------------------------------------------------------------------------- Mean.result
def test_mean_result_is_divide_no_nan_in_every_state():
    mean = metrics.Mean()
    assert torch.equal(mean.result(), torch.tensor(0.0))
    mean.update_state(torch.tensor([1.0, 2.0, 4.0]))
    assert torch.equal(mean.result(), divide_no_nan(mean.total, mean.count))
    mean.count.zero_()  # changed in place by someone else: no longer known positive
    assert torch.equal(mean.result(), torch.tensor(0.0))
    mean.reset_state()
    mean.update_state(torch.tensor([3.0]), sample_weight=torch.tensor([0.0]))
    assert torch.equal(mean.result(), torch.tensor(0.0))
    mean.update_state(torch.tensor([5.0, float("nan")]))
    assert torch.isnan(mean.result())  # nan where count > 0, as divide_no_nan
    mean.reset_state()
    mean.update_state(torch.zeros(0))  # an empty batch: count stays 0
    assert torch.equal(mean.result(), torch.tensor(0.0))
    mean.count = torch.tensor(0.0)  # replaced (a restore)
    assert torch.equal(mean.result(), torch.tensor(0.0))


def test_fit_never_moves_the_change_clock():
    model = GuideStep([layers.Dense(4, activation="relu", input_shape=(3,)),
                       layers.Dense(2)])
    model.compile("adam", "mse", metrics=["mae"])
    x, y = np.ones((32, 3), "float32"), np.zeros((32, 2), "float32")
    model.fit(x, y, batch_size=8, verbose=0)
    clock = tracking_cache.clock()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert tracking_cache.clock() == clock


# ----------------------------------------------------------------------------- numbers
class GuideStep(lk.Sequential):
    def train_step(self, data):
        x, y, sample_weight = lk.utils.unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([w.grad for w in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            elif metric.name == "compile_metrics":
                metric.update_state(y, y_pred, sample_weight)
            else:  # unweighted: Mean.result's one-division path
                metric.update_state(y_pred[:, 0])
        return {m.name: m.result() for m in self.metrics}


class GuideFunctional(FunctionalSub):
    train_step = GuideStep.train_step


def _train(kind):
    lk.utils.set_random_seed(0)
    dense = [layers.Dense(8, activation="relu", kernel_regularizer="l2"),
             layers.Dense(3, activation="softmax")]
    if kind == "functional_guide":
        inputs = lk.Input((5,))
        model = GuideFunctional(inputs, dense[1](dense[0](inputs)))
    else:
        model = (GuideStep if kind == "sequential_guide" else lk.Sequential)(
            [lk.Input((5,))] + dense)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"],
                  weighted_metrics=["sparse_categorical_crossentropy"])
    model.tracker = metrics.Mean(name="mean_output")
    rng = np.random.RandomState(1)
    x, y = rng.rand(48, 5).astype("float32"), rng.randint(0, 3, size=48)
    sample_weight = rng.rand(48).astype("float32")
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=8, epochs=3,
                        shuffle=False, verbose=0)
    digest = hashlib.sha256(b"".join(w.detach().numpy().tobytes() for w in model.weights))
    return digest.hexdigest()[:16], history.history


# recorded from the tree before the caches (437c074^), CPU float32, one thread
DIGEST = "386dadcada42bedb"  # the same weights whichever step trained them
HISTORY = {"loss": [0.5225096146265665, 0.5195985784133276, 0.5170234590768814],
           "accuracy": [0.1875, 0.1875, 0.2083333283662796],
           "sparse_categorical_crossentropy": [1.132462501525879, 1.1281923055648804,
                                               1.124683141708374]}
MEAN_OUTPUT = [0.3794853687286377, 0.3783905506134033, 0.37670576572418213]
PINNED = ("builtin", "sequential_guide", "functional_guide")


@pytest.mark.parametrize("kind", PINNED)
def test_three_epochs_give_the_weights_of_the_uncached_tree(kind):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        digest, history = _train(kind)
    finally:
        torch.set_num_threads(threads)
    expected = dict(HISTORY) if kind == "builtin" else dict(HISTORY, mean_output=MEAN_OUTPUT)
    assert history == expected
    assert digest == DIGEST
