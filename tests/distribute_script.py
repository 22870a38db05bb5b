"""A training script that runs unchanged in one process and under torchrun:

    python tests/distribute_script.py OUT.npz
    torchrun --standalone --nproc_per_node=2 tests/distribute_script.py OUT.npz

It trains the float64 MLP of `distribute_workers` for 3 epochs (global batch 32, N=70) and
rank 0 writes the weights and History to OUT.npz (atomically; every rank waits for it).
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import distribute_workers as workers  # noqa: E402
from layerkit import config, distribute  # noqa: E402


def main(path):
    torch.set_num_threads(1)
    config.set_floatx("float64")
    strategy = distribute.MirroredStrategy(timeout=120)
    x, y, w = workers.dataset(70)
    with strategy.scope():
        model = workers.build_model()
        history = model.fit(x, y, sample_weight=w, batch_size=32, epochs=3, shuffle=False,
                            verbose=0)
    arrays = {f"w{i}": v for i, v in enumerate(model.get_weights())}
    arrays["loss"] = np.asarray(history.history["loss"])
    arrays["replicas"] = np.asarray(strategy.num_replicas_in_sync)
    distribute.write_atomically(path, lambda tmp: np.savez(open(tmp, "wb"), **arrays))


if __name__ == "__main__":
    main(sys.argv[1])
