"""The layer contract's case table: every public layer of `layerkit.layers`, with the
arguments and input shapes it is checked with (tests/test_layer_contract.py).

A case is written with `twin(...)` where layerkit and Keras 3 take the same arguments,
and with `Case(...)` directly where they differ or Keras 3 has no such layer (then with a
hand count of the weights and a numpy reference). Adding a public layer without a case
fails `test_every_public_layer_has_a_case`.
"""

import torch

from layerkit import Input, layers, models

from layer_harness import Case

# Public capitalised names of layerkit.layers that are not layers.
NOT_LAYERS = {"InputSpec": "describes a layer's expected input; not a layer"}
# Layers with no case, and why. Empty: every public layer is checked.
EXCLUDED = {}


def twin(name, variant, shapes, kwargs=None, **fields):
    """A case for `layers.<name>(**kwargs)` against `keras.layers.<name>(**kwargs)`."""
    kwargs = kwargs or {}
    return Case(f"{name}-{variant}", lambda: getattr(layers, name)(**kwargs), shapes,
                keras=lambda keras: getattr(keras.layers, name)(**kwargs), **fields)


# ----------------------------------------------------------------------- special cases
class Scale(layers.Layer):
    """A user layer with one weight, written the way Keras documents it: the base Layer's
    contract (add_weight, default get_config, custom_objects on load)."""

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],),
                                     initializer="ones")

    def call(self, inputs):
        return inputs * self.scale


def keras_scale(keras):
    class KerasScale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],),
                                         initializer="ones")

        def call(self, inputs):
            return inputs * self.scale

    return KerasScale()


def double_plus_one(x):
    """Lambda's function (module level, so the .keras and .h5 files can name it)."""
    return x * 2.0 + 1.0


def input_model(layer, case):
    """Input(...) -> Dense(1): the InputLayer behind `Input` is the model's input."""
    return models.Model(layer.output, layers.Dense(1)(layer.output))


def input_layer_model(layer, case):
    return models.Sequential([layer, layers.Dense(1)])


def identity(arrays, weights):
    return arrays[0]


SPECIAL = [
    Case("Layer-user_subclass", Scale, (4,), keras=keras_scale, covers="Layer",
         custom_objects={"Scale": Scale}),
    Case("Input-shape", lambda: Input(shape=(4,)).node.layer, (4,), covers="Input",
         counts=(0, 0), reference=identity, model=input_model),
    Case("InputLayer-input_shape", lambda: layers.InputLayer(input_shape=(4,)), (4,),
         counts=(0, 0), reference=identity, model=input_layer_model),
    # a named function is saved by name (custom_objects on load), a lambda as bytecode
    Case("Lambda-function", lambda: layers.Lambda(double_plus_one), (3, 2),
         keras=lambda keras: keras.layers.Lambda(double_plus_one),
         custom_objects={"double_plus_one": double_plus_one}),
    Case("Lambda-bytecode", lambda: layers.Lambda(lambda x: x[:, 1:] * 3.0 - 0.5), (3, 2),
         keras=lambda keras: keras.layers.Lambda(lambda x: x[:, 1:] * 3.0 - 0.5),
         safe_mode=False, keras_config_skip=frozenset({"function"})),  # two lambdas' code
    # TensorOp is a recorded operation (`model.output[:, 3]`, `K.sum(t, axis=1)`): it has
    # no config by design, so the contract is that config and save raise saying so.
    Case("TensorOp-sum", lambda: layers.TensorOp(torch.sum, (Input(shape=(3, 4)),),
                                                 {"dim": 1}, name="sum"),
         [(3, 4)], counts=(0, 0), reference=lambda arrays, w: arrays[0].sum(axis=1),
         unsaveable=r"cannot be saved"),
    # Keras 2's cuDNN layers are factories returning the LSTM / GRU with cuDNN's settings,
    # which are Keras 3's defaults.
    Case("CuDNNLSTM-units3", lambda: layers.CuDNNLSTM(3, return_sequences=True), (5, 4),
         keras=lambda keras: keras.layers.LSTM(3, return_sequences=True), covers="CuDNNLSTM"),
    Case("CuDNNGRU-units3", lambda: layers.CuDNNGRU(3), (5, 4),
         keras=lambda keras: keras.layers.GRU(3), covers="CuDNNGRU"),
]

# ----------------------------------------------------------------------- core
_PENALISED = dict(units=3, kernel_regularizer="l2", bias_regularizer="l1",
                  kernel_constraint="non_neg", activity_regularizer="l2")
CORE = [
    twin("Dense", "tanh", (4,), dict(units=3, activation="tanh")),
    twin("Dense", "no_bias_3d", (2, 4), dict(units=3, use_bias=False)),
    Case("Dense-penalised_input_shape", lambda: layers.Dense(input_shape=(4,), **_PENALISED),
         (4,), keras=lambda keras: keras.layers.Dense(**_PENALISED)),
    twin("Activation", "softmax", (4,), dict(activation="softmax")),
    twin("Dropout", "noise_shape", (4,), dict(rate=0.3, noise_shape=(None, 1), seed=2)),
    twin("Flatten", "channels_first", (2, 3, 4), dict(data_format="channels_first")),
    twin("Reshape", "minus_one", (3, 4), dict(target_shape=(-1, 2))),
    twin("ActivityRegularization", "l1_l2", (4,), dict(l1=0.1, l2=0.2)),
    twin("Masking", "zero", (5, 2), dict(mask_value=0.0)),
    twin("Embedding", "mask_zero", (4,), dict(input_dim=10, output_dim=3, mask_zero=True),
         dtype="int32"),
    # tf.keras 2.x's input_length (gone from Keras 3)
    Case("Embedding-input_length", lambda: layers.Embedding(10, 3, input_length=4), (4,),
         keras=lambda keras: keras.layers.Embedding(10, 3), dtype="int32"),
]

# ----------------------------------------------------------------------- activations
# inputs of standard deviation 3 reach past ReLU's max_value and threshold
ACTIVATIONS = [
    # tf.keras 2.x's LeakyReLU(alpha=0.3) is Keras 3's LeakyReLU(negative_slope=0.3)
    # (the config holds tf.keras's `alpha`, which Keras 3 reads as negative_slope)
    Case("LeakyReLU-default", lambda: layers.LeakyReLU(), (3, 5), scale=3.0,
         keras=lambda keras: keras.layers.LeakyReLU(negative_slope=0.3),
         keras_config_skip=frozenset({"negative_slope"})),
    Case("LeakyReLU-alpha", lambda: layers.LeakyReLU(alpha=0.1), (3, 5), scale=3.0,
         keras=lambda keras: keras.layers.LeakyReLU(negative_slope=0.1),
         keras_config_skip=frozenset({"negative_slope"})),
    twin("ReLU", "relu6", (3, 5), dict(max_value=6.0), scale=3.0),
    twin("ReLU", "full", (3, 5), dict(max_value=2.5, negative_slope=0.2, threshold=0.5),
         scale=3.0),
    twin("ELU", "alpha", (3, 5), dict(alpha=0.7), scale=3.0),
    twin("PReLU", "default", (3, 5), scale=3.0),
    twin("PReLU", "shared_axes", (3, 5), dict(shared_axes=[1]), scale=3.0),
    twin("Softmax", "default", (3, 5), scale=3.0),
    twin("Softmax", "axis1", (3, 5), dict(axis=1), scale=3.0),
    twin("Softmax", "axes", (3, 5), dict(axis=[1, 2]), scale=3.0),
    # gone from Keras 3: tf.keras 2.x's formula, inputs * (inputs > theta)
    Case("ThresholdedReLU-theta", lambda: layers.ThresholdedReLU(theta=0.5), (3, 5), scale=3.0,
         counts=(0, 0), reference=lambda arrays, w: arrays[0] * (arrays[0] > 0.5)),
]

# ----------------------------------------------------------------------- convolution
CONVOLUTIONS = [
    twin("Conv1D", "valid", (9, 4), dict(filters=3, kernel_size=3)),
    twin("Conv1D", "same_stride3_k4", (8, 4), dict(filters=3, kernel_size=4, strides=3,
                                                   padding="same")),
    twin("Conv1D", "causal_dilated", (9, 3), dict(filters=2, kernel_size=3, padding="causal",
                                                  dilation_rate=2)),
    twin("Conv1D", "causal_stride2", (9, 3), dict(filters=2, kernel_size=3, strides=2,
                                                  padding="causal")),
    twin("Conv1D", "groups_relu", (6, 4), dict(filters=4, kernel_size=2, groups=2,
                                               activation="relu")),
    twin("Conv1D", "penalised", (6, 4), dict(filters=3, kernel_size=2, bias_regularizer="l2",
                                             bias_constraint="max_norm",
                                             kernel_regularizer="l1")),
    twin("Conv2D", "valid_relu", (7, 6, 3), dict(filters=4, kernel_size=(3, 3),
                                                 activation="relu")),
    twin("Conv2D", "same_even_kernel_stride2", (7, 6, 3), dict(filters=3, kernel_size=(2, 4),
                                                               strides=2, padding="same")),
    twin("Conv2D", "same_dilated_groups", (7, 6, 4), dict(filters=4, kernel_size=3,
                                                          dilation_rate=2, groups=2,
                                                          padding="same")),
    twin("Conv2D", "no_bias_strided_valid", (8, 7, 2), dict(filters=2, kernel_size=(3, 2),
                                                            strides=(2, 3), use_bias=False)),
    twin("Conv2D", "channels_first", (3, 6, 5), dict(filters=2, kernel_size=3,
                                                     data_format="channels_first")),
    twin("Conv2D", "penalised", (5, 5, 2), dict(filters=3, kernel_size=2,
                                                bias_regularizer="l2",
                                                bias_constraint="max_norm",
                                                activity_regularizer="l2")),
    twin("Conv2DTranspose", "same_s2_k3", (4, 5, 2), dict(filters=3, kernel_size=3,
                                                          strides=2, padding="same")),
    twin("Conv2DTranspose", "valid_s3_k2", (4, 3, 2), dict(filters=2, kernel_size=(2, 4),
                                                           strides=(3, 2))),
    twin("Conv2DTranspose", "same_output_padding", (3, 4, 2), dict(
        filters=2, kernel_size=3, strides=2, padding="same", output_padding=1)),
    twin("Conv2DTranspose", "valid_output_padding", (3, 4, 2), dict(
        filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 2))),
    twin("Conv2DTranspose", "dilated_same", (5, 4, 2), dict(filters=2, kernel_size=3,
                                                            dilation_rate=2, padding="same")),
    twin("Conv2DTranspose", "penalised", (3, 4, 2), dict(filters=2, kernel_size=2,
                                                         bias_regularizer="l2",
                                                         bias_constraint="max_norm")),
    twin("DepthwiseConv2D", "valid", (6, 5, 3), dict(kernel_size=3)),
    twin("DepthwiseConv2D", "same_multiplier2_stride2", (7, 6, 3), dict(
        kernel_size=(3, 2), depth_multiplier=2, strides=2, padding="same")),
    twin("DepthwiseConv2D", "penalised", (5, 4, 2), dict(kernel_size=2,
                                                         depthwise_regularizer="l2",
                                                         bias_regularizer="l1",
                                                         bias_constraint="max_norm")),
    twin("SeparableConv2D", "valid", (6, 5, 3), dict(filters=4, kernel_size=3)),
    twin("SeparableConv2D", "same_multiplier2_stride2", (7, 6, 3), dict(
        filters=5, kernel_size=3, depth_multiplier=2, strides=2, padding="same",
        activation="tanh")),
    twin("SeparableConv2D", "penalised", (5, 4, 2), dict(filters=3, kernel_size=2,
                                                         pointwise_regularizer="l2",
                                                         bias_regularizer="l1",
                                                         bias_constraint="max_norm")),
]

# ----------------------------------------------------------------------- pooling
# Average pooling with 'same' only pads symmetrically here: Keras 3.15's torch backend
# averages padded cells wrongly when the padding is asymmetric (tests/test_layers_pooling.py
# pins TF's numbers by hand).
POOLING = [
    twin("MaxPooling1D", "default", (7, 3)),
    twin("MaxPooling1D", "same_k3s2", (8, 3), dict(pool_size=3, strides=2, padding="same")),
    twin("MaxPooling1D", "stride1_valid", (6, 2), dict(pool_size=3, strides=1)),
    twin("MaxPooling2D", "default", (7, 6, 3)),
    twin("MaxPooling2D", "same_asymmetric", (6, 5, 2), dict(pool_size=(3, 2), strides=(2, 1),
                                                            padding="same")),
    twin("MaxPooling2D", "channels_first", (2, 6, 5), dict(data_format="channels_first")),
    twin("AveragePooling1D", "pool2", (7, 3), dict(pool_size=2)),
    twin("AveragePooling1D", "same_symmetric", (7, 3), dict(pool_size=3, strides=2,
                                                            padding="same")),
    twin("AveragePooling2D", "valid_strided", (7, 8, 2), dict(pool_size=(3, 2),
                                                              strides=(2, 3))),
    twin("AveragePooling2D", "same_stride1", (5, 4, 2), dict(pool_size=3, strides=1,
                                                             padding="same")),
    twin("AveragePooling2D", "same_even_stride1", (5, 4, 2), dict(pool_size=2, strides=1,
                                                                  padding="same")),
    twin("GlobalMaxPooling1D", "default", (6, 3)),
    twin("GlobalMaxPooling1D", "keepdims", (6, 3), dict(keepdims=True)),
    twin("GlobalAveragePooling1D", "default", (6, 3)),
    twin("GlobalAveragePooling1D", "channels_first", (3, 6), dict(data_format="channels_first")),
    twin("GlobalMaxPooling2D", "default", (5, 4, 3)),
    twin("GlobalAveragePooling2D", "default", (5, 4, 3)),
    twin("GlobalAveragePooling2D", "keepdims", (5, 4, 3), dict(keepdims=True)),
]

# ----------------------------------------------------------------------- merging
MERGING = [
    twin("Add", "three", [(3,), (3,), (3,)]),
    twin("Add", "rank_broadcast", [(3,), (4, 3)]),
    twin("Subtract", "two", [(4, 3), (4, 3)]),
    twin("Subtract", "broadcast_ones", [(1, 3), (4, 1)]),
    twin("Multiply", "broadcast", [(1, 3), (4, 3)]),
    twin("Average", "three", [(5,), (5,), (5,)]),
    twin("Maximum", "two", [(3, 2), (3, 2)]),
    twin("Minimum", "two", [(3, 2), (3, 2)]),
    twin("Concatenate", "last", [(3, 4), (3, 2)]),
    twin("Concatenate", "axis1", [(3, 4), (1, 4), (2, 4)], dict(axis=1)),
    twin("Concatenate", "negative_axis", [(3, 4), (5, 4)], dict(axis=-2)),
    twin("Dot", "vectors", [(5,), (5,)], dict(axes=1)),
    twin("Dot", "cosine", [(5,), (5,)], dict(axes=1, normalize=True)),
    twin("Dot", "pair_axes", [(3, 4), (4, 5)], dict(axes=[2, 1])),
    twin("Dot", "negative_axes", [(3, 4, 2), (4, 5)], dict(axes=[-2, 1])),
    twin("Dot", "2d_with_3d", [(3,), (3, 5)], dict(axes=1)),
    twin("Dot", "3d_with_2d", [(3, 4), (4,)], dict(axes=[2, 1])),
    twin("Dot", "cosine_3d", [(3, 4), (3, 2)], dict(axes=[1, 1], normalize=True)),
]

# ----------------------------------------------------------------------- normalization
# Batch renormalization (Keras 3's renorm* arguments) is not in layerkit.
_NO_RENORM = dict(keras_config_skip=frozenset({"renorm", "renorm_clipping", "renorm_momentum"}))
NORMALIZATION = [
    twin("BatchNormalization", "dense", (5,), **_NO_RENORM),
    twin("BatchNormalization", "sequence", (3, 4), dict(momentum=0.9), **_NO_RENORM),
    twin("BatchNormalization", "channels_first", (3, 4, 4), dict(axis=1, epsilon=1e-2),
         **_NO_RENORM),
    twin("BatchNormalization", "channels_last_image", (4, 4, 3), **_NO_RENORM),
    twin("BatchNormalization", "no_center", (3, 4), dict(center=False), **_NO_RENORM),
    twin("BatchNormalization", "no_scale", (3, 4), dict(scale=False), **_NO_RENORM),
    twin("BatchNormalization", "penalised", (3,), dict(beta_regularizer="l2",
                                                       gamma_constraint="non_neg",
                                                       moving_variance_initializer="zeros"),
         **_NO_RENORM),
    twin("LayerNormalization", "last", (3, 5)),
    twin("LayerNormalization", "two_trailing_axes", (3, 5), dict(axis=[1, 2], epsilon=1e-5)),
    twin("LayerNormalization", "negative_axes", (2, 3, 4), dict(axis=[-2, -1])),
    twin("LayerNormalization", "no_center_no_scale", (4,), dict(center=False, scale=False)),
]

# ----------------------------------------------------------------------- regularization
REGULARIZATION = [
    twin("GaussianNoise", "stddev", (3, 4), dict(stddev=0.5, seed=1)),
    twin("GaussianDropout", "rate", (5,), dict(rate=0.3, seed=1)),
    twin("SpatialDropout1D", "rate", (4, 3), dict(rate=0.5, seed=1)),
    twin("SpatialDropout2D", "channels_last", (3, 3, 2), dict(rate=0.5, seed=1,
                                                              data_format="channels_last")),
    twin("SpatialDropout2D", "channels_first", (2, 3, 3), dict(rate=0.5, seed=1,
                                                               data_format="channels_first")),
    twin("SpatialDropout3D", "channels_first", (2, 2, 2, 2), dict(
        rate=0.25, seed=1, data_format="channels_first")),
]

# ----------------------------------------------------------------------- reshaping
RESHAPING = [
    twin("ZeroPadding2D", "default", (3, 4, 2)),
    twin("ZeroPadding2D", "int", (3, 4, 2), dict(padding=2)),
    twin("ZeroPadding2D", "rows_cols", (3, 4, 2), dict(padding=(1, 3))),
    twin("ZeroPadding2D", "asymmetric", (3, 4, 2), dict(padding=((1, 0), (0, 2)))),
    twin("Cropping2D", "int", (5, 6, 2), dict(cropping=1)),
    twin("Cropping2D", "rows_cols", (5, 6, 2), dict(cropping=(2, 1))),
    twin("Cropping2D", "asymmetric", (5, 6, 2), dict(cropping=((0, 2), (3, 1)))),
    twin("Cropping2D", "channels_first", (2, 5, 6), dict(cropping=1,
                                                         data_format="channels_first")),
    twin("UpSampling2D", "default", (3, 4, 2)),
    twin("UpSampling2D", "2x3", (3, 4, 2), dict(size=(2, 3))),
    twin("UpSampling2D", "bilinear", (3, 4, 2), dict(size=(3, 2), interpolation="bilinear")),
    twin("Permute", "swap", (3, 4), dict(dims=(2, 1))),
    twin("Permute", "3d", (3, 4, 2), dict(dims=(3, 1, 2))),
    twin("RepeatVector", "n3", (4,), dict(n=3)),
]

# ----------------------------------------------------------------------- recurrent
_GRU_STATE = dict(units=4, reset_after=False, return_state=True, recurrent_dropout=0.2,
                  name="g")
RECURRENT = [
    twin("SimpleRNN", "default", (5, 4), dict(units=3)),
    twin("SimpleRNN", "relu_seq_dropout", (5, 3), dict(
        units=4, activation="relu", dropout=0.1, return_sequences=True,
        kernel_regularizer="l2")),
    twin("LSTM", "default", (5, 4), dict(units=3)),
    twin("LSTM", "backwards_hard_sigmoid", (5, 3), dict(
        units=4, recurrent_activation="hard_sigmoid", unit_forget_bias=False,
        go_backwards=True, recurrent_constraint="non_neg", seed=3)),
    twin("GRU", "default", (5, 4), dict(units=3)),
    # tf.keras's input_shape / implementation arguments: layerkit's layer only
    Case("GRU-reset_before_state", lambda: layers.GRU(
        input_shape=(5, 3), implementation=1, **_GRU_STATE), (5, 3),
        keras=lambda keras: keras.layers.GRU(**_GRU_STATE)),
    Case("Bidirectional-gru_sum", lambda: layers.Bidirectional(
        layers.GRU(4, return_sequences=True), merge_mode="sum"), (5, 3),
        keras=lambda keras: keras.layers.Bidirectional(
            keras.layers.GRU(4, return_sequences=True), merge_mode="sum")),
    Case("Bidirectional-lstm_concat", lambda: layers.Bidirectional(layers.LSTM(3)), (5, 4),
         keras=lambda keras: keras.layers.Bidirectional(keras.layers.LSTM(3))),
    Case("TimeDistributed-dense", lambda: layers.TimeDistributed(
        layers.Dense(2, activation="tanh")), (5, 3),
        keras=lambda keras: keras.layers.TimeDistributed(
            keras.layers.Dense(2, activation="tanh"))),
]

CASES = (SPECIAL + CORE + ACTIVATIONS + CONVOLUTIONS + POOLING + MERGING + NORMALIZATION
         + REGULARIZATION + RESHAPING + RECURRENT)
assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
