"""Merge: the shared base of the element-wise merging layers (Add, Multiply, Maximum, ...).

Who owns what:
- `build` validates the list of input shapes (Keras 3 broadcasting rules: equal batch,
  other axes equal or 1) and raises errors naming the layer and the shapes.
- `call` brings inputs of different ranks to one rank (new axes after the batch axis, as
  Keras 3 does) and hands them to the subclass's `_merge_function(inputs, masks)`.
- `compute_mask` ORs the input masks (Keras 3; tf.keras 2.x ANDed them).
"""

import torch

from ..layer import Layer


class Merge(Layer):
    """Base class of the element-wise merging layers; takes a list of tensors.

    Args:
        **kwargs: standard layer arguments (name, dtype, ...).
    """

    supports_masking = True

    def _merge_function(self, inputs, masks):
        raise NotImplementedError(f"{type(self).__name__} must implement _merge_function()")

    def build(self, input_shape):
        _check_list_of_shapes(self, input_shape)
        self.compute_output_shape(input_shape)  # raises on incompatible shapes
        self.built = True

    def call(self, inputs, mask=None):
        _check_list_of_tensors(self, inputs)
        batch_sizes = {int(x.shape[0]) for x in inputs}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) cannot merge tensors with "
                f"different batch sizes; received shapes {[tuple(x.shape) for x in inputs]}"
            )
        masks = list(mask) if mask is not None else [None] * len(inputs)
        ranks = [x.dim() for x in inputs]
        if len(set(ranks)) > 1:
            # (B, d) next to (B, t, d): new axes go after the batch axis, (B, 1, d). Keras 3
            # reads masks from the reshaped tensors, which have lost them: masks are dropped.
            inputs = [_expand_after_batch(x, max(ranks)) for x in inputs]
            masks = [None] * len(inputs)
        return self._merge_function(list(inputs), masks)

    def compute_output_shape(self, input_shape):
        _check_list_of_shapes(self, input_shape)
        output = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output = self._broadcast_shapes(output, tuple(shape[1:]), input_shape)
        batch_sizes = {s[0] for s in input_shape} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) cannot merge tensors with "
                f"different batch sizes; received shapes {list(input_shape)}"
            )
        return (batch_sizes.pop() if batch_sizes else None,) + output

    def _broadcast_shapes(self, shape1, shape2, all_shapes):
        """Keras's element-wise output shape: right-aligned, 1 broadcasts, None stays None."""
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        if not shape2:
            return shape1
        output = list(shape1[: len(shape1) - len(shape2)])
        for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
            if i is None or j is None:
                output.append(None)
            elif i == 1 or j == 1:
                output.append(j if i == 1 else i)
            elif i != j:
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}): inputs have incompatible "
                    f"shapes {[tuple(s) for s in all_shapes]}; apart from the batch axis, "
                    "each axis must be equal or 1 (broadcast)"
                )
            else:
                output.append(i)
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        """OR of the input masks (Keras 3), or None when any input has no mask."""
        if mask is None or any(m is None for m in mask):
            return None
        output = mask[0]
        for m in mask[1:]:
            output = torch.logical_or(output, m)
        return output

    def _merge_masked(self, op, inputs, masks):
        """Keras 3's Maximum / Minimum merge: masked-out entries take the other operand.

        Args:
            op: binary torch function (torch.maximum, torch.minimum).
            inputs: list of tensors of one shape (..., features).
            masks: list of boolean masks (..., ) or None, one per input.

        Returns:
            The merged tensor.
        """
        output, output_mask = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = mask.unsqueeze(-1).expand(x.shape)  # (..., ) -> (..., features)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = torch.where(mask, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            both = mask is not None and output_mask is not None
            output_mask = torch.logical_or(output_mask, mask) if both else None
            output = op(output, x)
        return output


def _expand_after_batch(x, rank):
    """Adds axes of size 1 after the batch axis until `x` has `rank` axes."""
    for _ in range(rank - x.dim()):
        x = x.unsqueeze(1)
    return x


def _check_list_of_shapes(layer, input_shape):
    if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
        isinstance(s, (list, tuple, torch.Size)) for s in input_shape
    ):
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) should be called on a list of "
            f"tensors, received input shape {input_shape}; pass e.g. [x1, x2]"
        )


def _check_list_of_tensors(layer, inputs):
    if not isinstance(inputs, (list, tuple)) or not inputs:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs)
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) should be called on a list of "
            f"tensors, received {shape}; pass e.g. [x1, x2]"
        )
