"""Functions the distributed tests run on each rank (a module of its own: spawned workers
import it by name, without pytest's fixtures). Every worker uses one thread."""

import numpy as np
import torch

N_FEATURES = 5


def dataset(n, seed=3):
    """A float64 binary task: x `(n, 5)`, y `(n, 1)`, weights `(n,)`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES))
    y = (x[:, :1] + 0.3 * rng.normal(size=(n, 1)) > 0).astype("float64")
    weights = rng.uniform(0.5, 2.0, size=(n,))
    return x, y, weights


def build_model(optimizer="sgd"):
    """A small float64 MLP with fixed initial weights, compiled with AUC and Precision."""
    from layerkit import layers, metrics, models, optimizers

    torch.manual_seed(7)
    model = models.Sequential([layers.Dense(4, activation="tanh", input_shape=(N_FEATURES,),
                                            dtype="float64"),
                               layers.Dense(1, activation="sigmoid", dtype="float64")])
    opt = optimizers.SGD(0.1) if optimizer == "sgd" else optimizers.Adam(0.01)
    model.compile(opt, "binary_crossentropy",
                  metrics=[metrics.AUC(num_thresholds=50, dtype="float64"),
                           metrics.Precision(dtype="float64")])
    return model


def train_manually(model, x, y, weights, epochs, batch_size, strategy=None):
    """Epochs of sharded steps through a `Replica` (the fit seam, driven by hand).

    Returns:
        (per-epoch logs, final weights).
    """
    from layerkit.distribute import replica, reduction, sharding

    world, rank = (strategy.num_replicas_in_sync, strategy.rank) if strategy else (1, 0)
    bound = replica.Replica(model, strategy.device) if strategy else None
    history = []
    for _ in range(epochs):
        model.reset_metrics()
        order = sharding.epoch_order(len(x))
        for shard in sharding.epoch_shards(order, batch_size, world, rank):
            i = shard.indices
            data = (torch.as_tensor(x[i]), torch.as_tensor(y[i]), torch.as_tensor(weights[i]))
            if bound is not None:
                bound.train_step(data, shard)
            else:
                model.train_step(data)
        if bound is not None:
            reduction.all_reduce_running_state(model.compiled)
        history.append(model.compiled.results())
    if bound is not None:
        bound.close()
    return history, model.get_weights()


def equivalence_checks(sizes, epochs, batch_size, fit_cases, folder):
    """On each rank: sharded steps driven by hand for every N and optimizer, `fit` +
    `evaluate` for every fit case, an early stop on rank 1 only, a BatchNormalization
    model, and the stop flag."""
    torch.set_num_threads(1)
    from layerkit import config, distribute

    config.set_floatx("float64")
    strategy = distribute.MirroredStrategy(timeout=60)
    runs = {}
    for n in sizes:
        for optimizer in ("sgd", "adam"):
            x, y, w = dataset(n)
            runs[(n, optimizer)] = train_manually(build_model(optimizer), x, y, w, epochs,
                                                  batch_size, strategy)
    fits = [fit_and_evaluate(*case, strategy=strategy) for case in fit_cases]
    stops = (distribute.should_stop(strategy.rank == 1), distribute.should_stop(False))
    return {"runs": runs, "fits": fits, "stops": stops, "rank": strategy.rank,
            "replicas": strategy.num_replicas_in_sync,
            "early_stop": early_stop_on_rank_one(strategy),
            "freeze": freeze_and_recompile(strategy),
            "writers": writers_on_rank_zero(strategy, folder),
            "predict": predictions(strategy),
            "batchnorm": batchnorm_weights(strategy),
            "synchronized": {n: synchronized_batchnorm(n, strategy) for n in SYNC_SIZES},
            "synchronized_masked": {n: synchronized_masked_batchnorm(n, strategy)
                                    for n in SYNC_SIZES[1:]}}


def early_stop_on_rank_one(strategy):
    """fit for 5 epochs where only rank 1 asks to stop after epoch 1: the number of epochs
    every rank ran."""
    from layerkit import callbacks

    class StopOnRankOne(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if strategy.rank == 1 and epoch == 1:
                self.model.stop_training = True

    x, y, w = dataset(40)
    with strategy.scope():
        model = build_model()
    # fit outside the scope: the model remembers the strategy it was compiled under
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0, callbacks=[StopOnRankOne()])
    return len(history.history["loss"])


def writers_on_rank_zero(strategy, folder):
    """fit with CSVLogger and ModelCheckpoint writing into `folder` (shared by the ranks):
    how many epochs this rank's logger wrote, and the final weights."""
    import os

    from layerkit import callbacks

    class CountingLogger(callbacks.CSVLogger):
        writes = 0

        def on_epoch_end(self, epoch, logs=None):
            CountingLogger.writes += 1
            super().on_epoch_end(epoch, logs)

    x, y, _ = dataset(40)
    with strategy.scope():
        model = build_model()
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[
            CountingLogger(os.path.join(folder, "log.csv")),
            callbacks.ModelCheckpoint(os.path.join(folder, "model.keras"))])
    return CountingLogger.writes, model.get_weights()


def predictions(strategy=None):
    """predict on 65 samples with batch 32 (a one-sample last batch: rank 1 has a ghost) for
    a one-output and a two-output model; also how many rows the first model saw here."""
    import contextlib

    from layerkit import layers, models

    x, _, _ = dataset(65)
    with strategy.scope() if strategy else contextlib.nullcontext():
        one = build_model()
        inputs = layers.Input((N_FEATURES,), dtype="float64")
        two = models.Model(inputs, [layers.Dense(2, dtype="float64")(inputs),
                                    layers.Dense(1, dtype="float64")(inputs)])
        rows = []
        one.register_forward_hook(lambda m, args, out: rows.append(len(args[0])))
        return (one.predict(x, batch_size=32, verbose=0), two.predict(x, batch_size=32),
                sum(rows))


def freeze_and_recompile(strategy=None):
    """fit, freeze the first layer, recompile, fit again (the DDP wrapper follows the new
    trainable set); returns the weights and the second History's loss."""
    import contextlib

    x, y, w = dataset(70)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = build_model()
        model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
        model.layers[0].trainable = False
        model.compile("sgd", "binary_crossentropy")
        history = model.fit(x, y, sample_weight=w, batch_size=32, epochs=2, shuffle=False,
                            verbose=0)
    return model.get_weights(), history.history["loss"]


def batchnorm_weights(strategy):
    """A BatchNormalization model trained on 2 ranks: its weights (moving statistics
    included), to compare across ranks."""
    from layerkit import layers, models

    x, y, _ = dataset(70)
    torch.manual_seed(3)
    with strategy.scope():
        model = models.Sequential([layers.Dense(4, input_shape=(N_FEATURES,), dtype="float64"),
                                   layers.BatchNormalization(dtype="float64"),
                                   layers.Dense(1, activation="sigmoid", dtype="float64")])
        model.compile("sgd", "binary_crossentropy")
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return model.get_weights()


SYNC_SIZES = (70, 69, 65)  # short last batches: 6 = 3 + 3, 5 = 3 + 2, 1 = 1 + a ghost


def synchronized_batchnorm(n, strategy=None):
    """Two `BatchNormalization(synchronized=True)` layers between Dense layers, fit 2 epochs with global batch 32 (float64, sample weights, no shuffling):
    the weights, moving statistics included, and the loss History."""
    import contextlib

    from layerkit import layers, models

    x, y, w = dataset(n)
    torch.manual_seed(5)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = models.Sequential([
            layers.Dense(4, input_shape=(N_FEATURES,), dtype="float64"),
            layers.BatchNormalization(synchronized=True, momentum=0.5, dtype="float64"),
            layers.Dense(3, activation="tanh", dtype="float64"),
            layers.BatchNormalization(synchronized=True, momentum=0.8, dtype="float64"),
            layers.Dense(1, activation="sigmoid", dtype="float64")])
        model.compile("adam", "binary_crossentropy")
        history = model.fit(x, y, sample_weight=w, batch_size=32, epochs=2, shuffle=False,
                            verbose=0)
    return model.get_weights(), history.history["loss"]


def synchronized_masked_batchnorm(n, strategy=None):
    """`BatchNormalization(synchronized=True)` on masked sequences (Masking: about 30% of the
    steps, never a sequence's first), fit 2 epochs with global batch 32 (float64): the
    weights and the loss History."""
    import contextlib

    from layerkit import layers, models

    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 4, N_FEATURES))
    drop = rng.uniform(size=(n, 4)) < 0.3
    drop[:, 0] = False
    x[drop] = 0.0
    y = (x[:, 0, :1] > 0).astype("float64")
    torch.manual_seed(5)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = models.Sequential([
            layers.Masking(input_shape=(4, N_FEATURES), dtype="float64"),
            layers.Dense(3, dtype="float64"),
            layers.BatchNormalization(synchronized=True, momentum=0.5, dtype="float64"),
            layers.GlobalAveragePooling1D(dtype="float64"),
            layers.Dense(1, activation="sigmoid", dtype="float64")])
        model.compile("adam", "binary_crossentropy")
        history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    return model.get_weights(), history.history["loss"]


def raise_on_rank_one():
    """Rank 1 raises while rank 0 waits for it in a collective."""
    torch.set_num_threads(1)
    from layerkit import distribute

    strategy = distribute.MirroredStrategy(timeout=60)
    if strategy.rank == 1:
        raise ValueError("rank one cannot go on: bad batch 17")
    distribute.should_stop(False)
    return "rank 0 should not get here"


def skip_collective_on_rank_one():
    """Rank 0 waits in a collective that rank 1 never joins: a timeout with a clear message."""
    torch.set_num_threads(1)
    import time

    from layerkit import distribute

    strategy = distribute.MirroredStrategy(timeout=5)  # joining takes a while under load
    if strategy.rank == 0:
        distribute.should_stop(True)
    else:
        time.sleep(10)
    return strategy.rank


def sleep_forever():
    import time

    time.sleep(600)


FIT_CASES = [  # (n, optimizer, shuffle, class_weight)
    (64, "sgd", False, None), (70, "sgd", False, None), (65, "adam", True, {0: 1.0, 1: 3.0})]


def fit_and_evaluate(n, optimizer, shuffle, class_weight, strategy=None):
    """`fit` (3 epochs, global batch 32, sample weights, validation data) then `evaluate`,
    inside the strategy's scope when given; returns (history, weights, evaluate logs)."""
    import contextlib

    x, y, w = dataset(n)
    xv, yv, _ = dataset(21, seed=4)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = build_model(optimizer)
        history = model.fit(x, y, sample_weight=w, batch_size=32, epochs=3, shuffle=shuffle,
                            class_weight=class_weight, validation_data=(xv, yv), verbose=0)
        evaluated = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    return history.history, model.get_weights(), evaluated


def fit_checks(cases):
    """On each rank: `fit_and_evaluate` for every case under a MirroredStrategy."""
    torch.set_num_threads(1)
    from layerkit import config, distribute

    config.set_floatx("float64")
    strategy = distribute.MirroredStrategy(timeout=60)
    return [fit_and_evaluate(*case, strategy=strategy) for case in cases]
