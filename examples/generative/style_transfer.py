"""Neural style transfer with VGG19 (Deep Learning with Python, listings 8.14-8.21).

A content loss (block5_conv2), Gram-matrix style losses (block1-5 conv1) and a
total-variation loss over VGG19 run on [target, style reference, combination] built with
`K.constant`, `K.placeholder` and `K.concatenate`; `K.function` returns the loss and its
gradient with respect to the combination image, which SciPy's L-BFGS minimises. Writes
`my_result_at_iteration_<i>.png` (the stylised image) after each iteration.

    python examples/generative/style_transfer.py --target photo.jpg --style painting.jpg
    python examples/generative/style_transfer.py --quick   # synthetic pictures,
                                                           # random weights
"""

import time

import numpy as np
from scipy.optimize import fmin_l_bfgs_b

import _generative
from layerkit import backend as K
from layerkit.applications import vgg19
from layerkit.preprocessing.image import img_to_array, load_img, save_img


def flags(parser):
    parser.add_argument("--target", help="the picture to transform")
    parser.add_argument("--style", help="the picture whose style to take")


args = _generative.setup(__doc__, "style_transfer", extra=flags)
target_image_path, style_reference_image_path = args.target, args.style
if target_image_path is None or style_reference_image_path is None:
    if not args.quick:
        raise SystemExit("give --target PATH and --style PATH, or --quick")
    target_image_path = _generative.out(args, "target.png")
    style_reference_image_path = _generative.out(args, "style.png")
    _generative.synthetic_picture(48, 64, seed=1, path=target_image_path)
    _generative.synthetic_picture(48, 64, seed=2, path=style_reference_image_path)

width, height = load_img(target_image_path).size
img_height = 48 if args.quick else 400
img_width = int(width * img_height / height)


def preprocess_image(image_path):
    img = load_img(image_path, target_size=(img_height, img_width))
    img = img_to_array(img)
    img = np.expand_dims(img, axis=0)
    img = vgg19.preprocess_input(img)
    return img


def deprocess_image(x):
    x[:, :, 0] += 103.939
    x[:, :, 1] += 116.779
    x[:, :, 2] += 123.68
    x = x[:, :, ::-1]
    x = np.clip(x, 0, 255).astype("uint8")
    return x


target_image = K.constant(preprocess_image(target_image_path))
style_reference_image = K.constant(preprocess_image(style_reference_image_path))
combination_image = K.placeholder((1, img_height, img_width, 3))
input_tensor = K.concatenate([target_image,
                              style_reference_image,
                              combination_image], axis=0)
model = vgg19.VGG19(input_tensor=input_tensor,
                    weights=None if args.quick else "imagenet",
                    include_top=False)
print("Model loaded.")


def content_loss(base, combination):
    return K.sum(K.square(combination - base))


def gram_matrix(x):
    features = K.batch_flatten(K.permute_dimensions(x, (2, 0, 1)))
    gram = K.dot(features, K.transpose(features))
    return gram


def style_loss(style, combination):
    S = gram_matrix(style)
    C = gram_matrix(combination)
    channels = 3
    size = img_height * img_width
    return K.sum(K.square(S - C)) / (4. * (channels ** 2) * (size ** 2))


def total_variation_loss(x):
    a = K.square(
        x[:, :img_height - 1, :img_width - 1, :] - x[:, 1:, :img_width - 1, :])
    b = K.square(
        x[:, :img_height - 1, :img_width - 1, :] - x[:, :img_height - 1, 1:, :])
    return K.sum(K.pow(a + b, 1.25))


outputs_dict = dict([(layer.name, layer.output) for layer in model.layers])
content_layer = "block5_conv2"
style_layers = ["block1_conv1",
                "block2_conv1",
                "block3_conv1",
                "block4_conv1",
                "block5_conv1"]
total_variation_weight = 1e-4
style_weight = 1.
content_weight = 0.025

loss = K.variable(0.)
layer_features = outputs_dict[content_layer]
target_image_features = layer_features[0, :, :, :]
combination_features = layer_features[2, :, :, :]
loss += content_weight * content_loss(target_image_features,
                                      combination_features)
for layer_name in style_layers:
    layer_features = outputs_dict[layer_name]
    style_reference_features = layer_features[1, :, :, :]
    combination_features = layer_features[2, :, :, :]
    sl = style_loss(style_reference_features, combination_features)
    loss += (style_weight / len(style_layers)) * sl
loss += total_variation_weight * total_variation_loss(combination_image)

grads = K.gradients(loss, combination_image)[0]
fetch_loss_and_grads = K.function([combination_image], [loss, grads])


class Evaluator(object):

    def __init__(self):
        self.loss_value = None
        self.grads_values = None

    def loss(self, x):
        assert self.loss_value is None
        x = x.reshape((1, img_height, img_width, 3))
        outs = fetch_loss_and_grads([x])
        loss_value = outs[0]
        grad_values = outs[1].flatten().astype("float64")
        self.loss_value = loss_value
        self.grad_values = grad_values
        return self.loss_value

    def grads(self, x):
        assert self.loss_value is not None
        grad_values = np.copy(self.grad_values)
        self.loss_value = None
        self.grad_values = None
        return grad_values


evaluator = Evaluator()

result_prefix = _generative.out(args, "my_result")
iterations = 2 if args.quick else 20
x = preprocess_image(target_image_path)
x = x.flatten()
for i in range(iterations):
    print("Start of iteration", i)
    start_time = time.time()
    x, min_val, info = fmin_l_bfgs_b(evaluator.loss, x,
                                     fprime=evaluator.grads, maxfun=4 if args.quick else 20)
    print("Current loss value:", min_val)
    img = x.copy().reshape((img_height, img_width, 3))
    img = deprocess_image(img)
    fname = result_prefix + "_at_iteration_%d.png" % i
    save_img(fname, img)
    print("Image saved as", fname)
    end_time = time.time()
    print("Iteration %d completed in %ds" % (i, end_time - start_time))
