"""scripts/package.py's accelerator check: a bundle named for an accelerator must carry the
matching PyTorch (cpu) or none (cuda/rocm: installed at first launch). Fast: no build."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def package():
    spec = importlib.util.spec_from_file_location("package_script", REPO / "scripts" /
                                                  "package.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fake_bundle(root: Path, version: str, cuda: str | None) -> Path:
    torch = root / "_internal" / "torch"
    torch.mkdir(parents=True)
    (torch / "version.py").write_text(f"from typing import Optional\n__version__ = {version!r}\n"
                                      f"cuda: Optional[str] = {cuda!r}\nhip = None\n")
    return root


def test_bundled_torch_is_read_and_checked(package, tmp_path: Path) -> None:
    cpu = fake_bundle(tmp_path / "cpu", "2.13.0+cpu", None)
    assert package.bundled_torch(cpu) == {"version": "2.13.0+cpu", "cuda": None, "hip": None}
    assert "CPU build" in package.check_accelerator("cpu", package.bundled_torch(cpu))
    with pytest.raises(SystemExit, match="must not carry torch"):
        package.check_accelerator("cuda", package.bundled_torch(cpu))

    gpu = fake_bundle(tmp_path / "gpu", "2.13.0+cu128", "12.8")
    with pytest.raises(SystemExit, match="GPU build"):
        package.check_accelerator("cpu", package.bundled_torch(gpu))

    empty = tmp_path / "none"
    (empty / "_internal").mkdir(parents=True)
    assert package.bundled_torch(empty) is None
    assert "installed at first launch" in package.check_accelerator("rocm", None)
    with pytest.raises(SystemExit, match="has no torch"):
        package.check_accelerator("cpu", None)
