"""`import layerkit` stays light: optional libraries load when first used."""

import subprocess
import sys


def test_import_layerkit_loads_no_optional_library():
    code = ("import sys, layerkit\n"
            "print(sorted(m for m in ('sklearn', 'pandas', 'scipy', 'matplotlib', 'keras',\n"
            "                         'tensorflow', 'IPython', 'pydot') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
