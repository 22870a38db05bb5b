"""`layerkit run FILE [ARGS...]`: runs a script or a Jupyter notebook with the keras alias on.

Who owns what: `run()` sets up what `python script.py` sets up (`sys.argv`, `sys.path[0]`,
a fresh `__main__` module, an absolute `__file__`) and turns the keras alias on around the
code; an uncaught exception prints Python's traceback starting at the user's own file and
gives exit status 1, and `sys.exit(n)` in the code exits with n. `notebook.py` turns cells
into Python and `figures.py` stands in for the inline plots; this module executes cells:
in order, in one namespace, in the notebook's folder (as Jupyter does), printing the value
of a cell's last expression as `Out[n]: ...` and stopping at the first error.
"""

import ast
import builtins
import contextlib
import io
import linecache
import os
import sys
import time
import tokenize
import traceback
import types

from . import keras_alias, notebook

FIGURES_BACKEND = "module://layerkit.compat.figures"


def run(path, args=(), figures=None):
    """Runs a `.py` script or an `.ipynb` notebook as `__main__` with the keras alias on.

    Args:
        path: the script or notebook.
        args: the program's arguments (`sys.argv[1:]`).
        figures: optional folder where figures shown by the code are saved as PNG files
            (notebooks always close figures at `plt.show()` and at the end of each cell).

    Returns:
        The exit status: 0, 1 after an uncaught exception (its traceback is printed),
        2 when the file cannot be opened. `sys.exit()` in the code propagates.
    """
    given = os.fspath(path)
    path = os.path.abspath(given)
    if not os.path.isfile(path):
        print(f"layerkit run: can't open file {path!r}: no such file", file=sys.stderr)
        return 2
    is_notebook = path.endswith(".ipynb")
    main = types.ModuleType("__main__")
    main.__file__, main.__builtins__, main.__cached__ = path, builtins, None
    with _as_main(main, [given, *args]), keras_alias.active(), \
            _figures(path, figures, is_notebook):
        try:
            if is_notebook:
                _run_notebook(path, main.__dict__)
            else:
                _run_script(path, main.__dict__)
        except SystemExit:
            raise
        except BaseException as error:  # what Python does with an uncaught exception
            _print_user_traceback(error)
            return 130 if isinstance(error, KeyboardInterrupt) else 1
    return 0


@contextlib.contextmanager
def _as_main(main, argv):
    saved = sys.argv, list(sys.path), sys.modules.get("__main__")
    sys.argv = argv
    sys.path[0:1] = [os.path.dirname(os.path.abspath(argv[0]))]
    sys.modules["__main__"] = main
    try:
        yield
    finally:
        sys.argv, sys.path[:] = saved[0], saved[1]
        sys.modules["__main__"] = saved[2]


@contextlib.contextmanager
def _figures(path, folder, is_notebook):
    if not (is_notebook or folder):
        yield
        return
    from . import figures  # matplotlib itself loads only when the code draws

    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = FIGURES_BACKEND  # read by matplotlib when the code imports it
    folder = None if folder is None else os.path.abspath(folder)  # notebooks run in their folder
    figures.configure(folder, stem=os.path.splitext(os.path.basename(path))[0])
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved


def _run_script(path, namespace):
    with open(path, "rb") as f:
        source = f.read()
    exec(compile(source, path, "exec", dont_inherit=True), namespace)


def _run_notebook(path, namespace):
    from . import figures

    namespace["display"] = _display
    cwd = os.getcwd()
    os.chdir(os.path.dirname(path))
    try:
        for number, source in enumerate(notebook.read_cells(path), 1):
            figures.set_cell(number)
            cell = notebook.translate(source)
            for note in cell.notes:
                print(f"[layerkit run] cell {number}, {note}", file=sys.stderr)
            start = time.perf_counter()
            _run_cell(cell.source, source, f"{path}, cell {number}", namespace, number)
            if cell.timed:
                print(f"Wall time: {time.perf_counter() - start:.3g} s")
            if "matplotlib.pyplot" in sys.modules:
                figures.flush()
    finally:
        figures.set_cell(None)
        os.chdir(cwd)


def _run_cell(code, original, filename, namespace, number):
    """Executes one cell; prints its last expression's value as IPython does."""
    lines = original.splitlines(True)
    linecache.cache[filename] = (len(original), None, lines, filename)  # for tracebacks
    tree = ast.parse(code, filename)
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr) or _ends_with_semicolon(code):
        exec(compile(tree, filename, "exec", dont_inherit=True), namespace)
        return
    tree.body.pop()
    exec(compile(tree, filename, "exec", dont_inherit=True), namespace)
    expression = ast.Expression(last.value)
    value = eval(compile(expression, filename, "eval", dont_inherit=True), namespace)
    if value is not None:
        namespace["_"] = value
        text = repr(value)
        print(f"Out[{number}]: " + ("\n" if "\n" in text else "") + text)


def _ends_with_semicolon(code):
    skipped = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
               tokenize.DEDENT, tokenize.ENDMARKER)
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    last = [token.string for token in tokens if token.type not in skipped][-1:]
    return last == [";"]


def _display(*objects, **kwargs):
    """Jupyter's `display()` outside Jupyter: prints each object's repr."""
    for obj in objects:
        print(repr(obj))


def _print_user_traceback(error):
    """Prints the traceback from the user's first frame on, as `python script.py` would."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    error = error.with_traceback(tb)  # hooks print the error's own traceback
    if sys.excepthook is sys.__excepthook__:
        traceback.print_exception(error)  # unlike the C hook, shows notebook lines (linecache)
    else:
        sys.excepthook(type(error), error, tb)
