"""Applications: predict speed and weight loading, layerkit vs plain PyTorch vs Keras 3.

Targets (issue 11):
  predict  VGG16 and ResNet50 on 224x224 images: layerkit <= 1.10x the same network written
           as plain PyTorch modules (eval mode, no grad, same threads, same weights). The
           torch modules are hand-written (torchvision is not installable here) and take
           NCHW tensors prepared outside the timing; layerkit and Keras 3 get the NHWC numpy
           batch through `predict`. All three run in one process, in rotating order each
           round, so a busy minute on this shared machine hits every runner.
  load     VGG16's weights with the top (the oracle writes a same-layout legacy .h5 file):
           peak extra memory <= 1.2x the weights' size and time <= 1.5x h5py reading every
           dataset alone. Each measurement runs in a fresh process (peak RSS above the RSS
           with libraries imported); rounds alternate the runners.

    python benchmarks/bench_applications.py                  # both parts
    python benchmarks/bench_applications.py --part predict --rounds 7 --batch 2 --threads 1
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")


# ============================================================================ plain PyTorch
def torch_vgg16():
    from torch import nn

    convs, features, channels = (2, 2, 3, 3, 3), [], 3
    for filters, count in zip((64, 128, 256, 512, 512), convs):
        for _ in range(count):
            features += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(inplace=True)]
            channels = filters
        features.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*features, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096),
                         nn.ReLU(inplace=True), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
                         nn.Linear(4096, 1000), nn.Softmax(dim=1))


def torch_resnet50():
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, channels, filters, stride, project):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, filters, 1, stride)
            self.bn1 = nn.BatchNorm2d(filters, eps=1.001e-5)
            self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
            self.bn2 = nn.BatchNorm2d(filters, eps=1.001e-5)
            self.conv3 = nn.Conv2d(filters, 4 * filters, 1)
            self.bn3 = nn.BatchNorm2d(4 * filters, eps=1.001e-5)
            self.shortcut = nn.Sequential(nn.Conv2d(channels, 4 * filters, 1, stride),
                                          nn.BatchNorm2d(4 * filters, eps=1.001e-5)) \
                if project else nn.Identity()

        def forward(self, x):
            y = self.bn1(self.conv1(x)).relu()
            y = self.bn2(self.conv2(y)).relu()
            return (self.shortcut(x) + self.bn3(self.conv3(y))).relu()

    blocks, channels = [], 64
    for stack, (filters, count) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
        for i in range(count):
            blocks.append(Bottleneck(channels, filters, 2 if stack and not i else 1, i == 0))
            channels = 4 * filters
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, padding=3), nn.BatchNorm2d(64, eps=1.001e-5),
                         nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, padding=1), *blocks,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000),
                         nn.Softmax(dim=1))


def torch_layer_names(name, net):
    """`[(Keras layer name, torch module)]` pairing the torch network with Keras's layers."""
    import torch

    if name == "VGG16":
        convs = [m for m in net if isinstance(m, torch.nn.Conv2d)]
        keras_names = [f"block{b}_conv{c}" for b, n in enumerate((2, 2, 3, 3, 3), 1)
                       for c in range(1, n + 1)]
        linears = [m for m in net if isinstance(m, torch.nn.Linear)]
        return list(zip(keras_names, convs)) + list(zip(("fc1", "fc2", "predictions"), linears))
    pairs = [("conv1_conv", net[0]), ("conv1_bn", net[1])]
    blocks = [m for m in net if hasattr(m, "conv1")]
    index = 0
    for stack, count in enumerate((3, 4, 6, 3), start=2):
        for b in range(1, count + 1):
            block, prefix = blocks[index], f"conv{stack}_block{b}"
            index += 1
            if b == 1:
                pairs += [(f"{prefix}_0_conv", block.shortcut[0]),
                          (f"{prefix}_0_bn", block.shortcut[1])]
            for i in (1, 2, 3):
                pairs += [(f"{prefix}_{i}_conv", getattr(block, f"conv{i}")),
                          (f"{prefix}_{i}_bn", getattr(block, f"bn{i}"))]
    return pairs + [("predictions", net[-2])]


def copy_weights(name, ours, net):
    """Fills the torch module from the layerkit model (Keras layouts -> torch layouts)."""
    import torch

    with torch.no_grad():
        for layer_name, module in torch_layer_names(name, net):
            weights = [torch.from_numpy(w) for w in ours.get_layer(layer_name).get_weights()]
            if isinstance(module, torch.nn.BatchNorm2d):
                for target, value in zip((module.weight, module.bias, module.running_mean,
                                          module.running_var), weights):
                    target.copy_(value)
                continue
            kernel = weights[0]
            if isinstance(module, torch.nn.Conv2d):
                kernel = kernel.permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
            else:
                if module.in_features == 512 * 7 * 7:  # Keras flattens (h, w, c), torch (c, h, w)
                    kernel = kernel.reshape(7, 7, 512, -1).permute(2, 0, 1, 3).reshape(25088, -1)
                kernel = kernel.T
            module.weight.copy_(kernel)
            module.bias.copy_(weights[1])


# ============================================================================ predict
def _keras_copy(name, ours):
    import keras

    theirs = getattr(keras.applications, name)(weights=None)
    for layer in theirs.layers[1:]:
        layer.set_weights(ours.get_layer(layer.name).get_weights())
    return theirs


def predict_part(names, batch, rounds):
    import torch

    from layerkit import applications, config

    config.set_random_seed(0)
    print(f"\n## predict: batch {batch} of 224x224 images, {rounds} rounds, "
          f"{torch.get_num_threads()} threads\n")
    print("| model | plain torch s/batch | layerkit s/batch | Keras 3 s/batch | "
          "layerkit / torch (median, range of rounds) | layerkit / Keras 3 | max rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        ours = getattr(applications, name)(weights=None)
        net = {"VGG16": torch_vgg16, "ResNet50": torch_resnet50}[name]().eval()
        copy_weights(name, ours, net)
        theirs = _keras_copy(name, ours)
        x = np.random.RandomState(0).uniform(-100, 100, (batch, 224, 224, 3)).astype("f4")
        x_nchw = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()

        def run_torch():
            with torch.inference_mode():
                return net(x_nchw).numpy()

        runners = {"torch": run_torch,
                   "layerkit": lambda: ours.predict(x, batch_size=batch, verbose=0),
                   "keras": lambda: theirs.predict(x, batch_size=batch, verbose=0)}
        outputs = {key: run() for key, run in runners.items()}  # warm-up, and the numbers
        diff = max(np.abs(outputs[k] - outputs["torch"]).max() for k in outputs) / \
            np.abs(outputs["torch"]).max()
        times = {key: [] for key in runners}
        keys = list(runners)
        for r in range(rounds):
            for key in keys[r % 3:] + keys[:r % 3]:
                start = time.perf_counter()
                runners[key]()
                times[key].append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        ratios = [a / b for a, b in zip(times["layerkit"], times["torch"])]
        print(f"| {name} | {med['torch']:.3f} | {med['layerkit']:.3f} | {med['keras']:.3f} | "
              f"{med['layerkit'] / med['torch']:.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) "
              f"| {med['layerkit'] / med['keras']:.2f}x | {diff:.1e} |", flush=True)
        del ours, net, theirs


# ============================================================================ loading
def _rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def load_child(runner, path):
    """One measurement in this fresh process: prints seconds and peak extra MB as JSON."""
    import h5py  # noqa: F401
    import torch  # noqa: F401

    import layerkit
    if runner == "keras":
        import keras
    model = layerkit.applications.VGG16(weights=None) if runner == "layerkit-load" else None
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak-RSS mark
    base = _rss_kb("VmRSS")
    start = time.perf_counter()
    if runner == "h5py":
        arrays = _h5py_read_all(path)
    elif runner == "layerkit":
        model = layerkit.applications.VGG16(weights=path)
    elif runner == "layerkit-load":
        model.load_weights(path)
    else:
        model = keras.applications.VGG16(weights=path)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "mb": (_rss_kb("VmHWM") - base) / 1024}))
    del model
    if runner == "h5py":
        del arrays


def _h5py_read_all(path):
    import h5py

    arrays = []
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda _, obj: arrays.append(obj[()])
                          if isinstance(obj, h5py.Dataset) else None)
    return arrays


def _write_oracle_file(path):
    import keras
    from keras.src.legacy.saving import legacy_h5_format
    import h5py

    model = keras.applications.VGG16(weights=None)
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return sum(int(np.prod(w.shape)) * 4 for w in model.weights) / 2 ** 20


def load_part(rounds):
    folder = tempfile.mkdtemp(prefix="bench_applications_")
    path = os.path.join(folder, "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
    code = ("import sys; sys.path.insert(0, %r); import bench_applications as b; "
            "print(b._write_oracle_file(%r))" % (os.path.dirname(__file__), path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    weights_mb = float(out.stdout.strip().splitlines()[-1])
    runners = ["h5py", "layerkit", "layerkit-load", "keras"]
    results = {r: [] for r in runners}
    for r in range(rounds + 1):  # round 0 warms the page cache
        for runner in runners[r % 4:] + runners[:r % 4]:
            child = subprocess.run([sys.executable, __file__, "--load-child", runner, path],
                                   capture_output=True, text=True)
            if child.returncode:
                raise RuntimeError(f"{runner} failed:\n{child.stderr[-3000:]}")
            if r:
                results[runner].append(json.loads(child.stdout.strip().splitlines()[-1]))
    os.remove(path)
    os.rmdir(folder)
    print(f"\n## load: VGG16 with the top, {weights_mb:.0f} MB of float32 weights, "
          f"{rounds} rounds\n")
    print("| runner | seconds (median, range) | vs h5py alone | peak extra MB (median) | "
          "vs weights' size |")
    print("|---|---|---|---|---|")
    h5 = statistics.median(m["seconds"] for m in results["h5py"])
    labels = {"h5py": "h5py reads every dataset", "layerkit": "layerkit VGG16(weights=path)",
              "layerkit-load": "layerkit model.load_weights(path) (model built)",
              "keras": "Keras 3 VGG16(weights=path)"}
    for runner in runners:
        secs = [m["seconds"] for m in results[runner]]
        mb = statistics.median(m["mb"] for m in results[runner])
        print(f"| {labels[runner]} | {statistics.median(secs):.2f} ({min(secs):.2f}-"
              f"{max(secs):.2f}) | {statistics.median(secs) / h5:.2f}x | {mb:.0f} | "
              f"{mb / weights_mb:.2f}x |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["predict", "load", "both"], default="both")
    parser.add_argument("--models", nargs="*", default=["VGG16", "ResNet50"])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for the predict part (default: torch's choice); "
                             "1 avoids OpenMP barrier waits when other processes hold cores")
    parser.add_argument("--load-child", nargs=2)
    args = parser.parse_args()
    if args.load_child:
        load_child(*args.load_child)
        return
    if args.part in ("predict", "both"):
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        predict_part(args.models, args.batch, args.rounds)
    if args.part in ("load", "both"):
        load_part(args.rounds)


if __name__ == "__main__":
    main()
