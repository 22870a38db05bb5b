"""MLP speed and memory: layerkit vs a plain PyTorch loop vs Keras 3 (torch backend).

Workloads (issue "Core engine", synthetic data with a learnable signal):
  W1  IMDB MLP     15000x10000 multi-hot, Dense 16-16-1, rmsprop, bs 512
  W1s the same, x given to layerkit as scipy.sparse CSR (memory check)
  W2  Reuters MLP  8000x10000 multi-hot, Dense 64-64-46, rmsprop, bs 512
  W3  Boston       303x13, Dense 64-64-1, rmsprop, mse + mae, batch_size=1
  W6  Fashion MLP  20000x28x28, Flatten-300-100-10, SGD(0.01, 0.9, nesterov), bs 32

The harness (benchmarks/harness.py) runs each (workload, runner) pair in its own
subprocess and prints median epoch seconds and ratios.

    python benchmarks/bench_mlp.py            # all workloads, 4 epochs each
    python benchmarks/bench_mlp.py --only W3  # one workload
"""

import os
import sys
import time

import numpy as np

WORKLOADS = {
    "W1": dict(n=15000, width=10000, hidden=(16, 16), classes=1, bs=512, opt="rmsprop"),
    "W2": dict(n=8000, width=10000, hidden=(64, 64), classes=46, bs=512, opt="rmsprop"),
    "W3": dict(n=303, width=13, hidden=(64, 64), classes=0, bs=1, opt="rmsprop"),
    "W6": dict(n=20000, width=(28, 28), hidden=(300, 100), classes=10, bs=32, opt="sgd"),
}


def make_data(name, seed=0):
    """Synthetic data with a learnable signal; multi-hot data is built sparse first."""
    spec = WORKLOADS[name]
    rng = np.random.RandomState(seed)
    if spec["width"] == 10000:
        import scipy.sparse as sp

        x = sp.random(spec["n"], 10000, density=0.012, format="csr", random_state=rng,
                      dtype=np.float32)
        x.data[:] = 1.0
        w = rng.randn(10000).astype(np.float32)
        score = x @ w
    else:
        shape = (spec["n"],) + ((spec["width"],) if isinstance(spec["width"], int)
                                else spec["width"])
        x = rng.rand(*shape).astype(np.float32)
        score = x.reshape(spec["n"], -1) @ rng.randn(int(np.prod(shape[1:]))).astype(np.float32)
    if spec["classes"] == 1:
        y = (score > np.median(score)).astype(np.float32)
    elif spec["classes"] > 1:
        edges = np.percentile(score, np.linspace(0, 100, spec["classes"] + 1)[1:-1])
        y = np.digitize(score, edges)
        if spec["width"] == 10000:  # Reuters: one-hot targets, categorical crossentropy
            y = np.eye(spec["classes"], dtype=np.float32)[y]
    else:
        y = (score / np.abs(score).max() * 10).astype(np.float32)
    return x, y


def loss_and_metric(spec):
    if spec["classes"] == 1:
        return "binary_crossentropy", "acc"
    if spec["classes"] > 1:
        return ("categorical_crossentropy" if spec["width"] == 10000
                else "sparse_categorical_crossentropy"), "acc"
    return "mse", "mae"


def run_layerkit(name, x, y, epochs, sparse=False):
    from layerkit import layers, models, optimizers

    spec = WORKLOADS[name]
    loss, metric = loss_and_metric(spec)
    if not sparse and hasattr(x, "toarray"):
        x = x.toarray()
    stack = [layers.Flatten(input_shape=spec["width"])] if isinstance(spec["width"], tuple) \
        else []
    width = spec["width"] if isinstance(spec["width"], int) else None
    for i, units in enumerate(spec["hidden"]):
        kw = {"input_shape": (width,)} if i == 0 and width else {}
        stack.append(layers.Dense(units, activation="relu", **kw))
    out = spec["classes"] or 1
    stack.append(layers.Dense(out, activation={1: "sigmoid", 0: None}.get(out, "softmax")
                              if spec["classes"] != 0 else None))
    model = models.Sequential(stack)
    opt = optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True) \
        if spec["opt"] == "sgd" else "rmsprop"
    model.compile(opt, loss, metrics=[metric])
    from harness import epoch_timer
    from layerkit.callbacks import Callback

    timer = epoch_timer(Callback)
    hist = model.fit(x, y, batch_size=spec["bs"], epochs=epochs, verbose=0, callbacks=[timer])
    return timer.times, hist.history[metric][-1]


def run_layerkit_sparse(name, x, y, epochs):
    return run_layerkit(name, x, y, epochs, sparse=True)


def run_layerkit_sparse_ftz(name, x, y, epochs):
    """W1/W2 on scipy.sparse input with flush-to-zero forced on (the "auto" default keeps
    it off for models without recurrent layers)."""
    from layerkit import config

    config.set_flush_denormal(True)
    return run_layerkit(name, x, y, epochs, sparse=True)


def run_keras(name, x, y, epochs):
    os.environ["KERAS_BACKEND"] = "torch"
    import keras

    spec = WORKLOADS[name]
    loss, metric = loss_and_metric(spec)
    if hasattr(x, "toarray"):
        x = x.toarray()
    stack = [keras.Input(spec["width"] if isinstance(spec["width"], tuple)
                         else (spec["width"],))]
    if isinstance(spec["width"], tuple):
        stack.append(keras.layers.Flatten())
    stack += [keras.layers.Dense(u, activation="relu") for u in spec["hidden"]]
    out = spec["classes"] or 1
    stack.append(keras.layers.Dense(out, activation={1: "sigmoid", 0: None}.get(out, "softmax")
                                    if spec["classes"] != 0 else None))
    model = keras.Sequential(stack)
    opt = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True) \
        if spec["opt"] == "sgd" else "rmsprop"
    model.compile(opt, loss, metrics=[metric])
    from harness import epoch_timer

    timer = epoch_timer(keras.callbacks.Callback)
    hist = model.fit(x, y, batch_size=spec["bs"], epochs=epochs, verbose=0, callbacks=[timer])
    return timer.times, hist.history[metric][-1]


def run_torch(name, x, y, epochs):
    """The hand-written loop: tensors preloaded, batches from a permutation, torch.optim."""
    import torch
    from torch import nn

    spec = WORKLOADS[name]
    if hasattr(x, "toarray"):
        x = x.toarray()
    x = torch.from_numpy(x).reshape(len(x), -1)
    y = torch.from_numpy(np.asarray(y))
    dims = [x.shape[1]] + list(spec["hidden"])
    mods = []
    for a, b in zip(dims[:-1], dims[1:]):
        mods += [nn.Linear(a, b), nn.ReLU()]
    out = spec["classes"] or 1
    mods.append(nn.Linear(dims[-1], out))
    model = nn.Sequential(*mods)
    if spec["opt"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    if spec["classes"] == 1:
        loss_fn = nn.BCEWithLogitsLoss()
        metric = lambda z, t: ((z[:, 0] > 0).float() == t).float().sum()  # noqa: E731
        y = y.float()
    elif spec["classes"] > 1:
        loss_fn = nn.CrossEntropyLoss()
        metric = lambda z, t: (z.argmax(1) == (t if t.dim() == 1 else t.argmax(1))).float().sum()  # noqa: E731,E501
        y = y if y.dim() > 1 else y.long()
    else:
        loss_fn = nn.MSELoss()
        metric = lambda z, t: (z[:, 0] - t).abs().sum()  # noqa: E731
        y = y.float()
    times, n = [], len(x)
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        loss_sum = torch.zeros(())
        metric_sum = torch.zeros(())
        for i in range(0, n, spec["bs"]):
            idx = perm[i:i + spec["bs"]]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            z = model(xb)
            loss = loss_fn(z if spec["classes"] > 1 else z[:, 0], yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * len(idx)
                metric_sum += metric(z.detach(), yb)
        final_metric = float(metric_sum) / n
        times.append(time.perf_counter() - t0)
    return times, final_metric


def _sparse_rows(name, results, measure):
    """W1/W2 also run layerkit on scipy.sparse input (peak memory vs the dense path, and
    the same with flush-to-zero forced on)."""
    if name not in ("W1", "W2"):
        return
    t, k = results["torch"]["median"], results["keras"]["median"]
    dense_mem = results["layerkit"]["mem_mb"]
    for runner, label in (("layerkit-sparse", "sparse"), ("layerkit-sparse-ftz",
                                                         "sparse, FTZ on")):
        r = measure(runner)
        print(f"| {name} {label} | - | {r['median']:.3f} | - | {r['median'] / t:.2f}x | "
              f"{r['median'] / k:.2f}x | acc {r['metric']:.3f}; peak memory "
              f"{r['mem_mb']:.0f} MB vs dense {dense_mem:.0f} MB = "
              f"{r['mem_mb'] / dense_mem:.2f} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness

    harness.main(sys.modules[__name__], os.path.abspath(__file__), WORKLOADS, _sparse_rows)
