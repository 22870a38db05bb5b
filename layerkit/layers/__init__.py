"""Layers: the Layer contract and the layer families (one public class per file)."""

from .activations.elu import ELU as ELU
from .activations.leaky_relu import LeakyReLU as LeakyReLU
from .activations.prelu import PReLU as PReLU
from .activations.relu import ReLU as ReLU
from .activations.softmax import Softmax as Softmax
from .activations.thresholded_relu import ThresholdedReLU as ThresholdedReLU
from .convolutional.conv1d import Conv1D as Conv1D
from .convolutional.conv2d import Conv2D as Conv2D
from .convolutional.conv2d_transpose import Conv2DTranspose as Conv2DTranspose
from .convolutional.depthwise_conv2d import DepthwiseConv2D as DepthwiseConv2D
from .convolutional.separable_conv2d import SeparableConv2D as SeparableConv2D
from .core.activation import Activation as Activation
from .core.dense import Dense as Dense
from .core.embedding import Embedding as Embedding
from .core.input_layer import Input as Input
from .core.input_layer import InputLayer as InputLayer
from .core.lambda_layer import Lambda as Lambda
from .core.masking import Masking as Masking
from .core.tensor_op import TensorOp as TensorOp
from .input_spec import InputSpec as InputSpec
from .layer import Layer as Layer
from .merging.add import Add as Add
from .merging.add import add as add
from .merging.average import Average as Average
from .merging.average import average as average
from .merging.concatenate import Concatenate as Concatenate
from .merging.concatenate import concatenate as concatenate
from .merging.dot import Dot as Dot
from .merging.dot import dot as dot
from .merging.maximum import Maximum as Maximum
from .merging.maximum import maximum as maximum
from .merging.minimum import Minimum as Minimum
from .merging.minimum import minimum as minimum
from .merging.multiply import Multiply as Multiply
from .merging.multiply import multiply as multiply
from .merging.subtract import Subtract as Subtract
from .merging.subtract import subtract as subtract
from .normalization.batch_normalization import BatchNormalization as BatchNormalization
from .normalization.layer_normalization import LayerNormalization as LayerNormalization
from .pooling.average_pooling1d import AveragePooling1D as AveragePooling1D
from .pooling.average_pooling2d import AveragePooling2D as AveragePooling2D
from .pooling.global_average_pooling1d import GlobalAveragePooling1D as GlobalAveragePooling1D
from .pooling.global_average_pooling2d import GlobalAveragePooling2D as GlobalAveragePooling2D
from .pooling.global_max_pooling1d import GlobalMaxPooling1D as GlobalMaxPooling1D
from .pooling.global_max_pooling2d import GlobalMaxPooling2D as GlobalMaxPooling2D
from .pooling.max_pooling1d import MaxPooling1D as MaxPooling1D
from .pooling.max_pooling2d import MaxPooling2D as MaxPooling2D
from .regularization.activity_regularization import (
    ActivityRegularization as ActivityRegularization,
)
from .regularization.dropout import Dropout as Dropout
from .regularization.gaussian_dropout import GaussianDropout as GaussianDropout
from .regularization.gaussian_noise import GaussianNoise as GaussianNoise
from .regularization.spatial_dropout1d import SpatialDropout1D as SpatialDropout1D
from .regularization.spatial_dropout2d import SpatialDropout2D as SpatialDropout2D
from .regularization.spatial_dropout3d import SpatialDropout3D as SpatialDropout3D
from .reshaping.cropping2d import Cropping2D as Cropping2D
from .reshaping.flatten import Flatten as Flatten
from .reshaping.permute import Permute as Permute
from .reshaping.repeat_vector import RepeatVector as RepeatVector
from .reshaping.reshape import Reshape as Reshape
from .reshaping.up_sampling2d import UpSampling2D as UpSampling2D
from .reshaping.zero_padding2d import ZeroPadding2D as ZeroPadding2D
from .rnn.bidirectional import Bidirectional as Bidirectional
from .rnn.gru import GRU as GRU
from .rnn.lstm import LSTM as LSTM
from .rnn.simple_rnn import SimpleRNN as SimpleRNN
from .rnn.time_distributed import TimeDistributed as TimeDistributed

from .cudnn_recurrent import CuDNNGRU as CuDNNGRU
from .cudnn_recurrent import CuDNNLSTM as CuDNNLSTM
from ..utils.missing import attribute_error as _attribute_error

# Keras 2 aliases used in old notes
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D


def __getattr__(name):
    """Keras layers layerkit lacks (`Conv3D`, `Attention`, ...) raise an error saying what
    to use instead."""
    raise _attribute_error(__name__, name)
