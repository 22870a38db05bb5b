"""Config helper shared by the normalization layers (their beta / gamma arguments)."""

from ... import constraints, initializers, regularizers


def beta_gamma_config(layer):
    """The serialized beta / gamma initializers, regularizers and constraints of `layer`.

    Args:
        layer: a normalization layer with `beta_initializer`, `gamma_initializer`,
            `beta_regularizer`, `gamma_regularizer`, `beta_constraint`, `gamma_constraint`.

    Returns:
        A dict of Keras config entries (None where no regularizer / constraint is set).
    """
    return {
        "beta_initializer": initializers.serialize(layer.beta_initializer),
        "gamma_initializer": initializers.serialize(layer.gamma_initializer),
        "beta_regularizer": regularizers.serialize(layer.beta_regularizer),
        "gamma_regularizer": regularizers.serialize(layer.gamma_regularizer),
        "beta_constraint": constraints.serialize(layer.beta_constraint),
        "gamma_constraint": constraints.serialize(layer.gamma_constraint),
    }
