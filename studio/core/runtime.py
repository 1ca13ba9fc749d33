"""The per-user runtime folder where first-run provisioning installs PyTorch
(see :mod:`studio.core.provision`). Import-light: the app calls :func:`activate` at start."""

from __future__ import annotations

import sys
from pathlib import Path


def runtime_dir(data_dir: Path) -> Path:
    # Per Python minor: a wheel built for 3.11 must not load into 3.12.
    return data_dir / "runtime" / f"py{sys.version_info.major}.{sys.version_info.minor}"


def site_dir(data_dir: Path) -> Path:
    return runtime_dir(data_dir) / "site"


def activate(data_dir: Path) -> bool:
    """Put the provisioned runtime first on sys.path (no import; instant). True if there is
    one; a bundle that ships its own torch still prefers the provisioned (GPU) build."""
    site = site_dir(data_dir)
    if not (site / "torch").is_dir():
        return False
    if str(site) not in sys.path:
        sys.path.insert(0, str(site))
    return True
