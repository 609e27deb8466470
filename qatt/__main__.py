import sys

from qatt.cli import main

sys.exit(main())
