"""A program for `layerkit run`: every Keras import form, sys.argv, __name__, exits and errors."""
import sys

import keras
import keras.backend as K
import tensorflow as tf
import tensorflow.keras
from keras import layers, models
from keras.layers import Dense
from tensorflow import keras as tf_keras
from tensorflow.keras.layers import Dense as TFDense

import layerkit

same = (keras is layerkit and K is layerkit.backend and models is layerkit.models
        and Dense is layers.Dense is TFDense is layerkit.layers.Dense
        and tf_keras is tf.keras is tensorflow.keras is layerkit)
print("name", __name__, "argv", sys.argv[1:], "same", same)


def fail(message):
    raise ValueError(message)


if __name__ == "__main__":
    if sys.argv[1:2] == ["fail"]:
        fail("raised in the user's program")
    if sys.argv[1:2] == ["exit"]:
        sys.exit(int(sys.argv[2]))
