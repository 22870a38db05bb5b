"""An overridden train_step (Keras's guide, torch idiom) against the built-in step.

Same MLP, same data, same optimizer; prints the time of each and the ratio
custom / built-in (the redesign's bar: at most 1.05).
"""

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


def _time(model, x, y, repeats=5):
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    rng = np.random.RandomState(0)
    x = rng.rand(16384, 64).astype("float32")
    y = rng.randint(0, 10, size=16384)
    builtin, custom = _model(lk.Sequential), _model(GuideStep)
    t_builtin, t_custom = [], []
    for _ in range(3):  # interleaved, so drift hits both
        t_builtin.append(_time(builtin, x, y, 2))
        t_custom.append(_time(custom, x, y, 2))
    b, c = min(t_builtin), min(t_custom)
    print(f"built-in train_step: {b * 1e3:.1f} ms/epoch ({len(x) // 64} steps)")
    print(f"overridden train_step: {c * 1e3:.1f} ms/epoch")
    print(f"ratio custom / built-in: {c / b:.3f}")


if __name__ == "__main__":
    main()
