"""Full-model checkpoints that also carry where training stood (exact resume).

Who owns what: `ModelCheckpoint` saves through `save(model, path, write_state)`: the file
`save_model` writes (`.keras` or Keras 2 `.h5`), plus an HDF5 group `resume_state` that
`write_state(group)` fills. In an `.h5` file it is a root group beside `model_weights`; in
a `.keras` zip it is the member `resume_state.h5`. Keras 3 and tf.keras ignore both, so
the files stay ordinary Keras files. `restore(model, path, read_state)` loads such a file
(or any full-model file Keras wrote) into an existing compiled model: weights, optimizer
state, and whatever `read_state(reader, handle)` makes of the group (None without one).
"""

import io
import zipfile

import h5py

from . import _FILE_ERRORS, _detect, _path, h5_format, keras_zip
from .atomic import atomic_write

MEMBER = "resume_state.h5"


def save(model, filepath, write_state):
    """Saves the model like `save_model`, plus the resume state `write_state(group)` writes.

    Args:
        model: the compiled model.
        filepath: `.keras`, `.h5` or `.hdf5`.
        write_state: callable filling an empty HDF5 group.
    """
    path = _path(filepath, "ModelCheckpoint")
    if not path.lower().endswith(".keras"):
        with atomic_write(path) as tmp:
            h5_format.write_model(model, tmp)
            with h5py.File(tmp, "a") as handle:
                write_state(handle.create_group("resume_state"))
        return
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        write_state(handle.create_group("resume_state"))
    with atomic_write(path) as tmp:
        keras_zip.write_model(model, tmp)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MEMBER, buffer.getvalue())


def restore(model, filepath, read_state):
    """Loads weights and optimizer state of a full-model file into `model`.

    Args:
        model: a compiled model of the file's architecture.
        filepath: a `.keras` or `.h5` full-model file (layerkit's, Keras 3's or tf.keras's).
        read_state: `read_state(reader, handle)` -> the resume state, or None.

    Returns:
        What `read_state` returned for the file's resume state (None when it has none).

    Raises:
        ValueError: for malformed files or another architecture, naming the file.
    """
    path = _path(filepath, "ModelCheckpoint")
    kind = _detect(path)
    try:
        if kind == "zip":
            return _restore_zip(model, path, read_state)
        handle, size = h5_format.open_file(path, path)
        with handle:
            reader = h5_format.Reader(handle, size, path)
            root = reader.group(handle, "model_weights", required=False) or handle
            h5_format.load_weight_groups(reader, root, model)
            h5_format._load_optimizer(reader, handle, model)
            return read_state(reader, handle)
    except _FILE_ERRORS as error:
        raise ValueError(f"{path}: cannot restore the checkpoint ({type(error).__name__}: "
                         f"{error})") from error


def _restore_zip(model, path, read_state):
    limit = keras_zip.member_limit(path)
    with keras_zip._open_zip(path, path) as archive:
        weights = keras_zip._read_member(archive, "model.weights.h5", limit, path)
        names = archive.namelist()
        state = keras_zip._read_member(archive, MEMBER, limit, path) if MEMBER in names \
            else None
    keras_zip.load_weights(model, weights, where=f"{path}: model.weights.h5")
    if state is None:
        return None
    where = f"{path}: {MEMBER}"
    handle, size = h5_format.open_file(state, where)
    with handle:
        return read_state(h5_format.Reader(handle, size, where), handle)
