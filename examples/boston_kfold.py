"""Boston house prices: regression with 4-fold validation choosing the number of epochs.

The notes' regression template (Deep Learning with Python 3.6; notes 003 section 2.3):
features standardised with the training data's mean and std, `build_model()` (Dense
64-64-1, mse, 'mae'), k-fold validation recording every fold's validation MAE per epoch,
the averaged curve smoothed with `smooth_curve`, and a final model trained on all the
training data for the epoch count with the lowest mean validation MAE.

    python examples/boston_kfold.py            # needs boston_housing.npz in ~/.keras/datasets
    python examples/boston_kfold.py --quick    # 2 folds, a few epochs
"""

import matplotlib
import numpy as np

import _example
from layerkit import layers, models
from layerkit.datasets import boston_housing

args = _example.setup(_example.parser(__doc__, "boston_kfold"))
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)

(train_data, train_targets), (test_data, test_targets) = _example.load(boston_housing, args)
print(train_data.shape, test_data.shape)

mean = train_data.mean(axis=0)
train_data -= mean
std = train_data.std(axis=0)
train_data /= std
# The test data are normalised with the training data's statistics.
test_data -= mean
test_data /= std


def build_model():
    model = models.Sequential()
    model.add(layers.Dense(64, activation='relu',
                           input_shape=(train_data.shape[1],)))
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(1))
    model.compile(optimizer='rmsprop', loss='mse', metrics=['mae'])
    return model


k = 2 if args.quick else 4
num_val_samples = len(train_data) // k
num_epochs = 4 if args.quick else 500
batch_size = 16 if args.quick else 1
all_mae_histories = []
for i in range(k):
    print('processing fold #', i)
    val_data = train_data[i * num_val_samples: (i + 1) * num_val_samples]
    val_targets = train_targets[i * num_val_samples: (i + 1) * num_val_samples]
    partial_train_data = np.concatenate(
        [train_data[:i * num_val_samples],
         train_data[(i + 1) * num_val_samples:]],
        axis=0)
    partial_train_targets = np.concatenate(
        [train_targets[:i * num_val_samples],
         train_targets[(i + 1) * num_val_samples:]],
        axis=0)
    model = build_model()
    history = model.fit(partial_train_data, partial_train_targets,
                        validation_data=(val_data, val_targets),
                        epochs=num_epochs, batch_size=batch_size, verbose=0)
    mae_history = history.history['val_mae']
    all_mae_histories.append(mae_history)

average_mae_history = [
    np.mean([x[i] for x in all_mae_histories]) for i in range(num_epochs)]


def smooth_curve(points, factor=0.8):
    smoothed_points = []
    for point in points:
        if smoothed_points:
            previous = smoothed_points[-1]
            smoothed_points.append(previous * factor + point * (1 - factor))
        else:
            smoothed_points.append(point)
    return smoothed_points


plt.plot(range(1, len(average_mae_history) + 1), average_mae_history)
plt.title(f'Validation MAE by epoch (mean of {k} folds)')
plt.xlabel('Epochs')
plt.ylabel('Validation MAE')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.savefig(_example.out(args, 'validation_mae.png'))

# Without the first 10 epochs (a different scale), smoothed: where does it stop improving?
skip = 0 if args.quick else 10
smooth_mae_history = smooth_curve(average_mae_history[skip:])
plt.clf()
plt.plot(range(skip + 1, skip + len(smooth_mae_history) + 1), smooth_mae_history)
plt.title(f'Validation MAE, smoothed, from epoch {skip + 1}')
plt.xlabel('Epochs')
plt.ylabel('Validation MAE')
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.savefig(_example.out(args, 'validation_mae_smoothed.png'))

best_epochs = skip + int(np.argmin(smooth_mae_history)) + 1
print('lowest smoothed validation MAE after', best_epochs, 'epochs')

model = build_model()
model.fit(train_data, train_targets, epochs=best_epochs, batch_size=16, verbose=0)
test_mse_score, test_mae_score = model.evaluate(test_data, test_targets)
print('test MAE (thousands of dollars):', test_mae_score)
