"""K.function / K.gradients / symbolic tensor expressions (Keras 2 graph code, on autograd).

The notes' chapter-5 listings (filter patterns by gradient ascent, Grad-CAM) run
unchanged on small convnets; gradients are checked against finite differences, torch
autograd and Keras 3 (the torch backend's autograd on the same weights).
"""

import gc
import warnings

import keras
import numpy as np
import pytest
import torch

from layerkit import Input, Model, layers, models
from layerkit import backend as K


def small_convnet(input_shape=(None, None, 3)):
    inp = Input(input_shape)
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="block1_conv1")(inp)
    x = layers.MaxPooling2D(name="block1_pool")(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="block2_conv1")(x)
    return Model(inp, x)


def classifier(input_shape=(12, 12, 3), classes=5):
    inp = Input(input_shape)
    x = layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="last_conv")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return Model(inp, layers.Dense(classes, activation="softmax")(x))


def deprocess_image(x):
    x -= x.mean()
    x /= (x.std() + 1e-5)
    x *= 0.1
    x += 0.5
    x = np.clip(x, 0, 1)
    x *= 255
    return np.clip(x, 0, 255).astype("uint8")


def test_filter_visualisation_listing_runs_unchanged_and_the_loss_rises():
    model = small_convnet()
    np.random.seed(1)

    def generate_pattern(layer_name, filter_index, size=24):
        layer_output = model.get_layer(layer_name).output
        loss = K.mean(layer_output[:, :, :, filter_index])
        grads = K.gradients(loss, model.input)[0]
        grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)
        iterate = K.function([model.input], [loss, grads])
        input_img_data = np.random.random((1, size, size, 3)) * 20 + 128.
        losses = []
        for _ in range(8):
            loss_value, grads_value = iterate([input_img_data])
            losses.append(float(loss_value))
            input_img_data += grads_value * 1.
        return losses, deprocess_image(input_img_data[0])

    losses, img = generate_pattern("block2_conv1", 3)
    assert img.shape == (24, 24, 3) and img.dtype == np.uint8
    assert all(b > a for a, b in zip(losses, losses[1:])), losses


def test_normalised_gradient_equals_torch_autograd():
    model = small_convnet()
    loss = K.mean(model.get_layer("block2_conv1").output[:, :, :, 2])
    grads = K.gradients(loss, model.input)[0]
    normalised = grads / (K.sqrt(K.mean(K.square(grads))) + 1e-5)
    iterate = K.function([model.input], [loss, normalised])
    image = np.random.RandomState(0).rand(2, 10, 10, 3).astype("float32")
    loss_value, grads_value = iterate([image])

    x = torch.tensor(image, requires_grad=True)
    expected_loss = model(x)[..., 2].mean()
    (g,) = torch.autograd.grad(expected_loss, x)
    g = g / (torch.sqrt(torch.mean(g ** 2)) + 1e-5)
    np.testing.assert_allclose(loss_value, expected_loss.item(), rtol=1e-6)
    np.testing.assert_allclose(grads_value, g.numpy(), rtol=1e-5, atol=1e-7)


def test_gradients_match_finite_differences():
    torch.set_default_dtype(torch.float32)
    inp = Input((4,))
    out = layers.Dense(3, activation="tanh")(inp)
    model = Model(inp, out)
    loss = K.sum(K.square(model.output[:, 1])) + K.mean(model.output)
    grad = K.gradients(loss, model.input)[0]
    f = K.function([model.input], [loss, grad])
    x = np.random.RandomState(3).randn(2, 4)
    value, g = f([x])
    eps = 1e-3
    numeric = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (f([plus])[0] - f([minus])[0]) / (2 * eps)
    np.testing.assert_allclose(g, numeric, rtol=2e-2, atol=2e-3)


def test_grad_cam_listing_matches_keras3_autograd():
    model = classifier()
    x = np.random.RandomState(0).rand(1, 12, 12, 3).astype("float32")

    class_output = model.output[:, 3]
    last_conv_layer = model.get_layer("last_conv")
    grads = K.gradients(class_output, last_conv_layer.output)[0]
    pooled_grads = K.mean(grads, axis=(0, 1, 2))
    iterate = K.function([model.input], [pooled_grads, last_conv_layer.output[0]])
    pooled_grads_value, conv_layer_output_value = iterate([x])
    assert pooled_grads_value.shape == (8,) and conv_layer_output_value.shape == (12, 12, 8)
    for i in range(8):
        conv_layer_output_value[:, :, i] *= pooled_grads_value[i]
    heatmap = np.mean(conv_layer_output_value, axis=-1)
    heatmap = np.maximum(heatmap, 0)
    heatmap /= np.max(heatmap)
    assert heatmap.shape == (12, 12) and heatmap.min() >= 0 and heatmap.max() == 1.0

    # the same computation in Keras 3 (torch backend autograd), same weights
    kin = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(kin)
    conv = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    kout = keras.layers.Dense(5, activation="softmax")(keras.layers.GlobalAveragePooling2D()(conv))
    kmodel = keras.Model(kin, [kout, conv])
    kmodel.set_weights(model.get_weights())
    preds, conv_value = kmodel(torch.tensor(x))
    (g,) = torch.autograd.grad(preds[:, 3].sum(), conv_value)
    np.testing.assert_allclose(pooled_grads_value, g.mean(dim=(0, 1, 2)).detach().numpy(),
                               rtol=1e-4, atol=1e-7)


def test_gradients_with_respect_to_weights_and_several_variables():
    inp = Input((3,))
    dense = layers.Dense(2)
    model = Model(inp, dense(inp))
    loss = K.sum(model.output)
    g_kernel, g_bias, g_input = K.gradients(loss, [dense.kernel, dense.bias, model.input])
    assert g_kernel.shape == (3, 2) and g_input.shape == (None, 3)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    gk, gb, gi = K.function([model.input], [g_kernel, g_bias, g_input])([x])
    np.testing.assert_allclose(gk, np.repeat(x.sum(0)[:, None], 2, axis=1), rtol=1e-6)
    np.testing.assert_allclose(gb, [2.0, 2.0])
    np.testing.assert_allclose(gi, np.tile(dense.kernel.detach().numpy().sum(1), (2, 1)),
                               rtol=1e-6)
    assert dense.kernel.grad is None  # K.function leaves .grad alone


def test_second_order_gradient():
    inp = Input((1,))
    model = Model(inp, layers.Lambda(lambda t: t ** 3)(inp))
    g = K.gradients(K.sum(model.output), model.input)[0]            # 3 x^2
    gg = K.gradients(K.sum(g), model.input)[0]                      # 6 x
    first, second = K.function([model.input], [g, gg])([np.array([[2.0]])])
    np.testing.assert_allclose(first, [[12.0]], rtol=1e-6)
    np.testing.assert_allclose(second, [[12.0]], rtol=1e-6)


@pytest.mark.parametrize("expression, expected", [
    (lambda t: t[:, 1], lambda a: a[:, 1]),
    (lambda t: t[0], lambda a: a[0]),
    (lambda t: -t + 2 * t - t / 4 + 1, lambda a: -a + 2 * a - a / 4 + 1),
    (lambda t: t ** 2 - 3, lambda a: a ** 2 - 3),
    (lambda t: 1 - abs(t), lambda a: 1 - np.abs(a)),
    (lambda t: K.mean(K.square(t), axis=-1), lambda a: (a ** 2).mean(-1)),
    (lambda t: K.maximum(t, 0.0) + K.minimum(t, 0.5), lambda a: np.maximum(a, 0) + np.minimum(a, .5)),
    (lambda t: K.exp(K.clip(t, -1, 1)), lambda a: np.exp(np.clip(a, -1, 1))),
    (lambda t: K.prod(K.cast(K.shape(t), "float32")), lambda a: float(np.prod(a.shape))),
    (lambda t: K.reshape(t, (-1, 2)), lambda a: a.reshape(-1, 2)),
    (lambda t: K.sum(t * np.array([1.0, 2.0, 3.0, 4.0])), lambda a: (a * [1, 2, 3, 4]).sum()),
    (lambda t: K.concatenate([t, K.constant(np.ones((3, 4)))], axis=0),
     lambda a: np.concatenate([a, np.ones((3, 4))], 0)),
    (lambda t: K.std(t, axis=0), lambda a: a.std(0)),
    (lambda t: K.l2_normalize(t, axis=1), lambda a: a / np.sqrt((a ** 2).sum(1, keepdims=True))),
])
def test_symbolic_expressions_evaluate_like_numpy(expression, expected):
    inp = Input((4,))
    out = expression(inp)
    a = np.random.RandomState(0).randn(3, 4).astype("float32")
    np.testing.assert_allclose(K.function([inp], [out])([a])[0], expected(a), rtol=1e-5,
                               atol=1e-6)


def test_symbolic_shapes_follow_keras():
    inp = Input((None, None, 3))
    assert inp[:, :, :, 0].shape == (None, None, None)
    assert inp[0].shape == (None, None, 3)
    assert K.mean(inp, axis=(0, 1, 2)).shape == (3,)
    assert K.int_shape(K.sum(Input((7, 5)), axis=1)) == (None, 5)
    assert K.int_shape(Input((6,))[:, 2:4] * 3) == (None, 2)


def test_expression_outputs_make_models():
    model = classifier()
    sub = Model(model.input, model.output[:, 2])
    x = np.random.RandomState(0).rand(4, 12, 12, 3).astype("float32")
    np.testing.assert_allclose(sub.predict(x, verbose=0), model.predict(x, verbose=0)[:, 2],
                               rtol=1e-6)
    with pytest.raises(NotImplementedError, match="Lambda"):
        sub.get_config()


def test_learning_phase_selects_dropout_mode():
    inp = Input((200,))
    out = layers.Dropout(0.5)(inp)
    f = K.function([inp, K.learning_phase()], [out])
    x = np.ones((2, 200), "float32")
    np.testing.assert_array_equal(f([x, 0])[0], x)
    train = f([x, 1])[0]
    assert set(np.unique(train)) == {0.0, 2.0}
    g = K.function([inp], [out])
    np.testing.assert_array_equal(g([x])[0], x)   # default phase: inference
    K.set_learning_phase(1)
    try:
        assert (g([x])[0] == 0).any()
    finally:
        K.set_learning_phase(0)


def test_sequential_and_nested_layer_outputs():
    model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                               layers.Dense(2)])
    loss = K.mean(model.layers[0].output)
    grads = K.gradients(loss, model.input)[0]
    x = np.random.RandomState(1).rand(5, 3).astype("float32")
    value, g = K.function([model.input], [loss, grads])([x])
    t = torch.tensor(x, requires_grad=True)
    expected = model.layers[0](t).mean()
    np.testing.assert_allclose(value, expected.item(), rtol=1e-6)
    np.testing.assert_allclose(g, torch.autograd.grad(expected, t)[0].numpy(), rtol=1e-5)


def test_errors_name_the_problem():
    model = classifier()
    other = Input((3,))
    with pytest.raises(ValueError, match="does not depend on"):
        K.gradients(K.mean(model.output), other)
    with pytest.raises(ValueError, match="Graph disconnected"):
        K.function([other], [model.output])
    f = K.function([model.input], [model.output])
    with pytest.raises(ValueError, match=r"expects shape \(None, 12, 12, 3\).*\(2, 5\)"):
        f([np.zeros((2, 5))])
    with pytest.raises(ValueError, match="expects 1 input"):
        f([])
    with pytest.raises(ValueError, match="integer input|floating-point"):
        ids = Input((5,), dtype="int32")
        emb = layers.Embedding(10, 2)(ids)
        K.gradients(K.sum(emb), ids)
    with pytest.raises(AttributeError, match="did you mean 'mean'"):
        K.mena
    with pytest.raises(AttributeError, match="sessions do not exist"):
        K.get_session()
    with pytest.raises(TypeError, match="symbolic"):
        bool(model.output)
    with pytest.raises(ValueError, match="updates"):
        K.function([model.input], [model.output], updates=[(1, 2)])


def test_numpy_and_numbers_are_accepted_like_keras2():
    a = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert K.mean(a).dtype == torch.float32
    np.testing.assert_allclose(K.mean(a).numpy(), 2.75)
    np.testing.assert_allclose(K.sqrt(4.0).numpy(), 2.0)
    np.testing.assert_allclose(K.sum(K.square(a), axis=1).numpy(), [5.0, 34.0])
    np.testing.assert_allclose(K.maximum(a, 2.5).numpy(), [[2.5, 2.5], [3.0, 5.0]])
    np.testing.assert_allclose(K.binary_crossentropy(np.array([1.0, 0.0]),
                                                     np.array([0.8, 0.3])).numpy(),
                               [-np.log(0.8), -np.log(0.7)], rtol=1e-6)


def test_variables_values_and_eval():
    v = K.variable(np.array([1.0, 2.0]))
    assert v.dtype == torch.float32
    K.set_value(v, [3.0, 4.0])
    np.testing.assert_allclose(K.get_value(v), [3.0, 4.0])
    np.testing.assert_allclose(K.eval(v * 2), [6.0, 8.0])
    K.batch_set_value([(v, [0.0, 1.0])])
    assert K.batch_get_value([v])[0].tolist() == [0.0, 1.0]
    loss = K.variable(0.0)
    inp = Input((2,))
    loss += 2 * K.sum(inp)        # a variable plus a symbolic tensor is symbolic
    assert K.is_keras_tensor(loss)
    np.testing.assert_allclose(K.function([inp], [loss])([np.ones((1, 2))])[0], 4.0)
    placeholder = K.placeholder(shape=(1, 2))
    np.testing.assert_allclose(K.eval(K.constant([1.0, 2.0])), [1.0, 2.0])
    assert K.int_shape(placeholder) == (1, 2)


def test_function_keeps_no_tensors_between_calls():
    model = classifier()
    grads = K.gradients(K.mean(model.output[:, 1]), model.input)[0]
    f = K.function([model.input], [grads])
    x = np.random.rand(1, 12, 12, 3)

    def live_tensors():
        gc.collect()
        with warnings.catch_warnings():  # some torch modules warn when inspected
            warnings.simplefilter("ignore")
            return sum(isinstance(o, torch.Tensor) for o in gc.get_objects())

    f([x])
    before = live_tensors()
    for _ in range(5):
        f([x])
    after = live_tensors()
    assert after <= before
    assert not any(isinstance(v, torch.Tensor) for v in vars(f).values())


def test_style_transfer_listing_runs_with_lbfgs():
    """Deep Learning with Python 8.3: a loss over several VGG19 layers of a model built on
    K.concatenate([constant, constant, placeholder]), fed to scipy's L-BFGS."""
    from scipy.optimize import fmin_l_bfgs_b

    from layerkit.applications import vgg19

    h, w = 32, 32
    rng = np.random.RandomState(0)
    target_image = K.constant(rng.rand(1, h, w, 3) * 255)
    style_reference_image = K.constant(rng.rand(1, h, w, 3) * 255)
    combination_image = K.placeholder((1, h, w, 3))
    input_tensor = K.concatenate([target_image, style_reference_image, combination_image],
                                 axis=0)
    model = vgg19.VGG19(input_tensor=input_tensor, weights=None, include_top=False)
    outputs_dict = dict([(layer.name, layer.output) for layer in model.layers])

    def gram_matrix(x):
        features = K.batch_flatten(K.permute_dimensions(x, (2, 0, 1)))
        return K.dot(features, K.transpose(features))

    def style_loss(style, combination):
        return K.sum(K.square(gram_matrix(style) - gram_matrix(combination))) / (
            4. * (3 ** 2) * ((h * w) ** 2))

    loss = K.variable(0.)
    features = outputs_dict["block5_conv2"]
    loss = loss + 0.025 * K.sum(K.square(features[2, :, :, :] - features[0, :, :, :]))
    for name in ["block1_conv1", "block3_conv1"]:
        features = outputs_dict[name]
        loss += 0.5 * style_loss(features[1, :, :, :], features[2, :, :, :])
    a = K.square(combination_image[:, :h - 1, :w - 1, :] - combination_image[:, 1:, :w - 1, :])
    b = K.square(combination_image[:, :h - 1, :w - 1, :] - combination_image[:, :h - 1, 1:, :])
    loss += 1e-4 * K.sum(K.pow(a + b, 1.25))
    grads = K.gradients(loss, combination_image)[0]
    fetch_loss_and_grads = K.function([combination_image], [loss, grads])

    def loss_fn(x):
        value, g = fetch_loss_and_grads([x.reshape((1, h, w, 3))])
        loss_fn.grads = g.flatten().astype("float64")
        return float(value)

    x0 = rng.rand(1, h, w, 3).flatten() * 255
    start = loss_fn(x0)
    x, min_val, _ = fmin_l_bfgs_b(loss_fn, x0, fprime=lambda x: loss_fn.grads, maxfun=3)
    assert min_val < start and x.shape == x0.shape


def test_deepdream_listing_runs():
    """Deep Learning with Python 8.2: learning phase 0, a loss summed over four mixed
    layers of InceptionV3 (unknown image size), K.shape scaling, gradient ascent."""
    from layerkit.applications import inception_v3

    K.set_learning_phase(0)
    model = inception_v3.InceptionV3(weights=None, include_top=False)
    assert model.input.shape == (None, None, None, 3)
    layer_dict = dict([(layer.name, layer) for layer in model.layers])
    loss = K.variable(0.)
    for layer_name, coeff in {"mixed2": 0.2, "mixed3": 3.}.items():
        activation = layer_dict[layer_name].output
        scaling = K.prod(K.cast(K.shape(activation), "float32"))
        loss += coeff * K.sum(K.square(activation[:, 2: -2, 2: -2, :])) / scaling
    dream = model.input
    grads = K.gradients(loss, dream)[0]
    grads /= K.maximum(K.mean(K.abs(grads)), 1e-7)
    fetch_loss_and_grads = K.function([dream], [loss, grads])
    x = np.random.RandomState(0).rand(1, 96, 96, 3) * 2 - 1
    values = []
    for _ in range(3):
        value, g = fetch_loss_and_grads([x])
        values.append(float(value))
        x += 0.01 * g
    assert g.shape == (1, 96, 96, 3)
    assert values[2] > values[0]


def test_set_value_on_the_optimizer_learning_rate_takes_effect():
    inp = Input((1,))
    model = Model(inp, layers.Dense(1, use_bias=False, kernel_initializer="zeros")(inp))
    model.compile(optimizer="sgd", loss="mse")
    assert K.get_value(model.optimizer.lr) == pytest.approx(0.01)
    K.set_value(model.optimizer.lr, 0.5)
    assert K.get_value(model.optimizer.learning_rate) == 0.5
    x, y = np.ones((1, 1), "float32"), np.ones((1, 1), "float32")
    model.train_on_batch(x, y)                      # w -= 0.5 * 2 * (0 - 1) -> 1.0
    np.testing.assert_allclose(model.get_weights()[0], [[1.0]])


def test_shape_inference_survives_functions_that_zeros_upset():
    # small layers infer shapes on real zeros (cheap, no meta-kernel imports); a function
    # that fails on zeros (a singular matrix) falls back to meta tensors, which hold no values
    inp = Input((3, 3))
    out = layers.Lambda(lambda t: torch.linalg.inv(t))(inp)
    assert out.shape == (None, 3, 3)
    assert K.int_shape(K.sum(out, axis=1)) == (None, 3)
    eye = np.tile(np.eye(3, dtype="float32") * 2, (2, 1, 1))
    np.testing.assert_allclose(Model(inp, out).predict(eye, verbose=0), eye / 4)
