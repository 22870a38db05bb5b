"""Issue 15's GPU benchmark: layerkit `fit` vs a hand-written PyTorch loop doing the same
work, in float32 and in mixed precision, on the notes' three GPU workloads.

Workloads:
  convnet  the MNIST convnet 32-64-64 (+ Dense 64, Dense 10 softmax), RMSprop, one-hot
           labels and categorical crossentropy, batch 64, on blurred digit-like strokes
  lstm     Embedding(10000, 32) + LSTM(32) + Dense(1, sigmoid), RMSprop, batch 128, Zipf
           word ids of varied length pre-padded to 500 (no masking, as in the notes)
  vgg16    transfer learning: applications.VGG16(weights=None, include_top=False,
           input_shape=(150, 150, 3)) frozen + Flatten + Dense(256, relu) + Dense(1,
           sigmoid), RMSprop(2e-5), batch 20 (the notes' feature-extraction model)

Systems: layerkit (`model.fit(x, y, epochs=1, verbose=0)` on arrays) and the torch loop
(the same layers as torch modules in NCHW, data on the device, a `torch.randperm` per
epoch, loss and accuracy summed on the device and read once per epoch, `torch.optim.
RMSprop` with Keras's rho and epsilon). Mixed precision: layerkit's
`mixed_precision.set_global_policy('mixed_float16')` on CUDA ('mixed_bfloat16' on the
CPU), against `torch.autocast` with the same dtype (+ `torch.amp.GradScaler` for float16).

Each (system, precision) builds its model once and trains one untimed warm-up epoch;
then every round times one epoch of each, in an order that rotates from round to round,
so a busy minute hits all of them. An epoch is timed from its first to its last step
(`on_epoch_begin` to `on_epoch_end` for layerkit), with `torch.cuda.synchronize()` at both
ends; layerkit's whole `fit` call per step is reported beside it ("call"). Reported: the
median ms/step over rounds with its [min - max], the median of each round's layerkit /
torch ratio with its spread, and mixed / fp32 per system; the card, torch, CUDA and
cuDNN versions, and the load average.

    python benchmarks/gpu.py                       # CUDA when present, 5 rounds
    python benchmarks/gpu.py --only convnet --rounds 9
    python benchmarks/gpu.py --jit                 # layerkit with compile(jit_compile=True)
    python benchmarks/gpu.py --quick --device cpu  # smoke run: tiny shapes, 2 rounds
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import speed_data  # noqa: E402

WORKLOADS = ("convnet", "lstm", "vgg16")
PRECISIONS = ("fp32", "mixed")
SYSTEMS = ("layerkit", "torch")
VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


# --------------------------------------------------------------------- shapes and data
def shapes(workload, quick):
    """{batch, steps (per epoch), side / maxlen} of a workload; `quick`: tiny smoke
    sizes that run on a CPU in seconds."""
    full = {"convnet": {"batch": 64, "steps": 200},
            "lstm": {"batch": 128, "steps": 50, "maxlen": 500},
            "vgg16": {"batch": 20, "steps": 50, "side": 150}}[workload]
    if not quick:
        return full
    return {"convnet": {"batch": 16, "steps": 3},
            "lstm": {"batch": 8, "steps": 3, "maxlen": 20},
            "vgg16": {"batch": 2, "steps": 2, "side": 32}}[workload]


def make_data(workload, shape):
    """(x, y) numpy arrays for one epoch, channels last; y as the Keras model takes it."""
    n = shape["batch"] * shape["steps"]
    if workload == "convnet":
        x, labels = speed_data.digits(n)
        return x, np.eye(10, dtype=np.float32)[labels]
    if workload == "lstm":
        x, y = speed_data.padded(n, maxlen=shape["maxlen"])
        return x, y.reshape(n, 1)
    rng = np.random.RandomState(0)
    side = shape["side"]
    x = rng.uniform(0, 1, (n, side, side, 3)).astype(np.float32)
    return x, rng.randint(0, 2, (n, 1)).astype(np.float32)


# --------------------------------------------------------------------- layerkit
def layerkit_model(workload, shape, precision, device, jit=False):
    """The notes' model, compiled (`jit_compile=jit`), under the precision's global
    policy."""
    from layerkit import applications, config, layers, mixed_precision, models, optimizers

    config.set_device(device)
    policy = "float32" if precision == "fp32" else _mixed_name(device)
    mixed_precision.set_global_policy(policy)
    try:
        if workload == "convnet":
            model = models.Sequential([
                layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                layers.MaxPooling2D((2, 2)),
                layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
                layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
                layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
            model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"],
                          jit_compile=jit)
        elif workload == "lstm":
            model = models.Sequential([
                layers.Embedding(10000, 32, input_length=shape["maxlen"]), layers.LSTM(32),
                layers.Dense(1, activation="sigmoid")])
            model.compile("rmsprop", "binary_crossentropy", metrics=["acc"],
                          jit_compile=jit)
        else:
            side = shape["side"]
            base = applications.VGG16(weights=None, include_top=False,
                                      input_shape=(side, side, 3))
            base.trainable = False
            model = models.Sequential([base, layers.Flatten(),
                                       layers.Dense(256, activation="relu"),
                                       layers.Dense(1, activation="sigmoid")])
            model.compile(optimizers.RMSprop(learning_rate=2e-5), "binary_crossentropy",
                          metrics=["acc"], jit_compile=jit)
    finally:
        mixed_precision.set_global_policy("float32")
    return model


def _mixed_name(device):
    return "mixed_float16" if torch.device(device).type == "cuda" else "mixed_bfloat16"


class LayerkitRunner:
    """Times `model.fit(x, y, epochs=1)`: the epoch (first to last step) and the call."""

    def __init__(self, workload, shape, precision, device, data, jit=False):
        from layerkit import callbacks

        self.model = layerkit_model(workload, shape, precision, device, jit)
        self.x, self.y = data
        self.batch = shape["batch"]
        runner = self

        class EpochClock(callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                runner.epoch_start = _now(device)

            def on_epoch_end(self, epoch, logs=None):
                runner.epoch_time = _now(device) - runner.epoch_start
                runner.loss = logs["loss"]

        self.clock = EpochClock()
        self.device = device

    def epoch(self):
        start = _now(self.device)
        self.model.fit(self.x, self.y, batch_size=self.batch, epochs=1, verbose=0,
                       callbacks=[self.clock])
        return self.epoch_time, _now(self.device) - start


# --------------------------------------------------------------------- the torch loop
def torch_model(workload, shape):
    """The same layers as plain torch modules (NCHW); the outputs are logits."""
    if workload == "convnet":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    if workload == "lstm":
        return _LSTMNet()
    features, channels = [], 3
    for block in VGG16_BLOCKS:
        for width in block:
            features += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        features.append(nn.MaxPool2d(2))
    base = nn.Sequential(*features)
    base.requires_grad_(False)  # frozen, as conv_base.trainable = False
    side = shape["side"] // 32
    return nn.Sequential(base, nn.Flatten(), nn.Linear(512 * side * side, 256), nn.ReLU(),
                         nn.Linear(256, 1))


class _LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10000, 32)
        self.lstm = nn.LSTM(32, 32, batch_first=True)
        self.dense = nn.Linear(32, 1)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embedding(tokens))  # h: (1, B, 32)
        return self.dense(h[0])


class TorchRunner:
    """A hand-written epoch: data on the device, shuffled per epoch, loss and hits summed
    on the device and read once at the end."""

    def __init__(self, workload, shape, precision, device, data, jit=False):
        self.device = torch.device(device)  # `jit` is layerkit's alone
        self.model = torch_model(workload, shape).to(self.device)
        lr = 2e-5 if workload == "vgg16" else 1e-3
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
        x, y = data
        if x.ndim == 4:
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # NHWC -> NCHW
        self.x, self.y = torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(
            self.device)
        self.batch = shape["batch"]
        self.binary = workload != "convnet"
        self.dtype = None if precision == "fp32" else (
            torch.float16 if self.device.type == "cuda" else torch.bfloat16)
        self.scaler = torch.amp.GradScaler(self.device.type) \
            if self.dtype == torch.float16 else None

    def _loss_and_hits(self, logits, target):
        logits = logits.float()
        if self.binary:
            loss = nn.functional.binary_cross_entropy_with_logits(logits, target)
            return loss, ((logits > 0).float() == target).sum()
        loss = nn.functional.cross_entropy(logits, target)
        return loss, (logits.argmax(1) == target.argmax(1)).sum()

    def _step(self, xb, yb, sums):
        with self._autocast():
            loss, hits = self._loss_and_hits(self.model(xb), yb)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        sums[0] += loss.detach() * len(xb)
        sums[1] += hits

    def _autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def epoch(self):
        start = _now(self.device)
        n = len(self.x)
        order = torch.randperm(n, device=self.device)
        sums = torch.zeros(2, device=self.device)
        for begin in range(0, n, self.batch):
            idx = order[begin:begin + self.batch]
            self._step(self.x[idx], self.y[idx], sums)
        self.loss = (sums / n).tolist()[0]
        elapsed = _now(self.device) - start
        return elapsed, elapsed


# --------------------------------------------------------------------- the driver
def _now(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def environment(device):
    """The machine, as a header line."""
    device = torch.device(device)
    parts = [f"torch {torch.__version__}"]
    if device.type == "cuda":
        parts = [f"card: {torch.cuda.get_device_name(device)}"] + parts + [
            f"CUDA {torch.version.cuda}", f"cuDNN {torch.backends.cudnn.version()}"]
    else:
        parts = [f"device: cpu ({torch.get_num_threads()} threads)"] + parts
    return " | ".join(parts)


def load():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def run_workload(workload, args):
    """{(system, precision): [(epoch s, call s), ...]} over the rounds, and the steps."""
    shape = shapes(workload, args.quick)
    data = make_data(workload, shape)
    runners = {}
    for precision in args.precisions:
        for system in SYSTEMS:
            cls = LayerkitRunner if system == "layerkit" else TorchRunner
            torch.manual_seed(0)
            runners[system, precision] = cls(workload, shape, precision, args.device, data,
                                             args.jit)
    keys = list(runners)
    # warm-up, untimed: first calls, kernels chosen, allocator filled; under --jit a second
    # pass, as dynamo may recompile when the process switches to another model
    for _ in range(2 if args.jit else 1):
        for key in keys:
            runners[key].epoch()
    times = {key: [] for key in keys}
    for r in range(args.rounds):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            times[key].append(runners[key].epoch())
    losses = {key: runner.loss for key, runner in runners.items()}
    return times, shape["steps"], losses


def _spread(values):
    return f"{statistics.median(values):8.2f} [{min(values):.2f}-{max(values):.2f}]"


def report(workload, times, steps, losses, precisions):
    """Table rows for one workload, printed; returns them as dicts (for --json)."""
    rows = []
    for precision in precisions:
        mine = [e * 1000 / steps for e, _ in times["layerkit", precision]]
        calls = [c * 1000 / steps for _, c in times["layerkit", precision]]
        theirs = [e * 1000 / steps for e, _ in times["torch", precision]]
        ratios = [a / b for a, b in zip(mine, theirs)]
        print(f"{workload:8s} {precision:6s} {_spread(mine):>24s} {_spread(calls):>24s} "
              f"{_spread(theirs):>24s} {_spread(ratios):>22s}   "
              f"loss {losses['layerkit', precision]:.4g} / {losses['torch', precision]:.4g}")
        rows.append({"workload": workload, "precision": precision, "layerkit_ms": mine,
                     "layerkit_call_ms": calls, "torch_ms": theirs, "ratio": ratios})
    return rows


def mixed_over_fp32(rows):
    """Mixed / fp32 step time per workload and system (median of per-round ratios)."""
    by_key = {(r["workload"], r["precision"]): r for r in rows}
    lines = []
    for workload in dict.fromkeys(r["workload"] for r in rows):
        if (workload, "fp32") not in by_key or (workload, "mixed") not in by_key:
            continue
        fp32, mixed = by_key[workload, "fp32"], by_key[workload, "mixed"]
        cells = []
        for system, field in (("layerkit", "layerkit_ms"), ("torch", "torch_ms")):
            ratios = [m / f for m, f in zip(mixed[field], fp32[field])]
            cells.append(f"{system} {_spread(ratios).strip()}")
        lines.append(f"{workload:8s} mixed/fp32: " + "   ".join(cells))
    return lines


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS,
                        default=list(PRECISIONS))
    parser.add_argument("--rounds", type=int, default=None, help="default 5 (--quick: 2)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes: a smoke run")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    parser.add_argument("--jit", action="store_true",
                        help="layerkit compiles with jit_compile=True (torch.compile)")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: torch sees no CUDA device here; "
                     "pass --device cpu for a smoke run")
    return args


def main(argv=None):
    args = parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(environment(args.device))
    print(f"load before: {load()}   rounds: {args.rounds}"
          f"{'   layerkit: jit_compile=True' if args.jit else ''}"
          f"{'   QUICK (tiny shapes: not a measurement)' if args.quick else ''}")
    print(f"{'workload':8s} {'prec':6s} {'layerkit ms/step':>24s} {'layerkit call':>24s} "
          f"{'torch loop ms/step':>24s} {'ratio lk/torch':>22s}")
    rows = []
    for workload in args.only:
        times, steps, losses = run_workload(workload, args)
        rows += report(workload, times, steps, losses, args.precisions)
    for line in mixed_over_fp32(rows):
        print(line)
    print(f"load after: {load()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": environment(args.device), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
