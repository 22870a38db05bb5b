"""Name → object lookup shared by activations, initializers, losses, metrics, optimizers...

Each module keeps its own table of public names; `resolve` turns what a user passed
(a string, a Keras config dict, a class, an instance or a callable) into the object.
Only names in the table (or in `custom_objects`) are ever resolved: nothing is imported.
"""

import difflib
import types

from .missing import lookup_advice


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
    return (f"Unknown {kind}: {name!r}, and no valid name is close to it. Valid {plural} "
            f"include {examples}, ...")
