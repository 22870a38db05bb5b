"""Reuters newswires, 46 topics: a Dense 64-64-64-46 softmax network on multi-hot vectors.

The notes' multi-class template (Deep Learning with Python 3.5; notes 003 section 2.2):
one-hot labels with `to_categorical`, categorical_crossentropy, a 1,000-wire validation
set, 20 epochs, the curves, the test score. The same model with integer labels and
sparse_categorical_crossentropy closes the example.

    python examples/reuters_multiclass.py            # needs reuters.npz in ~/.keras/datasets
    python examples/reuters_multiclass.py --quick    # a subset (or synthetic data), 2 epochs
"""

import matplotlib
import numpy as np

import _example
from layerkit import layers, models
from layerkit.datasets import reuters
from layerkit.utils.np_utils import to_categorical

args = _example.setup(_example.parser(__doc__, "reuters_multiclass"))
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)

(train_data, train_labels), (test_data, test_labels) = _example.load(reuters, args,
                                                                     num_words=10000)
if args.quick:
    train_data, train_labels = train_data[:2000], train_labels[:2000]
    test_data, test_labels = test_data[:500], test_labels[:500]
print(len(train_data), 'training wires,', len(test_data), 'test wires')


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
one_hot_train_labels = to_categorical(train_labels, 46)
one_hot_test_labels = to_categorical(test_labels, 46)

model = models.Sequential()
model.add(layers.Dense(64, activation="relu", input_shape=(10000,)))
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(46, activation="softmax"))  # one unit per topic
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

num_val = len(x_train) // 4 if args.quick else 1000
x_val = x_train[:num_val]
partial_x_train = x_train[num_val:]
y_val = one_hot_train_labels[:num_val]
partial_y_train = one_hot_train_labels[num_val:]

history = model.fit(partial_x_train,
                    partial_y_train,
                    epochs=2 if args.quick else 20,
                    batch_size=512,
                    validation_data=(x_val, y_val))
results = model.evaluate(x_test, one_hot_test_labels)
print('test loss, test accuracy:', results)

loss = history.history['loss']
val_loss = history.history['val_loss']
epochs = range(1, len(loss) + 1)
plt.plot(epochs, loss, 'bo', label='Training loss')
plt.plot(epochs, val_loss, 'b', label='Validation loss')
plt.title('Training and validation loss')
plt.xlabel('Epochs')
plt.ylabel('Loss')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.legend()
plt.savefig(_example.out(args, 'loss.png'))

plt.clf()
acc = history.history['accuracy']
val_acc = history.history['val_accuracy']
plt.plot(epochs, acc, 'bo', label='Training acc')
plt.plot(epochs, val_acc, 'b', label='Validation acc')
plt.title('Training and validation accuracy')
plt.xlabel('Epochs')
plt.ylabel('Accuracy')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.legend()
plt.savefig(_example.out(args, 'accuracy.png'))

predictions = model.predict(x_test)
print('first wire: topic', np.argmax(predictions[0]), 'probabilities sum to',
      np.sum(predictions[0]))

# Integer labels work as well, with the sparse loss.
y_train = np.array(train_labels)
model.compile(optimizer='rmsprop', loss='sparse_categorical_crossentropy', metrics=['acc'])
model.fit(partial_x_train, y_train[num_val:], epochs=1, batch_size=512)
