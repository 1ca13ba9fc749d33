"""Entry script for the PyInstaller bundle: the same `studio` command as the console script."""

import multiprocessing
import sys

from studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # torch and diffusers may spawn workers
    if sys.argv[1:2] == ["--internal-provision"]:
        # First-run provisioning's child processes (pip, the torch probe): the bundle has no
        # separate Python, so the studio binary runs them (studio/core/provision.py).
        from studio.core.provision import internal_main

        sys.exit(internal_main(sys.argv[2:]))
    sys.exit(main())
