"""Callbacks: hooks into fit/evaluate/predict."""

from .backup_and_restore import BackupAndRestore as BackupAndRestore
from .callback import Callback as Callback
from .callback_list import CallbackList as CallbackList
from .csv_logger import CSVLogger as CSVLogger
from .early_stopping import EarlyStopping as EarlyStopping
from .history import History as History
from .lambda_callback import LambdaCallback as LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler as LearningRateScheduler
from .model_checkpoint import ModelCheckpoint as ModelCheckpoint
from .progbar_logger import ProgbarLogger as ProgbarLogger
from .reduce_lr_on_plateau import ReduceLROnPlateau as ReduceLROnPlateau
from .tensorboard import TensorBoard as TensorBoard
from .terminate_on_nan import TerminateOnNaN as TerminateOnNaN


def __getattr__(name):
    """Keras callbacks layerkit lacks say what to use instead (see utils.missing)."""
    from ..utils.missing import attribute_error

    raise attribute_error(__name__, name)
