"""Command line: `layerkit demo ...` and `layerkit run FILE [ARGS...]` (also `python -m layerkit`).

Each command owns its flags: `demo` parses its own (`layerkit demo --help`), `run` takes
`--figures DIR` before the file and hands everything after the file to the program.
"""

import argparse
import sys

COMMANDS = {
    "demo": "train the notes' model families on real data that ships offline (breast cancer, "
            "digits, diabetes; Fashion-MNIST when present), print scores, write plots and "
            "models; see `layerkit demo --help`",
    "run": "run a Keras script or Jupyter notebook unchanged: `import keras`, "
           "`tensorflow.keras` and `from tensorflow import keras` mean layerkit while it runs",
}
USAGE = (
    "usage: layerkit [--version] [--help] COMMAND ...\n"
    "       layerkit demo [--quick] [--output DIR] [--verbose {0,1,2}]\n"
    "       layerkit run [--figures DIR] FILE.py|FILE.ipynb [ARGS...]"
)


def _version():
    import torch

    from . import __version__

    return f"layerkit {__version__} (torch {torch.__version__}, Python {sys.version.split()[0]})"


def _parser():
    parser = argparse.ArgumentParser(
        prog="layerkit",
        usage=USAGE.removeprefix("usage: "),
        description="layerkit: the Keras API rebuilt on PyTorch.",
        epilog="Run `layerkit COMMAND --help` for a command's flags.",
    )
    parser.add_argument("--version", action="version", version=_version(),
                        help="print layerkit's, torch's and Python's versions and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for name, text in COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)
    return parser


def _run_parser():
    parser = argparse.ArgumentParser(
        prog="layerkit run",
        usage="layerkit run [--figures DIR] FILE.py|FILE.ipynb [ARGS...]",
        description=(
            "Runs a Python script, or a Jupyter notebook's code cells in order, with "
            "`import keras`, `from keras.x import y`, `import tensorflow.keras`, "
            "`from tensorflow import keras` and `import keras.backend as K` resolving to "
            "layerkit. The program gets ARGS as sys.argv[1:] and runs as __main__; its "
            "exit status is layerkit's. In notebooks IPython magics and !shell lines are "
            "skipped with a note, and each cell's last value is printed as Out[n]."),
    )
    parser.add_argument("--figures", metavar="DIR",
                        help="save every matplotlib figure the program shows as a PNG in DIR "
                             "(without it a notebook's figures are reported, not saved)")
    parser.add_argument("file", metavar="FILE.py|FILE.ipynb", help="the script or notebook")
    parser.add_argument("args", nargs="*", default=[], metavar="ARGS",
                        help="arguments for the program, passed unchanged")
    return parser


def _run(argv):
    """`layerkit run`: options before the file are layerkit's, everything after it the program's."""
    position = 0
    while position < len(argv) and argv[position].startswith("-"):
        position += 2 if argv[position] == "--figures" else 1
    options = _parse(_run_parser(), argv[:position + 1])
    if isinstance(options, int):
        return options
    from .compat.runner import run

    return run(options.file, argv[position + 1:], figures=options.figures)


def _parse(parser, argv):
    """Returns the parsed flags, or the exit status after --help, --version or a bad flag."""
    try:
        return parser.parse_args(argv)
    except SystemExit as done:
        return done.code


def main(argv=None):
    """Entry point of the `layerkit` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(f"layerkit: a command is needed: {' or '.join(COMMANDS)}.\n{USAGE}\n"
              f"Run `layerkit --help` for what each command does.", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        from .demo import main as demo_main

        return demo_main(rest)
    if command == "run":
        return _run(rest)
    if command.startswith("-"):
        parsed = _parse(_parser(), argv)
        if isinstance(parsed, int):
            return parsed
    print(f"layerkit: unknown command {command!r}; the commands are "
          f"{', '.join(COMMANDS)}.\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
