"""The one serialization registry: names -> classes and functions, for every kind of object.

Who owns what:
- this module owns the tables, one per kind ("layers", "models", "losses", "metrics",
  "optimizers", "initializers", "regularizers", "constraints", "activations").
- classes register themselves where they are defined: every `Layer` subclass of layerkit
  (models included) through `Layer.__init_subclass__`; Sequential and Functional also
  under "models" (what saving rebuilds as a graph); the other kinds through their
  module's table (`register_table`). A package that imports its members on first access
  (`layerkit.layers`) lists their modules with `register_module`; the first read of that
  kind imports them. Nothing here imports anything of layerkit at import time, and only
  names in a table (or in `custom_objects`) are ever resolved: module paths written in a
  file are never imported.
- the one `deserialize` path that reads records back (translation of Keras's JSON, safe
  mode, custom objects) is `utils.serialization.deserialize`; it finds classes here.

`resolve` turns what a user passed (a string, a config dict, a class, an instance or a
callable) into the object for the kinds' own `get` functions.
"""

import difflib
import importlib
import types

from .missing import lookup_advice

KINDS = ("layers", "models", "losses", "metrics", "optimizers", "initializers",
         "regularizers", "constraints", "activations")
_SINGULAR = {"layers": "layer", "models": "model", "losses": "loss", "metrics": "metric",
             "optimizers": "optimizer", "initializers": "initializer",
             "regularizers": "regularizer", "constraints": "constraint",
             "activations": "activation"}
_TABLES = {kind: {} for kind in KINDS}
_MODULES = {kind: [] for kind in KINDS}  # layerkit modules that register more when imported


# ----------------------------------------------------------------------------- tables
def _table(kind):
    if kind not in _TABLES:
        raise ValueError(f"registry: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return _TABLES[kind]


def register(kind, obj=None, name=None):
    """Registers `obj` (a class or function) under `name` (its `__name__` when None).

    Usable as a decorator: `@register("layers")`. A name taken by another object raises,
    so two classes can never silently share a name.

    Raises:
        ValueError: for an unknown kind, or a name already registered to another object.
    """
    if obj is None:
        return lambda target: register(kind, target, name)
    table = _table(kind)
    key = name or obj.__name__
    known = table.get(key)
    if known is not None and known is not obj and not _same_definition(known, obj):
        raise ValueError(
            f"registry: {kind} name {key!r} is already registered to "
            f"{_qualified(known)}; cannot register {_qualified(obj)} under it")
    table[key] = obj
    return obj


def register_alias(kind, name, obj):
    """Registers `obj` under a second name (`Model` for Functional), replacing any entry."""
    _table(kind)[name] = obj
    return obj


def register_table(kind, table):
    """Registers every `{name: object}` entry of a module's own table."""
    for key, obj in table.items():
        register(kind, obj, key)


def _same_definition(a, b):
    # a module executed twice (importlib.reload) defines its classes anew
    return getattr(a, "__module__", None) == getattr(b, "__module__", None) and \
        getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None)


def _qualified(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def register_module(kind, module):
    """Notes that importing layerkit's `module` (a full name) registers entries of `kind`.

    The first read of `kind` (`names`, `classes`, `lookup`, `get`) imports it, so a package
    that loads its members on first access still has all of them found when a file is
    loaded. Only layerkit's own code calls this; names read from files never reach it.
    """
    _table(kind)
    _MODULES[kind].append(module)


def _complete(kind):
    table = _table(kind)
    pending = _MODULES[kind]
    while pending:
        module = pending[-1]
        importlib.import_module(module)  # a broken module raises at every read
        if module in pending:  # (an import inside may have completed it already)
            pending.remove(module)
    return table


def names(kind):
    """A copy of `{name: object}` of everything registered under `kind`."""
    return dict(_complete(kind))


def classes(kind):
    """The classes registered under `kind`, as a tuple (for `isinstance` / `issubclass`)."""
    return tuple(obj for obj in _complete(kind).values() if isinstance(obj, type))


def lookup(kind, name):
    """The object registered as `name` (exact spelling), or None."""
    return _complete(kind).get(name)


def get(kind, name, custom_objects=None):
    """The class or function named `name`: `custom_objects` first, then the registry
    (exact, then case-insensitive).

    Raises:
        ValueError: for unknown names, with the closest valid names ("Did you mean ...?").
    """
    if not isinstance(name, str):
        raise ValueError(f"Expected a {_SINGULAR.get(kind, kind)} name (a string), received "
                         f"{name!r}")
    table = _complete(kind)
    obj = (custom_objects or {}).get(name) or table.get(name)
    if obj is not None:
        return obj
    candidates = {**table, **(custom_objects or {})}
    obj = {k.lower(): v for k, v in candidates.items()}.get(name.lower())
    if obj is None:
        message = unknown_name_message(name, candidates, _SINGULAR.get(kind, kind))
        raise ValueError(
            f"{message} layerkit only creates the {kind} it registers and those passed in "
            f"custom_objects (it never imports a module named in a file); pass "
            f"custom_objects={{{name!r}: ...}} to load your own")
    return obj


# ----------------------------------------------------------------------------- resolve
def resolve(identifier, table, kind, custom_objects=None, instantiate=True):
    """Resolves `identifier` against `table`.

    Args:
        identifier: None, a name, a `{'class_name': ..., 'config': {...}}` dict, a class,
            an instance or a callable.
        table: dict mapping accepted names to classes or functions.
        kind: what is being looked up, for error messages ("optimizer", "loss", ...).
        custom_objects: optional extra `{name: object}` entries, looked up first.
        instantiate: when the table entry is a class, call it (with the dict's config).

    Returns:
        The resolved object, or None for None.

    Raises:
        ValueError: for unknown names, naming the valid ones.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return _lookup(identifier, {}, table, kind, custom_objects, instantiate)
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"Could not interpret {kind} config {identifier!r}: expected a dict with "
                "'class_name' and 'config' keys"
            )
        config = identifier.get("config") or {}
        return _lookup(identifier["class_name"], config, table, kind, custom_objects, True)
    if isinstance(identifier, type) and instantiate:
        return identifier()
    if callable(identifier) or not isinstance(identifier, (int, float, bool)):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def _lookup(name, config, table, kind, custom_objects, instantiate):
    candidates = dict(table)
    if custom_objects:
        candidates.update(custom_objects)
    obj = candidates.get(name)
    if obj is None:
        lowered = {k.lower(): v for k, v in candidates.items()}
        obj = lowered.get(name.lower())
    if obj is None:
        raise ValueError(unknown_name_message(name, candidates, kind))
    if isinstance(obj, type) and instantiate:
        return obj(**config)
    return obj


def serialize(obj, kind):
    """`{'class_name', 'config'}` for an object with `get_config`, a named function's name,
    or None for None (no initializer / regularizer / constraint).

    Raises:
        ValueError: for lambdas and objects without `get_config()`.
    """
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    if isinstance(obj, types.FunctionType) and obj.__name__ != "<lambda>":
        return obj.__name__
    raise ValueError(
        f"Cannot serialize {kind} {obj!r}: expected a {kind} object or a named function "
        "(pass it in custom_objects when loading)"
    )


def unknown_name_message(name, names, kind):
    """"Unknown loss: 'binary_crossentropyy'. Did you mean 'binary_crossentropy'?" — the
    closest valid names (case-insensitive), or a few examples, never a list of fifty; for a
    Keras name layerkit lacks, what to use instead."""
    advice = lookup_advice(kind, name)
    if advice is not None:
        return f"Unknown {kind}: {name!r}. layerkit does not implement it. Instead: {advice}."
    # a lower-case typo is answered with lower-case names ('adam', not 'Adam')
    pool = [n for n in names if n.islower()] if name.islower() else list(names)
    by_lower = {}
    for valid in sorted(pool or names):
        by_lower.setdefault(valid.lower(), valid)
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.5)
    if close:
        shown = " or ".join(repr(by_lower[c]) for c in close)
        return f"Unknown {kind}: {name!r}. Did you mean {shown}?"
    plural = kind + ("es" if kind.endswith("s") else "s")
    if len(by_lower) <= 12:
        return f"Unknown {kind}: {name!r}. Valid {plural} are: {', '.join(sorted(names))}"
    examples = ", ".join(sorted(n for n in names if n.islower() and "_" in n)[:8])
    if not examples:
        examples = ", ".join(sorted(names)[:8])
    return (f"Unknown {kind}: {name!r}, and no valid name is close to it. Valid {plural} "
            f"include {examples}, ...")
