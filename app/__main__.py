"""``python -m app`` is the same as the ``mt5-console`` command (and the packaged program's entry)."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    # In the packaged program, a terminal worker is this same executable started by multiprocessing:
    # freeze_support() turns it into the worker instead of a second app.
    multiprocessing.freeze_support()
    sys.exit(main())
