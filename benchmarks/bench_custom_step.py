"""An overridden train_step (Keras's guide, torch idiom) against the built-in step.

Same MLP, same data, same optimizer; prints the time of each and the ratio
custom / built-in (the redesign's bar: at most 1.05). Options shorten the run
(`--samples 4096 --rounds 3`) or measure small batches (`--batch-size 16`), where the
per-step overhead shows most; `--threads 1 --clock cpu` steadies it on a busy machine.
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch

import layerkit as lk
from layerkit import layers


class GuideStep(lk.Sequential):
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred)
        loss.backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([w.grad for w in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _model(cls):
    lk.utils.set_random_seed(0)
    model = cls([layers.Dense(256, activation="relu", input_shape=(64,)),
                 layers.Dense(256, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _time(model, x, y, batch_size, clock):
    start = clock()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return clock() - start


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6, help="alternating epochs of each")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    return parser.parse_args()


def main():
    args = _arguments()
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    rng = np.random.RandomState(0)
    x = rng.rand(args.samples, 64).astype("float32")
    y = rng.randint(0, 10, size=args.samples)
    builtin, custom = _model(lk.Sequential), _model(GuideStep)
    for model in (builtin, custom):  # warm-up
        model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    t_builtin, t_custom = [], []
    for round_ in range(args.rounds):  # interleaved, each first in turn: drift hits both
        for model in (builtin, custom) if round_ % 2 == 0 else (custom, builtin):
            times = t_builtin if model is builtin else t_custom
            times.append(_time(model, x, y, args.batch_size, clock))
    b, c = min(t_builtin), min(t_custom)
    paired = sorted(tc / tb for tb, tc in zip(t_builtin, t_custom))
    steps = -(-len(x) // args.batch_size)
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "?"
    print(f"load {load}, threads {torch.get_num_threads()}, clock {args.clock}")
    print(f"built-in train_step: {b * 1e3:.1f} ms/epoch (median "
          f"{statistics.median(t_builtin) * 1e3:.1f}; {steps} steps of {args.batch_size})")
    print(f"overridden train_step: {c * 1e3:.1f} ms/epoch "
          f"(median {statistics.median(t_custom) * 1e3:.1f})")
    print(f"ratio custom / built-in: {c / b:.3f} (best epochs); paired epochs "
          f"{paired[0]:.3f}-{paired[-1]:.3f}, median {statistics.median(paired):.3f}; "
          f"custom - built-in: {(c - b) / steps * 1e6:+.1f} us/step (best epochs)")


if __name__ == "__main__":
    main()
