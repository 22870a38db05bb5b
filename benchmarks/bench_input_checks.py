"""What layerkit's input conversion and checks cost: peak memory and time per call.

Workloads (issue 16 item 4, issue 17 item 1):
  predict-f32   predict on a 200,000 x 100 float32 array (76 MB) through Dense(1):
                peak RSS above the RSS before the call, over the array's size
                (bar: at most 0.25x; the whole-array torch.isfinite peaked at 1.75x).
  predict-f64   the same array in float64 (153 MB).
  fit-f32       one fit(epochs=1) call of the IMDB MLP (10000-16-16-1, batch 512, RMSprop)
                on 25,000 x 10,000 multi-hot float32 rows (1 GB): seconds per call, the
                seconds before its first batch (call start to on_epoch_begin; bar: 2% of
                the epoch), and the seconds `to_array` takes on the data as fit converts
                it (since issue 17 item 1 fit checks x batch by batch; `whole check`:
                the whole-input pass fit made before, for comparison).
  fit-f64       the same rows in float64, as `vectorize_sequences` in the notes makes them.
  fit-pandas    the float32 rows as a pandas DataFrame.
  fit-sparse    the float32 rows as a scipy.sparse CSR matrix.

Each measurement runs in its own process (peak RSS belongs to it), best of 3 calls.
`--layerkit PATH` runs another checkout, for before/after numbers:

    git archive b704eb9 layerkit | tar -x -C /tmp/before
    python benchmarks/bench_input_checks.py --layerkit /tmp/before   # before
    python benchmarks/bench_input_checks.py                           # after
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HERE, "benchmarks"))
import harness  # noqa: E402

WORKLOADS = ["predict-f32", "predict-f64", "fit-f32", "fit-f64", "fit-pandas", "fit-sparse"]


def _data(name):
    rng = np.random.RandomState(0)
    if name.startswith("predict"):
        x = rng.rand(200_000, 100).astype("float32")
        return x.astype(name[-3:].replace("f", "float")), None
    dtype = "float64" if name == "fit-f64" else "float32"
    x = (rng.rand(25_000, 10_000) < 0.02).astype(dtype)
    if name == "fit-pandas":
        import pandas as pd

        x = pd.DataFrame(x)
    elif name == "fit-sparse":
        import scipy.sparse

        x = scipy.sparse.csr_matrix(x)
    return x, (rng.rand(25_000) < 0.5).astype("float32")


def _convert(data_adapter, x, check):
    """What `to_array` costs on x: as fit converts it (`check=False` where the checkout
    has it: x is checked batch by batch) or with the whole-input check."""
    start = time.perf_counter()
    try:
        data_adapter.to_array(x, "x", check=check)
    except TypeError:  # a checkout from before per-batch checks: fit checked the whole x
        data_adapter.to_array(x, "x")
    return time.perf_counter() - start


def _child(name):
    x, y = _data(name)
    import torch

    import layerkit
    from layerkit import layers, models
    from layerkit.training.data_adapters import arrays as data_adapter

    torch.set_num_threads(2)
    layerkit.utils.set_random_seed(0)
    if name.startswith("predict"):
        model = models.Sequential([layers.Dense(1, input_shape=(100,))])
        model.predict(x[:10], verbose=0)  # built and warm: only the call is measured
        base = harness._reset_peak_rss()
        start = time.perf_counter()
        model.predict(x, batch_size=4096, verbose=0)
        seconds = time.perf_counter() - start
        extra_mb = (harness._peak_rss_kb() - base) / 1024
        print(json.dumps({"extra_mb": extra_mb, "ratio": extra_mb * 2**20 / x.nbytes,
                          "seconds": seconds}))
        return
    model = models.Sequential([layers.Dense(16, activation="relu", input_shape=(10_000,)),
                               layers.Dense(16, activation="relu"),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    model.fit(x[:512], y[:512], batch_size=512, verbose=0)
    timer = _Timer(layerkit.callbacks.Callback)
    calls, before, epochs, converts, whole = [], [], [], [], []
    for _ in range(3):
        start = time.perf_counter()
        model.fit(x, y, batch_size=512, epochs=1, verbose=0, callbacks=[timer])
        calls.append(time.perf_counter() - start)
        before.append(timer.begin - start)
        epochs.append(timer.end - timer.begin)
        converts.append(_convert(data_adapter, x, False))
        whole.append(_convert(data_adapter, x, True))
    print(json.dumps({"call_s": min(calls), "before_s": min(before), "epoch_s": min(epochs),
                      "convert_s": min(converts), "whole_check_s": min(whole)}))


def _Timer(base):
    class Timer(base):
        def on_epoch_begin(self, epoch, logs=None):
            self.begin = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.end = time.perf_counter()

    return Timer()


def _run(name, layerkit_path):
    env = dict(os.environ, PYTHONPATH=layerkit_path or HERE)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=WORKLOADS)
    parser.add_argument("--layerkit", default=None, help="folder holding the layerkit package")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    print(f"layerkit from {args.layerkit or HERE}; load average {os.getloadavg()[0]:.2f}")
    for name in args.only:
        result = _run(name, args.layerkit)
        if name.startswith("predict"):
            print(f"{name}: peak extra {result['extra_mb']:.1f} MB = {result['ratio']:.2f}x "
                  f"the array; predict {result['seconds']:.3f} s", flush=True)
        else:
            print(f"{name}: fit(epochs=1) call {result['call_s']:.3f} s, epoch "
                  f"{result['epoch_s']:.3f} s, before the first batch {result['before_s']:.4f} s"
                  f" ({result['before_s'] / result['epoch_s']:.1%} of the epoch); to_array as "
                  f"fit converts x {result['convert_s']:.4f} s, with the whole-input check "
                  f"{result['whole_check_s']:.4f} s", flush=True)


if __name__ == "__main__":
    main()
