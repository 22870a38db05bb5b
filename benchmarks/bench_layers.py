"""Convnet and LSTM speed: layerkit vs a plain PyTorch loop vs Keras 3 (torch backend).

Workloads (issue "layer zoo", synthetic data with a learnable signal):
  W4  MNIST convnet  12000x28x28x1, Conv2D 32-64-64 + MaxPooling2D, Dense 64-10,
      rmsprop, sparse categorical crossentropy, bs 64
  W5  IMDB LSTM      5000 sequences of length 500, Embedding(10000, 32) + LSTM(32) +
      Dense(1, sigmoid), rmsprop, binary crossentropy, bs 128

The plain loop uses nn.Conv2d (NCHW) / nn.Embedding + nn.LSTM directly.

    python benchmarks/bench_layers.py            # both, 3 epochs each
    python benchmarks/bench_layers.py --only W5
    python benchmarks/bench_layers.py --in-process W4 150 6   # same-process ratio
"""

import os
import sys
import time

import numpy as np

WORKLOADS = {"W4": dict(n=12000, bs=64), "W5": dict(n=5000, bs=128)}


def make_data(name, seed=0):
    rng = np.random.RandomState(seed)
    n = WORKLOADS[name]["n"]
    if name == "W4":  # each class has its own template, half hidden by noise
        templates = rng.rand(10, 28, 28, 1).astype(np.float32)
        y = rng.randint(0, 10, n)
        x = 0.5 * templates[y] + 0.5 * rng.rand(n, 28, 28, 1).astype(np.float32)
        return x, y.astype(np.int64)
    x = rng.randint(1, 10000, size=(n, 500)).astype(np.int64)
    y = (np.isin(x[:, -50:], np.arange(1, 200)).sum(1) > 1).astype(np.float32)
    return x, y


def _layerkit_model(name):
    from layerkit import layers, models

    if name == "W4":
        return models.Sequential([
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]), "sparse_categorical_crossentropy"
    return models.Sequential([
        layers.Embedding(10000, 32, input_length=500),
        layers.LSTM(32),
        layers.Dense(1, activation="sigmoid"),
    ]), "binary_crossentropy"


def run_layerkit(name, x, y, epochs):
    from harness import epoch_timer
    from layerkit.callbacks import Callback

    model, loss = _layerkit_model(name)
    model.compile("rmsprop", loss, metrics=["acc"])
    timer = epoch_timer(Callback)
    hist = model.fit(x, y, batch_size=WORKLOADS[name]["bs"], epochs=epochs, verbose=0,
                     callbacks=[timer])
    return timer.times, hist.history["acc"][-1]


def run_layerkit_ftz_flipped(name, x, y, epochs):
    """layerkit with the opposite flush-to-zero choice of the default "auto" policy
    (which flushes for recurrent models only): on for W4, off for W5."""
    from layerkit import config

    config.set_flush_denormal(name == "W4")
    return run_layerkit(name, x, y, epochs)


IN_PROCESS = {"W4": (150, 6), "W5": (40, 6)}  # steps per epoch, rounds


def _extra_rows(name, results, measure):
    """The flush-to-zero-flipped row, then the same-process layerkit / loop ratio."""
    _ftz_row(name, results, measure)
    in_process(name, *IN_PROCESS[name])


def _ftz_row(name, results, measure):
    r = measure("layerkit-ftz-flipped")
    t, k = results["torch"]["median"], results["keras"]["median"]
    label = "FTZ on" if name == "W4" else "FTZ off"
    print(f"| {name} {label} | - | {r['median']:.3f} | - | {r['median'] / t:.2f}x | "
          f"{r['median'] / k:.2f}x | acc {r['metric']:.3f} |", flush=True)


def run_keras(name, x, y, epochs):
    import keras
    from harness import epoch_timer

    if name == "W5":  # Keras 3's torch LSTM is a Python loop on CPU (~4 min/epoch here)
        epochs = min(epochs, 2)
    L = keras.layers
    if name == "W4":
        model = keras.Sequential([
            keras.Input((28, 28, 1)), L.Conv2D(32, (3, 3), activation="relu"),
            L.MaxPooling2D((2, 2)), L.Conv2D(64, (3, 3), activation="relu"),
            L.MaxPooling2D((2, 2)), L.Conv2D(64, (3, 3), activation="relu"), L.Flatten(),
            L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    else:
        model = keras.Sequential([keras.Input((500,)), L.Embedding(10000, 32), L.LSTM(32),
                                  L.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    model.compile("rmsprop", loss, metrics=["acc"])
    timer = epoch_timer(keras.callbacks.Callback)
    hist = model.fit(x, y, batch_size=WORKLOADS[name]["bs"], epochs=epochs, verbose=0,
                     callbacks=[timer])
    return timer.times, hist.history["acc"][-1]


def _torch_model(name):
    import torch
    from torch import nn

    if name == "W4":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))

    class LSTMNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10000, 32)
            self.lstm = nn.LSTM(32, 32, batch_first=True)
            self.head = nn.Linear(32, 1)

        def forward(self, tokens):
            _, (h, _) = self.lstm(self.embedding(tokens))
            return self.head(h[-1])

    del torch
    return LSTMNet()


def _torch_epoch_fn(name, x, y):
    """The hand-written loop: tensors preloaded, batches from a permutation, torch.optim.

    Returns a function that trains one epoch and returns the epoch's accuracy."""
    import torch
    from torch import nn

    model = _torch_model(name)
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    x = torch.from_numpy(x)
    if name == "W4":
        x = x.permute(0, 3, 1, 2).contiguous()  # NCHW for nn.Conv2d
        loss_fn, y = nn.CrossEntropyLoss(), torch.from_numpy(y)
        correct = lambda z, t: (z.argmax(1) == t).float().sum()  # noqa: E731
    else:
        loss_fn, y = nn.BCEWithLogitsLoss(), torch.from_numpy(y)
        correct = lambda z, t: ((z[:, 0] > 0).float() == t).float().sum()  # noqa: E731
    bs, n = WORKLOADS[name]["bs"], len(x)

    def epoch():
        perm, loss_sum, hits = torch.randperm(n), torch.zeros(()), torch.zeros(())
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            z = model(xb)
            loss = loss_fn(z if name == "W4" else z[:, 0], yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * len(idx)
                hits += correct(z.detach(), yb)
        return float(hits) / n

    return epoch


def run_torch(name, x, y, epochs):
    """The plain PyTorch loop's epoch seconds and final accuracy (see `_torch_epoch_fn`)."""
    epoch, times = _torch_epoch_fn(name, x, y), []
    for _ in range(epochs):
        start = time.perf_counter()
        metric = epoch()
        times.append(time.perf_counter() - start)
    return times, metric


def in_process(name, steps, rounds):
    """Same-process ratio, robust to a shared machine: layerkit `fit` epochs and torch-loop
    epochs of `steps` batches alternate (order flipping each round), after one warm-up
    epoch each; the load of the moment then hits both. Prints per-round and median ratios.
    """
    import statistics

    from layerkit import config

    x, y = make_data(name)
    n = min(len(x), steps * WORKLOADS[name]["bs"])
    x, y, steps = x[:n], y[:n], -(-n // WORKLOADS[name]["bs"])
    model, loss = _layerkit_model(name)
    model.compile("rmsprop", loss, metrics=["acc"])
    lk = lambda: model.fit(x, y, batch_size=WORKLOADS[name]["bs"], epochs=1,  # noqa: E731
                           verbose=0).history["acc"][-1]
    runners = {"layerkit": lk, "torch": _torch_epoch_fn(name, x, y)}
    times = {r: [] for r in runners}
    for r in runners.values():
        r()  # warm-up
    for i in range(rounds):
        for r in sorted(runners, reverse=bool(i % 2)):
            start = time.perf_counter()
            runners[r]()
            times[r].append(time.perf_counter() - start)
    ratios = [a / b for a, b in zip(times["layerkit"], times["torch"])]
    t, lkt = statistics.median(times["torch"]), statistics.median(times["layerkit"])
    print(f"{name} in-process, {steps} steps x {rounds} rounds, "
          f"flush_denormal={config.flush_denormal()!r}: torch {1000 * t / steps:.2f} ms/step, "
          f"layerkit {1000 * lkt / steps:.2f} ms/step, layerkit / torch {lkt / t:.2f}x "
          f"(per round {' '.join(f'{r:.2f}' for r in ratios)})", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness

    if "--in-process" in sys.argv:  # python bench_layers.py --in-process W4 [steps] [rounds]
        args = sys.argv[sys.argv.index("--in-process") + 1:] + [None, None]
        in_process(args[0] or "W4", int(args[1] or 150), int(args[2] or 6))
    else:
        harness.main(sys.modules[__name__], os.path.abspath(__file__), WORKLOADS, _extra_rows)
