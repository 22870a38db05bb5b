"""`layerkit.preprocessing`: the Keras 2 `keras.preprocessing` text and sequence tools.

Pure Python / numpy; use as `from layerkit.preprocessing.text import Tokenizer` and
`from layerkit.preprocessing.sequence import pad_sequences`, as with tf.keras 2.x.
"""

from . import image as image
from . import sequence as sequence
from . import text as text
