"""Keras 1 argument names: the error that says which Keras 2 argument replaced each one.

Keras 2.0 renamed many arguments (`keras/legacy/interfaces.py` converted them with a
warning); tf.keras 2.x and Keras 3 reject them. layerkit rejects them too, but says what to
write instead: `Dense(output_dim=64)` → "use units=".
"""

# Keras 1 name → Keras 2 name (or advice), shared by every layer
LAYER_ARGS = {
    "output_dim": "units",
    "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint",
    "bias": "use_bias",
    "nb_filter": "filters",
    "nb_row": "kernel_size (one tuple: kernel_size=(nb_row, nb_col))",
    "nb_col": "kernel_size (one tuple: kernel_size=(nb_row, nb_col))",
    "filter_length": "kernel_size",
    "subsample": "strides",
    "subsample_length": "strides",
    "border_mode": "padding",
    "dim_ordering": "data_format ('channels_last' for 'tf', 'channels_first' for 'th')",
    "atrous_rate": "dilation_rate",
    "pool_length": "pool_size",
    "stride": "strides",
    "inner_init": "recurrent_initializer",
    "inner_activation": "recurrent_activation",
    "U_regularizer": "recurrent_regularizer",
    "U_constraint": "recurrent_constraint",
    "dropout_W": "dropout",
    "dropout_U": "recurrent_dropout",
    "consume_less": "implementation (or leave it out)",
    "beta_init": "beta_initializer",
    "gamma_init": "gamma_initializer",
    "p": "rate",
    "sigma": "stddev",
    "mode": "no argument (Keras 2 removed it: BatchNormalization needs none, and Merge(mode=) "
            "became the layers Add, Concatenate, Dot, ...)",
}

# the same Keras 1 name meant another Keras 2 argument in these layers
LAYER_OVERRIDES = {
    "Embedding": {"init": "embeddings_initializer", "W_regularizer": "embeddings_regularizer",
                  "W_constraint": "embeddings_constraint",
                  "dropout": "a Dropout / SpatialDropout1D layer after the Embedding"},
    "PReLU": {"init": "alpha_initializer"},
}

# fit / evaluate / predict (and their *_generator spellings)
LOOP_ARGS = {
    "nb_epoch": "epochs",
    "samples_per_epoch": "steps_per_epoch (a number of batches, not samples)",
    "nb_val_samples": "validation_steps (a number of batches, not samples)",
    "val_samples": "steps (a number of batches, not samples)",
    "nb_worker": "workers",
    "pickle_safe": "use_multiprocessing",
    "max_q_size": "max_queue_size",
}


def renamed(names, table, owner, accepted=()):
    """The Keras 1 names among `names`, with the Keras 2 replacement for each.

    Args:
        names: argument names a caller passed.
        table: `LAYER_ARGS` or `LOOP_ARGS`.
        owner: class or function name, for per-layer overrides.
        accepted: names the callee really takes (never reported).

    Returns:
        `{old: new}`, empty when nothing is a Keras 1 name.
    """
    table = {**table, **LAYER_OVERRIDES.get(owner, {})} if table is LAYER_ARGS else table
    return {n: table[n] for n in names if n in table and n not in accepted}


LAYER_NAMES = frozenset(LAYER_ARGS) | {n for o in LAYER_OVERRIDES.values() for n in o}


def error(owner, found):
    """A TypeError naming each Keras 1 argument in `found` and the Keras 2 one to use."""
    pairs = "; ".join(f"{old}= → {new}" for old, new in found.items())
    return TypeError(
        f"{owner}() got Keras 1 argument(s) {sorted(found)}: {pairs}. layerkit follows the "
        "Keras 2 API (the one tf.keras 2.x uses)"
    )
