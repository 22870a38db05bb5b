"""`import layerkit` stays light: optional libraries and the edges load when first used."""

import ast
import glob
import json
import os
import subprocess
import sys

import pytest

OPTIONAL = ("sklearn", "pandas", "scipy", "matplotlib", "keras", "tensorflow", "IPython",
            "pydot", "PIL")
EDGES = ("applications", "callbacks", "compat", "datasets", "preprocessing",
         "visualization", "wrappers")


def _fresh(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_layerkit_loads_no_optional_library():
    # what torch itself imports (it loads pydot when installed) does not count
    added = _fresh("import json, sys, torch\n"
                   "before = set(sys.modules)\n"
                   "import layerkit\n"
                   "added = {m.split('.')[0] for m in set(sys.modules) - before}\n"
                   f"print(json.dumps(sorted(added & set({OPTIONAL!r}))))")
    assert added == []


def test_edges_load_on_first_access():
    state = _fresh(
        "import json, sys\n"
        "import layerkit\n"
        f"edges = {EDGES!r}\n"
        "loaded = [e for e in edges if 'layerkit.' + e in sys.modules]\n"
        "listed = [e for e in edges if e in dir(layerkit)]\n"
        "from layerkit import callbacks\n"
        "import layerkit.datasets.mnist\n"
        "names = [layerkit.applications.VGG16.__name__, callbacks.EarlyStopping.__name__,\n"
        "         layerkit.datasets.mnist.__name__, layerkit.load_ipython_extension.__name__,\n"
        "         layerkit.utils.get_file.__name__, layerkit.utils.np_utils.__name__,\n"
        "         layerkit.models.load_model.__name__]\n"
        "print(json.dumps([loaded, listed, names]))")
    loaded, listed, names = state
    assert loaded == []  # `import layerkit` imported none of them
    assert listed == list(EDGES)
    assert names == ["VGG16", "EarlyStopping", "layerkit.datasets.mnist",
                     "load_ipython_extension", "get_file", "layerkit.utils.np_utils",
                     "load_model"]


def test_layers_load_on_first_use_and_loading_files_still_finds_every_layer():
    state = _fresh(
        "import json, sys\n"
        "import layerkit\n"
        "from layerkit import layers\n"
        "from layerkit.utils import registry\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('layerkit.layers.')\n"
        "                and m.count('.') > 2 and not m.startswith('layerkit.layers.core.'))\n"
        "listed = 'Dense' in dir(layers) and 'Convolution2D' in dir(layers)\n"
        "found = [registry.get('layers', n).__name__ for n in ('LSTM', 'Convolution2D')]\n"
        "same = (registry.get('layers', 'Convolution2D') is layers.Conv2D is\n"
        "        layers.Convolution2D is layers.convolutional.Convolution2D)\n"
        "print(json.dumps([loaded, listed, found, same]))")
    loaded, listed, found, same = state
    assert loaded == []  # no layer family was imported by `import layerkit`
    assert listed and same
    assert found == ["LSTM", "Conv2D"]  # the first lookup imported them all


def test_unknown_attributes_still_raise_attribute_error():
    import layerkit

    with pytest.raises(AttributeError, match="no_such_thing"):
        layerkit.no_such_thing  # noqa: B018
    assert not hasattr(layerkit, "no_such_thing")


def _importorskips(path):
    """(line, module) of every `pytest.importorskip("...")` / `importorskip("...")` call."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and \
                getattr(node.func, "attr", getattr(node.func, "id", None)) == "importorskip":
            first = node.args[0]
            yield node.lineno, first.value if isinstance(first, ast.Constant) else None


def test_no_test_skips_when_a_layerkit_module_fails_to_import():
    # a broken layerkit module must fail the suite, not skip the tests that need it
    here = os.path.dirname(os.path.abspath(__file__))
    offenders = [f"{os.path.basename(path)}:{line} importorskip({module!r})"
                 for path in sorted(glob.glob(os.path.join(here, "*.py")))
                 for line, module in _importorskips(path)
                 if module is None or module.partition(".")[0] == "layerkit"]
    assert offenders == []
