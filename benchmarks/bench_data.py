"""Data pipeline speed: layerkit's Tokenizer and image augmentation, side by side.

Workloads (issue "Data, offline-first", speed bar):
  T  Tokenizer(num_words=1000): fit_on_texts + texts_to_sequences +
     sequences_to_matrix(mode='binary') on 25,000 generated reviews of ~230 words (Zipf
     vocabulary of 50,000 words, punctuation and capitals); layerkit vs keras-preprocessing
     1.1.2, outputs checked identical (word_index, word_counts order, sequences, matrix).
  A  The seed's cats-vs-dogs convnet (Deep Learning with Python 5.2) for one epoch of
     320 generated JPEGs: fed by ImageDataGenerator(rescale, rotation 40, shifts 0.2,
     shear 0.2, zoom 0.2, horizontal_flip).flow_from_directory(150x150, batch 32,
     'binary') in the main process, and with workers=2/use_multiprocessing=True; vs the
     same epoch on preloaded arrays (layerkit, and Keras 3 on the torch backend).

Every timing is the best of 3 rounds; the variants of a workload alternate within a round
(the machine may be shared), and each model first trains one uncounted warm-up epoch.
Not part of the tests; run it by hand:

    python benchmarks/bench_data.py            # both workloads
    python benchmarks/bench_data.py --only T   # tokenizer only
"""

import argparse
import gc
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "torch")
np.unicode_ = np.str_  # keras_preprocessing 1.1.2 still names it

REPEATS = 3
IMAGES_PER_CLASS = 160
BATCH = 32


def make_reviews(n_reviews=25000, mean_words=230, vocab_size=50000, seed=0):
    """Deterministic review-like texts: Zipf(1.1) word ranks, 5% capitalised, punctuation.

    Returns:
        A list of `n_reviews` strings.
    """
    rng = np.random.RandomState(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz'"))
    vocab = ["".join(rng.choice(letters[:26], size=k)) for k in rng.randint(2, 11, vocab_size)]
    p = 1.0 / np.arange(1, vocab_size + 1) ** 1.1
    counts = rng.poisson(mean_words, size=n_reviews)
    ids = rng.choice(vocab_size, size=int(counts.sum()), p=p / p.sum())
    marks = np.array(["", "", "", "", "", "", ",", ".", "!", "?", ";", "\n", " -"])
    seps = rng.choice(marks, size=ids.size)
    caps = rng.rand(ids.size) < 0.05
    tokens = [(vocab[i].capitalize() if c else vocab[i]) + s
              for i, c, s in zip(ids.tolist(), caps.tolist(), seps.tolist())]
    bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
    return [" ".join(tokens[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def tokenize(tokenizer_class, texts):
    """One tokenizer workload; returns (seconds, tokenizer, sequences, matrix)."""
    start = time.perf_counter()
    tokenizer = tokenizer_class(num_words=1000)
    tokenizer.fit_on_texts(texts)
    sequences = tokenizer.texts_to_sequences(texts)
    matrix = tokenizer.sequences_to_matrix(sequences, mode="binary")
    return time.perf_counter() - start, tokenizer, sequences, matrix


def check_identical(ours, theirs):
    """Raises AssertionError unless both tokenizers gave the same outputs."""
    (_, tok_a, seq_a, mat_a), (_, tok_b, seq_b, mat_b) = ours, theirs
    assert tok_a.word_index == tok_b.word_index, "word_index differs"
    assert list(tok_a.word_counts.items()) == list(tok_b.word_counts.items()), \
        "word_counts (or their order) differ"
    assert tok_a.to_json() == tok_b.to_json(), "to_json differs"
    assert seq_a == seq_b, "sequences differ"
    assert mat_a.dtype == mat_b.dtype and np.array_equal(mat_a, mat_b), "matrices differ"


def bench_tokenizer():
    """Best-of-3 seconds of layerkit and keras-preprocessing, run alternately."""
    from keras_preprocessing.text import Tokenizer as KerasTokenizer

    from layerkit.preprocessing.text import Tokenizer

    texts = make_reviews()
    times = {"layerkit": [], "keras": []}
    for repeat in range(REPEATS):
        ours = tokenize(Tokenizer, texts)
        theirs = tokenize(KerasTokenizer, texts)
        if repeat == 0:
            check_identical(ours, theirs)
        times["layerkit"].append(ours[0])
        times["keras"].append(theirs[0])
        del ours, theirs
        gc.collect()
    words = sum(len(t.split()) for t in texts)
    return {name: min(values) for name, values in times.items()}, len(texts), words


def make_image_folder(root, per_class=IMAGES_PER_CLASS, seed=0):
    """Writes `per_class` random 200x180 JPEGs into root/cats and root/dogs."""
    from PIL import Image

    rng = np.random.RandomState(seed)
    for label, name in enumerate(("cats", "dogs")):
        os.makedirs(os.path.join(root, name))
        for i in range(per_class):
            # Smooth colour blobs (JPEG-friendly), brighter for dogs so labels are learnable.
            small = rng.randint(0, 200, size=(12, 10, 3)).astype(np.uint8) + 40 * label
            img = Image.fromarray(small).resize((180, 200), Image.BILINEAR)
            img.save(os.path.join(root, name, f"{name}.{i}.jpg"), quality=90)
    return root


def convnet(layers, models, optimizers):
    """The seed's convnet (Deep Learning with Python, listing 5.5), compiled."""
    model = models.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(150, 150, 3)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(128, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(128, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(512, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy",
                  optimizer=optimizers.RMSprop(learning_rate=1e-4), metrics=["acc"])
    return model


def timed_epoch(model, fit_kwargs):
    """Seconds of one one-epoch `fit` call (worker processes start in every call)."""
    start = time.perf_counter()
    model.fit(verbose=0, **fit_kwargs)
    return time.perf_counter() - start


def augmentation_seconds(flow):
    """Seconds to load and augment every batch of one epoch, without training."""
    start = time.perf_counter()
    for i in range(len(flow)):
        flow[i]
    return time.perf_counter() - start


def bench_augmentation(root):
    """Epoch seconds: augmented flow (main process, workers) vs preloaded arrays.

    The main-process variants alternate, round after round, so that load from other
    processes on the machine hits them alike; each reports its best round.
    """
    import keras
    import torch

    from layerkit import layers, models, optimizers
    from layerkit.preprocessing.image import ImageDataGenerator

    augment = ImageDataGenerator(rescale=1. / 255, rotation_range=40, width_shift_range=0.2,
                                 height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                                 horizontal_flip=True, fill_mode="nearest")
    flow = augment.flow_from_directory(root, target_size=(150, 150), batch_size=BATCH,
                                       class_mode="binary", seed=1)
    plain = ImageDataGenerator(rescale=1. / 255).flow_from_directory(
        root, target_size=(150, 150), batch_size=flow.samples, class_mode="binary",
        shuffle=False)
    x, y = plain[0]
    steps = len(flow)
    torch.manual_seed(0)
    model = convnet(layers, models, optimizers)
    keras.utils.set_random_seed(0)
    k_model = convnet(keras.layers, keras.models, keras.optimizers)
    arrays = dict(x=x, y=y, batch_size=BATCH, shuffle=True)
    workers = dict(x=flow, steps_per_epoch=steps, workers=2, use_multiprocessing=True)
    rounds = [  # variants alternating within a round
        {"preloaded arrays (layerkit)": lambda: timed_epoch(model, arrays),
         "flow, main process": lambda: timed_epoch(model, dict(x=flow, steps_per_epoch=steps)),
         "augmentation alone (no training)": lambda: augmentation_seconds(flow)},
        # Alternating these with the above slowed every variant down (forked workers and
        # a second framework's threads competing for the 2 cores), so they run apart.
        {"flow, workers=2, use_multiprocessing": lambda: timed_epoch(model, workers)},
        {"preloaded arrays (Keras 3, torch)": lambda: timed_epoch(k_model, arrays)},
    ]
    times = {}
    for variants in rounds:
        timed_epoch(k_model if "Keras" in next(iter(variants)) else model, arrays)  # warm-up
        for _ in range(REPEATS):
            for name, run in variants.items():
                times.setdefault(name, []).append(run())
    return {name: min(values) for name, values in times.items()}, flow.samples, steps


def print_tokenizer_table(times, n_texts, n_words):
    print(f"\n### Tokenizer: {n_texts} reviews, {n_words} words, num_words=1000 "
          "(fit_on_texts + texts_to_sequences + sequences_to_matrix binary)\n")
    print("| implementation | seconds (best of 3) | speed-up vs keras-preprocessing |")
    print("|---|---:|---:|")
    for name, label in (("keras", "keras-preprocessing 1.1.2"), ("layerkit", "layerkit")):
        print(f"| {label} | {times[name]:.2f} | {times['keras'] / times[name]:.2f}x |")
    print("\nOutputs identical (word_index, word_counts order, to_json, sequences, matrix): yes")


def print_augmentation_table(results, samples, steps):
    base = results["preloaded arrays (layerkit)"]
    print(f"\n### Augmentation: seed convnet, {samples} JPEGs, {steps} steps of {BATCH}, "
          "150x150\n")
    print("| epoch fed by | seconds (best of 3) | ratio vs preloaded (bar <= 1.5) |")
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.2f} | {seconds / base:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("T", "A"), help="run one workload")
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"CPU cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    # The tokenizer runs first: right after training, torch's idle threads still compete.
    if args.only in (None, "T"):
        print_tokenizer_table(*bench_tokenizer())
    if args.only in (None, "A"):
        with tempfile.TemporaryDirectory() as root:
            print_augmentation_table(*bench_augmentation(make_image_folder(root)))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
