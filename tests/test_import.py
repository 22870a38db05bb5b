"""`import layerkit` stays light: optional libraries load when first used."""

import subprocess
import sys


def test_import_layerkit_loads_no_optional_library():
    # what torch itself imports (it loads pydot when installed) does not count
    code = ("import sys, torch\n"
            "before = set(sys.modules)\n"
            "import layerkit\n"
            "added = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            "print(sorted(added & {'sklearn', 'pandas', 'scipy', 'matplotlib', 'keras',\n"
            "                      'tensorflow', 'IPython', 'pydot', 'PIL'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
