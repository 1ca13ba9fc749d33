"""Compiled kernels kept on disk, so the second launch does not pay ``torch.compile`` again.

One file per (model hash, torch version, device, fast-path plan), holding PyTorch's portable
"mega-cache" (``torch.compiler.save_cache_artifacts``): Inductor's compiled graphs, AOTAutograd
entries and autotuning results. Loading it before the first call turns the compile into cache
hits (Dynamo still traces, which is quick). A corrupt or foreign file is dropped, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class CompileCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key(model_sha256: str, device: Any, plan_key: str) -> str:
        import torch

        gpu = getattr(device, "kind", "cpu")
        if gpu == "cuda":
            major, minor = torch.cuda.get_device_capability()
            gpu = f"{torch.cuda.get_device_name()}-sm{major}{minor}"
        parts = "|".join((model_sha256, torch.__version__, str(torch.version.cuda), gpu, plan_key))
        return hashlib.sha256(parts.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.root / f"{key}.bin"

    def load(self, key: str) -> bool:
        """Hand the cached artifacts to PyTorch; True when there were some."""
        import torch

        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning("compile cache %s unreadable: %s", path, exc)
            return False
        try:
            info = torch.compiler.load_cache_artifacts(data)
        except Exception as exc:
            info, why = None, str(exc)
        else:
            why = "PyTorch could not read it"  # it logs the reason itself and returns None
        if info is None:  # damaged, or from another torch build: rebuild it
            log.warning("compile cache %s rejected (%s); it will be rebuilt", path, why)
            path.unlink(missing_ok=True)
            return False
        return True

    def save(self, key: str) -> bool:
        """Write everything compiled in this process so far (atomically)."""
        import torch

        try:
            result = torch.compiler.save_cache_artifacts()
        except Exception as exc:
            log.warning("could not collect compiled artifacts: %s", exc)
            return False
        if not result:
            return False
        data, _info = result
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.path(key))
        except OSError as exc:
            log.warning("could not write the compile cache: %s", exc)
            Path(tmp).unlink(missing_ok=True)
            return False
        return True
