"""Loading speed: what checksum verification costs, and how load time grows with layers.

Workloads (issue 16, "Numbers"):
  V  VGG16 (`applications.VGG16(weights=None)`: random weights, 138M of them, 528 MB)
     saved by layerkit as `.h5` and `.keras`. Read side: `load_weights` (bare: a copy from
     the page cache into the model's tensors) and `load_model`, each with verification
     (the default) and with `verify=False`, beside h5py alone reading every dataset into
     ready arrays (the floor for any loader). Target: verification adds at most 10% to
     both. Write side: `save`, and the checksums alone over the same weights (sum64, as
     written now, and CRC-32, as written before), each over the weights in memory.
  L  A Sequential of N Dense(4) layers, N = 1,000, 5,000, 20,000: `model_from_json` (the
     config alone) and `load_model` of `.h5` / `.keras` files with their weights.
     Target: linear in N; the 20,000-layer config in under 5 s.

Every variant of a workload runs once per round, in rotating order, because the machine
may be shared; rows give the median over `--repeat` rounds (default 5) and the spread
(min-max), for loads the median CPU seconds of all threads, and for verification the
median of the per-round ratios on / off. verify=False loads a file as one Keras wrote:
its weights are scanned for NaN / inf instead. Not part of the tests; run by hand:

    python benchmarks/bench_saving.py --repeat 9   # both workloads
    python benchmarks/bench_saving.py --only V
    python benchmarks/bench_saving.py --only L --layers 1000 5000
"""

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "torch")


def _times(variants, repeat, cpu=None):
    """`{name: [seconds per round]}`, each variant once per round, in rotating order;
    `cpu`, a dict, receives the CPU seconds (all threads) the same way."""
    times = {name: [] for name in variants}
    cpu = {} if cpu is None else cpu
    names = list(variants)
    for round_index in range(repeat):
        for name in names[round_index % len(names):] + names[:round_index % len(names)]:
            gc.collect()  # the previous run's garbage (20,000 layers) is not this run's cost
            start, start_cpu = time.perf_counter(), time.process_time()
            variants[name]()
            times[name].append(time.perf_counter() - start)
            cpu.setdefault(name, []).append(time.process_time() - start_cpu)
    return times


def _h5py_read_into(path, arrays):
    """Reads every dataset of `path` into the ready array of its path (h5py alone)."""
    import h5py

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            target = arrays.get(name)
            if target is None or target.shape != obj.shape or target.dtype != obj.dtype:
                target = arrays[name] = np.empty(obj.shape, obj.dtype)
            if target.size:
                obj.id.read(h5py.h5s.ALL, h5py.h5s.ALL, target)
    with h5py.File(path, "r") as handle:
        handle.visititems(visit)


def _row(name, values, note=""):
    spread = f"{min(values):.3f}-{max(values):.3f}"
    return (name, statistics.median(values), spread, note)


def _ratio_note(on, off):
    ratios = [a / b for a, b in zip(on, off)]
    return (f"x{statistics.median(ratios):.3f} of verify=False (rounds: "
            f"{min(ratios):.2f}-{max(ratios):.2f}; fastest rounds: x{min(on) / min(off):.3f})")


def bench_vgg(folder, repeat):
    from layerkit.applications import VGG16
    from layerkit.saving import integrity, load_model, load_weights

    model = VGG16(weights=None)
    weights = [np.ascontiguousarray(p.detach().numpy()) for p in model.parameters()]
    size = sum(w.nbytes for w in weights)
    label = f"VGG16 ({size / 2 ** 20:.0f} MB of weights)"
    paths = {ext: os.path.join(folder, f"vgg16.{ext}") for ext in ("h5", "keras")}
    write = _times({
        **{f"save .{ext}": (lambda p=p: model.save(p)) for ext, p in paths.items()},
        "checksums of the weights (sum64, as written)":
            lambda: [integrity.dataset_checksum(w) for w in weights],
        "CRC-32 of the weights (as written before)":
            lambda: [integrity.block_crcs(w) for w in weights]}, max(3, repeat // 2))
    rows = [_row(f"{label}: {name}", values,
                 f"{size / statistics.median(values) / 2 ** 30:.1f} GB/s")
            for name, values in write.items()]
    arrays, cpu = {}, {}
    read = _times({
        "load_weights .h5, verified": lambda: load_weights(model, paths["h5"]),
        "load_weights .h5, verify=False":
            lambda: load_weights(model, paths["h5"], verify=False),
        "h5py reads every dataset into ready arrays":
            lambda: _h5py_read_into(paths["h5"], arrays),
        **{f"load_model .{ext}, verified": (lambda p=p: load_model(p))
           for ext, p in paths.items()},
        **{f"load_model .{ext}, verify=False": (lambda p=p: load_model(p, verify=False))
           for ext, p in paths.items()}}, repeat, cpu)
    for name, values in read.items():
        note = f"{size / statistics.median(values) / 2 ** 30:.1f} GB/s"
        if name.endswith("verified"):
            note = _ratio_note(values, read[name.replace("verified", "verify=False")])
        note += f"; CPU {statistics.median(cpu[name]):.3f} s"
        rows.append(_row(f"{label}: {name}", values, note))
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
        times = _times({
            "model_from_json (config only)": lambda: model_from_json(text),
            "load_model .h5": lambda: load_model(paths["h5"]),
            "load_model .keras": lambda: load_model(paths["keras"])}, repeat)
        for name, values in times.items():
            rows.append(_row(f"{n:,} Dense layers: {name}", values,
                             f"{1000 * statistics.median(values) / n:.3f} ms per layer"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["V", "L"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--layers", type=int, nargs="+", default=[1000, 5000, 20000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "V"):
            rows += bench_vgg(folder, args.repeat)
        if args.only in (None, "L"):
            rows += bench_layers(folder, args.layers, args.repeat)
    print(f"\nload average {open('/proc/loadavg').read().split()[:3]} (after the run)"
          if os.path.exists("/proc/loadavg") else "")
    print(f"| workload | seconds (median of {args.repeat}) | spread | note |\n"
          "|---|---:|---:|---|")
    for name, seconds, spread, note in rows:
        print(f"| {name} | {seconds:.3f} | {spread} | {note} |")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
