"""Command line: `layerkit demo [--quick] [--output DIR]` (also `python -m layerkit demo`)."""

import sys

USAGE = "usage: layerkit demo [--quick] [--output DIR] [--verbose {0,1,2}]"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] != "demo":
        print(f"layerkit: unknown command {argv[0]!r}\n{USAGE}", file=sys.stderr)
        return 2
    from .demo import main as demo_main

    return demo_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
