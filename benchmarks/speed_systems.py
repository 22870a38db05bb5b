"""The systems `bench_speed.py` compares, one session class per system.

Who owns what: `SPECS` names each workload's data, model and optimizer; a session (built
by `session(system, workload, quick)`) owns one workload's data and model in one process
and answers `round(variant)` with a dict of seconds (and the final metric). The driver
(bench_speed.py) decides the order of rounds and prints the tables.

- `TorchSession`: the hand-written loop. Tensors preloaded, batches cut from a
  permutation with `index_select`, loss and metric sums kept on the device (one sync per
  epoch), and Keras's optimizer formulas in `torch._foreach_*` ops (Keras's RMSprop puts
  epsilon inside the square root; its SGD keeps the learning rate inside the velocity), so
  both sides do the same math.
- `KerasSession` (Keras 3, torch backend) and `LayerkitSession`: the same Keras program,
  `fit` with an epoch-timer callback. Variants of layerkit: `ftz=auto|on|off` sets the
  flush-to-zero policy before the round; on Boston and Fashion `jit_compile=True` (the
  captured train step), whose compile happens in the first call (its first-call time) and
  never inside a timed round. On the LSTM and the convnet the torch loop also runs as
  `heap kept`: glibc's thresholds as layerkit's loops set them (config.keep_cpu_heap;
  what a torch user gets by tuning malloc). A layerkit variant without the kept heap
  cannot share a process with the others: their freed blocks stay in the heap and it
  would reuse them (measured: as fast as the kept heap); its time is the "before" of
  README's table.
"""

import hashlib
import json
import time

import numpy as np

import speed_data

_MLP = dict(kind="mlp", opt="rmsprop", bs=512)
SPECS = {
    "imdb-kfold": dict(_MLP, data="imdb", n=10000, quick=1000, hidden=(16, 16), out=1,
                       loss="binary_crossentropy", metric="acc", calls=True),
    "reuters-kfold": dict(_MLP, data="reuters", n=8982, quick=1000, hidden=(64, 64), out=46,
                          loss="categorical_crossentropy", metric="acc", calls=True),
    "imdb-val": dict(_MLP, data="imdb", n=10000, quick=1000, hidden=(16, 16), out=1,
                     loss="binary_crossentropy", metric="acc", validation=0.33),
    "lstm": dict(kind="lstm", data="padded", n=1024, quick=256, opt="rmsprop", bs=128,
                 loss="binary_crossentropy", metric="acc", keras_samples=128),
    "convnet": dict(kind="convnet", data="digits", n=3072, quick=256, opt="rmsprop", bs=64,
                    loss="sparse_categorical_crossentropy", metric="acc"),
    "boston": dict(kind="mlp", data="boston", n=404, quick=404, hidden=(64, 64), out=0,
                   opt="rmsprop", bs=1, loss="mse", metric="mae"),
    "fashion": dict(kind="mlp", data="fashion", n=12000, quick=640, hidden=(300, 100),
                    out=10, opt="sgd", bs=32, loss="sparse_categorical_crossentropy",
                    metric="acc"),
    "text": dict(kind="text", data="text", n=5000, quick=300),
}


def make_data(spec, quick):
    """(x, y) of a workload (the deterministic arrays of `speed_data`)."""
    n = spec["quick"] if quick else spec["n"]
    kind = spec["data"]
    if kind == "imdb":
        return speed_data.multi_hot(n)
    if kind == "reuters":
        return speed_data.multi_hot(n, classes=46)
    if kind == "padded":
        return speed_data.padded(n)
    if kind == "digits":
        return speed_data.digits(n)
    if kind == "boston":
        return speed_data.boston(n)
    return speed_data.fashion(n)


def split(spec, x, y):
    """(train, validation or None): the last `validation` fraction held out."""
    if not spec.get("validation"):
        return (x, y), None
    cut = int(len(x) * (1 - spec["validation"]))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


# --------------------------------------------------------------------- the Keras program
def keras_program(L, Sequential, Input, optimizers, spec, **compile_kwargs):
    """The workload's compiled model in a Keras-API library (layerkit or Keras 3)."""
    if spec["kind"] == "lstm":
        stack = [Input((500,)), L.Embedding(10000, 32), L.LSTM(32),
                 L.Dense(1, activation="sigmoid")]
    elif spec["kind"] == "convnet":
        stack = [Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                 L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
                 L.Conv2D(64, 3, activation="relu"), L.Flatten(),
                 L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")]
    else:
        flat = spec["data"] == "fashion"
        stack = [Input((28, 28) if flat else (13 if spec["data"] == "boston" else 10000,))]
        stack += [L.Flatten()] if flat else []
        stack += [L.Dense(u, activation="relu") for u in spec["hidden"]]
        out = spec["out"]
        stack.append(L.Dense(out or 1, activation={0: None, 1: "sigmoid"}.get(out, "softmax")))
    model = Sequential(stack)
    opt = optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True) \
        if spec["opt"] == "sgd" else optimizers.RMSprop(learning_rate=1e-3)
    model.compile(optimizer=opt, loss=spec["loss"], metrics=[spec["metric"]], **compile_kwargs)
    return model


class _Timer:
    """Wall and CPU seconds (process time: every thread of the process) of each epoch
    (on_epoch_begin to on_epoch_end, validation included) and of each evaluate/predict
    loop (on_*_begin to on_*_end): what a call spends in batches."""

    def __init__(self):
        self.epochs, self.loops, self._epoch_start, self._loop_start = [], [], None, None

    def begin_epoch(self, *args, **kwargs):
        self._epoch_start = _clocks()

    def end_epoch(self, *args, **kwargs):
        self.epochs.append(_since(self._epoch_start))

    def begin_loop(self, *args, **kwargs):
        self._loop_start = _clocks()

    def end_loop(self, *args, **kwargs):
        self.loops.append(_since(self._loop_start))


def _clocks():
    return time.perf_counter(), time.process_time()


def _since(start):
    """(wall, cpu) seconds since `start` (a `_clocks()` pair)."""
    return tuple(b - a for a, b in zip(start, _clocks()))


def timer_callback(base):
    """A `base` (Callback class) instance recording into a fresh `_Timer` (`.timer`)."""
    timer = _Timer()
    cb = base()
    cb.timer = timer
    cb.on_epoch_begin, cb.on_epoch_end = timer.begin_epoch, timer.end_epoch
    cb.on_test_begin = cb.on_predict_begin = timer.begin_loop
    cb.on_test_end = cb.on_predict_end = timer.end_loop
    return cb


class KerasAPISession:
    """One workload's models in a Keras-API library (one per variant); a round is one
    `fit` call on the variant's model (training goes on from round to round)."""

    variants = ("",)

    def __init__(self, spec, quick, lib):
        self.spec, self.lib, self.models, self.first_call = spec, lib, {}, {}
        (self.x, self.y), self.val = split(spec, *make_data(spec, quick))
        self.epochs = 2 if self.val else 1
        self.trim()
        for variant in self.variants:
            self.before(variant)
            start = time.perf_counter()
            self.models[variant] = self.build(variant)
            self._fit(self.models[variant])
            self.first_call[variant] = time.perf_counter() - start  # build + first call

    def before(self, variant):
        """Sets what a variant changes (layerkit: the flush-to-zero policy)."""

    def trim(self):
        """Cuts the data before the first call (Keras's LSTM trains on a part)."""
        self.scale = 1.0

    def _fit(self, model, x=None, y=None):
        cb = timer_callback(self.lib.Callback)
        start = _clocks()
        history = model.fit(self.x if x is None else x, self.y if y is None else y,
                            batch_size=self.spec["bs"], epochs=self.epochs, verbose=0,
                            validation_data=self.val, callbacks=[cb])
        (call, call_cpu), epochs = _since(start), cb.timer.epochs
        return {"call": call, "epoch": epochs[-1][0], "call_cpu": call_cpu,
                "epoch_cpu": epochs[-1][1], "outside": call - sum(e[0] for e in epochs),
                "outside_cpu": call_cpu - sum(e[1] for e in epochs),
                "metric": float(history.history[self.spec["metric"]][-1])}

    def round(self, variant=""):
        """One fit call: `seconds` is the call for the k-fold workloads (`calls`), else
        the epoch (the second of the call for `validation` workloads); `outside`: what
        the call spent outside its epochs."""
        self.before(variant)
        result = self._fit(self.models[variant])
        key = "call" if self.spec.get("calls") else "epoch"
        result["seconds"], result["cpu"] = result[key], result[key + "_cpu"]
        return result

    def loops(self, variant=""):
        """evaluate and predict calls: seconds of the call and of its batches."""
        model, out = self.models[variant or self.variants[0]], {}
        for name, call in (("evaluate", lambda cb: model.evaluate(
                self.x, self.y, batch_size=self.spec["bs"], verbose=0, callbacks=[cb])),
                           ("predict", lambda cb: model.predict(
                self.x, batch_size=self.spec["bs"], verbose=0, callbacks=[cb]))):
            cb = timer_callback(self.lib.Callback)
            start = time.perf_counter()
            call(cb)
            out[name] = {"call": time.perf_counter() - start, "loop": cb.timer.loops[-1][0]}
        return out


class LayerkitSession(KerasAPISession):
    """layerkit; for the LSTM, the convnet and the multi-hot MLPs also the flush-to-zero
    policies as variants (`ftz=auto`, the default, `ftz=on`, `ftz=off`)."""

    def __init__(self, spec, quick):
        import layerkit

        self.layerkit, self.calls = layerkit, {}
        if spec["kind"] in ("lstm", "convnet") or spec["data"] in ("imdb", "reuters"):
            self.variants = ("ftz=auto", "ftz=on", "ftz=off")
        elif spec["data"] in ("boston", "fashion"):
            self.variants = ("", "jit_compile=True")
        layerkit.utils.set_random_seed(0)
        super().__init__(spec, quick, layerkit.callbacks)

    def build(self, variant=""):
        lk = self.layerkit
        lk.utils.set_random_seed(0)  # every variant starts from the same weights
        return keras_program(lk.layers, lk.models.Sequential, lk.Input, lk.optimizers,
                             self.spec, jit_compile=variant == "jit_compile=True")

    def before(self, variant):
        policy = {"ftz=on": True, "ftz=off": False}.get(variant, "auto")
        self.layerkit.config.set_flush_denormal(policy)
        # The n-th call of every variant shuffles alike: variants differ only in what
        # they vary (same weights, same batches), not in the values they happen to meet.
        self.calls[variant] = self.calls.get(variant, 0) + 1
        self.layerkit.utils.set_random_seed(self.calls[variant])


class KerasSession(KerasAPISession):
    """Keras 3 on the torch backend. Its CPU LSTM is a Python loop over time steps (~25x
    the others): it trains on `keras_samples` samples (16 with --quick) and the time is
    scaled to the epoch."""

    def __init__(self, spec, quick):
        import keras

        self.keras, self.quick = keras, quick
        keras.utils.set_random_seed(0)
        super().__init__(spec, quick, keras.callbacks)

    def trim(self):
        self.scale = 1.0
        if self.spec.get("keras_samples"):
            n = 16 if self.quick else self.spec["keras_samples"]
            self.scale, self.x, self.y = len(self.x) / n, self.x[:n], self.y[:n]

    def build(self, variant=""):
        k = self.keras
        return keras_program(k.layers, k.Sequential, k.Input, k.optimizers, self.spec)

    def round(self, variant=""):
        result = super().round(variant)
        result["seconds"] *= self.scale
        result["cpu"] *= self.scale
        return result


# --------------------------------------------------------------------- the torch loop
def _keras_rmsprop(params, lr=1e-3, rho=0.9, eps=1e-7):
    """Keras's RMSprop in foreach ops: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)."""
    import torch

    velocities = [torch.zeros_like(p) for p in params]

    def update(grads):
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
        denominators = torch._foreach_add(velocities, eps)
        torch._foreach_sqrt_(denominators)
        torch._foreach_addcdiv_(params, grads, denominators, value=-lr)

    return update


def _keras_sgd_nesterov(params, lr=0.01, momentum=0.9):
    """Keras's SGD: v = m v - lr g; nesterov w += m v - lr g (torch.optim's differs)."""
    import torch

    velocities = [torch.zeros_like(p) for p in params]

    def update(grads):
        torch._foreach_mul_(velocities, momentum)
        torch._foreach_add_(velocities, grads, alpha=-lr)
        torch._foreach_add_(params, grads, alpha=-lr)
        torch._foreach_add_(params, velocities, alpha=momentum)

    return update


def torch_model(spec):
    """The workload's network as torch modules (NCHW convnet; logits out)."""
    from torch import nn

    if spec["kind"] == "convnet":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    if spec["kind"] == "lstm":
        return _lstm_net()
    dims = [{"boston": 13, "fashion": 784}.get(spec["data"], 10000)] + list(spec["hidden"])
    mods = [nn.Flatten()] if spec["data"] == "fashion" else []
    for a, b in zip(dims[:-1], dims[1:]):
        mods += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*mods, nn.Linear(dims[-1], spec["out"] or 1))


def _lstm_net():
    from torch import nn

    class LSTMNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10000, 32)
            self.lstm = nn.LSTM(32, 32, batch_first=True)
            self.head = nn.Linear(32, 1)

        def forward(self, tokens):
            _, (h, _) = self.lstm(self.embedding(tokens))
            return self.head(h[-1])

    return LSTMNet()


def _loss_and_hits(spec):
    """(loss(logits, y), hits(logits, y)): the compiled loss on logits and the metric's
    per-batch sum (accuracy hits or absolute errors)."""
    import torch.nn.functional as F

    loss = spec["loss"]
    if loss == "binary_crossentropy":
        return (lambda z, t: F.binary_cross_entropy_with_logits(z[:, 0], t),
                lambda z, t: ((z[:, 0] > 0).float() == t).float().sum())
    if loss == "categorical_crossentropy":
        return (lambda z, t: F.cross_entropy(z, t),
                lambda z, t: (z.argmax(1) == t.argmax(1)).float().sum())
    if loss == "sparse_categorical_crossentropy":
        return (lambda z, t: F.cross_entropy(z, t),
                lambda z, t: (z.argmax(1) == t).float().sum())
    return (lambda z, t: ((z[:, 0] - t) ** 2).mean(), lambda z, t: (z[:, 0] - t).abs().sum())


class TorchSession:
    """The hand-written loop over preloaded tensors; a round is one epoch (plus the pass
    over the validation data for `validation` workloads). For the small-batch MLPs also
    the variant "compiled": the same loop whose whole step (forward, backward through
    `torch.func.grad_and_value`, Keras's optimizer formula, metric sum) is one
    `torch.compile(fullgraph=True)` function on its own copy of the model (what a
    captured step costs and gains on this machine; its first call includes the compile)."""

    def __init__(self, spec, quick):
        import torch

        torch.manual_seed(0)
        self.torch, self.spec = torch, spec
        self.variants = ("", "compiled") if spec["data"] in ("boston", "fashion") else \
            ("", "heap kept") if spec["kind"] in ("lstm", "convnet") else ("",)
        (x, y), val = split(spec, *make_data(spec, quick))
        self.x, self.y = self._tensors(x, y)
        self.val = None if val is None else self._tensors(*val)
        self.model = torch_model(spec)
        self.loss, self.hits = _loss_and_hits(spec)
        self.steps, self.first_call = {}, {}
        for variant in self.variants:
            self.steps[variant] = self._compiled_step() if variant == "compiled" else \
                self.steps[""] if variant else self._eager_step()
            start = time.perf_counter()
            self.round(variant)
            self.first_call[variant] = time.perf_counter() - start

    def _tensors(self, x, y):
        x = self.torch.from_numpy(x)
        if self.spec["kind"] == "convnet":
            x = x.permute(0, 3, 1, 2).contiguous()  # NCHW for nn.Conv2d, outside the timing
        return x, self.torch.from_numpy(y)

    def _update(self, params):
        return _keras_sgd_nesterov(params) if self.spec["opt"] == "sgd" \
            else _keras_rmsprop(params)

    def _eager_step(self):
        torch, params = self.torch, list(self.model.parameters())
        update = self._update(params)

        def step(xb, yb, hits):
            z = self.model(xb)
            loss = self.loss(z, yb)
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                update([p.grad for p in params])
                hits += self.hits(z.detach(), yb)

        return step

    def _compiled_step(self):
        import copy

        from torch.func import functional_call, grad_and_value

        model = copy.deepcopy(self.model)
        names = [n for n, _ in model.named_parameters()]
        params = [p.detach() for p in model.parameters()]  # updated in place
        update = self._update(params)

        def loss_of(weights, xb, yb):
            z = functional_call(model, dict(zip(names, weights)), (xb,))
            return self.loss(z, yb), z

        def step(xb, yb, hits):
            grads, (_, z) = grad_and_value(loss_of, has_aux=True)(params, xb, yb)
            update(list(grads))
            hits.add_(self.hits(z.detach(), yb))

        return self.torch.compile(step, fullgraph=True)

    def _epoch(self, variant):
        torch, bs, step = self.torch, self.spec["bs"], self.steps[variant]
        x, y, n = self.x, self.y, len(self.x)
        perm, hits = torch.randperm(n), torch.zeros(())
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            step(x.index_select(0, idx), y.index_select(0, idx), hits)
        return float(hits) / n

    def _validate(self):
        torch, bs = self.torch, self.spec["bs"]
        (x, y), hits = self.val, torch.zeros(())
        with torch.no_grad():
            for i in range(0, len(x), bs):
                z = self.model(x[i:i + bs])
                self.loss(z, y[i:i + bs])
                hits += self.hits(z, y[i:i + bs])
        return float(hits) / len(x)

    def round(self, variant=""):
        heap = "heap kept" in self.variants  # only there: the others keep glibc's own
        if heap:
            _glibc_heap(kept=variant == "heap kept")
        start = _clocks()
        metric = self._epoch(variant)
        if self.val is not None:
            self._validate()
        seconds, cpu = _since(start)
        if heap:
            _glibc_heap(kept=False)
        return {"seconds": seconds, "cpu": cpu, "epoch": seconds, "call": seconds,
                "outside": 0.0, "outside_cpu": 0.0, "epoch_cpu": cpu, "metric": metric}


def _glibc_heap(kept):
    """The torch loop's "heap kept" variant (LSTM, convnet): glibc's thresholds as
    layerkit's loops set them (layerkit.cpu_heap: 1 GiB, freed blocks reused), else as
    layerkit leaves them (32 / 64 MiB, where glibc's own adaptation ends). The same model
    and step as the plain loop, which goes on training."""
    import ctypes
    import ctypes.util
    import platform

    if platform.libc_ver()[0] != "glibc":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallopt(-3, (1 << 30) if kept else (32 << 20))  # M_MMAP_THRESHOLD
    libc.mallopt(-1, (1 << 30) if kept else (64 << 20))  # M_TRIM_THRESHOLD


# --------------------------------------------------------------------- text
class TextSession:
    """Tokenizer(num_words=10000) fit_on_texts + texts_to_sequences + pad_sequences(maxlen
    500) on Zipf-vocabulary reviews (bench_data.make_reviews): layerkit, or
    keras-preprocessing 1.1.2 (what Keras 2 users ran; Keras 3 has no Tokenizer)."""

    variants = ("",)

    def __init__(self, spec, quick, system):
        import bench_data  # sets np.unicode_ = np.str_ for keras-preprocessing

        if system == "layerkit":
            from layerkit.preprocessing.sequence import pad_sequences
            from layerkit.preprocessing.text import Tokenizer
        else:
            from keras_preprocessing.sequence import pad_sequences
            from keras_preprocessing.text import Tokenizer
        self.tokenizer_class, self.pad = Tokenizer, pad_sequences
        self.texts = bench_data.make_reviews(spec["quick"] if quick else spec["n"])
        start = time.perf_counter()
        self.round()
        self.first_call = {"": time.perf_counter() - start}

    def round(self, variant=""):
        start = _clocks()
        tokenizer = self.tokenizer_class(num_words=10000)
        tokenizer.fit_on_texts(self.texts)
        padded = self.pad(tokenizer.texts_to_sequences(self.texts), maxlen=500)
        seconds, cpu = _since(start)
        digest = hashlib.md5(padded.tobytes())
        digest.update(json.dumps(list(tokenizer.word_index.items())).encode())
        return {"seconds": seconds, "cpu": cpu, "epoch": seconds, "call": seconds,
                "outside": 0.0, "outside_cpu": 0.0, "epoch_cpu": cpu,
                "metric": float(int(digest.hexdigest()[:6], 16))}


def session(system, workload, quick):
    """The session of `system` ('torch', 'layerkit', 'keras') for `workload`; None when the
    system does not run it (no torch loop for the tokenizer)."""
    spec = SPECS[workload]
    if spec["kind"] == "text":
        return None if system == "torch" else TextSession(spec, quick, system)
    return {"torch": TorchSession, "layerkit": LayerkitSession,
            "keras": KerasSession}[system](spec, quick)
