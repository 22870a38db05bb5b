"""Shared test setup: Keras 3 on the torch backend is the oracle."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

# keras-preprocessing 1.1.2 predates NumPy 2.
if not hasattr(np, "unicode_"):
    np.unicode_ = np.str_

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_everything_and_fresh_names():
    """Every test starts from seed 0 and Keras's first names (`dense`, `input_1`, ...)."""
    from layerkit.utils.naming import reset_names

    np.random.seed(0)
    torch.manual_seed(0)
    reset_names()
    yield
    reset_names()


@pytest.fixture
def one_thread():
    """One torch thread for the test (steadier numbers on a busy shared machine); use it with
    `pytestmark = pytest.mark.usefixtures("one_thread")`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def float64():
    """Layers built during the test default to float64 (layerkit.config.floatx)."""
    from layerkit import config

    previous = config.floatx()
    config.set_floatx("float64")
    yield
    config.set_floatx(previous)
