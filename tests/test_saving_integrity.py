"""Integrity of the files layerkit writes and what loading checks in files Keras wrote.

Files layerkit writes carry checksums of every weight (CRC-32, or sum64 for large ones:
see test_saving_sum64), text attribute and config (where Keras does not look: they still
load in Keras 3, the oracle), and files written with CRC-32 only still verify; a damaged file fails
naming the file, layer and weight, unless `verify=False` salvages it. Files without
checksums (Keras's) are checked for weight names that leave their group, swapped names,
dtypes, non-finite values and unresolvable objects in the config. Files are created with
the umask's mode; temporary files of killed saves are removed by the next save.
"""

import io
import json
import os
import pathlib
import stat
import warnings
import zipfile

import h5py
import keras
import numpy as np
import pytest
import torch

from layerkit import layers, models
from layerkit.callbacks import BackupAndRestore, CSVLogger, ModelCheckpoint
from layerkit.saving import atomic, integrity, load_model, load_weights

from helpers import strip_checksums


def _model():
    torch.manual_seed(0)
    model = models.Sequential([
        layers.Dense(4, activation="relu", input_shape=(3,), name="d1"),
        layers.BatchNormalization(name="bn"),
        layers.Dense(2, name="d2")])
    model.compile("adam", "mse", metrics=["mae"])
    model.fit(np.ones((8, 3)), np.ones((8, 2)), verbose=0)
    return model


@pytest.fixture(scope="module")
def model():
    return _model()


@pytest.fixture(scope="module")
def files(model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("written")
    paths = {name: folder / name for name in ("m.keras", "m.h5", "w.weights.h5", "w.h5")}
    for name, path in paths.items():
        (model.save_weights if name.startswith("w.") else model.save)(path)
    return paths


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def _copy(source, target, edit=None):
    target.write_bytes(source.read_bytes())
    if edit is not None:
        with h5py.File(target, "r+") as handle:
            edit(handle)
    return target


def _flip_in_kernel(handle, path):
    """Changes one value of the dataset `path` in place (what a flipped bit on disk does)."""
    data = handle[path][()]
    data.reshape(-1)[0] += 1.0
    handle[path][...] = data


def _rezip(source, target, member, edit):
    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[member] = edit(members[member])
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _edit_h5_bytes(data, edit):
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as handle:
        edit(handle)
    return buffer.getvalue()


# ------------------------------------------------------------------------ checksums
def test_files_layerkit_writes_carry_checksums_and_load_in_keras3(model, files):
    for name in ("m.h5", "w.weights.h5", "w.h5"):
        with h5py.File(files[name], "r") as handle:
            manifest = json.loads(handle.attrs["layerkit_integrity"])
            assert manifest["algorithm"] == "crc32+sum64" and len(manifest["datasets"]) >= 8
    with zipfile.ZipFile(files["m.keras"]) as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as handle:
            members = json.loads(handle.attrs["layerkit_integrity"])["members"]
    assert set(members) == {"config.json", "metadata.json"}
    expected = model.get_weights()
    for name in ("m.keras", "m.h5"):
        oracle = keras.saving.load_model(files[name])
        assert all(np.array_equal(a, np.asarray(b)) for a, b in
                   zip(expected, oracle.get_weights()))
    oracle = keras.saving.load_model(files["m.keras"])
    oracle.load_weights(files["w.weights.h5"])
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(expected, oracle.get_weights()))


@pytest.mark.parametrize("name, dataset", [
    ("m.h5", "model_weights/d1/d1/kernel:0"), ("w.h5", "bn/bn/gamma:0"),
    ("w.weights.h5", "layers/dense_1/vars/1")])
def test_a_changed_weight_names_file_layer_and_weight(model, files, tmp_path, name, dataset):
    path = _copy(files[name], tmp_path / name, lambda h: _flip_in_kernel(h, dataset))
    layer = {"m.h5": "d1", "w.h5": "bn", "w.weights.h5": "d2"}[name]
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        load_model(path) if name == "m.h5" else load_weights(_model(), path)
    message = str(info.value)
    assert str(path) in message and f"layer {layer!r}" in message and "weight" in message
    assert "verify=False" in message
    salvaged = load_model(path, verify=False) if name == "m.h5" else _model()
    if name != "m.h5":
        salvaged.load_weights(path, verify=False)
    assert not _same(salvaged, model)  # salvage gives what the file holds


def test_a_changed_keras_member_is_caught(model, files, tmp_path):
    def bump(data):
        return _edit_h5_bytes(data, lambda h: _flip_in_kernel(h, "layers/dense/vars/0"))

    path = _rezip(files["m.keras"], tmp_path / "w.keras", "model.weights.h5", bump)
    with pytest.raises(ValueError, match=r"layer 'd1', weight 'kernel'.*checksum mismatch"):
        load_model(path)
    config = _rezip(files["m.keras"], tmp_path / "c.keras", "config.json",
                    lambda data: data.replace(b'"units": 4', b'"units": 4 '))
    with pytest.raises(ValueError, match=r"c\.keras.*config\.json: checksum mismatch"):
        load_model(config)
    assert _same(load_model(config, verify=False), model)


def test_changed_config_and_swapped_names_in_h5_are_caught(files, tmp_path):
    def units(handle):
        handle.attrs["model_config"] = handle.attrs["model_config"].replace(
            '"units": 2', '"units": 2 ')

    with pytest.raises(ValueError, match="attribute 'model_config'.*checksum mismatch"):
        load_model(_copy(files["m.h5"], tmp_path / "c.h5", units))

    def swap(handle):
        group = handle["model_weights/bn"]
        names = list(group.attrs["weight_names"])
        names[0], names[1] = names[1], names[0]
        group.attrs["weight_names"] = names

    with pytest.raises(ValueError, match="weight_names.*checksum mismatch"):
        load_model(_copy(files["m.h5"], tmp_path / "s.h5", swap))


def test_a_lost_checksum_record_is_damage_not_a_keras_file(files, tmp_path):
    path = _copy(files["m.h5"], tmp_path / "m.h5",
                 lambda h: h.attrs.__delitem__("layerkit_integrity"))
    with pytest.raises(ValueError, match="checksum record 'layerkit_integrity' is missing"):
        load_model(path)
    load_model(path, verify=False)


# ------------------------------------------------- files written before sum64 (CRC-32)
V1 = os.path.join(os.path.dirname(__file__), "data", "integrity_v1")


def _v1_model():
    return models.Sequential([
        layers.Dense(64, activation="relu", input_shape=(32,), name="d1"),
        layers.BatchNormalization(name="bn"), layers.Dense(3, name="d2")])


def _equal(weights, model):
    return len(weights) == len(model.get_weights()) and all(
        np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


def test_files_written_with_crc32_checksums_still_verify(tmp_path):
    # tests/data/integrity_v1: written by layerkit before sum64 (record version 1)
    with np.load(os.path.join(V1, "expected.npz")) as saved:
        expected = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    with h5py.File(os.path.join(V1, "model.h5"), "r") as handle:
        record = json.loads(handle.attrs["layerkit_integrity"])
    assert (record["version"], record["algorithm"]) == (1, "crc32")
    for name in ("model.h5", "model.keras"):
        assert _equal(expected, load_model(os.path.join(V1, name)))
    target = _v1_model()
    target.load_weights(os.path.join(V1, "model.weights.h5"))
    assert _equal(expected, target)
    damaged = _copy(pathlib.Path(V1, "model.h5"), tmp_path / "d.h5",
                    lambda h: _flip_in_kernel(h, "model_weights/d1/d1/kernel:0"))
    with pytest.raises(ValueError, match="layer 'd1', weight 'd1/kernel:0': checksum mismatch"):
        load_model(damaged)
    assert not _equal(expected, load_model(damaged, verify=False))


def test_version_1_records_with_many_crc32_blocks_verify(tmp_path):
    torch.manual_seed(0)
    model = models.Sequential([layers.Dense(400, input_shape=(200,), name="big")])
    path = tmp_path / "m.h5"
    model.save(path)

    def downgrade(handle):  # the record as layerkit wrote it before, 64 KiB CRC blocks
        record = json.loads(handle.attrs["layerkit_integrity"])
        assert record["datasets"]["/model_weights/big/big/kernel:0"][0] == "sum64"
        record.update(version=1, algorithm="crc32", datasets={
            name: [65536] + integrity.block_crcs(handle[name][()], 65536)
            for name in record["datasets"]})
        handle.attrs["layerkit_integrity"] = json.dumps(record)

    old = _copy(path, tmp_path / "old.h5", downgrade)
    assert _same(load_model(old), model)
    with pytest.raises(ValueError, match=r"weight 'big/kernel:0': checksum mismatch \(bytes "
                                         r"from 196608 on"):
        load_model(_copy(old, tmp_path / "bad.h5", lambda h: h["model_weights/big/big/"
                                                                "kernel:0"].__setitem__(
            (150, 0), 7.0)))


# ------------------------------------------------------------------ Keras-written files
def test_swapped_weight_names_in_a_keras_file_pair_by_name(model, files, tmp_path):
    def swap(handle):
        strip_checksums(handle)
        group = handle["model_weights/bn"]
        names = list(group.attrs["weight_names"])
        names[0], names[1] = names[1], names[0]  # gamma <-> beta
        group.attrs["weight_names"] = names

    assert _same(load_model(_copy(files["m.h5"], tmp_path / "s.h5", swap)), model)


@pytest.mark.parametrize("bad_name", ["/model_weights/bn/bn/beta:0", "../bn/bn/beta:0",
                                      "d2/./bias:0", "d2//bias:0"])
def test_weight_names_resolve_only_inside_their_group(files, tmp_path, bad_name):
    def point_away(handle):
        strip_checksums(handle)
        handle["model_weights/d2"].attrs["weight_names"] = [b"d2/kernel:0",
                                                            bad_name.encode()]

    path = _copy(files["m.h5"], tmp_path / "p.h5", point_away)
    with pytest.raises(ValueError, match="must be a path inside its own group") as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_dtype_and_non_finite_values_in_keras_files(files, tmp_path):
    def integers(handle):
        strip_checksums(handle)
        del handle["model_weights/d2/d2/bias:0"]
        handle["model_weights/d2/d2/bias:0"] = np.array([1, 2], dtype=np.int64)

    with pytest.raises(ValueError, match=r"layer 'd2', weight 'd2/bias:0'.* holds int64"):
        load_model(_copy(files["m.h5"], tmp_path / "i.h5", integers))

    def nan(handle):
        strip_checksums(handle)
        data = handle["model_weights/d1/d1/kernel:0"][()]
        data[0, :2] = [np.nan, np.inf]
        handle["model_weights/d1/d1/kernel:0"][...] = data

    path = _copy(files["m.h5"], tmp_path / "n.h5", nan)
    with pytest.warns(UserWarning, match=r"n\.h5: non-finite.*layer 'd1', weight "
                                         r"'d1/kernel:0' \(2 of 12\)"):
        load_model(path)


def test_objects_named_in_a_compile_config_are_resolved_at_load(files, tmp_path):
    def popen(handle):
        strip_checksums(handle)
        config = json.loads(handle.attrs["training_config"])
        config["metrics"] = [[{"class_name": "Popen", "config": {"args": "touch x"}}]]
        handle.attrs["training_config"] = json.dumps(config)

    path = _copy(files["m.h5"], tmp_path / "p.h5", popen)
    with pytest.raises(ValueError, match=r"p\.h5: .*metric 'Popen' cannot be created"):
        load_model(path)
    load_model(path, compile=False)


def test_long_layer_name_lists_are_split_as_tf_keras_does(tmp_path):
    model = models.Sequential([layers.Input((2,))] + [
        layers.Dense(2, name=f"dense_{i:02d}_" + "x" * 2000) for i in range(40)])
    path = tmp_path / "long.h5"
    model.save(path)
    with h5py.File(path, "r") as handle:
        assert "layer_names" not in handle["model_weights"].attrs
        assert "layer_names1" in handle["model_weights"].attrs
    assert _same(load_model(path), model)
    oracle = keras.saving.load_model(path)
    assert np.array_equal(np.asarray(oracle.get_weights()[-1]), model.get_weights()[-1])


# ------------------------------------------------------------------ modes and debris
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_files_get_the_umasks_mode(model, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        model.save(tmp_path / "m.keras")
        model.save(tmp_path / "m.h5")
        model.save_weights(tmp_path / "w.weights.h5")
        x, y = np.ones((4, 3)), np.ones((4, 2))
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            ModelCheckpoint(str(tmp_path / "c.keras")), CSVLogger(tmp_path / "log.csv"),
            BackupAndRestore(str(tmp_path / "backup"), delete_checkpoint=False)])
    finally:
        os.umask(old)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 7
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {mode}


def test_stale_temporary_files_are_removed_by_the_next_save(model, tmp_path):
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".m.h5.lk{dead.pid}-0123abcd.tmp"
    alive = tmp_path / f".other.h5.lk{os.getppid()}-0123abcd.tmp"  # a save in progress
    foreign = tmp_path / ".m.h5.abcdefgh.tmp"  # not layerkit's naming
    for path in (stale, alive, foreign):
        path.write_bytes(b"partial")
    model.save(tmp_path / "x.keras")
    assert not stale.exists() and alive.exists() and foreign.exists()
    assert atomic.remove_stale(str(tmp_path)) == []


def test_a_failed_save_leaves_the_old_file_and_no_temporary(model, tmp_path):
    path = tmp_path / "m.h5"
    model.save(path)
    before = path.read_bytes()

    class Boom(layers.Dense):
        def get_config(self):
            raise RuntimeError("boom")

    broken = models.Sequential([Boom(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match="boom"):
        broken.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.h5"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path)
