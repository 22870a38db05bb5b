"""Reliability suite: nothing lost, nothing silently wrong (seeded, small, < 1 minute).

- Kill during save: a child process saves in a loop (model, weights, checkpoint, backup,
  CSV log) and is SIGKILLed at seeded random instants; the file is then the old or the new
  one, whole, and the next save into the folder leaves nothing else behind.
- Kill then resume: a training run SIGKILLed at random instants, resumed each time, ends
  bitwise where an uninterrupted run ends.
- Mutation fuzzer over `.h5`, `.keras` and `.weights.h5` files layerkit wrote: every mutated
  file either fails with a ValueError naming the file or loads exactly the original weights.
  It runs in a child process, so that a crash inside HDF5 would fail the test, not pytest.
- Hostile configs: Lambda bytecode, module and class injection, paths leaving their place,
  huge declared sizes. Each fails with a ValueError naming the file; nothing runs.
"""

import base64
import csv
import io
import json
import marshal
import multiprocessing
import os
import random
import signal
import sys
import time
import traceback
import warnings
import zipfile

import h5py
import numpy as np
import pytest
import torch

from layerkit import layers, models, utils
from layerkit.callbacks import BackupAndRestore, Callback, CSVLogger, ModelCheckpoint
from layerkit.saving import load_model, load_weights

from helpers import strip_checksums

FORK = multiprocessing.get_context("fork")
X = np.random.default_rng(0).normal(size=(24, 4)).astype("float32")
Y = np.random.default_rng(1).normal(size=(24, 2)).astype("float32")


def _model(seed=0):
    utils.set_random_seed(seed)
    model = models.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)),
                               layers.Dropout(0.25), layers.Dense(2)])
    model.compile("adam", "mse", metrics=["mae"])
    return model


def _in_child():
    """First call in a forked child: torch's OpenMP threads do not survive a fork, and the
    child's first parallel kernel would wait for them forever."""
    torch.set_num_threads(1)


def _leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


# ------------------------------------------------------------------ kill during save
def _fill(model, value):
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(value)


def _save_loop(kind, folder):
    """Saves forever (the parent kills it); model files hold one value per generation."""
    _in_child()
    model = _model()
    if kind in ("model.keras", "model.h5", "w.weights.h5", "w.h5"):
        model.fit(X, Y, verbose=0)  # an optimizer state to save too
        step = 0
        while True:
            _fill(model, float(step % 7))
            path = os.path.join(folder, kind)
            model.save_weights(path) if kind.startswith("w.") else model.save(path)
            step += 1
    callback = {"checkpoint": lambda: ModelCheckpoint(os.path.join(folder, "ckpt.keras")),
                "backup": lambda: BackupAndRestore(os.path.join(folder, "backup"),
                                                   save_freq=1),
                "csv": lambda: CSVLogger(os.path.join(folder, "log.csv"), append=True)}[kind]
    model.fit(X, Y, epochs=10 ** 6, batch_size=24, verbose=0, callbacks=[callback()])


def _check_survivor(kind, folder, generation=True):
    """The file the killed child was writing: absent, or whole and loadable."""
    if kind == "backup":
        backup = os.path.join(folder, "backup")
        if not os.path.exists(os.path.join(backup, "training_metadata.json")):
            return
        with open(os.path.join(backup, "training_metadata.json")) as handle:
            name = json.load(handle)["file"]
        load_weights(_model(), os.path.join(backup, name))
        return
    path = os.path.join(folder, {"checkpoint": "ckpt.keras", "csv": "log.csv"}.get(kind, kind))
    if not os.path.exists(path):
        return
    if kind == "csv":
        with open(path, newline="") as handle:
            content = handle.read()
        rows = list(csv.reader(io.StringIO(content)))
        assert content.endswith("\r\n") and rows[0][0] == "epoch"
        assert all(len(row) == len(rows[0]) and row[0].isdigit() for row in rows[1:])
        assert [float(v) for row in rows[1:] for v in row[1:]]  # whole numbers, no torn row
        return
    if kind.startswith("w."):
        survivor = _model()
        load_weights(survivor, path)
    else:
        survivor = load_model(path)
    if generation and kind != "checkpoint":  # one generation, never a mixture of two
        assert len({float(v) for w in survivor.get_weights() for v in w.ravel()}) == 1


def _next_save(kind, folder):
    """One ordinary save into the folder, as the next run would do."""
    model = _model()
    if kind.startswith(("model.", "w.")):
        path = os.path.join(folder, kind)
        model.save_weights(path) if kind.startswith("w.") else model.save(path)
        return
    callback = {"checkpoint": ModelCheckpoint(os.path.join(folder, "ckpt.keras")),
                "backup": BackupAndRestore(os.path.join(folder, "backup"),
                                           delete_checkpoint=False),
                "csv": CSVLogger(os.path.join(folder, "log.csv"), append=True)}[kind]
    model.fit(X, Y, epochs=1, batch_size=24, verbose=0, callbacks=[callback])


KINDS = ["model.keras", "model.h5", "w.weights.h5", "w.h5", "checkpoint", "backup", "csv"]


@pytest.mark.parametrize("kind", KINDS)
def test_kill_during_save_leaves_old_or_new_file_and_no_debris(tmp_path, kind):
    rng = random.Random(KINDS.index(kind))
    folder = str(tmp_path)
    for _ in range(4):
        child = FORK.Process(target=_save_loop, args=(kind, folder), daemon=True)
        child.start()
        time.sleep(rng.uniform(0.15, 0.5))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        _check_survivor(kind, folder)
    assert os.listdir(folder), "the killed children saved nothing"
    _next_save(kind, folder)
    _check_survivor(kind, folder, generation=False)
    sub = os.path.join(folder, "backup") if kind == "backup" else folder
    assert _leftovers(sub) == []
    expected = {"backup": {"training_metadata.json"}, "csv": {"log.csv"},
                "checkpoint": {"ckpt.keras"}}.get(kind, {kind})
    names = set(os.listdir(sub))
    if kind == "backup":
        assert len(names - expected) == 1 and (names - expected).pop().startswith("ckpt-")
    else:
        assert names == expected
    for name in os.listdir(sub):
        assert os.stat(os.path.join(sub, name)).st_mode & 0o777 == 0o666 & ~_umask()


def _stuck_save(path, ready):
    """Saves `path` but stops half-way through writing, like a process killed mid-write."""
    _in_child()
    from layerkit.saving import h5_format

    def half_written(model, tmp, **_):
        with open(tmp, "wb") as handle:
            handle.write(b"\x89HDF\r\n\x1a\n half of a model")
        open(ready, "w").close()
        time.sleep(60)

    h5_format.write_model = half_written
    _model().save(path)


def test_a_save_killed_mid_write_leaves_the_old_file_and_its_debris_is_swept(tmp_path):
    path, ready = tmp_path / "m.h5", tmp_path / "ready"
    _model(seed=4).save(path)
    before = path.read_bytes()
    child = FORK.Process(target=_stuck_save, args=(str(path), str(ready)), daemon=True)
    child.start()
    deadline = time.time() + 30
    while not ready.exists():
        assert time.time() < deadline and child.is_alive()
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    ready.unlink()
    debris = _leftovers(tmp_path)
    assert len(debris) == 1 and debris[0].startswith(".m.h5.lk")
    assert path.read_bytes() == before
    _model().save_weights(tmp_path / "other.weights.h5")  # any save into the folder
    assert sorted(os.listdir(tmp_path)) == ["m.h5", "other.weights.h5"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ kill then resume
class Slow(Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.01)


def _train(folder, how, child=False):
    if child:
        _in_child()
    model = _model(seed=3)
    if how == "backup":
        callback = BackupAndRestore(os.path.join(folder, "backup"), save_freq=2)
    else:
        callback = ModelCheckpoint(os.path.join(folder, "ckpt_{epoch:02d}_{batch:03d}.h5"),
                                   save_freq=3, load_weights_on_restart=True)
    model.fit(X, Y, epochs=8, batch_size=4, shuffle=True, verbose=0,
              callbacks=[callback, Slow()])
    return model


@pytest.mark.parametrize("how", ["backup", "checkpoint"])
def test_kill_then_resume_ends_bitwise_like_an_uninterrupted_run(tmp_path, how):
    reference = _train(str(tmp_path / "reference"), how)
    rng = random.Random(5 if how == "backup" else 6)
    folder = str(tmp_path / "run")
    kills = 0
    for _ in range(3):
        child = FORK.Process(target=_train, args=(folder, how, True), daemon=True)
        child.start()
        time.sleep(rng.uniform(0.1, 0.35))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        kills += child.exitcode == -signal.SIGKILL
        assert child.exitcode in (0, -signal.SIGKILL)
    assert kills >= 2
    saved = os.listdir(os.path.join(folder, "backup") if how == "backup" else folder)
    assert saved, "the killed runs saved nothing"  # they ran, and resumed from their files
    finished = _train(folder, how)
    for a, b in zip(finished.get_weights(), reference.get_weights()):
        assert np.array_equal(a, b)
    for a, b in zip(finished.optimizer.variables, reference.optimizer.variables):
        assert torch.equal(a, b)
    for root, _, names in os.walk(folder):
        assert _leftovers(root) == []


# ------------------------------------------------------------------ mutation fuzzer
def _written_files(folder):
    model = _model()
    model.fit(X, Y, epochs=2, verbose=0)
    paths = {"keras": os.path.join(folder, "m.keras"), "h5": os.path.join(folder, "m.h5"),
             "weights": os.path.join(folder, "w.weights.h5"),
             "legacy": os.path.join(folder, "w.h5")}
    model.save(paths["keras"])
    model.save(paths["h5"])
    model.save_weights(paths["weights"])
    model.save_weights(paths["legacy"])
    return model, paths


def _data_offsets(raw):
    """Byte ranges of every dataset's data inside an HDF5 file (bytes)."""
    ranges = []
    with h5py.File(io.BytesIO(raw), "r") as handle:
        def visit(_, obj):
            if isinstance(obj, h5py.Dataset) and obj.id.get_offset() is not None:
                ranges.append((obj.id.get_offset(), obj.id.get_storage_size()))
        handle.visititems(visit)
    return [r for r in ranges if r[1]]


def _mutate(rng, raw, targeted):
    raw = bytearray(raw)
    if rng.random() < 0.1:
        return bytes(raw[:rng.randrange(len(raw))])  # truncated
    ranges = _data_offsets(bytes(raw)) if targeted else []
    for _ in range(rng.randint(1, 8)):
        if ranges and rng.random() < 0.7:  # inside weight data: the silent case to catch
            start, size = rng.choice(ranges)
            position = start + rng.randrange(size)
        else:
            position = rng.randrange(len(raw))
        raw[position] = rng.randrange(256)
    return bytes(raw)


def _mutated(rng, paths, folder, index):
    kind = rng.choice(["keras", "keras-member", "h5", "weights", "legacy"])
    source = paths["keras" if kind.startswith("keras") else kind]
    target = os.path.join(folder, f"case{index}_{os.path.basename(source)}")
    raw = open(source, "rb").read()
    if kind == "keras-member":  # mutate inside the zip and zip again: past the zip's CRC
        with zipfile.ZipFile(source) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        name = rng.choice(["config.json", "model.weights.h5", "model.weights.h5"])
        members[name] = _mutate(rng, members[name], name.endswith(".h5"))
        with zipfile.ZipFile(target, "w") as archive:
            for member, data in members.items():
                archive.writestr(member, data)
    else:
        with open(target, "wb") as handle:
            handle.write(_mutate(rng, raw, kind != "keras"))
    return kind, target


def _fuzz(folder, cases, seed, report):
    """Runs in a child process; writes `{outcome: count}` or the first violation."""
    _in_child()
    warnings.simplefilter("ignore")
    original, paths = _written_files(folder)
    expected = original.get_weights()
    rng = random.Random(seed)
    outcomes = {"error naming the file": 0, "same weights": 0}
    for index in range(cases):
        kind, path = _mutated(rng, paths, folder, index)
        with open(report + ".progress", "w") as handle:
            handle.write(f"case {index}: {kind} {path}")
        try:
            if kind in ("weights", "legacy"):
                loaded = _model(seed=9)
                loaded.load_weights(path)
            else:
                loaded = load_model(path)
        except ValueError as error:
            if path not in str(error):
                return _report(report, f"case {index} ({kind}): error without the file "
                                       f"name: {error}")
            outcomes["error naming the file"] += 1
        except Exception:
            return _report(report, f"case {index} ({kind}): {traceback.format_exc()}")
        else:
            got = loaded.get_weights()
            if len(got) != len(expected) or not all(
                    a.shape == b.shape and np.array_equal(a, b) for a, b in zip(got, expected)):
                return _report(report, f"case {index} ({kind}): loaded different weights")
            outcomes["same weights"] += 1
        os.remove(path)
    _report(report, outcomes)


def _report(path, value):
    with open(path, "w") as handle:
        json.dump(value, handle)


def _run_fuzzer(folder, cases, seed):
    """Runs `_fuzz` in a forked child; returns its outcome counts, or its first violation
    (a string)."""
    report = os.path.join(folder, "report.json")
    child = FORK.Process(target=_fuzz, args=(folder, cases, seed, report), daemon=True)
    child.start()
    child.join(120)
    if child.exitcode is None:
        child.kill()
    progress = open(report + ".progress").read() if os.path.exists(report + ".progress") \
        else "before the first case"
    assert child.exitcode == 0, f"the fuzzer process died ({child.exitcode}) at {progress}"
    with open(report) as handle:
        return json.load(handle)


def test_mutated_files_fail_naming_the_file_or_load_the_original_weights(tmp_path):
    outcomes = _run_fuzzer(str(tmp_path), 300, 2024)
    assert isinstance(outcomes, dict), outcomes
    assert sum(outcomes.values()) == 300 and outcomes["error naming the file"] > 200


def _no_verification(monkeypatch):
    """Turns layerkit's checksum verification off (what a loader without it would do)."""
    from layerkit.saving import integrity

    unverified = integrity.Verifier.__init__

    def init(self, manifest, where, verify=True):
        unverified(self, manifest, where, False)

    monkeypatch.setattr(integrity.Verifier, "__init__", init)


def test_the_fuzzer_fails_when_a_corrupted_file_loads_other_weights(tmp_path, monkeypatch):
    # Without checksums, a byte changed inside weight data loads silently: the fuzzer must
    # report it (the forked child inherits the patch), not count it as a pass.
    _no_verification(monkeypatch)
    outcome = _run_fuzzer(str(tmp_path), 40, 2024)
    assert isinstance(outcome, str) and "loaded different weights" in outcome, outcome


# ------------------------------------------------------------------ hostile configs
def _marker_code(marker):
    fn = eval(f"lambda x: (open({marker!r}, 'w').write('pwned'), x)[1]")  # noqa: S307
    return base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")


def _sequential(*records, keras3=True):
    first = {"class_name": "InputLayer", "config": {
        "batch_shape" if keras3 else "batch_input_shape": [None, 3], "name": "in"}}
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "s", "layers": [first, *records]}}


def _dense(**extra):
    return {"module": "keras.layers", "class_name": "Dense",
            "config": {"name": "d", "units": 2, **extra}}


def _keras_file(path, config, compile_config=None, members=None):
    if compile_config is not None:
        config = dict(config, compile_config=compile_config)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w"):
        pass
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", buffer.getvalue())
        for name, data in (members or {}).items():
            archive.writestr(name, data)


def _h5_file(path, config, edit=None):
    """A Keras-written (no checksums) .h5 of a small model, with `model_config` replaced."""
    models.Sequential([layers.Dense(2, input_shape=(3,), name="d")]).save(path)
    with h5py.File(path, "r+") as handle:
        strip_checksums(handle)
        if config is not None:
            handle.attrs["model_config"] = json.dumps(config)
        if edit is not None:
            edit(handle)


def _compile(**fields):
    return {"optimizer": "adam", "loss": "mse", **fields}


def _hostile_cases(marker):
    code = _marker_code(marker)
    inject = {"module": "evil_module", "class_name": "function", "config": "system",
              "registered_name": "function"}
    return {
        "keras3 lambda bytecode": lambda p: _keras_file(p, _sequential({
            "class_name": "Lambda", "config": {"name": "l", "function": {
                "class_name": "__lambda__", "config": {"code": code}}}})),
        "tf.keras lambda bytecode": lambda p: _h5_file(p, _sequential({
            "class_name": "Lambda", "config": {"name": "l", "function": [code, None, None],
                                               "function_type": "lambda"}}, keras3=False)),
        "layer class from a module": lambda p: _keras_file(p, _sequential({
            "module": "evil_module", "class_name": "Evil", "config": {"name": "e"},
            "registered_name": "evil_module>Evil"})),
        "activation from a module": lambda p: _keras_file(p, _sequential(
            _dense(activation=inject))),
        "initializer class injection": lambda p: _keras_file(p, _sequential(_dense(
            kernel_initializer={"module": "subprocess", "class_name": "Popen",
                                "config": {"args": ["touch", marker]}}))),
        "metric Popen": lambda p: _keras_file(p, _sequential(_dense()), _compile(
            metrics=[{"module": "subprocess", "class_name": "Popen",
                      "config": {"args": ["touch", marker]}}])),
        "loss from a module": lambda p: _keras_file(p, _sequential(_dense()), _compile(
            loss=inject)),
        "optimizer class injection": lambda p: _keras_file(p, _sequential(_dense()), _compile(
            optimizer={"module": "os", "class_name": "system", "config": {}})),
        "zip member ..": lambda p: _keras_file(p, _sequential(), members={"../evil": "x"}),
        "zip member absolute": lambda p: _keras_file(p, _sequential(),
                                                     members={"/tmp/evil": "x"}),
        "weight name absolute": lambda p: _h5_file(p, None, lambda h: h[
            "model_weights/d"].attrs.__setitem__("weight_names", [b"/model_config", b"x"])),
        "weight name ..": lambda p: _h5_file(p, None, lambda h: h[
            "model_weights/d"].attrs.__setitem__("weight_names", [b"../d/d/kernel:0",
                                                                  b"d/bias:0"])),
        "external link": lambda p: _h5_file(p, None, lambda h: (
            h["model_weights/d/d"].__delitem__("kernel:0"),
            h["model_weights/d/d"].__setitem__("kernel:0", h5py.ExternalLink("/etc/x", "/")))),
        "huge units": lambda p: _keras_file(p, _sequential(_dense(units=10 ** 12))),
        "huge dataset shape": lambda p: _h5_file(p, None, lambda h: (
            h["model_weights/d/d"].__delitem__("kernel:0"),
            h["model_weights/d/d"].create_dataset("kernel:0", shape=(10 ** 6, 10 ** 6),
                                                  dtype="f4", chunks=(100, 100)))),
        "zip bomb": lambda p: _keras_file(p, _sequential(),
                                          members={"model.weights.h5": b"\0" * 40 * 2 ** 20}),
        "deep json": lambda p: _h5_file(p, None, lambda h: h.attrs.__setitem__(
            "model_config", "[" * 100_000 + "]" * 100_000)),
    }


def test_hostile_configs_run_nothing_and_name_the_file(tmp_path):
    marker = str(tmp_path / "pwned")
    for name, build in _hostile_cases(marker).items():
        path = str(tmp_path / ("case.h5" if "tf.keras" in name or "weight" in name or
                               "link" in name or "dataset" in name or "json" in name
                               else "case.keras"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build(path)
        start = time.perf_counter()
        with pytest.raises(ValueError) as info:
            load_model(path)
        assert path in str(info.value), (name, str(info.value))
        assert time.perf_counter() - start < 5, name
        assert not os.path.exists(marker), name
        assert "evil_module" not in sys.modules, name
        os.remove(path)
