"""`layerkit demo`: trains the notes' model families on real data that ships offline.

The seeds' workflows on scikit-learn's bundled datasets (no internet needed):
- breast_cancer: binary MLP (Dense 16-16-1, rmsprop, binary_crossentropy, 'acc'), like
  the IMDB model, with EarlyStopping + ModelCheckpoint('..._best.h5', save_best_only=True);
- digits: multi-class MLP (Dense 64-64-10 softmax, categorical_crossentropy, one-hot
  labels), like the Reuters model;
- digits_cnn: the notes' convnet (Conv2D + MaxPooling2D + Dense) on the 8x8 digit images,
  then a look inside it as in the notes' chapter 5: every conv layer's activations, the
  patterns its first filters respond to, and Grad-CAM heatmaps over test digits;
- diabetes: regression (Dense 64-64-1, mse, 'mae') with 4-fold validation, like Boston;
- fashion_mnist: seed 002's Flatten-300-100-10 with SGD(lr=0.01, momentum=0.9,
  nesterov=True) on the real Fashion-MNIST, when its files are on this machine (Debian's
  `dataset-fashion-mnist`, or fashion-mnist files in ~/.keras/datasets); skipped otherwise.
Each prints the Keras progress bar and test scores, and writes learning-curve PNGs and the
trained models (`model.save('<name>.h5')`, loadable by `layerkit.models.load_model` and
Keras) to `--output`.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch

from . import config, layers, models
from .callbacks import EarlyStopping, ModelCheckpoint
from .utils.numerical import to_categorical


def _sklearn_data_file(name):
    """Path of a CSV that scikit-learn bundles, found without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    folder = os.path.join(os.path.dirname(spec.origin), "datasets", "data")
    return os.path.join(folder, name)


def load_bundled(name):
    """(x, y) of scikit-learn's `load_<name>()`, read straight from its bundled files.

    `import sklearn.datasets` pulls in scipy.stats (1-3 s on a busy machine, a third of the
    quick demo); the arrays are the same (tests compare them with scikit-learn's loaders).
    Falls back to scikit-learn when its files have moved.
    """
    files = {"breast_cancer": "breast_cancer.csv", "digits": "digits.csv.gz",
             "diabetes": "diabetes_data_raw.csv.gz"}
    path = _sklearn_data_file(files[name])
    if not os.path.exists(path):
        from sklearn import datasets

        return getattr(datasets, f"load_{name}")(return_X_y=True)
    if name == "breast_cancer":  # header: n_samples, n_features, class names
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        return table[:, :-1], table[:, -1].astype(int)
    if name == "digits":
        table = np.loadtxt(path, delimiter=",")
        return table[:, :-1], table[:, -1].astype(int)
    x = np.loadtxt(path)  # diabetes, scaled as load_diabetes(scaled=True) does
    x = (x - x.mean(axis=0)) / x.std(axis=0) / len(x) ** 0.5
    return x, np.loadtxt(_sklearn_data_file("diabetes_target.csv.gz"))


def _standardize(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-12
    return (train - mean) / std, (test - mean) / std


def _split(x, y, seed, test_fraction=0.2):
    order = np.random.RandomState(seed).permutation(len(x))
    cut = int(len(x) * (1 - test_fraction))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def _save_model(model, out_dir, name):
    model.save(os.path.join(out_dir, f"{name}.h5"))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _epoch_axis(ax):
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_xlabel("Epochs")


def history_figure(history, keys, title):
    """Training (dots) and validation (line) curves of each key, one panel per key."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 4.2))
    for ax, key in zip(np.atleast_1d(axes), keys):
        epochs = range(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], "bo", label=f"Training {key}")
        if "val_" + key in history:
            ax.plot(epochs, history["val_" + key], "b", label=f"Validation {key}")
        ax.set_title(f"{title}: {key}")
        _epoch_axis(ax)
        ax.set_ylabel(key)
        ax.legend()
    fig.tight_layout()
    return fig


def kfold_figure(train_mae, val_mae, best_epoch, k):
    """Fold-averaged training and validation MAE, the chosen epoch marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    epochs = range(1, len(val_mae) + 1)
    ax.plot(epochs, train_mae, "bo", markersize=4, label=f"Training MAE (mean of {k} folds)")
    ax.plot(epochs, val_mae, "b", label=f"Validation MAE (mean of {k} folds)")
    ax.axvline(best_epoch, color="gray", linestyle="--",
               label=f"lowest validation MAE: epoch {best_epoch}")
    ax.set_title(f"diabetes: {k}-fold validation")
    _epoch_axis(ax)
    ax.set_ylabel("mean absolute error")
    ax.legend()
    fig.tight_layout()
    return fig


def save_figure(fig, path):
    """Writes a figure built by `history_figure` / `kfold_figure` and closes it."""
    fig.savefig(path)
    _pyplot().close(fig)


def breast_cancer(out_dir, epochs, verbose):
    x, y = load_bundled("breast_cancer")
    x_train, y_train, x_test, y_test = _split(x, y.astype("float32"), 0)
    x_train, x_test = _standardize(x_train, x_test)
    model = models.Sequential([
        layers.Dense(16, activation="relu", input_shape=(x_train.shape[1],)),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    callbacks_ = [
        EarlyStopping(monitor="val_loss", patience=5),
        ModelCheckpoint(os.path.join(out_dir, "breast_cancer_best.h5"), monitor="val_loss",
                        save_best_only=True),
    ]
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32,
                        validation_split=0.2, verbose=verbose, callbacks=callbacks_)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    figure = history_figure(history.history, ["loss", "acc"], "breast_cancer")
    save_figure(figure, os.path.join(out_dir, "breast_cancer_curves.png"))
    _save_model(model, out_dir, "breast_cancer")
    return {"test_loss": loss, "test_acc": acc}


def digits(out_dir, epochs, verbose):
    x, y = load_bundled("digits")
    x_train, y_train, x_test, y_test = _split(x / 16.0, y, 1)
    model = models.Sequential([
        layers.Dense(64, activation="relu", input_shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, to_categorical(y_train), epochs=epochs, batch_size=32,
                        validation_split=0.2, verbose=verbose)
    loss, acc = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    figure = history_figure(history.history, ["loss", "accuracy"], "digits")
    save_figure(figure, os.path.join(out_dir, "digits_curves.png"))
    _save_model(model, out_dir, "digits")
    return {"test_loss": loss, "test_accuracy": acc}


def digits_cnn(out_dir, epochs, verbose, quick=False):
    x, y = load_bundled("digits")
    images = (x / 16.0).reshape(-1, 8, 8, 1)
    x_train, y_train, x_test, y_test = _split(images, y, 3)
    model = models.Sequential([
        layers.Conv2D(16, (3, 3), activation="relu", padding="same", input_shape=(8, 8, 1)),
        layers.Conv2D(32, (3, 3), activation="relu", padding="same"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["acc"])
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.2,
                        verbose=verbose)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    figure = history_figure(history.history, ["loss", "acc"], "digits convnet")
    save_figure(figure, os.path.join(out_dir, "digits_cnn_curves.png"))
    _save_model(model, out_dir, "digits_cnn")
    _look_inside(model, x_test, y_test, out_dir, steps=10 if quick else 40)
    return {"test_loss": loss, "test_acc": acc}


def _look_inside(model, images, labels, out_dir, steps):
    """Chapter 5 of the notes on the trained convnet: three PNGs."""
    from . import visualization as vis

    convs = [layer.name for layer in model.layers if isinstance(layer, layers.Conv2D)]
    activations = vis.layer_activations(model, images[0])
    vis.save_activation_grids(
        activations, os.path.join(out_dir, "digits_cnn_activations.png"), images_per_row=8,
        title=f"Activations of the digits convnet for a test image of a {labels[0]}")
    patterns = vis.filter_patterns(model, convs[0], range(16), steps=steps,
                                   value_range=(0.0, 1.0))
    vis.save_filter_patterns(
        patterns, os.path.join(out_dir, "digits_cnn_filters.png"),
        title=f"What the 16 filters of '{convs[0]}' respond to (gradient ascent)")
    shown = images[:6]
    heatmaps, classes = vis.grad_cam(model, shown, convs[-1])
    probabilities = model.predict(shown, verbose=0)
    captions = [f"digit {y}: predicted {c} (p={probabilities[i, c]:.2f})"
                for i, (y, c) in enumerate(zip(labels[:6], classes))]
    vis.save_grad_cam(shown, heatmaps, os.path.join(out_dir, "digits_cnn_grad_cam.png"),
                      labels=captions,
                      title=f"Grad-CAM at '{convs[-1]}': where the convnet sees the class")


def fashion_mnist(out_dir, epochs, verbose, quick=False):
    from .datasets import fashion_mnist as loader
    from .optimizers import SGD

    (x_train, y_train), (x_test, y_test) = loader.load_data()
    if quick:
        x_train, y_train, x_test, y_test = x_train[:3000], y_train[:3000], x_test[:1000], \
            y_test[:1000]
    x_valid, x_train = x_train[:len(x_train) // 12] / 255.0, x_train[len(x_train) // 12:] / 255.0
    y_valid, y_train = y_train[:len(y_train) // 12], y_train[len(y_train) // 12:]
    model = models.Sequential([
        layers.Flatten(input_shape=[28, 28]),
        layers.Dense(300, activation="relu"),
        layers.Dense(100, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=SGD(lr=0.01, momentum=0.9, nesterov=True), metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, validation_data=(x_valid, y_valid),
                        verbose=verbose)
    loss, acc = model.evaluate(x_test / 255.0, y_test, verbose=0)
    figure = history_figure(history.history, ["loss", "accuracy"], "fashion_mnist")
    save_figure(figure, os.path.join(out_dir, "fashion_mnist_curves.png"))
    _save_model(model, out_dir, "fashion_mnist")
    return {"test_loss": loss, "test_accuracy": acc}


def _regression_model(width):
    model = models.Sequential([
        layers.Dense(64, activation="relu", input_shape=(width,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def diabetes(out_dir, epochs, verbose, k=4):
    """k-fold validation picks the number of epochs; the final model trains that many."""
    x, y = load_bundled("diabetes")
    x_train, y_train, x_test, y_test = _split(x, y / 100.0, 2)
    x_train, x_test = _standardize(x_train, x_test)
    fold = len(x_train) // k
    train_mae, val_mae = [], []
    for i in range(k):
        print(f"processing fold #{i}")
        val = slice(i * fold, (i + 1) * fold)
        mask = np.ones(len(x_train), bool)
        mask[val] = False
        model = _regression_model(x_train.shape[1])
        history = model.fit(x_train[mask], y_train[mask], epochs=epochs, batch_size=16,
                            validation_data=(x_train[val], y_train[val]), verbose=verbose)
        train_mae.append(history.history["mae"])
        val_mae.append(history.history["val_mae"])
    average = np.mean(val_mae, axis=0)
    best_epoch = int(np.argmin(average)) + 1
    save_figure(kfold_figure(np.mean(train_mae, axis=0), average, best_epoch, k),
                os.path.join(out_dir, "diabetes_kfold_mae.png"))
    print(f"lowest mean validation MAE at epoch {best_epoch}: training the final model "
          f"for {best_epoch} epochs on all training data")
    model = _regression_model(x_train.shape[1])
    model.fit(x_train, y_train, epochs=best_epoch, batch_size=16, verbose=0)
    mse, mae = model.evaluate(x_test, y_test, verbose=0)
    _save_model(model, out_dir, "diabetes")
    return {"kfold_val_mae": float(average[best_epoch - 1]), "best_epoch": best_epoch,
            "test_mse": mse, "test_mae": mae}


def _run_families(args):
    results = {}
    for name, fn, epochs in (("breast_cancer", breast_cancer, 30),
                             ("digits", digits, 20),
                             ("digits_cnn", digits_cnn, 15),
                             ("diabetes", diabetes, 40)):
        print(f"\n=== {name} ===")
        kwargs = {"quick": True} if args.quick and fn is digits_cnn else {}
        results[name] = fn(args.output, 2 if args.quick else epochs, args.verbose, **kwargs)
        print(name, {k: round(float(v), 4) for k, v in results[name].items()})
    print("\n=== fashion_mnist ===")
    try:
        results["fashion_mnist"] = fashion_mnist(args.output, 2 if args.quick else 10,
                                                 args.verbose, quick=args.quick)
        print("fashion_mnist", {k: round(float(v), 4)
                                for k, v in results["fashion_mnist"].items()})
    except OSError as e:  # not on this machine and no internet: say how to get it
        print(f"skipped: {e}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="layerkit demo", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 epochs per model, fewer gradient-ascent steps: seconds")
    parser.add_argument("--output", default="layerkit_demo_output",
                        help="folder for plots and models (default: %(default)s)")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                        help="0 silent, 1 progress bar, 2 one line per epoch (default 1)")
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    config.set_random_seed(0)
    start = time.time()
    # These models are tiny (at most 300 units, 8x8 images): splitting their kernels over
    # threads costs more than it saves, 6-20x more on a busy 2-core machine (measured).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = _run_families(args)
    finally:
        torch.set_num_threads(threads)
    with open(os.path.join(args.output, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nDone in {time.time() - start:.1f}s. Plots, models and results.json are in "
          f"{os.path.abspath(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
