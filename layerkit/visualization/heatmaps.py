"""Grad-CAM: where in an image a convnet sees a class (Selvaraju et al. 2017).

The notes' listing (Deep Learning with Python, 5.4.3) as a function for any conv layer,
any class and a batch of images: the gradient of the class score with respect to the
layer's feature maps, averaged over each map, weights the maps; their positive sum,
scaled to [0, 1] per image, is the heatmap.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .. import backend as K
from .activations import channels_first


def grad_cam(model, images, layer_name, class_index=None):
    """Class-activation heatmaps of `images` at the conv layer `layer_name`.

    Args:
        model: a classifier (output (batch, classes)) with a symbolic input.
        images: (N, H, W, C) (or one image (H, W, C)), preprocessed as the model expects.
        layer_name: a conv layer with 4-D output (the notes use the last one).
        class_index: an int (the same class for every image), a list of ints (one per
            image) or None for each image's predicted class.

    Returns:
        (heatmaps, class_indices): heatmaps of shape (N, h, w) in [0, 1] at the layer's
        resolution (all zeros where no position raises the class score), and the classes
        explained.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim == len(model.input.shape) - 1:
        images = images[None]
    layer = model.get_layer(layer_name)
    feature_maps = layer.output
    if len(feature_maps.shape) != 4:
        raise ValueError(f"grad_cam: layer '{layer_name}' outputs {feature_maps.shape}; "
                         "Grad-CAM needs a 4-D conv feature map")
    if len(model.output.shape) != 2:
        raise ValueError(f"grad_cam: the model's output has shape {model.output.shape}; "
                         "expected (batch, classes)")
    classes = model.output.shape[-1]
    if class_index is None:
        class_index = model.predict(images, verbose=0).argmax(axis=-1)
    indices = np.broadcast_to(np.asarray(class_index, dtype="int64"), (len(images),))
    if indices.min() < 0 or indices.max() >= classes:
        raise ValueError(f"grad_cam: class_index must be in [0, {classes}), received "
                         f"{class_index}")
    selector = K.placeholder(shape=(None, classes))      # one-hot rows: the class per image
    score = K.sum(model.output * selector)
    grads = K.gradients(score, feature_maps)[0]
    first = channels_first(layer)
    spatial = (2, 3) if first else (1, 2)
    weights = K.mean(grads, axis=spatial)                 # (N, channels)
    run = K.function([model.input, selector], [feature_maps, weights])
    maps, channel_weights = run([images, np.eye(classes, dtype="float32")[indices]])
    if first:
        maps = np.moveaxis(maps, 1, -1)
    cams = np.maximum(np.einsum("nhwc,nc->nhw", maps, channel_weights), 0)
    peak = cams.max(axis=(1, 2), keepdims=True)
    cams = np.divide(cams, peak, out=np.zeros_like(cams), where=peak > 0)
    return cams.astype("float32"), indices.copy()


def _colormap(name):
    try:
        import matplotlib

        return matplotlib.colormaps[name]
    except ImportError:  # jet by hand: enough to show a heatmap without matplotlib
        if name != "jet":
            raise ValueError(f"colormap {name!r} needs matplotlib (pip install matplotlib)")

        def jet(values):
            v = np.asarray(values)[..., None]
            rgb = np.clip(1.5 - np.abs(4 * v - np.array([3.0, 2.0, 1.0])), 0, 1)
            return np.concatenate([rgb, np.ones_like(v)], axis=-1)

        return jet


def overlay_heatmap(image, heatmap, alpha=0.4, colormap="jet"):
    """Lays a heatmap in colour over an image (the notes' `heatmap * 0.4 + img`).

    Args:
        image: (H, W, 3), (H, W, 1) or (H, W); values in [0, 255] (or [0, 1]).
        heatmap: (h, w) in [0, 1]; resized to (H, W) bilinearly.
        alpha: the heatmap's weight.
        colormap: a matplotlib colormap name (only 'jet' without matplotlib).

    Returns:
        A uint8 RGB image (H, W, 3): `colormap(heatmap) * alpha + image`, rescaled to
        [0, 255] as Keras's `array_to_img` does.
    """
    image = np.asarray(image, dtype="float32")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.max() <= 1.0:
        image = image * 255.0
    h, w = image.shape[:2]
    resized = F.interpolate(torch.as_tensor(np.asarray(heatmap, "float32"))[None, None],
                            size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
    colored = _colormap(colormap)(np.clip(resized, 0, 1))[..., :3] * 255.0
    mixed = colored * alpha + image
    mixed -= mixed.min()
    top = mixed.max()
    return (mixed / top * 255.0 if top > 0 else mixed).astype("uint8")
