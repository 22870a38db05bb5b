"""A matplotlib backend for `layerkit run`: `plt.show()` saves or reports figures, then closes them.

Jupyter's inline backend shows the open figures and closes them at every `plt.show()` and at
the end of every cell, so a notebook's next plot starts on a fresh figure. This backend does
the same outside Jupyter: each figure is written as a PNG into the folder given to
`configure()` (`layerkit run --figures DIR`) or, without a folder, reported as not shown.
The runner selects it with `MPLBACKEND=module://layerkit.compat.figures` and calls
`flush()` after each notebook cell; matplotlib is imported only when the user's code
draws.
"""

import os
import sys

_settings = {"folder": None, "stem": "figure", "cell": None, "saved": 0}


def __getattr__(name):
    # matplotlib asks for these when the user's code first draws; Agg does the drawing.
    if name in ("FigureCanvas", "FigureManager"):
        from matplotlib.backends import backend_agg

        globals().update(FigureCanvas=backend_agg.FigureCanvas,
                         FigureManager=backend_agg.FigureManager)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def configure(folder=None, stem="figure"):
    """Sets where `show()` writes figures (None: nowhere) and how their files are named."""
    _settings.update(folder=None if folder is None else os.fspath(folder), stem=stem)


def set_cell(number):
    """Names the notebook cell that draws from now on (None for a script)."""
    _settings["cell"] = number


def show(*args, **kwargs):
    """`plt.show()`: saves or reports the open figures, then closes them."""
    flush()


def flush():
    """Saves (or reports) every open figure and closes it."""
    import matplotlib.pyplot as plt

    numbers = plt.get_fignums()
    if not numbers:
        return
    folder, cell = _settings["folder"], _settings["cell"]
    where = f"cell {cell}" if cell is not None else "the script"
    if folder is None:
        print(f"[layerkit run] {where} drew {len(numbers)} figure(s), not shown here; "
              f"`layerkit run --figures DIR ...` saves them as PNG files.", file=sys.stderr)
    else:
        os.makedirs(folder, exist_ok=True)
        for number in numbers:
            _settings["saved"] += 1
            label = f"cell{cell}_" if cell is not None else ""
            path = os.path.join(folder, f"{_settings['stem']}_{label}{_settings['saved']}.png")
            plt.figure(number).savefig(path)
            print(f"[layerkit run] figure saved: {path}", file=sys.stderr)
    plt.close("all")
