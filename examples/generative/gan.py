"""A deep convolutional GAN on CIFAR-10 frogs (Deep Learning with Python, listings 8.29-8.32).

A generator maps 32-D latent points to 32x32 RGB images (Dense, LeakyReLU,
Conv2DTranspose); a discriminator (Conv2D, LeakyReLU, Dropout) tells them from real frogs.
The discriminator is compiled first, then frozen (`discriminator.trainable = False`) and
chained after the generator into `gan`: training `gan` moves only the generator, training
the discriminator (on noisy labels) moves only it. Samples are written every 100 steps:
`generated_frog<step>.png`, `real_frog<step>.png`, and `samples.png` (a grid at the end).

    python examples/generative/gan.py           # CIFAR-10 (layerkit.datasets.cifar10)
    python examples/generative/gan.py --quick   # 16x16 digits, narrow layers, 30 steps
"""

import os

import numpy as np

import _generative
import layerkit as keras
from layerkit import layers
from layerkit.preprocessing import image

args = _generative.setup(__doc__, "gan")
np.random.seed(0)

latent_dim = 32
height = width = 16 if args.quick else 32
channels = 3
filters = 32 if args.quick else 256  # the book's 128/256 channels take hours on a CPU
half = height // 2

generator_input = keras.Input(shape=(latent_dim,))
x = layers.Dense(filters // 2 * half * half)(generator_input)
x = layers.LeakyReLU()(x)
x = layers.Reshape((half, half, filters // 2))(x)
x = layers.Conv2D(filters, 5, padding="same")(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same")(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(filters, 5, padding="same")(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(filters, 5, padding="same")(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(channels, 7, activation="tanh", padding="same")(x)
generator = keras.models.Model(generator_input, x)
generator.summary()

discriminator_input = layers.Input(shape=(height, width, channels))
x = layers.Conv2D(filters // 2, 3)(discriminator_input)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(filters // 2, 4, strides=2)(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(filters // 2, 4, strides=2)(x)
x = layers.LeakyReLU()(x)
if not args.quick:  # a 16x16 input has no room for a fourth 4x4 convolution
    x = layers.Conv2D(filters // 2, 4, strides=2)(x)
    x = layers.LeakyReLU()(x)
x = layers.Flatten()(x)
x = layers.Dropout(0.4)(x)
x = layers.Dense(1, activation="sigmoid")(x)
discriminator = keras.models.Model(discriminator_input, x)
discriminator.summary()
discriminator_optimizer = keras.optimizers.RMSprop(lr=0.0008, clipvalue=1.0, decay=1e-8)
discriminator.compile(optimizer=discriminator_optimizer, loss="binary_crossentropy")

discriminator.trainable = False
gan_input = keras.Input(shape=(latent_dim,))
gan_output = discriminator(generator(gan_input))
gan = keras.models.Model(gan_input, gan_output)
gan_optimizer = keras.optimizers.RMSprop(lr=0.0004, clipvalue=1.0, decay=1e-8)
gan.compile(optimizer=gan_optimizer, loss="binary_crossentropy")

if args.quick:
    digits, labels = _generative.digits(size=height)
    x_train = np.repeat(digits[labels == 6][..., None], 3, axis=-1)  # sixes, as RGB
else:
    from layerkit.datasets import cifar10

    (x_train, y_train), (_, _) = cifar10.load_data()
    x_train = x_train[y_train.flatten() == 6]  # frogs
x_train = x_train.reshape((x_train.shape[0],) + (height, width, channels)).astype(
    "float32") / 255.

iterations = 30 if args.quick else 10000
batch_size = 8 if args.quick else 20
save_dir = args.output
start = 0
for step in range(iterations):
    random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))
    generated_images = generator.predict(random_latent_vectors)
    stop = start + batch_size
    real_images = x_train[start: stop]
    combined_images = np.concatenate([generated_images, real_images])
    labels = np.concatenate([np.ones((batch_size, 1)), np.zeros((batch_size, 1))])
    labels += 0.05 * np.random.random(labels.shape)
    d_loss = discriminator.train_on_batch(combined_images, labels)
    random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))
    misleading_targets = np.zeros((batch_size, 1))
    a_loss = gan.train_on_batch(random_latent_vectors, misleading_targets)
    start += batch_size
    if start > len(x_train) - batch_size:
        start = 0
    if step % (10 if args.quick else 100) == 0:
        if not args.quick:
            gan.save_weights(os.path.join(save_dir, "gan.h5"))
        print("discriminator loss at step %s: %s" % (step, d_loss))
        print("adversarial loss at step %s: %s" % (step, a_loss))
        img = image.array_to_img(generated_images[0] * 255., scale=False)
        img.save(os.path.join(save_dir, "generated_frog" + str(step) + ".png"))
        img = image.array_to_img(real_images[0] * 255., scale=False)
        img.save(os.path.join(save_dir, "real_frog" + str(step) + ".png"))

# A grid of 4x4 samples from the final generator (tanh outputs shown over [0, 1] as the
# book's saving code does: values below 0 clip to black).
samples = generator.predict(np.random.normal(size=(16, latent_dim)))
grid = np.clip(samples, 0, 1).reshape(4, 4, height, width, channels)
grid = grid.transpose(0, 2, 1, 3, 4).reshape(4 * height, 4 * width, channels)
image.save_img(_generative.out(args, "samples.png"), np.kron(grid, np.ones((4, 4, 1))) * 255.,
               scale=False)
print("Samples written to", _generative.out(args, "samples.png"))
