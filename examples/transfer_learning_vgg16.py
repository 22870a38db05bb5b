"""Cats vs dogs on a pretrained VGG16: feature extraction, then fine-tuning from block5_conv1.

The notes' transfer-learning listings (Deep Learning with Python 5.3; notes 003 section
3.2.2): `conv_base = VGG16(weights='imagenet', include_top=False, ...)`;
`extract_features` runs the convolutional base over `flow_from_directory` batches and a
Dense classifier trains on the features; then the base goes inside a Sequential model,
frozen (`conv_base.trainable = False`), trained with data augmentation through
`fit_generator`; finally the layers from block5_conv1 on are unfrozen and fine-tuned with
a 1e-5 learning rate, and the model is evaluated on the test folder and saved.

The images: `--base-dir` is a folder with train/, validation/ and test/, each holding
cats/ and dogs/ (the notes' cats_and_dogs_small, 2,000/1,000/1,000 images of Kaggle's
dogs-vs-cats). ImageNet weights come from ~/.keras/models (Keras's file
vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5); without it VGG16 starts random.

    python examples/transfer_learning_vgg16.py --base-dir ~/data/cats_and_dogs_small
    python examples/transfer_learning_vgg16.py --quick    # synthetic JPEGs at 48x48
"""

import os
import sys

import matplotlib
import numpy as np

import _example
from layerkit import layers, models, optimizers
from layerkit.preprocessing.image import ImageDataGenerator

parser = _example.parser(__doc__, "transfer_learning_vgg16")
parser.add_argument("--base-dir", metavar="DIR",
                    help="cats_and_dogs_small: train/, validation/, test/ with cats/, dogs/")
args = _example.setup(parser)
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)

base_dir = args.base_dir
if base_dir is None:
    if not args.quick:
        sys.exit("Give --base-dir (the notes' cats_and_dogs_small folder), or add --quick "
                 "to run on synthetic images.")
    base_dir = _example.synthetic_cats_and_dogs()
    print('--quick: synthetic cats and dogs in', base_dir)
train_dir = os.path.join(base_dir, 'train')
validation_dir = os.path.join(base_dir, 'validation')
test_dir = os.path.join(base_dir, 'test')
size = 48 if args.quick else 150


def count(directory):
    return sum(len(files) for _, _, files in os.walk(directory))


# 1. Feature extraction with the convolutional base, no augmentation.
conv_base, pretrained = _example.vgg16(args, include_top=False, input_shape=(size, size, 3))
conv_base.summary()

datagen = ImageDataGenerator(rescale=1. / 255)
batch_size = 20
feature_shape = conv_base.output_shape[1:]  # (4, 4, 512) at 150x150


def extract_features(directory, sample_count):
    features = np.zeros(shape=(sample_count,) + feature_shape)
    labels = np.zeros(shape=(sample_count))
    generator = datagen.flow_from_directory(
        directory,
        target_size=(size, size),
        batch_size=batch_size,
        class_mode='binary')
    i = 0
    for inputs_batch, labels_batch in generator:
        features_batch = conv_base.predict(inputs_batch)
        features[i * batch_size: (i + 1) * batch_size] = features_batch
        labels[i * batch_size: (i + 1) * batch_size] = labels_batch
        i += 1
        # The generator loops forever: stop once every image has been seen.
        if i * batch_size >= sample_count:
            break
    return features, labels


train_features, train_labels = extract_features(train_dir, count(train_dir))
validation_features, validation_labels = extract_features(validation_dir,
                                                          count(validation_dir))
flat = int(np.prod(feature_shape))
train_features = np.reshape(train_features, (len(train_features), flat))
validation_features = np.reshape(validation_features, (len(validation_features), flat))

model = models.Sequential()
model.add(layers.Dense(256, activation='relu', input_dim=flat))
model.add(layers.Dropout(0.5))
model.add(layers.Dense(1, activation='sigmoid'))
model.compile(optimizer=optimizers.RMSprop(lr=2e-5),
              loss='binary_crossentropy',
              metrics=['acc'])
history = model.fit(train_features, train_labels,
                    epochs=2 if args.quick else 30,
                    batch_size=20,
                    validation_data=(validation_features, validation_labels))

# 2. The frozen base inside a model, trained end to end with data augmentation.
model = models.Sequential()
model.add(conv_base)
model.add(layers.Flatten())
model.add(layers.Dense(256, activation='relu'))
model.add(layers.Dense(1, activation='sigmoid'))
print('trainable weights before freezing the base:', len(model.trainable_weights))
conv_base.trainable = False
print('trainable weights after freezing the base:', len(model.trainable_weights))

train_datagen = ImageDataGenerator(
    rescale=1. / 255,
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode='nearest')
test_datagen = ImageDataGenerator(rescale=1. / 255)  # never augment validation data
train_generator = train_datagen.flow_from_directory(
    train_dir, target_size=(size, size), batch_size=20, class_mode='binary')
validation_generator = test_datagen.flow_from_directory(
    validation_dir, target_size=(size, size), batch_size=20, class_mode='binary')

model.compile(loss='binary_crossentropy',
              optimizer=optimizers.RMSprop(lr=2e-5),
              metrics=['acc'])
history = model.fit_generator(
    train_generator,
    steps_per_epoch=1 if args.quick else 100,
    epochs=1 if args.quick else 30,
    validation_data=validation_generator,
    validation_steps=1 if args.quick else 50)

# 3. Fine-tuning: unfreeze block5 (from block5_conv1 on), a smaller learning rate.
conv_base.trainable = True
set_trainable = False
for layer in conv_base.layers:
    if layer.name == 'block5_conv1':
        set_trainable = True
    if set_trainable:
        layer.trainable = True
    else:
        layer.trainable = False
print('trainable layers of the base:',
      [layer.name for layer in conv_base.layers if layer.trainable])

model.compile(loss='binary_crossentropy',
              optimizer=optimizers.RMSprop(lr=1e-5),
              metrics=['acc'])
history = model.fit_generator(
    train_generator,
    steps_per_epoch=1 if args.quick else 100,
    epochs=1 if args.quick else 100,
    validation_data=validation_generator,
    validation_steps=1 if args.quick else 50)
model.save(_example.out(args, 'cats_and_dogs_small_4.h5'))


def smooth_curve(points, factor=0.8):
    smoothed_points = []
    for point in points:
        if smoothed_points:
            previous = smoothed_points[-1]
            smoothed_points.append(previous * factor + point * (1 - factor))
        else:
            smoothed_points.append(point)
    return smoothed_points


acc = history.history['acc']
val_acc = history.history['val_acc']
epochs = range(1, len(acc) + 1)
plt.plot(epochs, smooth_curve(acc), 'bo', label='Smoothed training acc')
plt.plot(epochs, smooth_curve(val_acc), 'b', label='Smoothed validation acc')
plt.title('Fine-tuning: training and validation accuracy')
plt.xlabel('Epochs')
plt.ylabel('Accuracy')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.legend()
plt.savefig(_example.out(args, 'fine_tuning_accuracy.png'))

test_generator = test_datagen.flow_from_directory(
    test_dir, target_size=(size, size), batch_size=20, class_mode='binary')
test_loss, test_acc = model.evaluate_generator(
    test_generator, steps=max(1, count(test_dir) // 20))
print('test acc:', test_acc, '' if pretrained else '(VGG16 had random weights)')
