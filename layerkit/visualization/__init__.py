"""Seeing inside a convnet: what the notes' chapter 5 writes by hand, as functions.

- `activations`: every layer's output for one image, and the notes' channel grid;
- `filters`: the input pattern each filter responds to most (gradient ascent);
- `grad_cam`: class-activation heatmaps for any conv layer, class and batch, and their
  overlay on the images;
- `figures`: titled PNG figures with colour scales (needs matplotlib).

All of it is a thin layer over `layerkit.backend`'s `K.gradients` / `K.function` and
`Model(model.input, layer.output)`, so it works for any layerkit model, the applications
included.
"""

from .activations import activation_grid as activation_grid
from .activations import layer_activations as layer_activations
from .figures import save_activation_grids as save_activation_grids
from .figures import save_filter_patterns as save_filter_patterns
from .figures import save_grad_cam as save_grad_cam
from .filters import deprocess_image as deprocess_image
from .filters import filter_pattern as filter_pattern
from .filters import filter_patterns as filter_patterns
from .heatmaps import grad_cam as grad_cam
from .heatmaps import overlay_heatmap as overlay_heatmap
