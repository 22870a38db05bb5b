"""layerkit.visualization: activation grids, filter patterns and Grad-CAM (chapter 5)."""

import numpy as np
import pytest
import torch
from PIL import Image

from layerkit import Input, Model, layers, models
from layerkit import visualization as vis


def convnet(data_format="channels_last"):
    shape = (10, 10, 3) if data_format == "channels_last" else (3, 10, 10)
    model = models.Sequential([
        layers.Conv2D(4, 3, padding="same", activation="relu", input_shape=shape,
                      data_format=data_format, name="conv_a"),
        layers.Conv2D(6, 3, padding="same", activation="relu", data_format=data_format,
                      name="conv_b"),
        layers.MaxPooling2D(data_format=data_format),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    return model


def images(n=2, data_format="channels_last"):
    x = np.random.RandomState(5).rand(n, 10, 10, 3).astype("float32")
    return x if data_format == "channels_last" else np.moveaxis(x, -1, 1)


def test_activation_grid_standardises_each_channel_as_the_notes():
    act = np.zeros((1, 2, 2, 3), "float32")
    act[0, :, :, 0] = [[0, 1], [2, 3]]         # mean 1.5, std sqrt(1.25)
    act[0, :, :, 2] = [[5, 5], [5, 5]]         # constant: shows as 128
    grid = vis.activation_grid(act, images_per_row=2)
    assert grid.shape == (4, 4) and grid.dtype == np.uint8
    expected = np.clip((np.array([[0, 1], [2, 3]]) - 1.5) / np.sqrt(1.25) * 64 + 128, 0, 255)
    np.testing.assert_array_equal(grid[:2, :2], expected.astype("uint8"))
    np.testing.assert_array_equal(grid[:2, 2:], 128)         # all-zero channel 1
    np.testing.assert_array_equal(grid[2:, :2], 128)         # constant channel 2
    np.testing.assert_array_equal(grid[2:, 2:], 0)           # no fourth channel


def test_layer_activations_are_the_layers_outputs():
    model = convnet()
    x = images(1)
    acts = vis.layer_activations(model, x[0])
    assert list(acts) == ["conv_a", "conv_b", "max_pooling2d"]
    with torch.no_grad():
        first = model.layers[0](torch.tensor(x)).numpy()
    np.testing.assert_allclose(acts["conv_a"], first, rtol=1e-5, atol=1e-6)
    assert acts["max_pooling2d"].shape == (1, 5, 5, 6)
    with pytest.raises(ValueError, match="4-D feature maps"):
        vis.layer_activations(model, x, layer_names=["dense"])


def test_channels_first_activations_come_back_channels_last():
    model = convnet("channels_first")
    acts = vis.layer_activations(model, images(1, "channels_first"), ["conv_b"])
    assert acts["conv_b"].shape == (1, 10, 10, 6)


def test_filter_pattern_climbs():
    inp = Input((None, None, 3))
    model = Model(inp, layers.Conv2D(4, 3, activation="tanh", name="conv")(inp))
    pattern, losses = vis.filter_pattern(model, "conv", 2, size=12, steps=6, seed=0,
                                         value_range=(0.0, 1.0), return_losses=True)
    assert pattern.shape == (12, 12, 3) and pattern.dtype == np.uint8
    assert all(b > a for a, b in zip(losses, losses[1:]))
    with pytest.raises(ValueError, match="has 4 filters"):
        vis.filter_pattern(model, "conv", 4)
    patterns = vis.filter_patterns(model, "conv", size=8, steps=2)
    assert len(patterns) == 4


def _manual_cam(model, x, layer_name, cls):
    layer = model.get_layer(layer_name)
    sub = Model(model.input, [layer.output, model.output])
    xt = torch.tensor(x)
    feats, preds = sub(xt)
    (g,) = torch.autograd.grad(preds[torch.arange(len(x)), cls].sum(), feats)
    w = g.mean(dim=(1, 2))
    cam = torch.relu(torch.einsum("nhwc,nc->nhw", feats, w)).detach().numpy()
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.where(peak > 0, cam / np.where(peak > 0, peak, 1), 0)


def test_grad_cam_matches_a_hand_written_autograd_version():
    model = convnet()
    x = images(3)
    heatmaps, classes = vis.grad_cam(model, x, "conv_b")
    np.testing.assert_array_equal(classes, model.predict(x, verbose=0).argmax(-1))
    assert heatmaps.shape == (3, 10, 10)
    assert heatmaps.min() >= 0 and heatmaps.max() <= 1
    np.testing.assert_allclose(heatmaps, _manual_cam(model, x, "conv_b", classes), atol=1e-5)
    chosen, _ = vis.grad_cam(model, x, "conv_b", class_index=[2, 0, 1])
    np.testing.assert_allclose(chosen, _manual_cam(model, x, "conv_b", np.array([2, 0, 1])),
                               atol=1e-5)
    with pytest.raises(ValueError, match="class_index must be in"):
        vis.grad_cam(model, x, "conv_b", class_index=3)
    with pytest.raises(ValueError, match="4-D conv"):
        vis.grad_cam(model, x, "dense")


def test_grad_cam_channels_first():
    model = convnet("channels_first")
    heatmaps, _ = vis.grad_cam(model, images(2, "channels_first"), "conv_b", class_index=1)
    assert heatmaps.shape == (2, 10, 10) and 0 <= heatmaps.min() and heatmaps.max() <= 1


def test_overlay_heatmap():
    image = np.zeros((20, 30, 3), "float32")
    heat = np.zeros((5, 5), "float32")
    heat[2, 2] = 1.0
    out = vis.overlay_heatmap(image, heat)
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    centre, corner = out[10, 15], out[0, 0]
    assert centre[0] > corner[0]              # jet: hot is red, cold is blue
    assert corner[2] > corner[0]
    gray = vis.overlay_heatmap(np.ones((8, 8)), heat, alpha=0.4)
    assert gray.shape == (8, 8, 3)


def test_figures_are_written(tmp_path):
    model = convnet()
    x = images(2)
    vis.save_activation_grids(vis.layer_activations(model, x[:1]), tmp_path / "acts.png",
                              images_per_row=4)
    vis.save_filter_patterns(vis.filter_patterns(model, "conv_a", steps=2, size=10),
                             tmp_path / "filters.png", title="conv_a filters")
    heatmaps, classes = vis.grad_cam(model, x, "conv_b")
    vis.save_grad_cam(x, heatmaps, tmp_path / "cam.png", labels=[f"class {c}" for c in classes])
    for name in ("acts.png", "filters.png", "cam.png"):
        with Image.open(tmp_path / name) as img:
            assert img.size[0] > 300 and img.size[1] > 150
