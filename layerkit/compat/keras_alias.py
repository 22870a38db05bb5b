"""The opt-in `keras` alias: `import keras` and `tensorflow.keras` resolve to layerkit.

Who owns what: this module owns one finder on `sys.meta_path` and a small stand-in
`tensorflow` module. `install()` puts the finder first on the path, `uninstall()` takes it
off and forgets the aliases it made. `runner.py` (`layerkit run`) and `%load_ext layerkit`
call them; `import layerkit` never does, so a real Keras stays importable beside layerkit.

While installed, every `keras.X.Y` and `tensorflow.keras.X.Y` is layerkit's `layerkit.X.Y`
itself, found when first imported (no list of paths: a module added to layerkit is
reachable under `keras` at once), so `keras.layers.Dense is layerkit.layers.Dense`.
TensorFlow's top level serves only `tf.keras` and the Keras modules TensorFlow 2 re-exports
there (`tf.optimizers`, `tf.losses`, `tf.metrics`, `tf.initializers`); any other TensorFlow
API raises an ImportError or AttributeError that says what the stand-in is.

    >>> keras_alias.install()          # doctest: +SKIP
    >>> import keras                   # now layerkit itself
    >>> from tensorflow.keras.layers import Dense
"""

import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# The package the aliases point to (this module's own: no import of it from in here).
PACKAGE = __name__.partition(".")[0]
# tf.optimizers is tf.keras.optimizers in TensorFlow 2, and so on; notes import them so.
TF_KERAS_REEXPORTS = ("optimizers", "losses", "metrics", "initializers")
# The tf.keras 2.x surface layerkit follows, in a form version checks parse (PEP 440).
TF_VERSION = "2.15.0+layerkit"
# tensorboard (layerkit's TensorBoard callback) imports `tensorboard.compat.notf` and, when it
# exists, uses its own TensorFlow stub; without it tensorboard would pick up the stand-in.
MARKERS = ("tensorboard.compat.notf",)


def _unsupported_tf(name):
    return (
        f"{name} is not available: layerkit stands in for TensorFlow's Keras only "
        f"(tensorflow.keras, and {', '.join('tf.' + n for n in TF_KERAS_REEXPORTS)}, which "
        f"TensorFlow 2 re-exports from it). Write this part with torch or numpy, or run the "
        f"code with real TensorFlow (plain `python`, without `layerkit run`)."
    )


def _target(fullname):
    """Maps an alias module name to layerkit's, or returns None when it is not an alias.

    Returns:
        `"layerkit..."` for a Keras path, `""` for the stand-in `tensorflow` itself, None
        for names the alias does not own.

    Raises:
        ModuleNotFoundError: a TensorFlow module outside Keras (`tensorflow.random`).
    """
    top, _, rest = fullname.partition(".")
    if top == "keras":
        return PACKAGE + fullname[len("keras"):]
    if top != "tensorflow":
        return None
    if not rest:
        return ""
    first, _, _ = rest.partition(".")
    if first == "keras":
        return PACKAGE + rest[len("keras"):]
    if first in TF_KERAS_REEXPORTS:
        return f"{PACKAGE}.{rest}"
    # no `name=`: `from tensorflow import random` would swallow an error naming the module
    raise ModuleNotFoundError(_unsupported_tf(f"'{fullname}'"))


class _AliasLoader(importlib.abc.Loader):
    """Loads an alias as the very module object layerkit has under its own name."""

    def __init__(self, target):
        self.target = target
        self.own_spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module):
        alias = module.__spec__.name
        # importlib stamps the alias's spec on the module it got; the module keeps its own.
        module.__spec__ = self.own_spec
        # Register the package's already-loaded submodules under the alias too. Otherwise a
        # later `import keras.optimizers.adam` would load the alias anew, and importlib
        # would then set the parent's `adam` attribute (the Adam class, a Keras 2 alias) to
        # the submodule, for layerkit itself.
        prefix = self.target + "."
        for name, loaded in list(sys.modules.items()):
            if name.startswith(prefix):
                sys.modules.setdefault(alias + name[len(self.target):], loaded)


class _MarkerLoader(importlib.abc.Loader):
    """Builds an empty marker module (see MARKERS)."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__layerkit_alias__ = True


class _TensorflowLoader(importlib.abc.Loader):
    """Builds the stand-in `tensorflow` package (see the module docstring)."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__doc__ = "layerkit's stand-in for TensorFlow: serves tf.keras only."
        module.__version__ = TF_VERSION
        module.__getattr__ = _tensorflow_getattr
        module.__layerkit_alias__ = True


def _tensorflow_getattr(name):
    if name == "keras":
        return sys.modules[__name__.partition(".")[0]]  # the package this module is in
    if name in TF_KERAS_REEXPORTS:
        return importlib.import_module(f"{PACKAGE}.{name}")
    if name.startswith("__"):
        raise AttributeError(f"module 'tensorflow' has no attribute {name!r}")
    raise AttributeError(_unsupported_tf(f"tensorflow.{name}"))


class KerasAliasFinder(importlib.abc.MetaPathFinder):
    """Finds `keras.*` and `tensorflow.*` modules as layerkit's (see the module docstring)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MARKERS:
            return importlib.util.spec_from_loader(fullname, _MarkerLoader())
        name = _target(fullname)
        if name is None:
            return None
        if name == "":
            return importlib.util.spec_from_loader(fullname, _TensorflowLoader(), is_package=True)
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: the keras alias maps it to {name!r}, which "
                f"layerkit does not have. See layerkit's README for what works, or run this "
                f"code with real Keras (plain `python`, without `layerkit run`).",
                name=fullname,
            )
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(name), is_package=spec.submodule_search_locations is not None
        )


def _is_alias(module):
    return getattr(module, "__layerkit_alias__", False) or (
        getattr(module, "__name__", "").partition(".")[0] == PACKAGE
    )


def _alias_names():
    return [
        name
        for name, module in list(sys.modules.items())
        if (name.partition(".")[0] in ("keras", "tensorflow") or name in MARKERS)
        and _is_alias(module)
    ]


def is_installed():
    """Returns True while the alias is on."""
    return any(isinstance(finder, KerasAliasFinder) for finder in sys.meta_path)


def install():
    """Turns the alias on: `import keras` / `tensorflow.keras` now give layerkit.

    Idempotent. A real `keras` or `tensorflow` imported before stays what those names mean
    (modules holding it keep working); a warning says to restart and turn the alias on first.
    """
    if is_installed():
        return
    clashes = [
        name for name in ("keras", "tensorflow")
        if name in sys.modules and not _is_alias(sys.modules[name])
    ]
    if clashes:
        warnings.warn(
            f"{' and '.join(clashes)} was imported before the layerkit keras alias was turned "
            f"on, so it keeps meaning the real package in this process. Turn the alias on "
            f"first (restart the kernel, then `%load_ext layerkit` before any keras import).",
            stacklevel=2,
        )
    sys.meta_path.insert(0, KerasAliasFinder())


def uninstall():
    """Turns the alias off and forgets the `keras.*` / `tensorflow.*` aliases it made."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, KerasAliasFinder)]
    for name in _alias_names():
        del sys.modules[name]


@contextlib.contextmanager
def active():
    """Context manager: the alias is on inside the block, and off after it if it was off."""
    was_installed = is_installed()
    install()
    try:
        yield
    finally:
        if not was_installed:
            uninstall()


def load_ipython_extension(ipython):
    """`%load_ext layerkit`: turns the alias on for the rest of the IPython session."""
    install()
    print("layerkit: `import keras` and `tensorflow.keras` now resolve to layerkit "
          "in this session (`%unload_ext layerkit` turns it off).")


def unload_ipython_extension(ipython):
    """`%unload_ext layerkit`: turns the alias off."""
    uninstall()


