"""Keras's built-in datasets, loaded offline first: `(x_train, y_train), (x_test, y_test)`.

Each module mirrors `keras.datasets.<name>`: same file names, hashes, URLs, shuffling and
results. Files are looked for in `path=`/`cache_dir`, `$LAYERKIT_HOME/datasets`,
`$KERAS_HOME/datasets`, `~/.keras/datasets` (and system copies) before any download.
"""

from layerkit.datasets import boston_housing as boston_housing
from layerkit.datasets import cifar10 as cifar10
from layerkit.datasets import cifar100 as cifar100
from layerkit.datasets import fashion_mnist as fashion_mnist
from layerkit.datasets import imdb as imdb
from layerkit.datasets import mnist as mnist
from layerkit.datasets import reuters as reuters
