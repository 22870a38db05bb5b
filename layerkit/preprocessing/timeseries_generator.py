"""`TimeseriesGenerator`: batches of sliding windows over a time series (Keras 2).

Batches are those of `keras_preprocessing.sequence.TimeseriesGenerator`; `shuffle=True`
draws rows from numpy's global random state, as Keras does. One deliberate difference:
`get_config()` returns the constructor's `start_index`; Keras returns the internal
`start_index + length`, so its own JSON round trip shifts the window by `length`.
"""

import json

import numpy as np


def _to_json_list(values, what):
    if type(values).__module__ == np.__name__:
        values = values.tolist()
    try:
        return json.dumps(values)
    except TypeError as error:
        raise TypeError(f"TimeseriesGenerator.get_config: {what} must be JSON serializable "
                        f"(numbers, lists or numpy arrays), received "
                        f"{type(values).__name__}.") from error


class TimeseriesGenerator:
    """Yields `(samples, targets)` batches of windows over consecutive data points.

    Sample `k` of the series ends just before row `r = start_index + length + k * stride`:
    it is `data[r - length : r : sampling_rate]` with target `targets[r]`.

    Args:
        data: indexable sequence (list or array) of time steps; axis 0 is time.
        targets: indexable sequence with the same length as `data`.
        length: window length in time steps (before sampling).
        sampling_rate: period between time steps kept inside a window.
        stride: period between the ends of successive windows.
        start_index: rows before it are never used.
        end_index: last row that can be a target (None: the last row).
        shuffle: draw the batch's rows at random (numpy global state) instead of in order.
        reverse: return each window in reverse time order.
        batch_size: windows per batch (the last batch may be smaller).

    Raises:
        ValueError: if data and targets differ in length or no window fits.

    Example:
        >>> data = np.arange(50).reshape(50, 1)
        >>> x, y = TimeseriesGenerator(data, data, length=10, sampling_rate=2,
        ...                            batch_size=2)[0]
        >>> x.shape, y.ravel().tolist()
        ((2, 5, 1), [10, 11])
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0,
                 end_index=None, shuffle=False, reverse=False, batch_size=128):
        if len(data) != len(targets):
            raise ValueError(f"TimeseriesGenerator: data and targets must have the same "
                             f"length, received {len(data)} and {len(targets)}.")
        self.data = data
        self.targets = targets
        self.length = length
        self.sampling_rate = sampling_rate
        self.stride = stride
        # As in Keras, `start_index` holds the first usable target row.
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"TimeseriesGenerator: start_index + length = {self.start_index}"
                             f" > end_index = {self.end_index}, so no window fits; lower "
                             "length or start_index, or raise end_index.")

    def __len__(self):
        """Number of batches per epoch."""
        step = self.batch_size * self.stride
        return (self.end_index - self.start_index + step) // step

    def __getitem__(self, index):
        """Returns batch `index` as `(samples, targets)` numpy arrays.

        Args:
            index: batch number in `[0, len(self))`.

        Returns:
            samples of shape `(batch, ceil(length / sampling_rate)) + data.shape[1:]` and
            targets of shape `(batch,) + targets.shape[1:]`.
        """
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1,
                                     size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            last = min(first + self.batch_size * self.stride, self.end_index + 1)
            rows = np.arange(first, last, self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate]
                            for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets

    def __iter__(self):
        """Yields the `len(self)` batches of one epoch, like `keras.utils.Sequence`."""
        for index in range(len(self)):
            yield self[index]

    def get_config(self):
        """Returns the constructor arguments, with data and targets as JSON strings.

        Returns:
            A dict: data, targets (JSON), length, sampling_rate, stride, start_index,
            end_index, shuffle, reverse, batch_size.
        """
        return {
            "data": _to_json_list(self.data, "data"),
            "targets": _to_json_list(self.targets, "targets"),
            "length": self.length,
            "sampling_rate": self.sampling_rate,
            "stride": self.stride,
            "start_index": self.start_index - self.length,
            "end_index": self.end_index,
            "shuffle": self.shuffle,
            "reverse": self.reverse,
            "batch_size": self.batch_size,
        }

    def to_json(self, **kwargs):
        """Returns `{"class_name": "TimeseriesGenerator", "config": get_config()}` as JSON.

        Args:
            **kwargs: passed to `json.dumps`.

        Returns:
            A JSON string readable by `timeseries_generator_from_json`.
        """
        payload = {"class_name": self.__class__.__name__, "config": self.get_config()}
        return json.dumps(payload, **kwargs)


def timeseries_generator_from_json(json_string):
    """Rebuilds a `TimeseriesGenerator` from `TimeseriesGenerator.to_json()` output.

    Data and targets come back as numpy arrays (Keras gives back lists; batches are equal).

    Args:
        json_string: the JSON string.

    Returns:
        A `TimeseriesGenerator`.
    """
    config = dict(json.loads(json_string).get("config"))
    config["data"] = np.asarray(json.loads(config["data"]))
    config["targets"] = np.asarray(json.loads(config["targets"]))
    return TimeseriesGenerator(**config)
