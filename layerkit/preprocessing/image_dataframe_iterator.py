"""`DataFrameIterator`: image batches from file names (and labels) in a pandas DataFrame.

Same batches as `keras_preprocessing.image.DataFrameIterator` 1.1.2 (see
`image_iterators` for the shared ordering and seeding). Rows keep the DataFrame's order;
with `validate_filenames` rows whose file is missing or not an image are dropped with a
warning.
"""

import os
import warnings

import numpy as np

from .image_iterators import BatchFromFilesMixin, Iterator

_NO_CLASSES = ("input", "multi_output", "raw", None)


def _is_valid_file(path, white_list_formats):
    return path.lower().endswith(white_list_formats) and os.path.isfile(path)


def _check_labels(df, class_mode, y_col, classes):
    """Checks the label column against `class_mode` (keras_preprocessing's rules)."""
    if class_mode == "multi_output" and not isinstance(y_col, list):
        raise TypeError(f"flow_from_dataframe: class_mode='multi_output' needs y_col to be a "
                        f"list of column names, received {type(y_col).__name__}")
    if class_mode in ("binary", "sparse"):
        if not all(df[y_col].apply(lambda v: isinstance(v, str))):
            raise TypeError(f"flow_from_dataframe: class_mode={class_mode!r} needs the "
                            f"y_col={y_col!r} values to be strings (class names)")
    if class_mode == "binary":
        count = len(set(classes)) if classes else df[y_col].nunique()
        if count != 2:
            raise ValueError(f"flow_from_dataframe: class_mode='binary' needs exactly 2 "
                             f"classes, found {count}")
    if class_mode == "categorical":
        if not all(df[y_col].apply(lambda v: isinstance(v, (str, list, tuple)))):
            raise TypeError(f"flow_from_dataframe: class_mode='categorical' needs the "
                            f"y_col={y_col!r} values to be strings, lists or tuples")


def _check_params(df, class_mode, allowed, x_col, y_col, weight_col, classes):
    if class_mode not in allowed:
        raise ValueError(f"flow_from_dataframe: class_mode must be one of {allowed}, "
                         f"received {class_mode!r}")
    if x_col not in df.columns:
        raise KeyError(f"flow_from_dataframe: x_col={x_col!r} is not a column of the "
                       f"DataFrame (columns: {list(df.columns)})")
    if not all(df[x_col].apply(lambda v: isinstance(v, str))):
        raise TypeError(f"flow_from_dataframe: every value of x_col={x_col!r} must be a "
                        "string (a file name or path)")
    _check_labels(df, class_mode, y_col, classes)
    if classes and class_mode in _NO_CLASSES:
        warnings.warn(f"flow_from_dataframe: classes are ignored with "
                      f"class_mode={class_mode!r}", stacklevel=4)
    if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
        raise TypeError(f"flow_from_dataframe: weight_col={weight_col!r} must be numeric, "
                        f"its dtype is {df[weight_col].dtype}")


def _filter_classes(df, y_col, classes):
    """Drops rows without a wanted class; returns the DataFrame and the sorted classes."""
    df = df.copy()

    def keep_known(labels):
        if isinstance(labels, (list, tuple)):
            return [label for label in labels if label in classes] or None
        if isinstance(labels, str):
            return labels if labels in classes else None
        raise TypeError(f"flow_from_dataframe: expected a string, list or tuple in column "
                        f"{y_col!r}, found {type(labels).__name__}")

    if classes:
        classes = set(classes)
        df[y_col] = df[y_col].apply(keep_known)
    else:
        classes = set()
        for value in df[y_col]:
            classes.update(value if isinstance(value, (list, tuple)) else [value])
    return df.dropna(subset=[y_col]), sorted(classes)


class DataFrameIterator(BatchFromFilesMixin, Iterator):
    """Batches of images named in a DataFrame column, labels from other columns.

    Attributes: `filenames` (the x_col values kept), `filepaths`, `classes` (label index
    per row, or lists for multi-label rows), `class_indices`, `samples`.

    Args: see `ImageDataGenerator.flow_from_dataframe`; `image_data_generator` may be None.

    Raises:
        ValueError / TypeError: for an unknown class_mode or labels that do not fit it.
    """

    allowed_class_modes = ("binary", "categorical", "input", "multi_output", "raw",
                           "sparse", None)

    def __init__(self, dataframe, directory=None, image_data_generator=None,
                 x_col="filename", y_col="class", weight_col=None, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format="channels_last", save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype="float32", validate_filenames=True):
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset,
                                  interpolation, keep_aspect_ratio)
        df = dataframe.copy()
        self.directory = os.fspath(directory) if directory else ""
        self.class_mode = class_mode
        self.dtype = dtype
        _check_params(df, class_mode, self.allowed_class_modes, x_col, y_col, weight_col,
                      classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        if class_mode not in _NO_CLASSES:
            df, classes = _filter_classes(df, y_col, classes)
            self.class_indices = dict(zip(classes, range(len(classes))))
        if self.split:
            start, stop = int(self.split[0] * len(df)), int(self.split[1] * len(df))
            df = df.iloc[start:stop, :]
        if class_mode not in _NO_CLASSES:
            self.classes = self._label_indices(df[y_col])
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        self._report(validate_filenames)
        self._filepaths = [os.path.join(self.directory, fname) for fname in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _report(self, validate_filenames):
        validated = "validated" if validate_filenames else "non-validated"
        if self.class_mode in _NO_CLASSES:
            print(f"Found {self.samples} {validated} image filenames.")
        else:
            print(f"Found {self.samples} {validated} image filenames belonging to "
                  f"{len(self.class_indices)} classes.")

    def _label_indices(self, column):
        return [[self.class_indices[label] for label in labels]
                if isinstance(labels, (list, tuple)) else self.class_indices[labels]
                for labels in column]

    def _filter_valid_filepaths(self, df, x_col):
        paths = df[x_col].map(lambda fname: os.path.join(self.directory, fname))
        mask = paths.apply(_is_valid_file, args=(self.white_list_formats,))
        n_invalid = int((~mask).sum())
        if n_invalid:
            warnings.warn(f"flow_from_dataframe: found {n_invalid} invalid image filename(s) "
                          f"in x_col={x_col!r}; they will be ignored.", stacklevel=4)
        return df[mask]

    @property
    def filepaths(self):
        """Paths of the image files, in `filenames` order."""
        return self._filepaths

    @property
    def labels(self):
        """Targets: class indices, or the raw / multi-output target arrays."""
        if self.class_mode in ("multi_output", "raw"):
            return self._targets
        return self.classes

    @property
    def sample_weight(self):
        """The weight_col values, or None."""
        return self._sample_weight
