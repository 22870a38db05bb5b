"""What the chapter-8 programs share: flags, the output folder, and stand-in inputs.

Each program is the book's listing (Deep Learning with Python, 1st edition, chapter 8)
with only the import line changed. This module answers what a script meets first on a
fresh machine: where to write (`--output`, default `examples_output/generative/<name>`;
pictures are PNG files there, not `plt.show()` windows), and, with `--quick`, what to run
on when there is no dataset or ImageNet weight file: small built-in data (scikit-learn's
8x8 digits, a synthetic picture, a paragraph of text) and random weights, so that every
step runs in seconds. The numbers and pictures then show the mechanics, not the art.
"""

import argparse
import os

import numpy as np


def setup(doc, name, argv=None, extra=None):
    """Parses `--quick`, `--output` (and the flags `extra(parser)` adds); creates the
    output folder and selects matplotlib's file backend."""
    parser = argparse.ArgumentParser(prog=f"python examples/generative/{name}.py",
                                     description=doc.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny data, random weights, few steps: seconds")
    parser.add_argument("--output", metavar="DIR",
                        default=os.path.join("examples_output", "generative", name),
                        help="folder for the outputs (default: %(default)s)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    return args


def out(args, file_name):
    """The path of an output file: `--output/file_name`."""
    return os.path.join(args.output, file_name)


def synthetic_picture(height, width, seed=0, path=None):
    """A smooth colourful RGB picture (uint8), saved to `path` when given: a stand-in for
    the book's photographs."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(2, 9), rng.uniform(2, 9), rng.uniform(0, 2 * np.pi)
        channels.append(np.sin(fx * xx * np.pi + phase) * np.cos(fy * yy * np.pi))
    picture = ((np.stack(channels, -1) + 1) * 127.5).astype("uint8")
    if path is not None:
        from layerkit.preprocessing.image import save_img

        save_img(path, picture)
    return picture


def digits(size=8):
    """scikit-learn's 1,797 handwritten 8x8 digits as (n, size, size) floats in [0, 255]
    (resized when `size` is not 8) and their labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = data.images * (255.0 / 16.0)
    if size != 8:
        from scipy.ndimage import zoom

        images = zoom(images, (1, size / 8, size / 8), order=1)
    return np.clip(images, 0, 255).astype("float32"), data.target
