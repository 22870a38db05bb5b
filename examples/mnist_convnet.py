"""MNIST digits with a small convnet: Conv2D/MaxPooling2D stacks, then Dense layers.

The notes' convnet template (Deep Learning with Python 5.1; notes 003 section 3.1):
Conv2D 32-64-64 with 2x2 max pooling on (28, 28, 1) images, Flatten, Dense 64, softmax
over 10 digits, rmsprop and categorical_crossentropy on one-hot labels; then the same
network as Chris Albon's recipe writes it (notes 001): channels_first images, a 5x5
Conv2D of 64 filters, Dropout(0.5), `batch_size=1000`.

    python examples/mnist_convnet.py            # needs mnist.npz in ~/.keras/datasets
    python examples/mnist_convnet.py --quick    # 1,000 images (or synthetic ones), 1 epoch
"""

import _example
from layerkit import layers, models
from layerkit.datasets import mnist
from layerkit.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from layerkit.models import Sequential
from layerkit.utils import np_utils
from layerkit.utils.np_utils import to_categorical

args = _example.setup(_example.parser(__doc__, "mnist_convnet"))

(train_images, train_labels), (test_images, test_labels) = _example.load(mnist, args)
if args.quick:
    train_images, train_labels = train_images[:1000], train_labels[:1000]
    test_images, test_labels = test_images[:500], test_labels[:500]

train_images = train_images.reshape((len(train_images), 28, 28, 1))
train_images = train_images.astype('float32') / 255
test_images = test_images.reshape((len(test_images), 28, 28, 1))
test_images = test_images.astype('float32') / 255
train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10, activation='softmax'))
model.summary()

model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
model.fit(train_images, train_labels, epochs=1 if args.quick else 5, batch_size=64)
test_loss, test_acc = model.evaluate(test_images, test_labels)
print('test_acc:', test_acc)
model.save(_example.out(args, 'mnist_convnet.h5'))

# Notes 001: the same data as (channels, height, width) images.
channels, height, width = 1, 28, 28
(train_data, train_target), (test_data, test_target) = _example.load(mnist, args)
if args.quick:
    train_data, train_target = train_data[:1000], train_target[:1000]
    test_data, test_target = test_data[:500], test_target[:500]
train_data = train_data.reshape(train_data.shape[0], channels, height, width)
test_data = test_data.reshape(test_data.shape[0], channels, height, width)
train_features = train_data / 255
test_features = test_data / 255
train_target = np_utils.to_categorical(train_target)
test_target = np_utils.to_categorical(test_target)
number_of_classes = test_target.shape[1]

network = Sequential()
network.add(Conv2D(filters=64, kernel_size=(5, 5), input_shape=(channels, width, height),
                   activation='relu', data_format='channels_first'))
network.add(MaxPooling2D(pool_size=(2, 2), data_format='channels_first'))
network.add(Dropout(0.5))
network.add(Flatten())
network.add(Dense(128, activation='relu'))
network.add(Dropout(0.5))
network.add(Dense(number_of_classes, activation='softmax'))
network.compile(loss='categorical_crossentropy',
                optimizer='rmsprop',
                metrics=['accuracy'])
history = network.fit(train_features,
                      train_target,
                      epochs=1 if args.quick else 2,
                      verbose=2,
                      batch_size=1000,
                      validation_data=(test_features, test_target))
print('channels_first network, validation accuracy:', history.history['val_accuracy'][-1])
