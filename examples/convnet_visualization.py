"""Looking inside convnets: intermediate activations, filter patterns, Grad-CAM heatmaps.

The notes' chapter-5 listings (Deep Learning with Python 5.4; notes 003 section 3.3), as
written there with `K.function` / `K.gradients`, each followed by the one-line
`layerkit.visualization` equivalent:

1. the activations of the first 8 layers of the small cats-vs-dogs convnet for one test
   image (`--model` loads the notes' cats_and_dogs_small_2.h5; otherwise the convnet is
   built and trained briefly on `--base-dir`, or on synthetic images with `--quick`);
2. the input patterns VGG16's filters respond to, by gradient ascent (`generate_pattern`);
3. Grad-CAM: where VGG16 sees the predicted class in a photograph (`--image`; default the
   photo scikit-learn ships, china.jpg), overlaid on it.
Without the ImageNet weights in ~/.keras/models VGG16 starts random (it says so).

    python examples/convnet_visualization.py --model cats_and_dogs_small_2.h5 --image elephant.jpg
    python examples/convnet_visualization.py --quick
"""

import os

import numpy as np

import _example
import layerkit.backend as K
from layerkit import layers, models, visualization
from layerkit.applications.vgg16 import decode_predictions, preprocess_input
from layerkit.models import load_model
from layerkit.preprocessing import image
from layerkit.preprocessing.image import ImageDataGenerator

parser = _example.parser(__doc__, "convnet_visualization")
parser.add_argument("--model", metavar="FILE.h5", help="the notes' cats_and_dogs_small_2.h5")
parser.add_argument("--base-dir", metavar="DIR", help="cats_and_dogs_small (see "
                    "transfer_learning_vgg16.py), to train the small convnet")
parser.add_argument("--image", metavar="FILE", help="a photograph for Grad-CAM")
args = _example.setup(parser)
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)


def small_convnet():
    """Deep Learning with Python 5.2's convnet, trained briefly."""
    base_dir = args.base_dir or _example.synthetic_cats_and_dogs()
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(150, 150, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(128, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(128, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(512, activation='relu'))
    model.add(layers.Dense(1, activation='sigmoid'))
    model.compile(loss='binary_crossentropy', optimizer='rmsprop', metrics=['acc'])
    train_generator = ImageDataGenerator(rescale=1. / 255).flow_from_directory(
        os.path.join(base_dir, 'train'), target_size=(150, 150), batch_size=20,
        class_mode='binary')
    model.fit(train_generator, steps_per_epoch=1 if args.quick else 100,
              epochs=1 if args.quick else 30)
    model.save(_example.out(args, 'cats_and_dogs_small_2.h5'))
    return model, base_dir


# 1. Intermediate activations.
if args.model:
    model, base_dir = load_model(args.model), args.base_dir
else:
    model, base_dir = small_convnet()
model.summary()
if base_dir:
    cats = os.path.join(base_dir, 'test', 'cats')
    img_path = os.path.join(cats, sorted(os.listdir(cats))[0])
    img = image.load_img(img_path, target_size=(150, 150))
    img_tensor = image.img_to_array(img)
else:  # a model but no images: the photo for Grad-CAM, resized
    img_tensor = np.zeros((150, 150, 3)) + 128.
img_tensor = np.expand_dims(img_tensor, axis=0)
img_tensor /= 255.

layer_outputs = [layer.output for layer in model.layers[:8]]
activation_model = models.Model(inputs=model.input, outputs=layer_outputs)
activations = activation_model.predict(img_tensor)
first_layer_activation = activations[0]
print(first_layer_activation.shape)
plt.matshow(first_layer_activation[0, :, :, 4], cmap='viridis')
plt.title('first layer, channel 4')
plt.savefig(_example.out(args, 'first_layer_channel_4.png'))
plt.close()

layer_names = []
for layer in model.layers[:8]:
    layer_names.append(layer.name)
images_per_row = 16
for layer_name, layer_activation in zip(layer_names[:4], activations[:4]):  # the convs, pools
    n_features = layer_activation.shape[-1]
    size = layer_activation.shape[1]
    n_cols = n_features // images_per_row
    display_grid = np.zeros((size * n_cols, images_per_row * size))
    for col in range(n_cols):
        for row in range(images_per_row):
            channel_image = layer_activation[0, :, :, col * images_per_row + row]
            channel_image -= channel_image.mean()
            channel_image /= (channel_image.std() + 1e-5)  # + 1e-5: a channel may be all 0
            channel_image *= 64
            channel_image += 128
            channel_image = np.clip(channel_image, 0, 255).astype('uint8')
            display_grid[col * size: (col + 1) * size,
                         row * size: (row + 1) * size] = channel_image
    scale = 1. / size
    plt.figure(figsize=(scale * display_grid.shape[1], scale * display_grid.shape[0] + 0.4))
    plt.title(layer_name)
    plt.grid(False)
    plt.imshow(display_grid, aspect='auto', cmap='viridis')
    plt.savefig(_example.out(args, f'activations_{layer_name}.png'))
    plt.close()
visualization.save_activation_grids(
    visualization.layer_activations(model, img_tensor[0]),
    _example.out(args, 'activations_all_layers.png'))

# 2. Filter patterns of VGG16 (the convolutional base).
model, pretrained = _example.vgg16(args, include_top=False)


def deprocess_image(x):
    x -= x.mean()
    x /= (x.std() + 1e-5)
    x *= 0.1
    x += 0.5
    x = np.clip(x, 0, 1)
    x *= 255
    x = np.clip(x, 0, 255).astype('uint8')
    return x


def generate_pattern(layer_name, filter_index, size=150, steps=40):
    layer_output = model.get_layer(layer_name).output
    loss = K.mean(layer_output[:, :, :, filter_index])
    grads = K.gradients(loss, model.input)[0]
    grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)  # gradient normalisation
    iterate = K.function([model.input], [loss, grads])
    input_img_data = np.random.random((1, size, size, 3)) * 20 + 128.
    step = 1.
    for i in range(steps):
        loss_value, grads_value = iterate([input_img_data])
        input_img_data += grads_value * step
    img = input_img_data[0]
    return deprocess_image(img)


layer_name = 'block1_conv1'
size = 32 if args.quick else 64
margin = 5
grid = 2 if args.quick else 8
steps = 10 if args.quick else 40
results = np.zeros((grid * size + (grid - 1) * margin, grid * size + (grid - 1) * margin, 3))
for i in range(grid):
    for j in range(grid):
        filter_img = generate_pattern(layer_name, i + (j * grid), size=size, steps=steps)
        horizontal_start = i * size + i * margin
        horizontal_end = horizontal_start + size
        vertical_start = j * size + j * margin
        vertical_end = vertical_start + size
        results[horizontal_start: horizontal_end,
                vertical_start: vertical_end, :] = filter_img
plt.figure(figsize=(8, 8))
plt.imshow(results.astype('uint8'))
plt.title(f"Patterns of {layer_name}'s first {grid * grid} filters")
plt.axis('off')
plt.savefig(_example.out(args, f'filters_{layer_name}.png'))
plt.close()
visualization.save_filter_patterns(
    visualization.filter_patterns(model, 'block3_conv1', range(4 if args.quick else 16),
                                  size=size, steps=steps),
    _example.out(args, 'filters_block3_conv1.png'),
    title="Patterns of block3_conv1's first filters")

# 3. Grad-CAM on the whole VGG16 (with its classifier).
model, pretrained = _example.vgg16(args)
img_path = args.image
if img_path is None:
    import sklearn.datasets

    img_path = os.path.join(os.path.dirname(sklearn.datasets.__file__), 'images', 'china.jpg')
img = image.load_img(img_path, target_size=(224, 224))
x = image.img_to_array(img)
x = np.expand_dims(x, axis=0)
x = preprocess_input(x)
preds = model.predict(x)
class_index = int(np.argmax(preds[0]))  # the notes' elephant photo: 386, African elephant
if pretrained:
    print('Predicted:', decode_predictions(preds, top=3)[0])
print('predicted class index:', class_index)

class_output = model.output[:, class_index]
last_conv_layer = model.get_layer('block5_conv3')
grads = K.gradients(class_output, last_conv_layer.output)[0]
pooled_grads = K.mean(grads, axis=(0, 1, 2))  # (512,): mean gradient per channel
iterate = K.function([model.input], [pooled_grads, last_conv_layer.output[0]])
pooled_grads_value, conv_layer_output_value = iterate([x])
for i in range(512):
    conv_layer_output_value[:, :, i] *= pooled_grads_value[i]
heatmap = np.mean(conv_layer_output_value, axis=-1)
heatmap = np.maximum(heatmap, 0)
heatmap /= (np.max(heatmap) + 1e-10)  # + 1e-10: random weights may leave no evidence
plt.matshow(heatmap)
plt.title(f'Class activation heatmap (class {class_index})')
plt.savefig(_example.out(args, 'heatmap.png'))
plt.close()

# The notes superimpose with cv2; PIL and matplotlib's jet colour map do the same.
from PIL import Image  # noqa: E402

img = np.asarray(Image.open(img_path).convert('RGB'), dtype='float32')
heatmap = np.asarray(Image.fromarray(np.uint8(255 * heatmap)).resize(
    (img.shape[1], img.shape[0])))
heatmap = np.uint8(255 * plt.cm.jet(heatmap)[..., :3])
superimposed_img = heatmap * 0.4 + img
Image.fromarray(np.clip(superimposed_img, 0, 255).astype('uint8')).save(
    _example.out(args, 'grad_cam.jpg'))

heatmaps, classes = visualization.grad_cam(model, x, 'block5_conv3')
photo = image.img_to_array(image.load_img(img_path, target_size=(224, 224))) / 255.
visualization.save_grad_cam(photo[None], heatmaps, _example.out(args, 'grad_cam_figure.png'),
                            labels=[f'class {classes[0]}'],
                            title="Grad-CAM at 'block5_conv3'")
print('wrote', sorted(os.listdir(args.output)))
