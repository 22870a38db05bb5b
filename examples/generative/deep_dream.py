"""DeepDream with InceptionV3 (Deep Learning with Python, listings 8.8-8.13).

Gradient ascent on an image to maximise the activations of four mixed layers of
InceptionV3 (`K.gradients` of a symbolic loss, `K.function`), over three octaves upscaled
with `scipy.ndimage.zoom`, re-injecting the detail lost by the upscaling. Writes
`dream_at_scale_<shape>.png` per octave and `final_dream.png`.

    python examples/generative/deep_dream.py --image photo.jpg   # ImageNet weights
    python examples/generative/deep_dream.py --quick             # synthetic picture,
                                                                 # random weights
"""

import numpy as np
import scipy.ndimage

import _generative
from layerkit import backend as K
from layerkit.applications import inception_v3
from layerkit.preprocessing import image

args = _generative.setup(__doc__, "deep_dream", extra=lambda p: p.add_argument(
    "--image", help="the picture to dream on (default with --quick: a synthetic one)"))
np.random.seed(0)

base_image_path = args.image
if base_image_path is None:
    if not args.quick:
        raise SystemExit("give --image PATH (a photograph), or --quick")
    base_image_path = _generative.out(args, "base_image.png")
    _generative.synthetic_picture(128, 128, path=base_image_path)

K.set_learning_phase(0)
model = inception_v3.InceptionV3(weights=None if args.quick else "imagenet",
                                 include_top=False)

layer_contributions = {
    "mixed2": 0.2,
    "mixed3": 3.,
    "mixed4": 2.,
    "mixed5": 1.5,
}
layer_dict = dict([(layer.name, layer) for layer in model.layers])
loss = K.variable(0.)
for layer_name in layer_contributions:
    coeff = layer_contributions[layer_name]
    activation = layer_dict[layer_name].output
    scaling = K.prod(K.cast(K.shape(activation), "float32"))
    loss += coeff * K.sum(K.square(activation[:, 2: -2, 2: -2, :])) / scaling

dream = model.input
grads = K.gradients(loss, dream)[0]
grads /= K.maximum(K.mean(K.abs(grads)), 1e-7)
outputs = [loss, grads]
fetch_loss_and_grads = K.function([dream], outputs)


def eval_loss_and_grads(x):
    outs = fetch_loss_and_grads([x])
    loss_value = outs[0]
    grad_values = outs[1]
    return loss_value, grad_values


def gradient_ascent(x, iterations, step, max_loss=None):
    for i in range(iterations):
        loss_value, grad_values = eval_loss_and_grads(x)
        if max_loss is not None and loss_value > max_loss:
            break
        print("...Loss value at", i, ":", loss_value)
        x += step * grad_values
    return x


def resize_img(img, size):
    img = np.copy(img)
    factors = (1,
               float(size[0]) / img.shape[1],
               float(size[1]) / img.shape[2],
               1)
    return scipy.ndimage.zoom(img, factors, order=1)


def save_img(img, fname):
    pil_img = deprocess_image(np.copy(img))
    image.save_img(fname, pil_img)  # the book's scipy.misc.imsave left SciPy in 1.2


def preprocess_image(image_path):
    img = image.load_img(image_path)
    img = image.img_to_array(img)
    img = np.expand_dims(img, axis=0)
    img = inception_v3.preprocess_input(img)
    return img


def deprocess_image(x):
    x = x.reshape((x.shape[1], x.shape[2], 3))
    x /= 2.
    x += 0.5
    x *= 255.
    x = np.clip(x, 0, 255).astype("uint8")
    return x


step = 0.05 if args.quick else 0.01  # a few quick steps still show the pattern
num_octave = 2 if args.quick else 3
octave_scale = 1.4
iterations = 4 if args.quick else 20
max_loss = 10.

img = preprocess_image(base_image_path)
original_shape = img.shape[1:3]
successive_shapes = [original_shape]
for i in range(1, num_octave):
    shape = tuple([int(dim / (octave_scale ** i)) for dim in original_shape])
    successive_shapes.append(shape)
successive_shapes = successive_shapes[::-1]
original_img = np.copy(img)
shrunk_original_img = resize_img(img, successive_shapes[0])

for shape in successive_shapes:
    print("Processing image shape", shape)
    img = resize_img(img, shape)
    img = gradient_ascent(img, iterations=iterations, step=step, max_loss=max_loss)
    upscaled_shrunk_original_img = resize_img(shrunk_original_img, shape)
    same_size_original = resize_img(original_img, shape)
    lost_detail = same_size_original - upscaled_shrunk_original_img
    img += lost_detail
    shrunk_original_img = resize_img(original_img, shape)
    save_img(img, fname=_generative.out(args, "dream_at_scale_" + str(shape) + ".png"))

save_img(img, fname=_generative.out(args, "final_dream.png"))
print("Dream written to", _generative.out(args, "final_dream.png"))
