"""Hostile, malformed and half-written files: loading fails with ValueError, never worse.

Covers the attacks behind CVE-2024-3660 / CVE-2025-1550 (lambdas and module paths that run
code on load), broken files of every kind, a hypothesis fuzzer over mutated valid files and
random configs, and a writer killed with SIGKILL at random instants.
"""

import base64
import io
import json
import marshal
import multiprocessing
import os
import random
import signal
import sys
import time
import zipfile

import h5py
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerkit import layers, models
from layerkit.saving import load_model, load_weights, model_from_json

from helpers import strip_checksums


def _model():
    torch.manual_seed(0)
    model = models.Sequential([layers.Dense(3, activation="relu", input_shape=(4,), name="d1"),
                               layers.Dense(2, name="d2")])
    model.compile("adam", "mse")
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """({ext: path} of one trained model saved as .keras and .h5, its weights)."""
    folder = tmp_path_factory.mktemp("valid")
    model = _model()
    model.fit(np.ones((4, 4)), np.ones((4, 2)), verbose=0)
    paths = {ext: folder / f"m.{ext}" for ext in ("keras", "h5")}
    for path in paths.values():
        model.save(path)
    return paths, model.get_weights()


@pytest.fixture(scope="module")
def valid_files(saved):
    return saved[0]


def _keras_zip(path, config, weights=None, extra=None):
    """A .keras file with the given config (dict or text) and weights bytes."""
    if weights is None:
        buffer = io.BytesIO()
        with h5py.File(buffer, "w"):
            pass
        weights = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("config.json", config if isinstance(config, str) else
                         json.dumps(config))
        archive.writestr("model.weights.h5", weights)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def _sequential_config(*layer_records):
    return {"module": "keras", "class_name": "Sequential", "config": {
        "name": "s", "layers": [{"class_name": "InputLayer",
                                 "config": {"batch_shape": [None, 3], "name": "in"}},
                                *layer_records]}}


def _marker_code(marker):
    """Bytecode of a lambda that writes `marker` (what an attacker ships)."""
    fn = eval(f"lambda x: (open({str(marker)!r}, 'w').write('pwned'), x)[1]")  # noqa: S307
    return base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")


# ------------------------------------------------------------------------- code on load
def test_keras3_lambda_bytecode_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    lam = {"class_name": "Lambda", "config": {"name": "lambda", "function": {
        "class_name": "__lambda__",
        "config": {"code": _marker_code(marker), "defaults": None, "closure": None}}}}
    path = _keras_zip(tmp_path / "evil.keras", _sequential_config(lam))
    with pytest.raises(ValueError, match="bytecode.*safe_mode=False"):
        load_model(path)
    assert not marker.exists()


def test_tf_keras_h5_lambda_bytecode_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Lambda", "config": {
            "name": "lambda", "batch_input_shape": [None, 3], "function":
            [_marker_code(marker), None, None], "function_type": "lambda",
            "module": "__main__", "output_shape": None, "output_shape_type": "raw",
            "arguments": {}}}]}}
    with h5py.File(tmp_path / "evil.h5", "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.create_group("model_weights").attrs["layer_names"] = []
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(tmp_path / "evil.h5")
    assert not marker.exists()


@pytest.mark.parametrize("record", [
    {"module": "evil_module", "class_name": "Evil", "config": {}},
    {"module": "os", "class_name": "system", "config": {"command": "touch pwned"}},
    {"class_name": "Dense", "config": {"units": 2, "activation": {
        "module": "evil_module", "class_name": "function", "config": "run",
        "registered_name": "function"}}},
    {"class_name": "Dense", "config": {"units": 2, "kernel_initializer": {
        "module": "evil_module", "class_name": "Evil", "config": {}}}},
    {"class_name": "Lambda", "config": {"function": {
        "module": "os", "class_name": "function", "config": "system",
        "registered_name": "function"}}},
], ids=["layer_class", "os_system", "activation", "initializer", "lambda_os_system"])
def test_module_paths_in_configs_are_never_imported(tmp_path, monkeypatch, record):
    marker = tmp_path / "imported"
    (tmp_path / "evil_module.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\nclass Evil: pass\ndef run(x): return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _keras_zip(tmp_path / "evil.keras", _sequential_config(record))
    with pytest.raises(ValueError):
        load_model(path)
    with pytest.raises(ValueError):
        model_from_json(json.dumps(_sequential_config(record)))
    assert not marker.exists() and "evil_module" not in sys.modules


# ------------------------------------------------------------------------- malformed
def _h5_copy(source, target, edit):
    with open(source, "rb") as f:
        data = f.read()
    target.write_bytes(data)
    with h5py.File(target, "r+") as f:
        strip_checksums(f)  # as Keras would have written it: the edits test other checks
        edit(f)
    return target


def _resize_kernel(f):
    del f["model_weights/d1/d1/kernel:0"]
    f["model_weights/d1/d1"].create_dataset("kernel:0", data=np.zeros((5, 3)))


def _huge_dataset(f):
    del f["model_weights/d1/d1/kernel:0"]
    f["model_weights/d1/d1"].create_dataset("kernel:0", shape=(4 * 10 ** 6, 10 ** 4),
                                                  dtype="f4", chunks=(1000, 100))


def _external_link(f):
    del f["model_weights/d1/d1/kernel:0"]
    f["model_weights/d1/d1/kernel:0"] = h5py.ExternalLink("/etc/other.h5", "/x")


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.attrs.__setitem__("model_config", "{not json"), "JSON"),
    (lambda f: f.attrs.__delitem__("model_config"), "model_config"),
    (lambda f: f.__delitem__("model_weights/d2"), "d2"),
    (_resize_kernel, "shapes"),
    (_huge_dataset, "declares"),
    (_external_link, "ExternalLink|values"),
    (lambda f: f.attrs.__setitem__("model_config", json.dumps(_sequential_config(
        {"class_name": "Dense", "config": {"units": 10 ** 12}}))), "values"),
], ids=["bad_json", "no_config", "missing_group", "wrong_shape", "huge_dataset",
        "external_link", "huge_units"])
def test_malformed_h5_files_raise_value_error(tmp_path, valid_files, edit, message):
    path = _h5_copy(valid_files["h5"], tmp_path / "bad.h5", edit)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        load_model(path)
    assert time.perf_counter() - start < 5
    if edit in (_resize_kernel, _huge_dataset, _external_link):  # broken weights
        with pytest.raises(ValueError, match="shapes|declares|ExternalLink"):
            _model().load_weights(path)


@pytest.mark.parametrize("case", ["bad_json", "traversal", "bomb", "unknown_class",
                                  "huge_units", "missing_member", "wrong_count"])
def test_malformed_keras_files_raise_value_error(tmp_path, valid_files, case):
    with zipfile.ZipFile(valid_files["keras"]) as archive:
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.weights.h5")
    path = tmp_path / "bad.keras"
    if case == "bad_json":
        _keras_zip(path, "{\"class_name\": ", weights)
    elif case == "traversal":
        _keras_zip(path, config, weights, extra={"../../escape.txt": "x"})
    elif case == "bomb":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("config.json", json.dumps(config))
            archive.writestr("model.weights.h5", b"\0" * (64 * 2 ** 20))
    elif case == "unknown_class":
        config["config"]["layers"][1]["class_name"] = "NoSuchLayer"
        _keras_zip(path, config, weights)
    elif case == "huge_units":
        config["config"]["layers"][1]["config"]["units"] = 2 ** 40
        _keras_zip(path, config, weights)
    elif case == "missing_member":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", json.dumps(config))
    else:
        config["config"]["layers"].append({"class_name": "Dense", "config": {"units": 2}})
        _keras_zip(path, config, weights)
    start = time.perf_counter()
    with pytest.raises(ValueError):
        load_model(path)
    assert time.perf_counter() - start < 5
    assert not (tmp_path.parent / "escape.txt").exists()


def test_truncated_files_raise_value_error(tmp_path, valid_files):
    for ext, source in valid_files.items():
        data = source.read_bytes()
        for cut in (0, 7, 100, len(data) // 3, len(data) // 2, len(data) - 10):
            path = tmp_path / f"cut.{ext}"
            path.write_bytes(data[:cut])
            with pytest.raises(ValueError):
                load_model(path)
    with pytest.raises(ValueError, match="not found"):
        load_model(tmp_path / "absent.keras")


# ------------------------------------------------------------------------- fuzzing
_FUZZ = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fails_naming_it_or_loads(path, expected):
    """Loads `path`: a ValueError naming the file, or exactly the `expected` weights;
    anything else (another error, other weights loaded without error) fails."""
    try:
        loaded = load_model(path)
    except ValueError as error:
        assert str(path) in str(error), f"the error does not name {path}: {error}"
        return "error naming the file"
    got = loaded.get_weights()
    assert len(got) == len(expected) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(got, expected)), \
        f"{path} is damaged, yet it loaded without error to different weights"
    return "same weights"


@_FUZZ
@given(data=st.data())
def test_fuzz_mutated_files(tmp_path_factory, saved, data):
    valid_files, expected = saved
    ext, part = data.draw(st.sampled_from([("keras", None), ("keras", "config.json"),
                                           ("keras", "model.weights.h5"), ("h5", None)]))
    path = tmp_path_factory.mktemp("fuzz") / f"m.{ext}"
    if part is None:
        path.write_bytes(_mutate(data, valid_files[ext].read_bytes()))
    else:  # mutate a member and zip it again, so the damage gets past the CRC check
        with zipfile.ZipFile(valid_files[ext]) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        members[part] = _mutate(data, members[part])
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content)
    _fails_naming_it_or_loads(path, expected)


def _change_weight_byte(source, target):
    """Copies `source` with one byte changed inside the first kernel's stored data."""
    raw = bytearray(source.read_bytes())
    with h5py.File(source, "r") as handle:
        offsets = []
        handle.visititems(lambda name, obj: offsets.append(obj.id.get_offset())
                          if isinstance(obj, h5py.Dataset) and "kernel" in name else None)
    raw[offsets[0] + 1] ^= 0x40  # a float32's high mantissa / exponent bits
    target.write_bytes(bytes(raw))


def test_fuzz_check_fails_when_a_damaged_file_loads_other_weights(tmp_path, saved,
                                                                   monkeypatch):
    valid_files, expected = saved
    path = tmp_path / "damaged.h5"
    _change_weight_byte(valid_files["h5"], path)
    assert _fails_naming_it_or_loads(path, expected) == "error naming the file"  # checksums
    from layerkit.saving import integrity

    unverified = integrity.Verifier.__init__
    monkeypatch.setattr(integrity.Verifier, "__init__",
                        lambda self, manifest, where, verify=True:
                        unverified(self, manifest, where, False))
    with pytest.raises(AssertionError, match="loaded without error to different weights"):
        _fails_naming_it_or_loads(path, expected)  # without checksums: the check fails


def _mutate(data, raw):
    """1-8 bytes changed; in HDF5 bytes, most of them inside stored weight data (the damage
    that would load silently without checksums)."""
    raw = bytearray(raw)
    ranges = _data_ranges(bytes(raw)) if raw.startswith(b"\x89HDF") else []
    for _ in range(data.draw(st.integers(1, 8))):
        if ranges and data.draw(st.booleans()):
            start, size = data.draw(st.sampled_from(ranges))
            position = start + data.draw(st.integers(0, size - 1))
        else:
            position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    return bytes(raw)


def _data_ranges(raw):
    """(offset, size) of every dataset's stored data in an HDF5 file's bytes."""
    ranges = []
    with h5py.File(io.BytesIO(raw), "r") as handle:
        handle.visititems(lambda _, obj: ranges.append((obj.id.get_offset(),
                                                        obj.id.get_storage_size()))
                          if isinstance(obj, h5py.Dataset) and obj.id.get_offset() else None)
    return [r for r in ranges if r[1]]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2 ** 40) | st.floats(allow_nan=False) |
    st.sampled_from(["Dense", "InputLayer", "relu", "Sequential", "Functional", "Lambda",
                     "__lambda__", "function", "layers", "config", "class_name"]),
    lambda children: st.lists(children, max_size=4) |
    st.dictionaries(st.sampled_from(["class_name", "config", "layers", "units", "name",
                                     "batch_shape", "inbound_nodes", "input_layers",
                                     "output_layers", "function", "activation"]),
                    children, max_size=5),
    max_leaves=20)


@_FUZZ
@given(layer=_JSON, units=st.integers(-5, 2 ** 40))
def test_fuzz_random_configs(layer, units):
    records = [layer, {"class_name": "Dense", "config": {"units": units}}]
    for record in (_sequential_config(*records), layer,
                   {"class_name": "Functional", "config": layer}):
        try:
            model_from_json(json.dumps(record))
        except ValueError:
            pass


# ------------------------------------------------------------------------- kill test
def _save_forever(path, seed):
    torch.manual_seed(seed)
    model = _model()
    step = 0
    while True:
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float(step % 2))
        if str(path).endswith(".weights.h5"):
            model.save_weights(path)
        else:
            model.save(path)
        step += 1


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.weights.h5"])
def test_killed_writer_leaves_a_loadable_file(tmp_path, name):
    path = tmp_path / name
    first = _model()
    with torch.no_grad():
        for p in first.parameters():
            p.fill_(1.0)
    first.save_weights(path) if name.endswith(".weights.h5") else first.save(path)
    context = multiprocessing.get_context("fork")
    rng = random.Random(0)
    for _ in range(7):
        child = context.Process(target=_save_forever, args=(str(path), 1), daemon=True)
        child.start()
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        if name.endswith(".weights.h5"):
            survivor = _model()
            load_weights(survivor, path)
        else:
            survivor = load_model(path)
        values = {float(v) for w in survivor.get_weights() for v in w.ravel()}
        assert values in ({0.0}, {1.0})
