"""Variational autoencoder on MNIST digits (Deep Learning with Python, listings 8.23-8.28).

An encoder maps each digit to the mean and log-variance of a 2-D normal; a Lambda layer
samples a point with `K.random_normal`; a decoder maps it back to an image; a custom
layer adds the reconstruction and KL losses with `self.add_loss` (the model is compiled
with `loss=None` and fit without targets). The decoder then draws a 15x15 grid of digits
from a grid of latent points: `latent_grid.png`.

    python examples/generative/vae.py           # MNIST (layerkit.datasets.mnist)
    python examples/generative/vae.py --quick   # scikit-learn's 8x8 digits, 2 epochs
"""

import numpy as np
from scipy.stats import norm

import _generative
import layerkit as keras
from layerkit import backend as K
from layerkit import layers
from layerkit.models import Model

args = _generative.setup(__doc__, "vae")
import matplotlib.pyplot as plt  # noqa: E402  (after setup chose the file backend)

np.random.seed(0)
digit_size = 8 if args.quick else 28
img_shape = (digit_size, digit_size, 1)
batch_size = 16
latent_dim = 2

input_img = keras.Input(shape=img_shape)
x = layers.Conv2D(32, 3, padding="same", activation="relu")(input_img)
x = layers.Conv2D(64, 3, padding="same", activation="relu", strides=(2, 2))(x)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
shape_before_flattening = K.int_shape(x)
x = layers.Flatten()(x)
x = layers.Dense(32, activation="relu")(x)
z_mean = layers.Dense(latent_dim)(x)
z_log_var = layers.Dense(latent_dim)(x)


def sampling(args):
    z_mean, z_log_var = args
    epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim), mean=0., stddev=1.)
    return z_mean + K.exp(z_log_var) * epsilon


z = layers.Lambda(sampling)([z_mean, z_log_var])

decoder_input = layers.Input(K.int_shape(z)[1:])
x = layers.Dense(np.prod(shape_before_flattening[1:]), activation="relu")(decoder_input)
x = layers.Reshape(shape_before_flattening[1:])(x)
x = layers.Conv2DTranspose(32, 3, padding="same", activation="relu", strides=(2, 2))(x)
x = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
decoder = Model(decoder_input, x)
z_decoded = decoder(z)


class CustomVariationalLayer(keras.layers.Layer):

    def vae_loss(self, x, z_decoded):
        x = K.flatten(x)
        z_decoded = K.flatten(z_decoded)
        xent_loss = keras.metrics.binary_crossentropy(x, z_decoded)
        kl_loss = -5e-4 * K.mean(
            1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
        return K.mean(xent_loss + kl_loss)

    def call(self, inputs):
        x = inputs[0]
        z_decoded = inputs[1]
        loss = self.vae_loss(x, z_decoded)
        self.add_loss(loss, inputs=inputs)
        return x


y = CustomVariationalLayer()([input_img, z_decoded])

vae = Model(input_img, y)
vae.compile(optimizer="rmsprop", loss=None)
vae.summary()

if args.quick:
    images, _ = _generative.digits()
    x_train, x_test = images[:600], images[1500:]
else:
    from layerkit.datasets import mnist

    (x_train, _), (x_test, y_test) = mnist.load_data()
x_train = x_train.astype("float32") / 255.
x_train = x_train.reshape(x_train.shape + (1,))
x_test = x_test.astype("float32") / 255.
x_test = x_test.reshape(x_test.shape + (1,))

history = vae.fit(x=x_train, y=None, shuffle=True, epochs=2 if args.quick else 10,
                  batch_size=batch_size, validation_data=(x_test, None),
                  verbose=2 if args.quick else 1)

n = 15
figure = np.zeros((digit_size * n, digit_size * n))
grid_x = norm.ppf(np.linspace(0.05, 0.95, n))
grid_y = norm.ppf(np.linspace(0.05, 0.95, n))
for i, yi in enumerate(grid_x):
    for j, xi in enumerate(grid_y):
        z_sample = np.array([[xi, yi]])
        z_sample = np.tile(z_sample, batch_size).reshape(batch_size, 2)
        x_decoded = decoder.predict(z_sample, batch_size=batch_size)
        digit = x_decoded[0].reshape(digit_size, digit_size)
        figure[i * digit_size: (i + 1) * digit_size,
               j * digit_size: (j + 1) * digit_size] = digit

plt.figure(figsize=(10, 10))
plt.imshow(figure, cmap="Greys_r")
plt.savefig(_generative.out(args, "latent_grid.png"))
print("losses per epoch:", [round(v, 4) for v in history.history["loss"]])
print("Latent-space grid written to", _generative.out(args, "latent_grid.png"))
