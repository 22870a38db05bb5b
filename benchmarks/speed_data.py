"""Data shaped like the real thing, for `bench_speed.py` (deterministic: every process that
asks for a workload's data gets the same arrays).

- `zipf_reviews`: IMDB-like word-id lists: Zipf(1.1)-distributed ids (the most frequent
  words get the smallest ids, as `imdb.load_data` numbers them), lengths log-normal around
  ~180 words with a long tail (real reviews: median 174, mean 239).
- `multi_hot`: the notes' `vectorize_sequences` of such reviews (IMDB and Reuters MLPs).
- `padded`: `pad_sequences(maxlen)` of the reviews, pre-padded and pre-truncated as Keras
  does by default (zeros in front of short reviews: what the LSTM sees).
- `digits`: MNIST-like images: ten blurred stroke templates, each sample shifted, scaled in
  intensity and noised, ~80% exact zeros, pixel mean ~0.13 (MNIST: 0.13, 81% zeros).
- `boston`: 404 x 13 standardized features, prices around 22 (std 9), as the notes' data.
- `fashion`: 28 x 28 images in [0, 1] from ten class templates, mean ~0.29 (Fashion: 0.29).
"""

import numpy as np


def zipf_reviews(n, vocab=10000, seed=0, median_len=180, max_len=None):
    """`n` lists of word ids in [1, vocab) with Zipf frequencies and varied lengths."""
    rng = np.random.RandomState(seed)
    lengths = np.clip(rng.lognormal(np.log(median_len), 0.6, n).astype(int), 10, max_len or 2500)
    ranks = np.arange(1, vocab)
    p = 1.0 / ranks ** 1.1
    ids = rng.choice(ranks, size=int(lengths.sum()), p=p / p.sum())
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [ids[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _labels_from_words(reviews, vocab, seed, classes=2):
    """Labels from a hidden linear score over the words (learnable, not trivial)."""
    rng = np.random.RandomState(seed + 1)
    weights = rng.randn(vocab).astype(np.float32)
    score = np.array([weights[r].mean() + 0.3 * rng.randn() for r in reviews])
    if classes == 2:
        return (score > np.median(score)).astype(np.float32)
    edges = np.percentile(score, np.linspace(0, 100, classes + 1)[1:-1])
    return np.digitize(score, edges)


def multi_hot(n, dims=10000, classes=2, seed=0):
    """(x, y): the notes' multi-hot review vectors; y binary (classes=2) or one-hot."""
    reviews = zipf_reviews(n, dims, seed)
    x = np.zeros((n, dims), dtype=np.float32)
    for i, r in enumerate(reviews):
        x[i, r] = 1.0
    y = _labels_from_words(reviews, dims, seed, classes)
    if classes > 2:
        y = np.eye(classes, dtype=np.float32)[y]
    return x, y


def padded(n, maxlen=500, vocab=10000, seed=0):
    """(x int64 (n, maxlen), y float32): pre-padded, pre-truncated Zipf reviews."""
    reviews = zipf_reviews(n, vocab, seed)
    x = np.zeros((n, maxlen), dtype=np.int64)
    for i, r in enumerate(reviews):
        r = r[-maxlen:]
        x[i, maxlen - len(r):] = r
    return x, _labels_from_words(reviews, vocab, seed)


def _blur(images, passes=2):
    """A separable [1, 2, 1] / 4 blur, `passes` times, over the last two axes."""
    for _ in range(passes):
        for axis in (-1, -2):
            padded_ = np.pad(images, [(0, 0)] * (images.ndim - 2) + [(1, 1)] * 2)
            a = np.take(padded_, range(0, images.shape[axis]), axis=axis)
            b = np.take(padded_, range(1, images.shape[axis] + 1), axis=axis)
            c = np.take(padded_, range(2, images.shape[axis] + 2), axis=axis)
            sl = [slice(None)] * images.ndim
            other = -2 if axis == -1 else -1
            sl[other] = slice(1, -1)
            images = (a + 2 * b + c)[tuple(sl)] / 4
    return images


def _strokes(rng, count=10, size=28):
    """`count` templates of 3-4 random line strokes each, blurred (digit-like)."""
    templates = np.zeros((count, size, size), dtype=np.float32)
    for t in templates:
        for _ in range(rng.randint(3, 5)):
            (r0, c0), (r1, c1) = rng.randint(5, size - 5, (2, 2))
            steps = np.linspace(0, 1, 40)
            t[np.round(r0 + (r1 - r0) * steps).astype(int),
              np.round(c0 + (c1 - c0) * steps).astype(int)] = 1.0
    templates = _blur(templates, 2)
    return templates / templates.max(axis=(1, 2), keepdims=True)


def digits(n, seed=0):
    """(x float32 (n, 28, 28, 1) in [0, 1], y int64): MNIST-like blurred strokes."""
    rng = np.random.RandomState(seed)
    templates = _strokes(rng)
    y = rng.randint(0, 10, n)
    x = np.empty((n, 28, 28), dtype=np.float32)
    shifts = rng.randint(-2, 3, (n, 2))
    for i in range(n):
        x[i] = np.roll(templates[y[i]], tuple(shifts[i]), axis=(0, 1))
    x *= rng.uniform(0.7, 1.3, (n, 1, 1)).astype(np.float32)
    x += 0.15 * rng.randn(n, 28, 28).astype(np.float32) * (x > 0.05)
    x = np.clip(np.where(x < 0.1, 0.0, 1.6 * x), 0.0, 1.0).astype(np.float32)
    return x[..., None], y.astype(np.int64)


def boston(n=404, seed=0):
    """(x float32 (n, 13) standardized, y float32 prices ~ 22 +- 9)."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 13).astype(np.float32)
    w = rng.randn(13).astype(np.float32)
    score = x @ w + 0.5 * np.tanh(x[:, 0] * x[:, 5])
    y = 22.5 + 9.0 * (score - score.mean()) / score.std() + rng.randn(n)
    return x, np.clip(y, 5.0, 50.0).astype(np.float32)


def fashion(n, seed=0):
    """(x float32 (n, 28, 28) in [0, 1], y int64): ten smooth class templates, noised."""
    rng = np.random.RandomState(seed)
    templates = _blur(rng.rand(10, 28, 28).astype(np.float32) ** 3, 3)
    templates = templates / templates.max(axis=(1, 2), keepdims=True)
    y = rng.randint(0, 10, n)
    x = 0.5 * templates[y] + 0.1 * rng.rand(n, 28, 28).astype(np.float32)
    return np.clip(x, 0, 1).astype(np.float32), y.astype(np.int64)
