"""Config helper shared by the layers with weights: their initializer / regularizer /
constraint arguments (`kernel_initializer`, `bias_regularizer`, `beta_constraint`, ...)."""

from .. import constraints, initializers, regularizers

_KINDS = (("initializer", initializers), ("regularizer", regularizers),
          ("constraint", constraints))


def weight_options_config(layer, *weights):
    """The serialized `<weight>_initializer / _regularizer / _constraint` entries of `layer`.

    Entries come in Keras's order: every weight's initializer, then every regularizer, then
    every constraint (`kernel_initializer, bias_initializer, kernel_regularizer, ...`).

    Args:
        layer: a layer holding `<weight>_initializer`, `<weight>_regularizer` and
            `<weight>_constraint` attributes for each name in `weights`.
        *weights: the weight names, e.g. `"kernel", "bias"`.

    Returns:
        A dict of Keras config entries (None where no regularizer / constraint is set).

    Example:
        >>> weight_options_config(Dense(2), "kernel")["kernel_initializer"]["class_name"]
        'GlorotUniform'
    """
    config = {}
    for kind, module in _KINDS:
        for weight in weights:
            name = f"{weight}_{kind}"
            config[name] = module.serialize(getattr(layer, name))
    return config
