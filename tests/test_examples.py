"""Every script in examples/ runs in --quick mode on fixture data and writes its files.

The fixtures are tiny files in Keras's exact on-disk formats (npz with object arrays,
gzip'ed IDX) in a temporary Keras home; HOME points elsewhere too, so nothing on this
machine is read, and a proxy on a closed port makes any download fail at once (the
VGG16 examples then go on with random weights, as they would offline). Importing torch
and layerkit costs more than most quick examples, so two subprocesses, run side by side,
each run several examples one after the other (`layerkit.backend.clear_session()` in
between, as a notebook would) and report each one's exit status.
"""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_datasets import idx_bytes, write_boston, write_imdb, write_reuters

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# example -> files it must write into its --output folder (globs allowed)
WRITES = {
    "convnet_visualization": ["first_layer_channel_4.png", "activations_*.png",
                              "activations_all_layers.png", "filters_block1_conv1.png",
                              "filters_block3_conv1.png", "heatmap.png", "grad_cam.jpg",
                              "grad_cam_figure.png", "cats_and_dogs_small_2.h5"],
    "imdb_binary": ["loss.png", "accuracy.png"],
    "reuters_multiclass": ["loss.png", "accuracy.png"],
    "boston_kfold": ["validation_mae.png", "validation_mae_smoothed.png"],
    "word2vec_cbow": ["cbow_word_vectors.csv"],
    "word2vec_skipgram": ["skipgram_word_vectors.csv"],
    "plot_model": ["network.svg", "network.png", "my_fashion_mnist_model.png",
                   "question_answering.png"],
    "transfer_learning_vgg16": ["cats_and_dogs_small_4.h5", "fine_tuning_accuracy.png"],
    "mnist_convnet": ["mnist_convnet.h5"],
    "fashion_mnist_mlp": ["fashion_mnist_plot.png", "my_fashion_mnist_model.png",
                          "keras_learning_curves_plot.png", "my_keras_model.h5"],
    "imdb_lstm": ["lstm_accuracy.png"],
    "callbacks": ["best_model.h5", "model_01_*.hdf5", "model_02_*.hdf5", "training.log"],
    "sklearn_grid_search": ["grid_search_results.csv"],
}
# Two groups of about equal run time (the VGG16 ones are the slowest).
GROUPS = [
    ["convnet_visualization", "imdb_binary", "reuters_multiclass", "boston_kfold",
     "word2vec_cbow", "word2vec_skipgram", "plot_model"],
    ["transfer_learning_vgg16", "mnist_convnet", "fashion_mnist_mlp", "imdb_lstm",
     "callbacks", "sklearn_grid_search"],
]

DRIVER = """
import json, runpy, sys, time, traceback
sys.path.insert(0, {examples!r})
from layerkit import backend as K
for name in {names!r}:
    sys.argv = [name + ".py", "--quick", "--output", {output!r} + "/" + name]
    start, status = time.time(), 0
    try:
        runpy.run_path({examples!r} + "/" + name + ".py", run_name="__main__")
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
        status = 1
    K.clear_session()
    print("EXAMPLE-RESULT " + json.dumps([name, status, round(time.time() - start, 1)]),
          flush=True)
"""


def write_mnist(path, n_train=40, n_test=20):
    """mnist.npz with every digit in both splits (the notes one-hot each split alone)."""
    rng = np.random.default_rng(2)
    np.savez(path,
             x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             y_train=(np.arange(n_train) % 10).astype(np.uint8),
             x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
             y_test=(np.arange(n_test) % 10).astype(np.uint8))


def write_fashion(folder, n_train=48, n_test=20):
    rng = np.random.default_rng(4)
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(idx_bytes(images, 2051)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(idx_bytes(labels, 2049)))


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Runs every example once; {name: (exit status, seconds, output folder)}, and the log."""
    root = tmp_path_factory.mktemp("examples")
    datasets = root / "keras_home" / "datasets"
    datasets.mkdir(parents=True)
    write_imdb(datasets / "imdb.npz", n_train=60, n_test=30)
    write_reuters(datasets / "reuters.npz")
    write_boston(datasets / "boston_housing.npz")
    write_mnist(datasets / "mnist.npz")
    write_fashion(datasets / "fashion-mnist")
    env = {k: v for k, v in os.environ.items() if k not in ("LAYERKIT_HOME", "KERAS_HOME")}
    env.update(KERAS_HOME=str(root / "keras_home"), HOME=str(root / "home"),
               OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0",
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    output = root / "output"
    processes = [subprocess.Popen(
        [sys.executable, "-c", DRIVER.format(examples=str(EXAMPLES), names=names,
                                              output=str(output))],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for names in GROUPS]
    results, log = {}, ""
    for process in processes:
        try:
            out, _ = process.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        log += out
        for line in out.splitlines():
            if line.startswith("EXAMPLE-RESULT "):
                name, status, seconds = json.loads(line.split(" ", 1)[1])
                results[name] = (status, seconds, output / name)
    return results, log


def test_every_example_is_tested():
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(WRITES) == {name for group in GROUPS for name in group}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_example_runs_quick_and_writes_its_files(ran, name):
    results, log = ran
    assert name in results, f"{name} did not finish (timeout?):\n{log[-3000:]}"
    status, seconds, folder = results[name]
    assert status == 0, f"{name} exited with {status}:\n{log[-3000:]}"
    for pattern in WRITES[name]:
        files = list(folder.glob(pattern))
        assert files and all(f.stat().st_size > 0 for f in files), (name, pattern)
    print(f"{name}: {seconds} s")


def test_offline_fallbacks_are_announced(ran):
    results, log = ran
    # VGG16 without cached ImageNet weights: said, then random weights.
    assert "going on with VGG16(weights=None)" in log
    # The fixtures were found: no example needed the synthetic data.
    assert "tiny synthetic data" not in log


def test_missing_data_without_quick_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LAYERKIT_HOME", "KERAS_HOME")}
    env.update(KERAS_HOME=str(tmp_path / "empty"), HOME=str(tmp_path), OMP_NUM_THREADS="1",
               https_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    process = subprocess.run(
        [sys.executable, str(EXAMPLES / "boston_kfold.py"), "--output", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120)
    assert process.returncode == 2
    assert "boston_housing.npz" in process.stdout and "--quick" in process.stdout
