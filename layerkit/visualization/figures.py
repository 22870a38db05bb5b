"""PNG figures of activations, filter patterns and Grad-CAM (matplotlib, Agg backend).

Every figure has a title, and every panel whose colours stand for numbers has a colour
bar saying which.
"""

import numpy as np

from .activations import activation_grid
from .heatmaps import overlay_heatmap


def _pyplot():
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("layerkit.visualization figures need matplotlib: "
                          "pip install matplotlib (or layerkit[plot])") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_activation_grids(activations, path, images_per_row=16, title=None):
    """One panel per layer: every channel of its feature map, standardised.

    Args:
        activations: {layer name: (1, h, w, channels)} from `layer_activations`.
        path: the PNG file to write.
        images_per_row: channels per grid row.
        title: the figure's title.
    """
    plt = _pyplot()
    grids = {name: activation_grid(a, images_per_row) for name, a in activations.items()}
    heights = [g.shape[0] / g.shape[1] for g in grids.values()]
    fig, axes = plt.subplots(len(grids), 1, figsize=(9, 1.2 + sum(7.5 * h + 0.6
                                                                  for h in heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (name, grid) in zip(axes[:, 0], grids.items()):
        shape = activations[name].shape
        image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=255, aspect="equal",
                          interpolation="nearest")
        ax.set_title(f"{name}: {shape[-1]} channels of {shape[1]}x{shape[2]}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        for x in range(shape[2], grid.shape[1], shape[2]):  # white lines between channels
            ax.axvline(x - 0.5, color="white", linewidth=0.8)
        for y in range(shape[1], grid.shape[0], shape[1]):
            ax.axhline(y - 0.5, color="white", linewidth=0.8)
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
        bar.set_label("standardised activation", fontsize=8)
    fig.suptitle(title or "Intermediate activations", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_filter_patterns(patterns, path, title, labels=None, per_row=8):
    """A grid of filter patterns (uint8 images) with one label per pattern."""
    plt = _pyplot()
    rows = -(-len(patterns) // per_row)
    cols = min(per_row, len(patterns))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows + 0.6),
                             squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(patterns):
            pattern = patterns[index]
            gray = pattern.shape[-1] == 1
            ax.imshow(pattern[..., 0] if gray else pattern, cmap="gray" if gray else None,
                      interpolation="nearest")
            ax.set_title(labels[index] if labels else f"filter {index}", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_grad_cam(images, heatmaps, path, labels=None, title="Grad-CAM", alpha=0.4):
    """Rows of (image, heatmap with colour bar, overlay) for each image.

    Args:
        images: (N, H, W, C) or (N, H, W), values in [0, 255] or [0, 1].
        heatmaps: (N, h, w) in [0, 1] from `grad_cam`.
        path: the PNG file to write.
        labels: one caption per image (e.g. "class 3 (p=0.98)").
    """
    plt = _pyplot()
    images = np.asarray(images)
    fig, axes = plt.subplots(len(images), 3, figsize=(8.4, 2.6 * len(images) + 0.5),
                             squeeze=False)
    for row, (image, heatmap) in enumerate(zip(images, heatmaps)):
        shown = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        caption = labels[row] if labels else f"image {row}"
        axes[row, 0].imshow(shown, cmap="gray" if shown.ndim == 2 else None,
                            interpolation="nearest")
        axes[row, 0].set_title(caption, fontsize=9)
        heat = axes[row, 1].imshow(heatmap, cmap="jet", vmin=0, vmax=1,
                                   interpolation="nearest")
        axes[row, 1].set_title("class activation heatmap", fontsize=9)
        if not np.any(heatmap):
            axes[row, 1].text(0.5, 0.5, "no positive evidence\nat this layer",
                              transform=axes[row, 1].transAxes, ha="center", va="center",
                              color="white", fontsize=8)
        bar = fig.colorbar(heat, ax=axes[row, 1], fraction=0.046, pad=0.04)
        bar.set_label("importance", fontsize=8)
        axes[row, 2].imshow(overlay_heatmap(image, heatmap, alpha=alpha))
        axes[row, 2].set_title("heatmap over image", fontsize=9)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(path, dpi=100)
    plt.close(fig)
