"""GradientTape: TensorFlow's gradient recorder, spelled over autograd.

autograd already records every operation on tensors that require gradients, so the tape
only has to switch recording on for its block and answer `gradient(target, sources)` with
`torch.autograd.grad`. A tf.keras custom training loop runs with only its import changed:

    with GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
"""

import torch


class GradientTape:
    """Records the operations of its `with` block for differentiation.

    Args:
        persistent: allow several `gradient` calls (the graph is kept until the tape goes).
        watch_accessed_variables: accepted for TensorFlow compatibility; parameters that
            require gradients are always watched (autograd records them).

    Raises:
        RuntimeError: a second `gradient` call on a non-persistent tape.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self._used = False
        self._recording = None

    def __enter__(self):
        self._recording = torch.enable_grad()
        self._recording.__enter__()
        return self

    def __exit__(self, *exc):
        self._recording.__exit__(*exc)
        self._recording = None

    def watch(self, tensor):
        """Records operations on `tensor` (or each tensor of a list): a constant leaf is
        made to require gradients, as TensorFlow watches it."""
        for t in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if isinstance(t, torch.Tensor) and not t.requires_grad and t.is_leaf:
                t.requires_grad_(True)

    def stop_recording(self):
        """A context in which operations are not recorded."""
        return torch.no_grad()

    def reset(self):
        """Forgets what was recorded (a new `with` block records afresh)."""
        self._used = False

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients="none"):
        """Gradients of `target` (summed when not scalar, or a list summed) with respect to
        `sources` (a tensor, or a list / tuple / dict of them).

        Returns:
            Gradients shaped like `sources`; None for a source that `target` does not depend
            on (zeros with `unconnected_gradients='zero'`).
        """
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute "
                               "one set of gradients; use GradientTape(persistent=True)")
        self._used = True
        flat, rebuild = _flatten(sources)
        targets = list(target) if isinstance(target, (list, tuple)) else [target]
        if output_gradients is None:
            targets = [t if t.dim() == 0 else t.sum() for t in targets]
            grad_outputs = None
        else:
            grad_outputs = list(output_gradients) if isinstance(
                output_gradients, (list, tuple)) else [output_gradients]
        wanted = [i for i, s in enumerate(flat) if s.requires_grad]
        grads = [None] * len(flat)
        if wanted:
            found = torch.autograd.grad(targets, [flat[i] for i in wanted],
                                        grad_outputs=grad_outputs,
                                        retain_graph=self.persistent, allow_unused=True)
            for i, g in zip(wanted, found):
                grads[i] = g
        if unconnected_gradients == "zero":
            grads = [torch.zeros_like(s) if g is None else g for s, g in zip(flat, grads)]
        return rebuild(grads)

    def jacobian(self, target, sources):
        """The Jacobian of `target` with respect to one source tensor (by rows)."""
        rows = [torch.autograd.grad(t, sources, retain_graph=True, allow_unused=True)[0]
                for t in target.reshape(-1)]
        return torch.stack([torch.zeros_like(sources) if r is None else r for r in rows]
                           ).reshape(tuple(target.shape) + tuple(sources.shape))


def _flatten(sources):
    if isinstance(sources, dict):
        keys = list(sources)
        return [sources[k] for k in keys], lambda g: dict(zip(keys, g))
    if isinstance(sources, (list, tuple)):
        kind = type(sources)
        return list(sources), lambda g: kind(g) if kind is tuple else list(g)
    return [sources], lambda g: g[0]
