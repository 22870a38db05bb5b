"""The opt-in keras alias, `layerkit run` on scripts and notebooks, and the command line.

Programs run through `layerkit run` in subprocesses with a hard timeout (fixtures in
tests/data/keras_run/, datasets written into a temporary KERAS_HOME); the alias itself is
tested in-process with the real Keras (the test oracle) moved out of `sys.modules` meanwhile.
"""

import contextlib
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from test_datasets import write_imdb

import layerkit
from layerkit.__main__ import main
from layerkit.compat import keras_alias, notebook
from layerkit.compat.runner import run

DATA = Path(__file__).parent / "data" / "keras_run"
TIMEOUT = 120
ALIASED = ("keras", "tensorflow", "tensorboard.compat.notf")


def _owned(name):
    return name.partition(".")[0] in ("keras", "tensorflow") or name in ALIASED


@contextlib.contextmanager
def real_keras_set_aside():
    """Moves the real keras/tensorflow modules (if imported) out of sys.modules meanwhile."""
    saved = {name: module for name, module in sys.modules.items() if _owned(name)}
    for name in saved:
        del sys.modules[name]
    try:
        yield
    finally:
        keras_alias.uninstall()
        left = [name for name in sys.modules if _owned(name)]
        for name in left:
            del sys.modules[name]
        sys.modules.update(saved)
        assert not left, f"the alias left {left} behind"


@pytest.fixture
def alias():
    """The alias on, with the real keras/tensorflow modules set aside."""
    with real_keras_set_aside():
        keras_alias.install()
        yield keras_alias


def _run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "layerkit", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, env=env, cwd=cwd)


# ---------------------------------------------------------------------------- the alias


def test_import_layerkit_leaves_keras_alone_and_run_passes_the_exit_status():
    # one fresh process (import layerkit is the slow part): nothing aliased until `run`
    code = ("import sys, layerkit\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('keras', 'tensorflow')))\n"
            "from layerkit.__main__ import main\n"
            "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "run", str(DATA / "program.py"),
                             "exit", "7"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 7, result.stderr
    assert result.stdout.splitlines() == [
        "[]", "name __main__ argv ['exit', '7'] same True"]


def test_real_keras_side_by_side():
    import keras  # the oracle, on the torch backend (conftest)

    assert not keras_alias.is_installed()
    assert sys.modules["keras"] is keras and "layerkit" not in keras.__name__
    assert keras.layers.Dense is not layerkit.layers.Dense


def test_every_import_form_gives_layerkit_objects(alias):
    namespace = {}
    exec(
        "import keras\n"
        "import keras.backend as K\n"
        "from keras.layers import Dense\n"
        "from keras import models, layers\n"
        "import tensorflow.keras\n"
        "import tensorflow as tf\n"
        "from tensorflow import keras as tk\n"
        "from tensorflow.keras.layers import Dense as TFDense\n"
        "from tensorflow import optimizers\n",
        namespace,
    )
    ns = types.SimpleNamespace(**namespace)
    assert ns.keras is layerkit and ns.K is layerkit.backend and ns.models is layerkit.models
    assert ns.Dense is ns.TFDense is ns.layers.Dense is layerkit.layers.Dense
    assert ns.tk is ns.tf.keras is ns.tensorflow.keras is layerkit
    assert ns.optimizers is ns.tf.optimizers is layerkit.optimizers
    assert layerkit.layers.__spec__.name == "layerkit.layers"  # modules keep their own spec


def _layerkit_modules():
    names = ["layerkit"]
    for info in pkgutil.walk_packages(layerkit.__path__, "layerkit."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def test_every_layerkit_module_is_reachable_as_keras(alias):
    # no list of paths: whatever layerkit has (layers.core, utils.np_utils, ...) keras has
    for name in _layerkit_modules():
        alias_name = "keras" + name[len("layerkit"):]
        assert importlib.import_module(alias_name) is importlib.import_module(name), alias_name
        tf_name = "tensorflow.keras" + name[len("layerkit"):]
        assert importlib.import_module(tf_name) is sys.modules[name], tf_name
    # importing every submodule through the alias left the packages' own names alone:
    # `optimizers.adam` is the Adam class (Keras 2 alias) and `layers.add` the function,
    # though submodules of those names exist
    import layerkit.layers.merging
    from layerkit import optimizers

    assert isinstance(optimizers.adam, type) and optimizers.adam is optimizers.Adam
    assert callable(layerkit.layers.merging.add) and not isinstance(
        layerkit.layers.merging.add, type(sys))


def test_missing_modules_and_tensorflow_apis_say_what_the_alias_is(alias):
    with pytest.raises(ModuleNotFoundError, match="maps it to 'layerkit.no_such_module'"):
        import keras.no_such_module  # noqa: F401
    import tensorflow as tf

    assert tf.__version__.startswith("2.")
    with pytest.raises(AttributeError, match="stands in for TensorFlow's Keras only"):
        tf.random.set_seed(0)
    with pytest.raises(ModuleNotFoundError, match="'tensorflow.random' is not available"):
        from tensorflow import random  # noqa: F401
    with pytest.raises(ModuleNotFoundError, match="'tensorflow.compat' is not available"):
        import tensorflow.compat.v1  # noqa: F401


def test_tensorboard_uses_its_own_stub_under_the_alias(alias):
    # tensorboard imports tensorflow unless this marker exists; the stand-in would break it
    assert importlib.import_module("tensorboard.compat.notf").__layerkit_alias__


def test_install_is_idempotent_and_uninstall_forgets_the_aliases(alias):
    import keras

    keras_alias.install()
    assert sum(isinstance(f, keras_alias.KerasAliasFinder) for f in sys.meta_path) == 1
    assert keras is layerkit
    keras_alias.uninstall()
    assert not keras_alias.is_installed() and "keras" not in sys.modules
    keras_alias.install()


def test_an_earlier_real_keras_wins_with_a_warning():
    with real_keras_set_aside():
        fake = sys.modules["keras"] = types.ModuleType("keras")
        with pytest.warns(UserWarning, match="restart the kernel"):
            keras_alias.install()
        import keras

        assert keras is fake
        keras_alias.uninstall()
        assert sys.modules.pop("keras") is fake  # uninstall leaves a real keras alone


def test_load_ext_layerkit(capsys):
    with real_keras_set_aside():
        layerkit.load_ipython_extension(None)  # what `%load_ext layerkit` calls
        assert "now resolve to layerkit" in capsys.readouterr().out
        from keras.layers import Dense

        assert Dense is layerkit.layers.Dense
        layerkit.unload_ipython_extension(None)
        assert not keras_alias.is_installed() and "keras" not in sys.modules


# ---------------------------------------------------------------------- notebook syntax


def test_magics_become_python_with_the_same_line_numbers():
    source = ("%matplotlib inline\n"
              "x = 1  # 100% sure\n"
              "!pip install keras\n"
              "files = !ls\n"
              "if x:\n"
              "    %time y = x + 1\n"
              "s = '''\n"
              "%d stays text\n"
              "'''\n"
              "z = (x\n"
              "     % 2)\n"
              "x?\n"
              "%timeit x + 1\n"
              "print(x != 2)\n"
              "%cd ~")
    cell = notebook.translate(source)
    lines = cell.source.splitlines()
    assert len(lines) == len(source.splitlines())
    assert lines[0] == "pass" and lines[1] == "x = 1  # 100% sure"
    assert lines[2] == lines[3] == lines[11] == lines[12] == "pass"
    assert lines[5].startswith("    _layerkit_t0 = ") and "y = x + 1;" in lines[5]
    assert lines[7] == "%d stays text" and lines[10] == "     % 2)" and lines[13] == "print(x != 2)"
    assert lines[14] == "__import__('os').chdir(__import__('os').path.expanduser('~'))"
    assert [note.split(":")[0] for note in cell.notes] == ["line 3", "line 4", "line 12", "line 13"]
    namespace = {}
    exec(cell.source.replace(lines[14], ""), namespace)
    assert namespace["y"] == 2 and namespace["z"] == 1


def test_cell_magics():
    timed = notebook.translate("\n%%time\nz = 3\n%matplotlib inline")
    assert timed.timed and timed.source.splitlines()[2:] == ["z = 3", "pass"]
    skipped = notebook.translate("%%bash\necho hi")
    assert skipped.source == "" and "cell magic '%%bash'" in skipped.notes[0]


def test_a_cell_prints_its_last_value_unless_silenced(capsys):
    from layerkit.compat.runner import _run_cell

    namespace = {}
    for number, code in enumerate(["x = 1", "x + 1", "str('#');", "str('#')  # shown", "None"], 1):
        _run_cell(code, code, f"<cell {number}>", namespace, number)
    assert capsys.readouterr().out == "Out[2]: 2\nOut[4]: '#'\n"
    assert namespace["_"] == "#"


def test_read_cells_skips_markdown_and_joins_lines(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": [
        {"cell_type": "markdown", "source": ["# title"]},
        {"cell_type": "code", "source": ["a = 1\n", "b = 2"]},
        {"cell_type": "code", "source": "c = 3"},
    ]}))
    assert notebook.read_cells(path) == ["a = 1\nb = 2", "c = 3"]
    path.write_text("not json")
    with pytest.raises(ValueError, match="not a Jupyter notebook"):
        notebook.read_cells(path)


# ------------------------------------------------------------------ layerkit run (subprocess)


def test_run_script_argv_and_traceback(capsys):
    script = str(DATA / "program.py")
    with real_keras_set_aside():  # in-process: quicker than a subprocess
        assert run(script, ["a", "--help"]) == 0
        assert "name __main__ argv ['a', '--help'] same True" in capsys.readouterr().out
        assert run(script, ["fail"]) == 1
    trace = capsys.readouterr().err.strip().splitlines()
    assert trace[0] == "Traceback (most recent call last):"
    assert trace[1] == f'  File "{script}", line 27, in <module>'  # the user's file first
    assert "runner.py" not in "\n".join(trace)
    assert trace[-1] == "ValueError: raised in the user's program"


def test_notes_imdb_listing_runs_unchanged(tmp_path):
    layerkit_command = Path(sys.executable).with_name("layerkit")
    if not layerkit_command.exists():
        pytest.skip("the `layerkit` console script is not installed (pip install -e .)")
    datasets = tmp_path / "keras_home" / "datasets"
    datasets.mkdir(parents=True)
    write_imdb(datasets / "imdb.npz", n_train=60, n_test=20)
    (datasets / "imdb_word_index.json").write_text(json.dumps({f"w{i}": i for i in range(1, 50)}))
    env = {k: v for k, v in os.environ.items() if k not in ("LAYERKIT_HOME", "MPLBACKEND")}
    env.update(KERAS_HOME=str(tmp_path / "keras_home"), HOME=str(tmp_path), MPLBACKEND="agg")
    result = subprocess.run([str(layerkit_command), "run", str(DATA / "imdb_notes_004.py")],
                            capture_output=True, text=True, timeout=TIMEOUT, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dict_keys(['loss', 'acc', 'val_loss', 'val_acc'])" in result.stdout
    assert "Epoch 3/3" in result.stdout and "Epoch 2/2" in result.stdout
    scores = result.stdout.strip().splitlines()[-1]
    assert scores.startswith("results [") and np.isfinite(eval(scores[len("results "):])).all()


def test_notebook_runs_cells_in_order_with_outputs(tmp_path):
    shutil.copy(DATA / "notes_notebook.ipynb", tmp_path)
    result = _run("run", "--figures", str(tmp_path / "figs"), "notes_notebook.ipynb", "one",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "argv ['one'] name __main__"
    assert "Out[2]: dict_keys(['loss', 'acc'])" in out
    assert "Out[3]: 1" in out  # plt.show() closed the first figure, as the inline backend does
    assert "metrics 2" in out and any(line.startswith("Wall time:") for line in out)
    assert "Writing helper.py" in out and "doubled 42 2 lines stay text" in out
    assert not any(line.startswith("Out[6]") for line in out)  # the cell ends with ';'
    assert out[-2:] == ["(2, 1)", "Out[7]: True"]  # display(); and the notebook's folder as cwd
    assert "cell 1, line 9: skipped shell command '!pip install keras'" in result.stderr
    assert "cell 6, line 3: skipped IPython magic '%timeit" in result.stderr
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == [
        "notes_notebook_cell3_1.png", "notes_notebook_cell3_2.png"]


def test_notebook_error_stops_and_names_the_cell(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": [
        {"cell_type": "code", "source": ["print('first')"]},
        {"cell_type": "code", "source": ["x = 1\n", "x / 0\n", "print('never')"]},
        {"cell_type": "code", "source": ["print('never either')"]},
    ]}))
    cwd, argv, main_module = os.getcwd(), list(sys.argv), sys.modules["__main__"]
    with real_keras_set_aside():  # in-process: quicker than a subprocess
        assert run(path) == 1
    assert (os.getcwd(), sys.argv, sys.modules["__main__"]) == (cwd, argv, main_module)
    out, err = capsys.readouterr()
    assert out == "first\n"
    assert err.splitlines() == [
        "Traceback (most recent call last):",
        f'  File "{path}, cell 2", line 2, in <module>',
        "    x / 0",
        "    ~~^~~",
        "ZeroDivisionError: division by zero",
    ]


# ------------------------------------------------------------------------------- the CLI


def test_no_command_says_a_command_is_needed(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "a command is needed: demo or run" in err and "layerkit run" in err


def test_help_lists_the_commands_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "demo" in out and "run a Keras script or Jupyter notebook unchanged" in out
    assert "--version" in out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith(f"layerkit {layerkit.__version__} (torch ")
    assert main(["run", "--help"]) == 0
    assert "--figures DIR" in capsys.readouterr().out
    assert main(["run"]) == 2
    assert main(["train"]) == 2
    assert "unknown command 'train'" in capsys.readouterr().err
