"""K.function speed: the notes' filter-visualisation step on VGG16 at 150x150.

One call computes the loss (mean of one filter of `block3_conv1`) and its RMS-normalised
gradient with respect to the input image, as `iterate([input_img_data])` in the notes.
Three systems on the same weights and the same images, alternated call by call in one
process (same threads, same machine state):

- layerkit: `K.function([model.input], [loss, grads])` on `applications.VGG16`;
- torch: the same conv stack as plain `nn.Conv2d`/`nn.MaxPool2d` modules (NCHW), the
  gradient by `torch.autograd.grad`;
- keras3: Keras 3's VGG16 on the torch backend (Keras 3 has no K.function; the step is the
  model called on a tensor that requires grad, then `torch.autograd.grad`).

Target: layerkit <= 1.15x torch. Prints median seconds per call, the spread (min-max over
rounds) and ratios.

    python benchmarks/bench_backend.py --rounds 5 --calls 5
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

LAYER, FILTER, SIZE = "block3_conv1", 0, 150


def layerkit_step(model):
    from layerkit import backend as K

    loss = K.mean(model.get_layer(LAYER).output[:, :, :, FILTER])
    grads = K.gradients(loss, model.input)[0]
    grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)
    iterate = K.function([model.input], [loss, grads])
    return lambda image: iterate([image])


def torch_stack(model):
    """Blocks 1-3 up to block3_conv1 as plain torch modules with the same weights."""
    modules = []
    for layer in model.layers[1:]:
        kind = type(layer).__name__
        if kind == "Conv2D":
            kernel, bias = layer.get_weights()
            conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
                conv.bias.copy_(torch.from_numpy(bias))
            modules += [conv, nn.ReLU()]
        elif kind == "MaxPooling2D":
            modules.append(nn.MaxPool2d(2))
        if layer.name == LAYER:
            break
    return nn.Sequential(*modules).eval()


def torch_step(stack):
    def step(image):
        x = torch.from_numpy(image.astype("float32")).permute(0, 3, 1, 2).requires_grad_()
        loss = stack(x)[:, FILTER].mean()
        (grads,) = torch.autograd.grad(loss, x)
        grads = grads / (torch.sqrt(torch.mean(grads ** 2)) + 1e-5)
        return loss.item(), grads.permute(0, 2, 3, 1).numpy()
    return step


def keras_step(weights):
    import keras

    kmodel = keras.applications.VGG16(weights=None, include_top=False,
                                      input_shape=(SIZE, SIZE, 3))
    kmodel.set_weights(weights)
    sub = keras.Model(kmodel.input, kmodel.get_layer(LAYER).output)

    def step(image):
        x = torch.from_numpy(image.astype("float32")).requires_grad_()
        loss = sub(x)[..., FILTER].mean()
        (grads,) = torch.autograd.grad(loss, x)
        grads = grads / (torch.sqrt(torch.mean(grads ** 2)) + 1e-5)
        return loss.item(), grads.detach().numpy()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5, help="calls per system per round")
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args()
    from layerkit.applications import VGG16

    model = VGG16(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
    steps = {"layerkit": layerkit_step(model), "torch": torch_step(torch_stack(model))}
    if not args.no_keras:
        steps["keras3"] = keras_step(model.get_weights())
    image = np.random.RandomState(0).random_sample((1, SIZE, SIZE, 3)) * 20 + 128.0
    reference = steps["torch"](image)
    for name, step in steps.items():  # same numbers first, then time
        loss, grads = step(image)
        np.testing.assert_allclose(loss, reference[0], rtol=1e-4)
        np.testing.assert_allclose(grads, reference[1], rtol=1e-3, atol=1e-4)
    rounds = {name: [] for name in steps}
    for r in range(args.rounds):
        order = list(steps)[r % len(steps):] + list(steps)[:r % len(steps)]
        for name in order:
            start = time.perf_counter()
            for _ in range(args.calls):
                steps[name](image)
            rounds[name].append((time.perf_counter() - start) / args.calls)
    torch_median = statistics.median(rounds["torch"])
    print(f"threads: {torch.get_num_threads()}, rounds: {args.rounds} x {args.calls} calls, "
          f"VGG16 up to {LAYER}, input 1x{SIZE}x{SIZE}x3")
    print("| system | median s/call | min-max s/call | / torch |")
    print("|---|---|---|---|")
    for name, times in rounds.items():
        median = statistics.median(times)
        print(f"| {name} | {median:.4f} | {min(times):.4f}-{max(times):.4f} | "
              f"{median / torch_median:.2f}x |")


if __name__ == "__main__":
    main()
