"""Callbacks: hooks into fit/evaluate/predict."""

from .callback import Callback as Callback
from .callback_list import CallbackList as CallbackList
from .history import History as History
from .lambda_callback import LambdaCallback as LambdaCallback
from .progbar_logger import ProgbarLogger as ProgbarLogger
