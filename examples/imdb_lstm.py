"""IMDB reviews with an LSTM: Embedding(1000, 128), LSTM(128), a sigmoid Dense, Adam.

Chris Albon's recipe (notes 001): the 1,000 most frequent words, every review padded or
truncated to 400 words with `sequence.pad_sequences`, 3 epochs at batch size 1000; then
the notes' chapter-6 variant (003 section 4): Embedding(10000, 32) and LSTM(32) trained
with rmsprop and a 20% validation split, and the learning curves.

    python examples/imdb_lstm.py            # needs imdb.npz in ~/.keras/datasets
    python examples/imdb_lstm.py --quick    # 300 reviews of 100 words (or synthetic), 1 epoch
"""

import matplotlib
import numpy as np

import _example
from layerkit import layers, models
from layerkit.datasets import imdb
from layerkit.layers import LSTM, Dense, Embedding
from layerkit.models import Sequential
from layerkit.preprocessing import sequence

args = _example.setup(_example.parser(__doc__, "imdb_lstm"))
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)

np.random.seed(0)
number_of_features = 1000
maxlen = 100 if args.quick else 400
(train_data, train_target), (test_data, test_target) = _example.load(
    imdb, args, num_words=number_of_features)
if args.quick:
    train_data, train_target = train_data[:300], train_target[:300]
    test_data, test_target = test_data[:300], test_target[:300]
# Pad or truncate every review to `maxlen` words.
train_features = sequence.pad_sequences(train_data, maxlen=maxlen)
test_features = sequence.pad_sequences(test_data, maxlen=maxlen)
print(train_data[0][:20])
print(test_features[0][-20:])

network = models.Sequential()
network.add(layers.Embedding(input_dim=number_of_features, output_dim=128))
network.add(layers.LSTM(units=128))
network.add(layers.Dense(units=1, activation='sigmoid'))
network.compile(loss='binary_crossentropy',
                optimizer='Adam',
                metrics=['accuracy'])
history = network.fit(train_features,
                      train_target,
                      epochs=1 if args.quick else 3,
                      verbose=2,
                      batch_size=1000,
                      validation_data=(test_features, test_target))
print('validation accuracy by epoch:', history.history['val_accuracy'])

# Deep Learning with Python 6.2: a smaller LSTM on 500-word reviews of 10,000 words.
max_features = 1000 if args.quick else 10000
(input_train, y_train), (input_test, y_test) = _example.load(imdb, args,
                                                             num_words=max_features)
if args.quick:
    input_train, y_train = input_train[:300], y_train[:300]
input_train = sequence.pad_sequences(input_train, maxlen=maxlen)
model = Sequential()
model.add(Embedding(max_features, 32))
model.add(LSTM(32))
model.add(Dense(1, activation='sigmoid'))
model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
history = model.fit(input_train, y_train, epochs=2 if args.quick else 10, batch_size=128,
                    validation_split=0.2)

acc = history.history['acc']
val_acc = history.history['val_acc']
epochs = range(1, len(acc) + 1)
plt.plot(epochs, acc, 'bo', label='Training acc')
plt.plot(epochs, val_acc, 'b', label='Validation acc')
plt.title('Training and validation accuracy (LSTM)')
plt.xlabel('Epochs')
plt.ylabel('Accuracy')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.legend()
plt.savefig(_example.out(args, 'lstm_accuracy.png'))
