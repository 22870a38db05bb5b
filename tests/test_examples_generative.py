"""The chapter-8 programs in examples/generative/ run in quick mode and write their outputs.

Each runs in its own process with one intra-op thread (a small model on a shared machine
is faster so) and a hard timeout; together they take well under a minute on two cores.
"""

import os
import re
import subprocess
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 90


def run_example(name, output):
    env = dict(os.environ, OMP_NUM_THREADS="1", KERAS_BACKEND="torch", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, os.path.join("examples", "generative", name + ".py"), "--quick",
         "--output", str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def picture(path):
    array = np.asarray(Image.open(path))
    assert array.size and array.std() > 0, f"{path} is blank"
    return array


def numbers_after(label, text):
    return [float(v) for v in re.findall(re.escape(label) + r"\s*:?\s*([-+0-9.e]+)", text)]


def test_text_generation(tmp_path):
    stdout = run_example("text_generation", tmp_path)
    generated = (tmp_path / "generated_text.txt").read_text()
    assert generated.count("--- temperature") == 8  # 2 epochs x 4 temperatures
    samples = re.findall(r"--- temperature [0-9.]+:\n(.*)\n", generated)
    assert all(len(s) == 20 + 80 for s in samples)
    assert "Corpus length" in stdout


def test_deep_dream(tmp_path):
    stdout = run_example("deep_dream", tmp_path)
    base, dream = picture(tmp_path / "base_image.png"), picture(tmp_path / "final_dream.png")
    assert base.shape == dream.shape == (128, 128, 3)
    assert np.abs(base.astype(int) - dream).mean() > 1  # the dream changed the picture
    assert (tmp_path / "dream_at_scale_(91, 91).png").exists()
    for octave in stdout.split("Processing image shape")[1:]:
        losses = [float(v) for v in re.findall(r"Loss value at \d+ : ([-+0-9.e]+)", octave)]
        assert len(losses) == 4 and losses[-1] > losses[0]  # gradient ascent: rising


def test_style_transfer(tmp_path):
    stdout = run_example("style_transfer", tmp_path)
    losses = numbers_after("Current loss value", stdout)
    assert len(losses) == 2 and losses[1] < losses[0]  # L-BFGS: falling
    result = picture(tmp_path / "my_result_at_iteration_1.png")
    assert result.shape == (48, 64, 3)


def test_vae(tmp_path):
    stdout = run_example("vae", tmp_path)
    grid = picture(tmp_path / "latent_grid.png")
    assert grid.ndim == 3
    losses = [float(v) for v in re.findall(r"- loss: ([0-9.]+)", stdout)]
    assert len(losses) == 2 and all(np.isfinite(losses))


def test_gan(tmp_path):
    stdout = run_example("gan", tmp_path)
    samples = picture(tmp_path / "samples.png")
    assert samples.shape == (4 * 16 * 4, 4 * 16 * 4, 3)
    for step in (0, 10, 20):
        assert picture(tmp_path / f"generated_frog{step}.png").shape == (16, 16, 3)
        assert (tmp_path / f"real_frog{step}.png").exists()
    d_losses = numbers_after("discriminator loss at step 20", stdout)
    assert len(d_losses) == 1 and np.isfinite(d_losses[0])
