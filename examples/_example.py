"""What the examples share: their flags, their output folder, and data on an offline machine.

Each example is the notes' code as the notes wrote it. This module only answers the two
questions a script meets first on a fresh machine without internet:

- where do I write? `--output` (default `examples_output/<example>`); plots are PNG files
  there instead of `plt.show()` windows;
- what if `imdb.npz` is not in `~/.keras/datasets`? The loader's error says which file to
  put where; with `--quick` the example goes on with tiny synthetic files written in
  Keras's exact on-disk format (npz with object arrays, gzip'ed IDX), so every step runs
  (the scores then mean nothing, and the example says so).
"""

import argparse
import gzip
import os
import struct
import sys
import tempfile
import warnings

import numpy as np


def parser(doc, name):
    """An ArgumentParser with the flags every example has; add your own, then `setup`."""
    parser = argparse.ArgumentParser(
        prog=f"python examples/{name}.py", description=doc.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny data and 1-2 epochs: seconds, to see that every step runs")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="a Keras home holding the dataset files in DIR/datasets/ "
                             "(default: $KERAS_HOME or ~/.keras)")
    parser.add_argument("--output", metavar="DIR", default=os.path.join("examples_output", name),
                        help="folder for plots, models and logs (default: %(default)s)")
    return parser


def setup(parser, argv=None):
    """Parses the flags, creates the output folder, selects matplotlib's file backend."""
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")  # scripts write PNG files; no window to show
    except ImportError:
        pass
    return args


def out(args, file_name):
    """The path of an output file: `--output/file_name`."""
    return os.path.join(args.output, file_name)


def load(loader, args, **kwargs):
    """`loader.load_data(**kwargs)` from Keras's cache (or `--data-dir`).

    When the files are missing, prints the loader's advice (which file, from which URL,
    into which folder) and stops; with `--quick` it writes tiny synthetic files in the
    same format into a temporary Keras home and loads those instead.
    """
    name = loader.__name__.rsplit(".", 1)[-1]
    home = _SYNTHETIC_HOMES.get(name)
    if home is None:
        try:
            return loader.load_data(cache_dir=args.data_dir, **kwargs)
        except OSError as error:  # layerkit's DownloadError: not cached, no network
            print(f"\n{error}\n")
            if not args.quick:
                print("Put the file there (or pass --data-dir), or add --quick to run this "
                      "example on tiny synthetic data in the same format.")
                sys.exit(2)
        home = _SYNTHETIC_HOMES[name] = tempfile.mkdtemp(prefix="layerkit_example_")
        SYNTHETIC[name](os.path.join(home, "datasets"))
        print(f"--quick: tiny synthetic data in Keras's format, written to {home}/datasets "
              "(the scores below mean nothing)")
    with warnings.catch_warnings():  # "does not match the official hash": we know
        warnings.simplefilter("ignore", UserWarning)
        return loader.load_data(cache_dir=home, **kwargs)


# ------------------------------------------------------------------ synthetic files

_SYNTHETIC_HOMES = {}  # dataset name -> temporary Keras home, written once per process

def _sequences(rng, labels, vocab, lengths=(20, 80)):
    """Object array of lists of word ranks; each class favours its own block of words."""
    out = np.empty(len(labels), dtype=object)  # element-wise, as Keras stores them
    classes = int(labels.max()) + 1
    for i, label in enumerate(labels):
        common = rng.integers(1, 50, rng.integers(*lengths))
        block = vocab // classes
        own = rng.integers(50 + label * block // 2, 50 + (label + 1) * block // 2,
                           len(common) // 2)
        out[i] = [int(w) for w in rng.permutation(np.concatenate([common, own]))]
    return out


def write_imdb(folder, n=400):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 2, n), rng.integers(0, 2, n)
    np.savez(os.path.join(folder, "imdb.npz"), x_train=_sequences(rng, y_train, 2000),
             y_train=y_train, x_test=_sequences(rng, y_test, 2000), y_test=y_test)


def write_reuters(folder, n=600):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 46, n)
    np.savez(os.path.join(folder, "reuters.npz"), x=_sequences(rng, y, 4000), y=y)


def write_boston_housing(folder, n=150):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, 13)) * [8, 20, 7, .3, .1, .7, 28, 2, 9, 170, 2, 90, 7] + \
        [3.6, 11, 11, .07, .55, 6.3, 68, 3.8, 9.5, 408, 18, 356, 12.7]
    y = np.clip(22 + 4 * (x[:, 5] - 6.3) / .7 - 5 * (x[:, 12] - 12.7) / 7 +
                rng.normal(0, 2, n), 5, 50)
    np.savez(os.path.join(folder, "boston_housing.npz"), x=x, y=y)


def _images(rng, n, classes=10):
    """28x28 uint8 images: each class a bright bar at its own place, plus noise."""
    labels = rng.integers(0, classes, n).astype("uint8")
    images = rng.integers(0, 60, (n, 28, 28)).astype("uint8")
    for image, label in zip(images, labels):
        row = 3 + 2 * int(label)
        image[row:row + 4, 4:24] = 255
    return images, labels


def write_mnist(folder, n=600):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    (x_train, y_train), (x_test, y_test) = _images(rng, n), _images(rng, n // 3)
    np.savez(os.path.join(folder, "mnist.npz"), x_train=x_train, y_train=y_train,
             x_test=x_test, y_test=y_test)


def _idx_gz(path, array):
    magic = 0x801 if array.ndim == 1 else 0x803  # unsigned bytes, rank 1 or 3
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_fashion_mnist(folder, n=600):
    folder = os.path.join(folder, "fashion-mnist")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(4)
    for prefix, count in (("train", n), ("t10k", n // 3)):
        images, labels = _images(rng, count)
        _idx_gz(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), images)
        _idx_gz(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labels)


SYNTHETIC = {"imdb": write_imdb, "reuters": write_reuters,
             "boston_housing": write_boston_housing, "mnist": write_mnist,
             "fashion_mnist": write_fashion_mnist}


def write_cats_and_dogs(base_dir, per_class=(12, 6, 6), size=64):
    """`base_dir/{train,validation,test}/{cats,dogs}/*.jpg`: the notes' folder layout.

    Cats are reddish, dogs bluish blobs on noise, so even a small net can tell them apart.
    """
    from PIL import Image

    rng = np.random.default_rng(5)
    for split, count in zip(("train", "validation", "test"), per_class):
        for label, colour in (("cats", (200, 80, 60)), ("dogs", (60, 90, 200))):
            folder = os.path.join(base_dir, split, label)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                image = rng.integers(0, 90, (size, size, 3)).astype("uint8")
                r, c = rng.integers(8, size - 24, 2)
                image[r:r + 20, c:c + 20] = colour
                Image.fromarray(image).save(os.path.join(folder, f"{label[:-1]}.{i}.jpg"))
    return base_dir


def synthetic_cats_and_dogs():
    """A temporary folder of synthetic cats-vs-dogs JPEGs (see `write_cats_and_dogs`)."""
    return write_cats_and_dogs(os.path.join(tempfile.mkdtemp(prefix="layerkit_example_"),
                                            "cats_and_dogs_small"))


# ------------------------------------------------------------------ a text corpus

# King James Bible, Genesis 1:1-10 and 36:24 (public domain): the notes train word2vec on
# the whole book (nltk's gutenberg 'bible-kjv.txt'); these verses stand in when it is absent.
BIBLE_SAMPLE = """\
1:1 In the beginning God created the heaven and the earth.
1:2 And the earth was without form, and void; and darkness was upon the face of the deep.
And the Spirit of God moved upon the face of the waters.
1:3 And God said, Let there be light: and there was light.
1:4 And God saw the light, that it was good: and God divided the light from the darkness.
1:5 And God called the light Day, and the darkness he called Night.
And the evening and the morning were the first day.
1:6 And God said, Let there be a firmament in the midst of the waters,
and let it divide the waters from the waters.
1:7 And God made the firmament, and divided the waters which were under the firmament
from the waters which were above the firmament: and it was so.
1:8 And God called the firmament Heaven. And the evening and the morning were the second day.
1:9 And God said, Let the waters under the heaven be gathered together unto one place,
and let the dry land appear: and it was so.
1:10 And God called the dry land Earth; and the gathering together of the waters called he
Seas: and God saw that it was good.
36:24 And these are the children of Zibeon; both Ajah, and Anah: this was that Anah that
found the mules in the wilderness, as he fed the asses of Zibeon his father.
"""


def bible_lines(corpus_file=None):
    """Lines of the King James Bible: `corpus_file`, else nltk's copy, else `BIBLE_SAMPLE`."""
    if corpus_file:
        with open(corpus_file, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    try:
        from nltk.corpus import gutenberg

        return gutenberg.raw("bible-kjv.txt").splitlines()
    except (ImportError, LookupError, OSError):
        print("nltk's 'bible-kjv.txt' is not on this machine (pip install nltk; then "
              "nltk.download('gutenberg')), nor given with --corpus FILE: using the "
              "Genesis verses in examples/_example.py")
        return BIBLE_SAMPLE.splitlines()


def vgg16(args, **kwargs):
    """`VGG16(weights='imagenet', **kwargs)`; random weights when the file is not cached.

    Keras keeps the ImageNet weights in ~/.keras/models; offline and without that file the
    example goes on with `weights=None` and says so (the workflow runs, the features mean
    nothing).
    """
    from layerkit.applications import VGG16

    try:
        return VGG16(weights='imagenet', **kwargs), True
    except OSError as error:  # DownloadError: not cached, no network
        print(f"\n{error}\n\n=> going on with VGG16(weights=None): random weights, so the "
              "workflow runs but its features, patterns and heatmaps mean nothing.\n")
        return VGG16(weights=None, **kwargs), False
