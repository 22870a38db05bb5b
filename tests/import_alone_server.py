"""Imports every module of a package alone, each in a fresh child process (a fork server).

Run by tests/test_modules_alone.py as `python import_alone_server.py PACKAGE`, with the
working folder, HOME, TMPDIR and the cache folders pointing at empty scratch folders.
Prints one JSON object per module: {"module", "error", "changes"} (and "with_root": True
for the modules the root's own import already imported, checked in the root's child).

Why a fork server is faithful: `import a.b.c` in a fresh interpreter first runs `a/__init__`
to the end, then `a.b`, then `a.b.c`; imports are deterministic, so a parent that has
imported torch and numpy and then the package root holds exactly the state every fresh
`import a.b.c` reaches before its own part begins. The root's own import is checked in a
child forked before the parent imports it (the root's side effects are measured there);
every other module is imported in a child forked from the parent after it, and compared
with the state just before its import (a module the root imported is already checked:
in a fresh interpreter its own import statement would do nothing more). Children run one at a time, so the OpenMP pool is
never shared across a fork while in use.
"""

import hashlib
import importlib
import importlib.util
import json
import os
import random
import sys
import traceback
import warnings

import numpy as np
import torch

sys.dont_write_bytecode = True  # the check is for files the package writes, not Python's
CHILD_TIMEOUT_S = 120
SCRATCH_ENV = ("HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")


def module_names(package):
    """Every module of `package` (found on disk, not imported), root first."""
    spec = importlib.util.find_spec(package)
    root = list(spec.submodule_search_locations)[0]
    names = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        rel = os.path.relpath(folder, root)
        parts = [package] + ([] if rel == "." else rel.split(os.sep))
        for name in sorted(files):
            if name.endswith(".py"):
                stem = name[:-3]
                names.append(".".join(parts if stem == "__init__" else parts + [stem]))
    return root, sorted(names, key=lambda n: (n != package, n))


def _digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else repr(part).encode())
    return h.hexdigest()[:16]


def _files(folders, package_root):
    listing = []
    for top in folders:
        for folder, _, files in os.walk(top):
            listing.extend(os.path.join(folder, f) for f in files)
    # in the package itself only files other than sources count (others may be editing it)
    for folder, _, files in os.walk(package_root):
        listing.extend(os.path.join(folder, f) for f in files if not f.endswith(".py"))
    return sorted(listing)


def snapshot(folders, package_root):
    """The global state an import must leave as it found it."""
    tiny = torch.full((1,), 1e-39, dtype=torch.float32)  # a float32 denormal
    return {
        "torch default dtype": str(torch.get_default_dtype()),
        "torch threads": torch.get_num_threads(),
        "torch interop threads": torch.get_num_interop_threads(),
        "torch grad mode": torch.is_grad_enabled(),
        "torch inference mode": torch.is_inference_mode_enabled(),
        "torch deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "torch float32 matmul precision": torch.get_float32_matmul_precision(),
        "flush denormal (torch)": bool((tiny * 0.5).item() == 0.0),
        "flush denormal (numpy)": bool(np.float32(1e-39) * np.float32(0.5) == 0),
        "torch RNG state": _digest(torch.get_rng_state().numpy().tobytes()),
        "numpy RNG state": _digest(np.random.get_state()[1].tobytes()),
        "python RNG state": _digest(random.getstate()),
        "numpy errors": np.geterr(),
        "numpy print options": np.get_printoptions(),
        "environment": _digest(sorted(os.environ.items())),
        "sys.path": list(sys.path),
        "warnings filters": repr(warnings.filters),
        "working folder": os.getcwd(),
        "files": _files(folders, package_root),
    }


def _differences(before, after):
    changes = []
    for key, old in before.items():
        new = after[key]
        if key == "files":
            added = sorted(set(new) - set(old))
            removed = sorted(set(old) - set(new))
            if added or removed:
                changes.append(f"files written: {added[:5]} removed: {removed[:5]}")
        elif new != old:
            changes.append(f"{key}: {str(old)[:120]} -> {str(new)[:120]}")
    return changes


def third_party_imports(path, package):
    """Top-level modules of other distributions that `path` imports at module level."""
    import ast

    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module)
    return [n for n in names if n.partition(".")[0] not in (package, "__future__")]


def _child(module, folders, package_root, writer):
    """In the forked child: import `module`, report error and changes, exit.

    The third-party modules it imports at module level are imported first, so what they
    do on import (scikit-learn sets environment variables and warning filters) is not
    counted as the package's doing."""
    try:
        spec = importlib.util.find_spec(module)
        for name in third_party_imports(spec.origin, module.partition(".")[0]):
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # the module's own import reports it
        before = snapshot(folders, package_root)
        error = None
        try:
            __import__(module)
        except BaseException:  # noqa: BLE001 - SystemExit too: an import must not exit
            error = traceback.format_exc(limit=-6)
        changes = _differences(before, snapshot(folders, package_root))
        payload = {"module": module, "error": error, "changes": changes}
    except BaseException:  # noqa: BLE001
        payload = {"module": module, "error": traceback.format_exc(), "changes": []}
    os.write(writer, json.dumps(payload).encode())
    os.close(writer)
    os._exit(0)


def run_alone(module, folders, package_root):
    """Forks a child that imports `module`; returns its report (a timeout is an error)."""
    import select

    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        _child(module, folders, package_root, writer)
    os.close(writer)
    chunks = []
    while True:
        ready, _, _ = select.select([reader], [], [], CHILD_TIMEOUT_S)
        if not ready:
            os.kill(pid, 9)
            chunks = [json.dumps({"module": module, "changes": [],
                                  "error": f"no answer within {CHILD_TIMEOUT_S} s"}).encode()]
            break
        chunk = os.read(reader, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(reader)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    if not data:
        return {"module": module, "changes": [], "error": f"child died (wait status {status})"}
    return json.loads(data)


def main(package):
    root, modules = module_names(package)
    folders = [os.getcwd()] + [os.environ[v] for v in SCRATCH_ENV if os.environ.get(v)]
    print(json.dumps(run_alone(package, folders, root)), flush=True)  # the root, before the parent
    __import__(package)
    for module in modules[1:]:
        if module in sys.modules:  # imported by the root: `import module` would do nothing
            report = {"module": module, "error": None, "changes": [], "with_root": True}
        else:
            report = run_alone(module, folders, root)
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
