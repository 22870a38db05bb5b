"""Loading speed: what checksum verification costs, and how load time grows with layers.

Workloads (issue 16, "Numbers"):
  V  VGG16 (`applications.VGG16(weights=None)`, 138M weights, 528 MB) saved by layerkit as
     `.h5` and `.keras`: `load_model` and `load_weights` with verification (the default)
     and with `verify=False`; beside them, reading every dataset with h5py alone (the floor
     for any loader) and CRC-32 over the weights alone (what verification computes).
     Target: verification adds at most 10% to `load_model`.
  L  A Sequential of N Dense(4) layers, N = 1,000, 5,000, 20,000: `model_from_json` (the
     config alone) and `load_model` of `.h5` / `.keras` files with their weights.
     Target: linear in N; the 20,000-layer config in under 5 s.

Timings are the median of 3 rounds (`--repeat`); the variants of a workload alternate
within a round, because the machine may be shared. Not part of the tests; run by hand:

    python benchmarks/bench_saving.py             # both workloads
    python benchmarks/bench_saving.py --only L --layers 1000 5000
"""

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "torch")


def _median_times(variants, repeat):
    """`{name: median seconds}` running each variant once per round, in rotating order."""
    times = {name: [] for name in variants}
    names = list(variants)
    for round_index in range(repeat):
        for name in names[round_index % len(names):] + names[:round_index % len(names)]:
            gc.collect()  # the previous run's garbage (20,000 layers) is not this run's cost
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _h5py_read(path):
    import h5py

    def visit(_, obj):
        if isinstance(obj, h5py.Dataset):
            obj[()]
    with h5py.File(path, "r") as handle:
        handle.visititems(visit)


def bench_vgg(folder, repeat):
    from layerkit.applications import VGG16
    from layerkit.saving import load_model, load_weights

    model = VGG16(weights=None)
    weights = [np.ascontiguousarray(p.detach().numpy()) for p in model.parameters()]
    size = sum(w.nbytes for w in weights)
    rows = []
    for ext in ("h5", "keras"):
        path = os.path.join(folder, f"vgg16.{ext}")
        start = time.perf_counter()
        model.save(path)
        saved = time.perf_counter() - start
        variants = {
            "load_model, verified": lambda: load_model(path),
            "load_model, verify=False": lambda: load_model(path, verify=False)}
        if ext == "h5":
            variants.update({
                "load_weights, verified": lambda: load_weights(model, path),
                "load_weights, verify=False": lambda: load_weights(model, path, verify=False),
                "h5py reads every dataset": lambda: _h5py_read(path),
                "CRC-32 of the weights alone": lambda: [zlib.crc32(w) for w in weights]})
        times = _median_times(variants, repeat)
        rows.append((f"VGG16 .{ext} ({size / 2 ** 20:.0f} MB of weights): save", saved, ""))
        for what in ("load_model", "load_weights"):
            on, off = times.get(f"{what}, verified"), times.get(f"{what}, verify=False")
            if on is None:
                continue
            rows.append((f"VGG16 .{ext}: {what}, verified", on,
                         f"+{100 * (on - off) / off:.1f}% over verify=False"))
            rows.append((f"VGG16 .{ext}: {what}, verify=False", off, ""))
        for name in ("h5py reads every dataset", "CRC-32 of the weights alone"):
            if name in times:
                rows.append((f"VGG16 .{ext}: {name}", times[name],
                             f"{size / times[name] / 2 ** 30:.1f} GB/s"))
    return rows


def _many(n):
    from layerkit import layers, models

    return models.Sequential([layers.Input((4,))] + [layers.Dense(4) for _ in range(n)])


def bench_layers(folder, counts, repeat):
    from layerkit.saving import load_model, model_from_json

    rows = []
    for n in counts:
        model = _many(n)
        text = model.to_json()
        paths = {ext: os.path.join(folder, f"layers{n}.{ext}") for ext in ("h5", "keras")}
        for path in paths.values():
            model.save(path)
        del model
        times = _median_times({
            "model_from_json (config only)": lambda: model_from_json(text),
            "load_model .h5": lambda: load_model(paths["h5"]),
            "load_model .keras": lambda: load_model(paths["keras"])}, repeat)
        for name, seconds in times.items():
            rows.append((f"{n:,} Dense layers: {name}", seconds,
                         f"{1000 * seconds / n:.3f} ms per layer"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["V", "L"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--layers", type=int, nargs="+", default=[1000, 5000, 20000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "V"):
            rows += bench_vgg(folder, args.repeat)
        if args.only in (None, "L"):
            rows += bench_layers(folder, args.layers, args.repeat)
    print(f"\n| workload | seconds (median of {args.repeat}) | note |\n|---|---:|---|")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.3f} | {note} |")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
