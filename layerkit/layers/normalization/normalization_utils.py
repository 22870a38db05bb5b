"""Build helper shared by the normalization layers (their gamma / beta weights)."""


def add_gamma_beta(layer, shape, scale, center):
    """Creates `gamma` (when `scale`) then `beta` (when `center`), each of `shape`.

    A weight left out is set to None, so `call` can test `layer.gamma is None`.

    Args:
        layer: a normalization layer with `gamma_initializer`, `gamma_regularizer`,
            `gamma_constraint` and the same three for beta.
        shape: tuple, the shape of both weights.
        scale: whether to create gamma.
        center: whether to create beta.
    """
    if scale:
        layer.add_weight("gamma", shape, layer.gamma_initializer, layer.gamma_regularizer,
                         constraint=layer.gamma_constraint)
    else:
        layer.gamma = None
    if center:
        layer.add_weight("beta", shape, layer.beta_initializer, layer.beta_regularizer,
                         constraint=layer.beta_constraint)
    else:
        layer.beta = None
