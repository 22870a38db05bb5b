"""A library module imported on first use (for slow-to-import libraries the package needs
only when it reads or writes a file: h5py costs 30-110 ms of every `import layerkit`)."""

import importlib


class LazyModule:
    """Stands for the module `name`; the first attribute read imports it.

    Example:
        >>> h5py = LazyModule("h5py")   # at module level: nothing imported yet
        >>> h5py.File                    # imports h5py, then reads File
    """

    def __init__(self, name):
        self._name = name
        self._module = None

    def __getattr__(self, attribute):
        # only called for names this object lacks, i.e. the module's own names
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self):
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"
