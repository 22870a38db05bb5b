"""The model file functions (`save_model`, `save_weights`, `load_weights`, `model_to_json`,
`model_of_class`), reached from below: `Model.save`, `to_json`, `from_config` & co. call them
here, so models/ never imports saving/.

Who owns what: `layerkit.saving` (an edge floor, above models) installs its functions when
it is imported (`install`); the public face `layerkit/__init__.py` imports saving, so they
are installed before any model exists. Nothing here reads or writes a file.
"""

_FUNCTIONS = {}


def install(**functions):
    """Installs file functions by name (saving calls this once, at its import)."""
    _FUNCTIONS.update(functions)


def call(name, *args, **kwargs):
    """Calls the installed file function `name`.

    Raises:
        RuntimeError: when layerkit.saving was never imported (only possible when the
            package was bypassed: `import layerkit` imports it).
    """
    function = _FUNCTIONS.get(name)
    if function is None:
        raise RuntimeError(f"{name}: layerkit.saving is not loaded; `import layerkit` (or "
                           "`import layerkit.saving`) installs the file functions")
    return function(*args, **kwargs)
