"""Every module of layerkit imports alone, in a fresh interpreter, without side effects.

`import_alone_server.py` forks one child per module from a parent that has imported only
torch and numpy (then the package root, which every fresh `import layerkit.x.y` runs first;
its own import is checked in a child forked before that). Each child reports an import
error, or the global state its import changed: files written (in the working folder, HOME,
TMPDIR, the XDG cache/config folders, or non-source files in the package), torch's default
dtype, thread counts, grad / inference mode, deterministic algorithms, matmul precision,
flush-denormal state, the torch / numpy / Python RNG states, numpy's error and print
settings, environment variables, sys.path and warning filters.
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "import_alone_server.py")
ROOT = os.path.dirname(HERE)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the server forks")


def run_server(package, tmp_path, search_path):
    """Runs the fork server over `package` with scratch folders; returns its reports."""
    scratch = {}
    for name in ("cwd", "home", "tmp", "cache", "config"):
        scratch[name] = tmp_path / name
        scratch[name].mkdir()
    env = dict(os.environ, HOME=str(scratch["home"]), TMPDIR=str(scratch["tmp"]),
               XDG_CACHE_HOME=str(scratch["cache"]), XDG_CONFIG_HOME=str(scratch["config"]),
               PYTHONPATH=os.pathsep.join([search_path, os.environ.get("PYTHONPATH", "")]))
    env.pop("LAYERKIT_HOME", None)
    env.pop("KERAS_HOME", None)
    result = subprocess.run([sys.executable, SERVER, package], cwd=scratch["cwd"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return {r["module"]: r for r in map(json.loads, result.stdout.splitlines())}


def _problems(reports):
    return {name: (r["error"] or "") + " ".join(r["changes"])
            for name, r in reports.items() if r["error"] or r["changes"]}


def test_every_layerkit_module_imports_alone_without_side_effects(tmp_path):
    import test_import_graph

    expected = set(test_import_graph.modules_of(os.path.join(ROOT, "layerkit"), "layerkit"))
    reports = run_server("layerkit", tmp_path, ROOT)
    assert set(reports) == expected  # every module was tried, none twice
    problems = _problems(reports)
    assert not problems, "\n\n".join(f"{name}:\n{text}" for name, text in problems.items())


# ----------------------------------------------------------------------------- self-test
BAD_MODULES = {
    "__init__.py": "",
    "good.py": "import torch\nX = torch.zeros(2)\n",
    "dtype.py": "import torch\ntorch.set_default_dtype(torch.float64)\n",
    "threads.py": "import torch\ntorch.set_num_threads(1)\n",
    "grad.py": "import torch\ntorch.set_grad_enabled(False)\n",
    "denormal.py": "import torch\ntorch.set_flush_denormal(True)\n",
    "seeds.py": "import numpy as np\nnp.random.seed(1)\n",
    "draws.py": "import torch\nW = torch.randn(3)\n",
    "writes.py": "open('cache.txt', 'w').close()\n",
    "home.py": "import os\nopen(os.path.expanduser('~/.pkgrc'), 'w').close()\n",
    "environ.py": "import os\nos.environ['PKG_FLAG'] = '1'\n",
    "warns.py": "import warnings\nwarnings.simplefilter('ignore')\n",
    "cycle_a.py": "from .cycle_b import B\nA = 1\n",
    "cycle_b.py": "from .cycle_a import A\nB = 2\n",
    "exits.py": "raise SystemExit(3)\n",
    "sub/__init__.py": "from .missing import nothing\n",
    "sub/leaf.py": "",
}


def test_the_server_reports_errors_and_side_effects(tmp_path):
    package = tmp_path / "lib" / "badpkg"
    for name, text in BAD_MODULES.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    reports = run_server("badpkg", tmp_path, str(tmp_path / "lib"))
    problems = _problems(reports)
    expected = {"badpkg.dtype": "torch default dtype", "badpkg.threads": "torch threads",
                "badpkg.grad": "torch grad mode", "badpkg.denormal": "flush denormal",
                "badpkg.seeds": "numpy RNG state", "badpkg.draws": "torch RNG state",
                "badpkg.writes": "cache.txt", "badpkg.home": ".pkgrc",
                "badpkg.environ": "environment", "badpkg.warns": "warnings filters",
                "badpkg.cycle_a": "ImportError", "badpkg.cycle_b": "ImportError",
                "badpkg.exits": "SystemExit", "badpkg.sub": "ModuleNotFoundError",
                "badpkg.sub.leaf": "ModuleNotFoundError"}
    assert set(problems) == set(expected)
    for name, text in expected.items():
        assert text in problems[name], (name, problems[name])
    assert set(reports) == {"badpkg"} | set(expected) | {"badpkg.good"}
