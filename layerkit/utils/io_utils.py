"""Keras 2's `keras.utils.io_utils` path (the parts layerkit has)."""


def ask_to_proceed_with_overwrite(filepath):
    """Asks on the terminal whether to overwrite `filepath`; True for yes (tf.keras 2.x).

    Args:
        filepath: the file about to be overwritten.

    Returns:
        True to overwrite, False to keep the file.
    """
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    return answer == "y"


def __getattr__(name):
    from .missing import attribute_error

    raise attribute_error("layerkit.utils", name)
