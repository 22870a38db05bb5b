"""Fashion-MNIST with the course's MLP: Flatten-300-100-10, SGD with Nesterov momentum.

Notes 002, step by step: class names and a grid of sample images, a 5,000-image validation
set, the Sequential model (266,610 parameters in `summary()`), `plot_model`, the first
hidden layer's initial weights, SGD(lr=0.01, momentum=0.9, nesterov=True), the learning
curves from `pd.DataFrame(history.history).plot()`, evaluation and predictions, saving to
and loading from HDF5, and training again with ModelCheckpoint and EarlyStopping.

    python examples/fashion_mnist_mlp.py          # the 4 files in ~/.keras/datasets/fashion-mnist
                                                  # (or Debian's dataset-fashion-mnist package)
    python examples/fashion_mnist_mlp.py --quick  # 6,000 images (or synthetic ones), 2 epochs
"""

import matplotlib
import numpy as np

import _example
import layerkit as keras  # the notes: `from tensorflow import keras`

args = _example.setup(_example.parser(__doc__, "fashion_mnist_mlp"))
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)
import pandas as pd  # noqa: E402


def save_fig(fig_id, tight_layout=True):
    if tight_layout:
        plt.tight_layout()
    plt.savefig(_example.out(args, fig_id + ".png"), dpi=100)


fashion_mnist = keras.datasets.fashion_mnist
(X_train_full, y_train_full), (X_test, y_test) = _example.load(fashion_mnist, args)
if args.quick:
    X_train_full, y_train_full = X_train_full[:6000], y_train_full[:6000]
    X_test, y_test = X_test[:1000], y_test[:1000]
print(X_train_full.shape, X_train_full.dtype, y_train_full)

n_valid = len(X_train_full) // 12  # 5,000 of the 60,000
X_valid, X_train = X_train_full[:n_valid] / 255., X_train_full[n_valid:] / 255.
y_valid, y_train = y_train_full[:n_valid], y_train_full[n_valid:]
X_test = X_test / 255.

class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
print(class_names[y_train[0]])

n_rows = 4
n_cols = 10
plt.figure(figsize=(n_cols * 1.2, n_rows * 1.2))
for row in range(n_rows):
    for col in range(n_cols):
        index = n_cols * row + col
        plt.subplot(n_rows, n_cols, index + 1)
        plt.imshow(X_train[index], cmap="binary", interpolation="nearest")
        plt.axis('off')
        plt.title(class_names[y_train[index]], fontsize=12)
plt.subplots_adjust(wspace=0.2, hspace=0.5)
save_fig('fashion_mnist_plot', tight_layout=False)
plt.close()

model = keras.models.Sequential([
    keras.layers.Flatten(input_shape=[28, 28]),
    keras.layers.Dense(300, activation="relu"),
    keras.layers.Dense(100, activation="relu"),
    keras.layers.Dense(10, activation="softmax")
])
model.summary()  # Total params: 266,610
keras.utils.plot_model(model, _example.out(args, "my_fashion_mnist_model.png"),
                       show_shapes=True)

hidden1 = model.layers[1]
weights, biases = hidden1.get_weights()
print(hidden1.name, weights.shape, weights[0, :4], 'biases start at', biases[:4])

model.compile(loss="sparse_categorical_crossentropy",
              optimizer=keras.optimizers.SGD(lr=0.01, momentum=0.9, nesterov=True),
              metrics=["accuracy"])
history = model.fit(X_train, y_train, epochs=2 if args.quick else 30,
                    validation_data=(X_valid, y_valid))

pd.DataFrame(history.history).plot(figsize=(8, 5))
plt.grid(True)
plt.gca().set_ylim(0, 1)
plt.xlabel("Epoch (0 is the first)")
plt.gca().xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
plt.title("Learning curves")
save_fig("keras_learning_curves_plot")
plt.close()

print('test loss, test accuracy:', model.evaluate(X_test, y_test))
X_new = X_test[:3]
y_proba = model.predict(X_new)
print(y_proba.round(2))
y_pred = np.argmax(model.predict(X_new), axis=-1)
print('predicted:', np.array(class_names)[y_pred], 'true:', np.array(class_names)[y_test[:3]])

model.save(_example.out(args, "my_keras_model.h5"))
model = keras.models.load_model(_example.out(args, "my_keras_model.h5"))
print('reloaded model, same predictions:', np.allclose(model.predict(X_new), y_proba))

# Dropout after a layer: keras.layers.Dropout(rate=0.2). Callbacks: keep the best model
# on the validation set, stop when it has not improved for 10 epochs.
checkpoint_cb = keras.callbacks.ModelCheckpoint(_example.out(args, "my_keras_model.h5"),
                                                save_best_only=True)
early_stopping_cb = keras.callbacks.EarlyStopping(patience=10,
                                                  restore_best_weights=True)
history = model.fit(X_train, y_train, epochs=1 if args.quick else 100,
                    validation_data=(X_valid, y_valid),
                    callbacks=[checkpoint_cb, early_stopping_cb])
model = keras.models.load_model(_example.out(args, "my_keras_model.h5"))  # the best one
print('best model, test loss and accuracy:', model.evaluate(X_test, y_test))
