"""The package's import graph has no cycles, between modules or between top-level units.

The graph is read from the sources with `ast` (nothing is imported): every `import` and
`from ... import` counts, those inside functions and methods too (a deferred import is a
cycle postponed, not removed); only `if TYPE_CHECKING:` blocks are left out, and
`importlib.import_module("layerkit.x")` with a literal name counts as an import of it, and
one with a computed name as an import of every string constant of that module that names
one of the package's modules (a table of lazily imported modules).
`from P import name` points at `P.name` when that is a module, else at `P`; the parent
packages Python initialises on the way are not edges. Units are the root's children
(`models`, `saving`, `config`, ...); the root `__init__` re-exports everything and is left
out of the unit graph.
"""

import ast
import os
import sys

import pytest

PACKAGE = "layerkit"
HERE = os.path.dirname(os.path.abspath(__file__))


def modules_of(root, package):
    """{module name: source path} for every .py file under `root`."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        rel = os.path.relpath(folder, root)
        parts = [package] + ([] if rel == "." else rel.split(os.sep))
        for name in files:
            if name.endswith(".py"):
                stem = name[:-3]
                found[".".join(parts if stem == "__init__" else parts + [stem])] = \
                    os.path.join(folder, name)
    return found


def _type_checking(test):
    return getattr(test, "id", None) == "TYPE_CHECKING" or \
        getattr(test, "attr", None) == "TYPE_CHECKING"


def import_statements(tree):
    """Every import statement and `import_module(...)` / `__import__(...)` name, at any
    depth: the literal name, or every string constant of the module for a computed one."""
    found = []
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child.test):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif isinstance(child, ast.Call) and child.args and \
                    getattr(child.func, "attr", getattr(child.func, "id", None)) in \
                    ("import_module", "__import__"):
                first = child.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append(first.value)
                else:
                    found += [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                              and isinstance(n.value, str)]
            stack.append(child)
    return found


def targets(module, is_package, node, modules):
    """The package's modules one import statement points at."""
    if isinstance(node, str):
        return [node] if node in modules else []
    if isinstance(node, ast.Import):
        out = []
        for alias in node.names:
            parts = alias.name.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            out += [".".join(parts)] if parts else []
        return out
    if node.level:
        base = module.split(".")[: None if is_package else -1]
        base = base[: len(base) - (node.level - 1)] + ([node.module] if node.module else [])
        base = ".".join(base)
    else:
        base = node.module or ""
    out = []
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            out.append(f"{base}.{alias.name}")
        elif base in modules:
            out.append(base)
    return out


def import_graph(modules):
    """{module: set of the package's modules it imports}."""
    graph = {}
    for module, path in modules.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        is_package = path.endswith("__init__.py")
        graph[module] = {t for node in import_statements(tree)
                         for t in targets(module, is_package, node, modules) if t != module}
    return graph


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan), sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def unit_graph(graph, package):
    """The graph collapsed to the root's children (the root itself left out)."""
    def unit(module):
        rest = module[len(package) + 1:]
        return rest.split(".")[0] if rest and rest != "__main__" else None

    units = {}
    for module, imported in graph.items():
        a = unit(module)
        if a is not None:
            units.setdefault(a, set()).update(
                b for b in map(unit, imported) if b is not None and b != a)
    return units


def _package_root():
    import importlib.util

    return list(importlib.util.find_spec(PACKAGE).submodule_search_locations)[0]


def _describe(components, graph):
    lines = []
    for component in components:
        inside = set(component)
        edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in inside]
        lines.append(f"{{{', '.join(component)}}}: {'; '.join(edges[:12])}")
    return "\n".join(lines)


def test_no_module_import_cycles():
    graph = import_graph(modules_of(_package_root(), PACKAGE))
    found = cycles(graph)
    assert not found, "import cycles between modules:\n" + _describe(found, graph)


def test_no_import_cycles_between_top_level_units():
    graph = unit_graph(import_graph(modules_of(_package_root(), PACKAGE)), PACKAGE)
    found = cycles(graph)
    assert not found, "import cycles between top-level units:\n" + _describe(found, graph)


# ----------------------------------------------------------------------------- self-test
def _write_package(root, files):
    for name, text in files.items():
        path = os.path.join(root, *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


@pytest.mark.parametrize("files, expected", [
    pytest.param({"__init__.py": "", "a.py": "from . import b\n",
                  "b.py": "def f():\n    from .a import x\n"},
                 [["pkg.a", "pkg.b"]], id="deferred-import-inside-a-function"),
    pytest.param({"__init__.py": "", "a.py": "import pkg.sub.c\n", "sub/__init__.py": "",
                  "sub/c.py": "class C:\n    def m(self):\n        import importlib\n"
                              "        importlib.import_module('pkg.a')\n"},
                 [["pkg.a", "pkg.sub.c"]], id="literal-import_module"),
    pytest.param({"__init__.py": "", "a.py": "LAZY = ('pkg.b',)\n"
                                             "def f(name):\n    import importlib\n"
                                             "    return importlib.import_module(name)\n",
                  "b.py": "from .a import LAZY\n"},
                 [["pkg.a", "pkg.b"]], id="computed-import_module-names-in-a-table"),
    pytest.param({"__init__.py": "", "a.py": "from typing import TYPE_CHECKING\n"
                                             "if TYPE_CHECKING:\n    from . import b\n",
                  "b.py": "from . import a\n"}, [], id="TYPE_CHECKING-is-not-an-edge"),
    pytest.param({"__init__.py": "from . import a, b\n", "a.py": "from . import b\n",
                  "b.py": ""}, [], id="root-reexports-are-not-a-cycle"),
])
def test_the_check_finds_cycles(tmp_path, files, expected):
    _write_package(str(tmp_path / "pkg"), files)
    graph = import_graph(modules_of(str(tmp_path / "pkg"), "pkg"))
    assert cycles(graph) == expected


def test_the_unit_check_finds_cycles_between_folders(tmp_path):
    _write_package(str(tmp_path / "pkg"), {
        "__init__.py": "", "x/__init__.py": "", "y/__init__.py": "",
        "x/one.py": "from ..y import two\n", "y/two.py": "def f():\n    from ..x import one\n"})
    graph = import_graph(modules_of(str(tmp_path / "pkg"), "pkg"))
    assert cycles(unit_graph(graph, "pkg")) == [["x", "y"]]
