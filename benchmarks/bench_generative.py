"""Chapter 8's two hot loops: text-generation `predict` and one style-transfer evaluation.

1. predict: the character-level LSTM of the book (LSTM(128) over 60 steps of 57
   characters, Dense softmax) samples text by calling `model.predict` on one sample
   thousands of times. Per call, alternated call by call in one process:
   - layerkit predict: `model.predict(sampled, verbose=0)[0]` on the numpy sample;
   - layerkit bare: `model(x)` on a ready float32 tensor under `torch.no_grad()`;
   - torch: the same weights in `nn.LSTM` + `nn.Linear` + softmax (batch_first);
   - keras3 predict: Keras 3's `model.predict` on the torch backend, same weights.
   Target: layerkit predict <= 1.5x layerkit bare. Run it with `--threads 1` on a shared
   or small machine: a 60-step LSTM on one sample is too small to split across threads,
   and on a busy machine the thread pool's waits dominate every system's time.
2. style transfer: the book's `fetch_loss_and_grads([x])`: content, Gram-matrix style and
   total-variation losses over VGG19 run on [target, style, combination] and the gradient
   with respect to the combination image, as `K.function` on a `K.placeholder`; against
   the same computation written with torch modules (NCHW) and `torch.autograd.grad`.
   Target: layerkit <= 1.15x torch.

Prints median seconds per call (wall and process CPU), the 10th-90th percentile of
wall times, and ratios.

    python benchmarks/bench_generative.py            # 400x300 style transfer
    python benchmarks/bench_generative.py --quick    # 100x75, fewer rounds
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

MAXLEN, CHARS, UNITS = 60, 57, 128
STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1",
                "block5_conv1"]
CONTENT_LAYER = "block5_conv2"


def timed_rounds(steps, rounds, calls, apart=()):
    """{name: ([wall s], [process CPU s])} per call, the systems alternated call by call
    (their order rotating each round) so that a busy moment of a shared machine falls on
    all of them; medians of single calls are robust to such moments. Systems in `apart`
    run in their own block each round: Keras 3's predict runs ~10 ms of Python, which
    would evict the caches of whatever ran next and charge it to a neighbour."""
    times = {name: ([], []) for name in steps}
    mixed = [name for name in steps if name not in apart]
    for r in range(rounds):
        order = mixed[r % len(mixed):] + mixed[:r % len(mixed)]
        blocks = [order] * calls + [[name] for name in apart for _ in range(calls)]
        for block in blocks:
            for name in block:
                wall, cpu = time.perf_counter(), time.process_time()
                steps[name]()
                times[name][1].append(time.process_time() - cpu)
                times[name][0].append(time.perf_counter() - wall)
    return times


def table(times, baseline, unit="ms", scale=1e3):
    base_wall = statistics.median(times[baseline][0])
    base_cpu = statistics.median(times[baseline][1])
    lines = [f"| system | median wall {unit}/call | p10-p90 wall | / {baseline} (wall) | "
             f"median CPU {unit}/call | / {baseline} (CPU) |", "|---|---|---|---|---|---|"]
    for name, (wall, cpu) in times.items():
        deciles = statistics.quantiles(wall, n=10) if len(wall) > 1 else wall * 9
        lines.append(
            f"| {name} | {statistics.median(wall) * scale:.3f} | {deciles[0] * scale:.3f}-"
            f"{deciles[-1] * scale:.3f} | {statistics.median(wall) / base_wall:.2f}x | "
            f"{statistics.median(cpu) * scale:.3f} | "
            f"{statistics.median(cpu) / base_cpu:.2f}x |")
    return "\n".join(lines)


# ---------------------------------------------------------------- 1. predict
def text_model():
    from layerkit import layers, models

    model = models.Sequential()
    model.add(layers.LSTM(UNITS, input_shape=(MAXLEN, CHARS)))
    model.add(layers.Dense(CHARS, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    return model


def torch_text_model(model):
    """nn.LSTM + nn.Linear with the layerkit weights (Keras gate order i, f, c, o = torch's
    i, f, g, o; Keras kernels are (in, 4u), torch's (4u, in))."""
    kernel, recurrent, bias, dense_kernel, dense_bias = model.get_weights()
    lstm, dense = nn.LSTM(CHARS, UNITS, batch_first=True), nn.Linear(UNITS, CHARS)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        lstm.bias_hh_l0.zero_()
        dense.weight.copy_(torch.from_numpy(dense_kernel.T))
        dense.bias.copy_(torch.from_numpy(dense_bias))

    def forward(x):
        with torch.no_grad():
            out, _ = lstm(x)
            return torch.softmax(dense(out[:, -1]), dim=-1)
    return forward


def bench_predict(rounds, calls, with_keras):
    model = text_model()
    rng = np.random.RandomState(0)
    sampled = np.zeros((1, MAXLEN, CHARS))  # float64, as the book's loop builds it
    sampled[0, np.arange(MAXLEN), rng.randint(0, CHARS, MAXLEN)] = 1.0
    x = torch.tensor(sampled, dtype=torch.float32)
    plain = torch_text_model(model)

    def bare():
        with torch.no_grad():
            return model(x)

    steps = {"layerkit predict": lambda: model.predict(sampled, verbose=0)[0],
             "layerkit bare model(x)": bare,
             "torch nn.LSTM": lambda: plain(x)}
    if with_keras:
        import keras

        kmodel = keras.Sequential([keras.Input((MAXLEN, CHARS)), keras.layers.LSTM(UNITS),
                                   keras.layers.Dense(CHARS, activation="softmax")])
        kmodel.set_weights(model.get_weights())
        steps["keras3 predict"] = lambda: kmodel.predict(sampled, verbose=0)[0]
    reference = plain(x).numpy()[0]
    for name, step in steps.items():  # same numbers first, then time
        out = step()
        out = out.numpy()[0] if isinstance(out, torch.Tensor) else np.asarray(out)
        np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-6, err_msg=name)
    times = timed_rounds(steps, rounds, calls, apart=["keras3 predict"] if with_keras else ())
    print(f"\npredict on one sample: LSTM({UNITS}) over {MAXLEN}x{CHARS} + Dense softmax; "
          f"{rounds} rounds x {calls} calls")
    print(table(times, "layerkit bare model(x)"))


# ---------------------------------------------------------------- 2. style transfer
def gram_matrix_k(K, x):
    features = K.batch_flatten(K.permute_dimensions(x, (2, 0, 1)))
    return K.dot(features, K.transpose(features))


def layerkit_style_step(height, width, target, style):
    """The book's listings 8.14-8.21 up to `fetch_loss_and_grads` (random VGG19 weights)."""
    from layerkit import backend as K
    from layerkit.applications import vgg19

    target_image = K.constant(target)
    style_reference_image = K.constant(style)
    combination_image = K.placeholder((1, height, width, 3))
    input_tensor = K.concatenate([target_image, style_reference_image, combination_image],
                                 axis=0)
    model = vgg19.VGG19(input_tensor=input_tensor, weights=None, include_top=False)
    outputs_dict = dict([(layer.name, layer.output) for layer in model.layers])

    def content_loss(base, combination):
        return K.sum(K.square(combination - base))

    def style_loss(style, combination):
        S, C = gram_matrix_k(K, style), gram_matrix_k(K, combination)
        channels, size = 3, height * width
        return K.sum(K.square(S - C)) / (4. * (channels ** 2) * (size ** 2))

    def total_variation_loss(x):
        a = K.square(x[:, :height - 1, :width - 1, :] - x[:, 1:, :width - 1, :])
        b = K.square(x[:, :height - 1, :width - 1, :] - x[:, :height - 1, 1:, :])
        return K.sum(K.pow(a + b, 1.25))

    loss = K.variable(0.)
    layer_features = outputs_dict[CONTENT_LAYER]
    loss += 0.025 * content_loss(layer_features[0, :, :, :], layer_features[2, :, :, :])
    for layer_name in STYLE_LAYERS:
        layer_features = outputs_dict[layer_name]
        sl = style_loss(layer_features[1, :, :, :], layer_features[2, :, :, :])
        loss += (1. / len(STYLE_LAYERS)) * sl
    loss += 1e-4 * total_variation_loss(combination_image)
    grads = K.gradients(loss, combination_image)[0]
    fetch_loss_and_grads = K.function([combination_image], [loss, grads])
    return model, fetch_loss_and_grads


def torch_vgg19(model):
    """VGG19's conv blocks as plain torch modules with the same weights (NCHW); returns
    (nn.ModuleList, names) with one entry per Keras layer."""
    modules, names = nn.ModuleList(), []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            kernel, bias = layer.get_weights()
            conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
                conv.bias.copy_(torch.from_numpy(bias))
            modules.append(nn.Sequential(conv, nn.ReLU()))
        elif kind == "MaxPooling2D":
            modules.append(nn.MaxPool2d(2))
        else:
            continue
        names.append(layer.name)
    return modules, names


def torch_style_step(model, height, width, target, style):
    modules, names = torch_vgg19(model)
    wanted = set(STYLE_LAYERS) | {CONTENT_LAYER}
    fixed = torch.from_numpy(np.concatenate([target, style]).astype("float32"))

    def gram(x):  # x: (C, H, W)
        features = x.reshape(x.shape[0], -1)
        return features @ features.T

    def step(image):
        comb = torch.from_numpy(image.astype("float32")).reshape(1, height, width, 3)
        comb.requires_grad_(True)
        x = torch.cat([fixed, comb]).permute(0, 3, 1, 2)  # (3, 3, H, W)
        outputs = {}
        for name, module in zip(names, modules):
            x = module(x)
            if name in wanted:
                outputs[name] = x
        feats = outputs[CONTENT_LAYER]
        loss = 0.025 * torch.sum(torch.square(feats[2] - feats[0]))
        for name in STYLE_LAYERS:
            feats = outputs[name]
            diff = gram(feats[1]) - gram(feats[2])
            loss = loss + torch.sum(diff ** 2) / (4. * 9 * (height * width) ** 2) / 5
        a = torch.square(comb[:, :-1, :-1, :] - comb[:, 1:, :-1, :])
        b = torch.square(comb[:, :-1, :-1, :] - comb[:, :-1, 1:, :])
        loss = loss + 1e-4 * torch.sum(torch.pow(a + b, 1.25))
        (grads,) = torch.autograd.grad(loss, comb)
        return loss.item(), grads.numpy().reshape(-1).astype("float64")
    return step


def bench_style(height, width, rounds, calls):
    rng = np.random.RandomState(0)
    target = (rng.random_sample((1, height, width, 3)) * 255 - 120).astype("float32")
    style = (rng.random_sample((1, height, width, 3)) * 255 - 120).astype("float32")
    model, fetch = layerkit_style_step(height, width, target, style)
    plain = torch_style_step(model, height, width, target, style)
    image = (rng.random_sample((1, height, width, 3)) * 255 - 120).astype("float32")

    def layerkit_eval():  # the book's Evaluator.loss: reshape, call, flatten to float64
        loss_value, grad_values = fetch([image.reshape((1, height, width, 3))])
        return loss_value, grad_values.flatten().astype("float64")

    steps = {"layerkit K.function": layerkit_eval, "torch autograd": lambda: plain(image)}
    ours, theirs = layerkit_eval(), plain(image)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-3)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-2, atol=1e-3 * np.abs(
        theirs[1]).max())
    times = timed_rounds(steps, rounds, calls)
    print(f"\nstyle transfer: loss + gradients through VGG19 on 3x{height}x{width}x3 "
          f"(random weights); {rounds} rounds x {calls} calls")
    print(table(times, "torch autograd", unit="s", scale=1.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100x75 style image, "
                        "fewer rounds")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--only", choices=["predict", "style"])
    parser.add_argument("--threads", type=int, help="torch intra-op threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"threads: {torch.get_num_threads()}")
    if args.only != "style":
        bench_predict(rounds=5 if args.quick else 7, calls=20 if args.quick else 50,
                      with_keras=not args.no_keras)
    if args.only != "predict":
        height, width = (75, 100) if args.quick else (400, 300)
        bench_style(height, width, rounds=3 if args.quick else 5, calls=1)


if __name__ == "__main__":
    main()
