"""Callbacks: hooks into fit/evaluate/predict.

`Callback`, `CallbackList`, `History` and `ProgbarLogger` live in `layerkit.training` (the
trainer installs the last two itself); they are re-exported here under Keras's names.
"""

from .backup_and_restore import BackupAndRestore as BackupAndRestore
from .csv_logger import CSVLogger as CSVLogger
from .early_stopping import EarlyStopping as EarlyStopping
from .lambda_callback import LambdaCallback as LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler as LearningRateScheduler
from .model_checkpoint import ModelCheckpoint as ModelCheckpoint
from .reduce_lr_on_plateau import ReduceLROnPlateau as ReduceLROnPlateau
from .tensorboard import TensorBoard as TensorBoard
from .terminate_on_nan import TerminateOnNaN as TerminateOnNaN
from ..training.callback import Callback as Callback
from ..training.callback import CallbackList as CallbackList
from ..training.history import History as History
from ..training.progbar_logger import ProgbarLogger as ProgbarLogger


def __getattr__(name):
    """Keras callbacks layerkit lacks say what to use instead (see utils.missing)."""
    from ..utils.missing import attribute_error

    raise attribute_error(__name__, name)
