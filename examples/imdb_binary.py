"""IMDB movie reviews, positive or negative: a Dense 16-16-1 network on multi-hot vectors.

The notes' binary-classification template (Deep Learning with Python 3.4; notes 003 section
2.1 and 004): `vectorize_sequences`, a 10,000-review validation set, 20 epochs of rmsprop,
the loss and accuracy curves, then a fresh model trained for 4 epochs and evaluated.

    python examples/imdb_binary.py            # needs imdb.npz in ~/.keras/datasets
    python examples/imdb_binary.py --quick    # a subset (or synthetic data), 2 epochs
"""

import matplotlib
import numpy as np

import _example
from layerkit import layers, models
from layerkit.datasets import imdb

args = _example.setup(_example.parser(__doc__, "imdb_binary"))
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)

(train_data, train_labels), (test_data, test_labels) = _example.load(imdb, args,
                                                                     num_words=10000)
if args.quick:
    train_data, train_labels = train_data[:2000], train_labels[:2000]
    test_data, test_labels = test_data[:1000], test_labels[:1000]
print(train_data[0][:20], train_labels[0])


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
y_train = np.asarray(train_labels).astype('float32')
y_test = np.asarray(test_labels).astype('float32')

model = models.Sequential()
model.add(layers.Dense(16, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(16, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))

# A validation set taken from the training data (not the test set).
num_val = len(x_train) // 2 if args.quick else 10000
x_val = x_train[:num_val]
partial_x_train = x_train[num_val:]
y_val = y_train[:num_val]
partial_y_train = y_train[num_val:]

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['acc'])
history = model.fit(partial_x_train,
                    partial_y_train,
                    epochs=2 if args.quick else 20,
                    batch_size=512,
                    validation_data=(x_val, y_val))
history_dict = history.history
print(history_dict.keys())

loss_values = history_dict['loss']
val_loss_values = history_dict['val_loss']
epochs = range(1, len(loss_values) + 1)
plt.plot(epochs, loss_values, 'bo', label='Training loss')
plt.plot(epochs, val_loss_values, 'b', label='Validation loss')
plt.title('Training and validation loss')
plt.xlabel('Epochs')
plt.ylabel('Loss')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.legend()
plt.savefig(_example.out(args, 'loss.png'))

plt.clf()
acc = history_dict['acc']
val_acc = history_dict['val_acc']
plt.plot(epochs, acc, 'bo', label='Training acc')
plt.plot(epochs, val_acc, 'b', label='Validation acc')
plt.title('Training and validation accuracy')
plt.xlabel('Epochs')
plt.ylabel('Accuracy')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.legend()
plt.savefig(_example.out(args, 'accuracy.png'))

# The curves show overfitting after about 4 epochs: train a fresh model that long.
model = models.Sequential()
model.add(layers.Dense(16, activation='relu', input_shape=(10000,)))
model.add(layers.Dense(16, activation='relu'))
model.add(layers.Dense(1, activation='sigmoid'))
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])
model.fit(x_train, y_train, epochs=1 if args.quick else 4, batch_size=512)
results = model.evaluate(x_test, y_test)
print('test loss, test accuracy:', results)
print('predictions for the first test reviews:', model.predict(x_test[:5]).ravel())
