"""TensorBoard: writes the epoch logs (and weight histograms) as TensorBoard event files."""

import os
import warnings

from ..training.callback import Callback

# tf.keras arguments for features layerkit does not write (no TF graph, profiler or
# projector); passing them with a value that asks for the feature warns, the rest is written.
_NOT_WRITTEN = {"write_graph": False, "write_images": False, "write_steps_per_second": False,
                "profile_batch": 0, "embeddings_freq": 0, "embeddings_metadata": None}


class TensorBoard(Callback):
    """Logs scalars per epoch (and optionally per batch) for TensorBoard, as tf.keras 2.x did.

    Training values go to `<log_dir>/train`, validation values to `<log_dir>/validation`, both
    under the tags `epoch_<name>` with the 0-based epoch as step: 'loss' and 'val_loss' are
    both 'epoch_loss', in the two runs. With `update_freq='batch'` or an int N, the running
    batch values are also written as `batch_<name>` every N training batches, the step being
    the batch count since `fit` began. With `histogram_freq=N`, every N epochs each weight is
    written as a histogram `<layer name>/<weight name>_0` in the train run.

    Written through `torch.utils.tensorboard.SummaryWriter`, which needs the `tensorboard`
    package. The tf.keras arguments write_graph, write_images, write_steps_per_second,
    profile_batch, embeddings_freq and embeddings_metadata are accepted, but layerkit writes no
    graph, images, profile or embeddings: turning one on warns.

    Args:
        log_dir: the directory of the event files.
        histogram_freq: epochs between weight histograms (0: none).
        update_freq: 'epoch', 'batch', or an int number of batches.
        **kwargs: the tf.keras arguments listed above.

    Raises:
        ImportError: when the `tensorboard` package is not installed.

    Example:
        >>> model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[TensorBoard("logs/run1")])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, update_freq="epoch", **kwargs):
        super().__init__()
        self._summary_writer = _import_writer()
        unknown = set(kwargs) - set(_NOT_WRITTEN)
        if unknown:
            raise TypeError(f"TensorBoard got unexpected keyword arguments {sorted(unknown)}")
        wanted = sorted(k for k, v in kwargs.items() if v not in (_NOT_WRITTEN[k], None))
        if wanted:
            warnings.warn(f"TensorBoard: {wanted} are not supported by layerkit and are not "
                          "written; the scalars and histograms are.", stacklevel=2)
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) \
                or histogram_freq < 0:
            raise ValueError(f"TensorBoard(histogram_freq={histogram_freq!r}): expected a "
                             "non-negative integer number of epochs")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = _check_update_freq(update_freq)
        self._writers = {}
        self._train_step = 0
        if self.update_freq != "epoch":
            # set on the instance so fit computes batch logs only when they are written
            self.on_train_batch_end = self._write_batch

    def _writer(self, run):
        if run not in self._writers:
            self._writers[run] = self._summary_writer(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_train_begin(self, logs=None):
        self._train_step = 0

    def _write_batch(self, batch, logs=None):
        self._train_step += 1
        if self._train_step % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            writer.add_scalar("batch_" + name, float(value), self._train_step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for name, value in logs.items():
            run, tag = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
            self._writer(run).add_scalar("epoch_" + tag, float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _write_histograms(self, epoch):
        writer = self._writer("train")
        for layer in getattr(self.model, "layers", []):
            for name, weight in layer.named_parameters():
                tag = f"{layer.name}/{name.replace('.', '/')}_0"
                writer.add_histogram(tag, weight.detach().cpu().numpy(), epoch)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _import_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(
            "layerkit.callbacks.TensorBoard writes through torch.utils.tensorboard, which "
            "needs the tensorboard package; install it with `pip install tensorboard`"
        ) from error
    return SummaryWriter


def _check_update_freq(update_freq):
    if update_freq == "epoch":
        return "epoch"
    if update_freq == "batch":
        return 1
    if isinstance(update_freq, int) and not isinstance(update_freq, bool) and update_freq > 0:
        return update_freq
    raise ValueError(f"TensorBoard(update_freq={update_freq!r}): expected 'epoch', 'batch' or "
                     "a positive integer number of batches")
