"""The frozen build's second executable, qatt-cli: the same command line as `python -m qatt`."""

import sys

from qatt.cli import main

if __name__ == "__main__":
    sys.exit(main())
