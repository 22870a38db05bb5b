"""`layerkit.backend`, imported as `K` in Keras 2 code: tensor functions and graph functions.

    from layerkit import backend as K
    K.mean(x, axis=1)                      # torch tensors, numpy arrays, numbers
    K.mean(layer.output[:, :, :, 3])       # symbolic: recorded into the graph
    K.function([model.input], [loss, K.gradients(loss, model.input)[0]])

`ops` holds the tensor functions, `graph_functions` what TF-era Keras did with graphs
(`function`, `gradients`, `placeholder`, `learning_phase`, variables), run eagerly on
autograd. Settings come from `layerkit.config`. Nothing inside layerkit imports this
package: it is an edge, for user code.
"""

import difflib as _difflib

from ..config import epsilon as epsilon
from ..config import floatx as floatx
from ..config import image_data_format as image_data_format
from ..config import set_epsilon as set_epsilon
from ..config import set_floatx as set_floatx
from ..config import set_image_data_format as set_image_data_format
from .gradient_tape import GradientTape as GradientTape
from .graph_functions import Function as Function
from .graph_functions import batch_get_value as batch_get_value
from .graph_functions import batch_set_value as batch_set_value
from .graph_functions import clear_session as clear_session
from .graph_functions import eval as eval  # noqa: A004
from .graph_functions import function as function
from .graph_functions import get_value as get_value
from .graph_functions import gradients as gradients
from .graph_functions import is_keras_tensor as is_keras_tensor
from .graph_functions import is_placeholder as is_placeholder
from .graph_functions import learning_phase as learning_phase
from .graph_functions import placeholder as placeholder
from .graph_functions import set_learning_phase as set_learning_phase
from .graph_functions import set_value as set_value
from .graph_functions import update as update
from .graph_functions import update_add as update_add
from .graph_functions import update_sub as update_sub
from .graph_functions import variable as variable
from .ops import abs as abs  # noqa: A004
from .ops import all as all  # noqa: A004
from .ops import any as any  # noqa: A004
from .ops import arange as arange
from .ops import argmax as argmax
from .ops import argmin as argmin
from .ops import batch_dot as batch_dot
from .ops import batch_flatten as batch_flatten
from .ops import binary_crossentropy as binary_crossentropy
from .ops import cast as cast
from .ops import categorical_crossentropy as categorical_crossentropy
from .ops import clip as clip
from .ops import concatenate as concatenate
from .ops import constant as constant
from .ops import cos as cos
from .ops import count_params as count_params
from .ops import cumprod as cumprod
from .ops import cumsum as cumsum
from .ops import dot as dot
from .ops import dtype as dtype
from .ops import elu as elu
from .ops import equal as equal
from .ops import exp as exp
from .ops import expand_dims as expand_dims
from .ops import eye as eye
from .ops import flatten as flatten
from .ops import gather as gather
from .ops import greater as greater
from .ops import greater_equal as greater_equal
from .ops import hard_sigmoid as hard_sigmoid
from .ops import in_test_phase as in_test_phase
from .ops import in_train_phase as in_train_phase
from .ops import int_shape as int_shape
from .ops import l2_normalize as l2_normalize
from .ops import less as less
from .ops import less_equal as less_equal
from .ops import log as log
from .ops import logsumexp as logsumexp
from .ops import max as max  # noqa: A004
from .ops import maximum as maximum
from .ops import mean as mean
from .ops import min as min  # noqa: A004
from .ops import minimum as minimum
from .ops import ndim as ndim
from .ops import not_equal as not_equal
from .ops import one_hot as one_hot
from .ops import ones as ones
from .ops import ones_like as ones_like
from .ops import permute_dimensions as permute_dimensions
from .ops import pow as pow  # noqa: A004
from .ops import prod as prod
from .ops import random_bernoulli as random_bernoulli
from .ops import random_binomial as random_binomial
from .ops import random_normal as random_normal
from .ops import random_normal_variable as random_normal_variable
from .ops import random_uniform as random_uniform
from .ops import random_uniform_variable as random_uniform_variable
from .ops import relu as relu
from .ops import repeat as repeat
from .ops import repeat_elements as repeat_elements
from .ops import reshape as reshape
from .ops import resize_images as resize_images
from .ops import round as round  # noqa: A004
from .ops import shape as shape
from .ops import sigmoid as sigmoid
from .ops import sign as sign
from .ops import sin as sin
from .ops import softmax as softmax
from .ops import softplus as softplus
from .ops import softsign as softsign
from .ops import sparse_categorical_crossentropy as sparse_categorical_crossentropy
from .ops import sqrt as sqrt
from .ops import square as square
from .ops import squeeze as squeeze
from .ops import stack as stack
from .ops import std as std
from .ops import stop_gradient as stop_gradient
from .ops import sum as sum  # noqa: A004
from .ops import switch as switch
from .ops import tanh as tanh
from .ops import tile as tile
from .ops import transpose as transpose
from .ops import truncated_normal as truncated_normal
from .ops import var as var
from .ops import zeros as zeros
from .ops import zeros_like as zeros_like

_GONE = {
    "get_session": "TF1 sessions do not exist: layerkit runs eagerly, there is nothing to "
                   "get or set",
    "set_session": "TF1 sessions do not exist: layerkit runs eagerly, there is nothing to "
                   "get or set",
    "tf": "layerkit runs on PyTorch: use torch functions (or K.* ones) instead of K.tf",
    "rnn": "K.rnn (the symbolic loop) is not provided: use layers.RNN with a cell, or "
           "SimpleRNN/LSTM/GRU",
    "ctc_batch_cost": "CTC is not provided: use torch.nn.functional.ctc_loss",
}


def backend():
    """The engine's name: 'torch' (Keras 3 with the torch backend answers the same)."""
    return "torch"


def __getattr__(name):
    if name in _GONE:
        raise AttributeError(f"layerkit.backend.{name}: {_GONE[name]}")
    if name.startswith("__"):
        raise AttributeError(name)
    close = _difflib.get_close_matches(name, [n for n in globals() if not n.startswith("_")],
                                       n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise AttributeError(f"layerkit.backend has no function {name!r}{hint}")
