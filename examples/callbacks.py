"""Callbacks: stop early, keep the best model, lower the learning rate, log every epoch.

Chris Albon's recipes (notes 001) on IMDB as multi-hot vectors from
`Tokenizer.sequences_to_matrix`: `EarlyStopping(monitor='val_loss', patience=2)` with
`ModelCheckpoint(filepath='best_model.h5', save_best_only=True)`; a checkpoint per epoch
named from a template (`model_{epoch:02d}_{val_loss:.2f}.hdf5`); and Keras's other two
everyday callbacks, `ReduceLROnPlateau` and `CSVLogger` (the log is training.log).

    python examples/callbacks.py            # needs imdb.npz in ~/.keras/datasets
    python examples/callbacks.py --quick    # 2,000 reviews (or synthetic ones), 3 epochs
"""

import numpy as np

import _example
from layerkit import layers, models
from layerkit.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from layerkit.datasets import imdb
from layerkit.models import load_model
from layerkit.preprocessing.text import Tokenizer

args = _example.setup(_example.parser(__doc__, "callbacks"))

np.random.seed(0)
number_of_features = 1000
(train_data, train_target), (test_data, test_target) = _example.load(
    imdb, args, num_words=number_of_features)
if args.quick:
    train_data, train_target = train_data[:2000], train_target[:2000]
    test_data, test_target = test_data[:1000], test_target[:1000]
tokenizer = Tokenizer(num_words=number_of_features)
train_features = tokenizer.sequences_to_matrix(train_data, mode='binary')
test_features = tokenizer.sequences_to_matrix(test_data, mode='binary')


def create_network():
    network = models.Sequential()
    network.add(layers.Dense(units=16, activation='relu',
                             input_shape=(number_of_features,)))
    network.add(layers.Dense(units=16, activation='relu'))
    network.add(layers.Dense(units=1, activation='sigmoid'))
    network.compile(loss='binary_crossentropy',
                    optimizer='rmsprop',
                    metrics=['accuracy'])
    return network


# Stop when the validation loss has not improved for 2 epochs; keep the best model.
network = create_network()
callbacks = [EarlyStopping(monitor='val_loss', patience=2),
             ModelCheckpoint(filepath=_example.out(args, 'best_model.h5'),
                             monitor='val_loss', save_best_only=True)]
history = network.fit(train_features,
                      train_target,
                      epochs=3 if args.quick else 20,
                      callbacks=callbacks,
                      verbose=2,
                      batch_size=100,
                      validation_data=(test_features, test_target))
print('stopped after', len(history.history['loss']), 'epochs; best val_loss',
      min(history.history['val_loss']))
best = load_model(_example.out(args, 'best_model.h5'))
print('best model, test loss and accuracy:', best.evaluate(test_features, test_target,
                                                           verbose=0))

# One file per epoch, named from the epoch and the validation loss.
network = create_network()
checkpoint = [ModelCheckpoint(filepath=_example.out(args, 'model_{epoch:02d}_{val_loss:.2f}.hdf5'))]
history = network.fit(train_features,
                      train_target,
                      epochs=2 if args.quick else 3,
                      callbacks=checkpoint,
                      verbose=0,
                      batch_size=100,
                      validation_data=(test_features, test_target))

# Halve the learning rate when the validation loss stalls; log each epoch to a CSV file.
network = create_network()
callbacks_list = [ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=1, verbose=1),
                  CSVLogger(_example.out(args, 'training.log'))]
history = network.fit(train_features,
                      train_target,
                      epochs=3 if args.quick else 10,
                      callbacks=callbacks_list,
                      verbose=2,
                      batch_size=100,
                      validation_data=(test_features, test_target))
print('learning rate by epoch:', history.history.get('lr'))
with open(_example.out(args, 'training.log')) as f:
    print(f.read())
