"""Core layers; also Keras 2's `keras.layers.core` path, which held Dropout, Flatten,
Reshape, Permute, RepeatVector and the spatial dropouts as well."""

from ..regularization.activity_regularization import (
    ActivityRegularization as ActivityRegularization,
)
from ..regularization.dropout import Dropout as Dropout
from ..regularization.spatial_dropout1d import SpatialDropout1D as SpatialDropout1D
from ..regularization.spatial_dropout2d import SpatialDropout2D as SpatialDropout2D
from ..regularization.spatial_dropout3d import SpatialDropout3D as SpatialDropout3D
from ..reshaping.flatten import Flatten as Flatten
from ..reshaping.permute import Permute as Permute
from ..reshaping.repeat_vector import RepeatVector as RepeatVector
from ..reshaping.reshape import Reshape as Reshape
from .activation import Activation as Activation
from .dense import Dense as Dense
from .embedding import Embedding as Embedding
from .input_layer import Input as Input
from .input_layer import InputLayer as InputLayer
from .lambda_layer import Lambda as Lambda
from .masking import Masking as Masking
