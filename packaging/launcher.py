"""Entry script for the PyInstaller bundle: the same `studio` command as the console script."""

import multiprocessing
import sys

from studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # torch and diffusers may spawn workers
    sys.exit(main())
