"""Jupyter notebooks without IPython: code cells as plain Python, IPython syntax rewritten.

`read_cells(path)` reads an `.ipynb` file (nbformat 4, or 3 with worksheets) and returns its
code cells in order; `translate(source)` rewrites one cell's IPython syntax line by line,
keeping line numbers so tracebacks point at the notebook's own lines:

| in the cell | becomes |
|---|---|
| `%matplotlib inline`, `%load_ext layerkit` | nothing (figures: see figures.py; the alias is on) |
| `%time stmt` | `stmt`, with its wall time printed |
| `%cd DIR` | `os.chdir(DIR)` |
| `%%time` on the first line | the cell, with its wall time printed |
| `%%writefile [-a] FILE` on the first line | the cell's text written to FILE |
| any other `%magic`, `!shell`, `x = !shell`, `obj?` | `pass`, with a note |
| any other `%%magic` on the first line | the cell skipped, with a note |
"""

import json
import re
import shlex
from typing import NamedTuple

QUIET_MAGICS = ("matplotlib", "load_ext", "reload_ext", "autoreload", "config")
_ASSIGN_MAGIC = re.compile(r"^\s*[A-Za-z_][\w.,\s]*=\s*[!%]")
_HELP = re.compile(r"^\s*\?*[\w.]+\?{1,2}\s*$")


class Cell(NamedTuple):
    """A code cell made plain Python.

    Attributes:
        source: Python source with the same line numbers as the cell.
        notes: human-readable notes about what was rewritten or skipped.
        timed: True when the cell's wall time should be printed (`%%time`).
    """

    source: str
    notes: tuple
    timed: bool = False


def read_cells(path):
    """Returns the code cells' sources of the notebook at `path`, in order.

    Raises:
        ValueError: the file is not a Jupyter notebook.
    """
    with open(path, encoding="utf-8") as f:
        try:
            notebook = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not a Jupyter notebook (invalid JSON: {error}).") from None
    if not isinstance(notebook, dict):
        raise ValueError(f"{path} is not a Jupyter notebook (expected a JSON object).")
    cells = notebook.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for sheet in notebook.get("worksheets", []) for c in sheet.get("cells", [])]
    sources = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        text = cell.get("source", cell.get("input", ""))
        sources.append("".join(text) if isinstance(text, list) else text)
    return sources


def translate(source):
    """Rewrites one cell's IPython syntax into Python (see the module docstring).

    Returns:
        A `Cell`.
    """
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        return _cell_magic(lines, first)
    out, notes = [], []
    state = _State()
    for number, line in enumerate(lines, 1):
        rewritten = _line_magic(line) if state.at_statement_start() else None
        if rewritten is None:
            out.append(line)
            state.feed(line)
            continue
        text, note = rewritten
        out.append(text)
        if note:
            notes.append(f"line {number}: {note}")
    return Cell("\n".join(out), tuple(notes))


def _cell_magic(lines, first):
    head = lines[first].strip()
    name, _, args = head[2:].partition(" ")
    blank = [""] * (first + 1)
    body = lines[first + 1:]
    if name == "time":
        inner = translate("\n".join(body))
        return Cell("\n".join(blank + inner.source.splitlines()), inner.notes, timed=True)
    if name == "writefile":
        words = shlex.split(args)
        mode = "a" if "-a" in words or "--append" in words else "w"
        target = [w for w in words if not w.startswith("-")][-1]
        text = "\n".join(body) + "\n"
        code = (f"with open({target!r}, {mode!r}, encoding='utf-8') as _f: _f.write({text!r})\n"
                f"print({('Appending to ' if mode == 'a' else 'Writing ') + target!r})")
        return Cell(code, ())
    return Cell("", (f"skipped the cell: cell magic {head!r} needs IPython",))


def _line_magic(line):
    """Returns (python_line, note) for a line of IPython syntax, or None for Python."""
    stripped = line.strip()
    indent = line[: len(line) - len(line.lstrip())]
    skip = indent + "pass"
    if stripped.startswith("%"):
        name, _, args = stripped.lstrip("%").partition(" ")
        if name == "time" and args.strip():
            clock = '__import__("time").perf_counter()'
            return (f"{indent}_layerkit_t0 = {clock}; {args.strip()}; "
                    f"print(f'Wall time: {{{clock} - _layerkit_t0:.3g}} s')"), None
        if name == "cd" and args.strip():
            folder = args.strip().strip("'\"")
            chdir = f"__import__('os').chdir(__import__('os').path.expanduser({folder!r}))"
            return indent + chdir, None
        if name in QUIET_MAGICS:
            return skip, None
        return skip, f"skipped IPython magic {stripped!r} (needs IPython)"
    if stripped.startswith("!") and not stripped.startswith("!="):
        return skip, f"skipped shell command {stripped!r} (run it yourself if it is needed)"
    if _ASSIGN_MAGIC.match(line):
        return skip, f"skipped {stripped!r}: its value needs IPython"
    if _HELP.match(line):
        return skip, f"skipped help request {stripped!r}"
    return None


class _State:
    """Tracks whether the next line starts a new statement (not inside brackets or strings)."""

    def __init__(self):
        self.depth, self.quote, self.backslash = 0, None, False

    def at_statement_start(self):
        return self.depth == 0 and self.quote is None and not self.backslash

    def feed(self, line):
        i = 0
        while i < len(line):
            if self.quote:
                end = line.find(self.quote, i)
                if end < 0:
                    break
                i, self.quote = end + 3, None
                continue
            char = line[i]
            if char == "#":
                break
            if line.startswith(('"""', "'''"), i):
                self.quote, i = line[i:i + 3], i + 3
                continue
            if char in "\"'":
                i = _end_of_string(line, i)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        self.backslash = self.quote is None and line.rstrip().endswith("\\")


def _end_of_string(line, start):
    i = start + 1
    while i < len(line) and line[i] != line[start]:
        i += 2 if line[i] == "\\" else 1
    return i + 1
