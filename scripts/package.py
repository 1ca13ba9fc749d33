"""Build the PyInstaller bundle and, on Linux, a .deb and a .tar.gz around it.

Usage: .venv/bin/python scripts/package.py [--accelerator cpu|cuda|rocm] [--skip-build]

--accelerator cpu (default) bundles the build venv's PyTorch, which must be a CPU build.
cuda and rocm build the same app *without* PyTorch: at first launch it detects the driver and
installs the matching CUDA/ROCm PyTorch into a per-user folder (studio/core/provision.py), so
one installer serves every driver generation. Artefacts are named by accelerator; the bundle's
accelerator is checked (the torch it carries, or none) and recorded in the report.
Prints the bundle size and its ten largest parts, as text and JSON (dist/package-report.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from studio import APP_ID, __version__  # noqa: E402

DIST = ROOT / "dist"
BUNDLE = DIST / APP_ID


ACCELERATORS = ("cpu", "cuda", "rocm")


def build_bundle(accelerator: str) -> None:
    env = {**os.environ, "STUDIO_ACCELERATOR": accelerator}
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller"),
                    str(ROOT / "build.spec")], check=True, cwd=ROOT, env=env)


def bundled_torch(root: Path) -> dict | None:
    """The torch build the bundle carries (from its torch/version.py), or None."""
    import ast
    import re

    for version_py in (root / "_internal" / "torch" / "version.py", root / "torch" / "version.py"):
        if version_py.is_file():
            text = version_py.read_text()
            values = {m.group(1): ast.literal_eval(m.group(2).strip()) for m in re.finditer(
                r"^(__version__|cuda|hip)\b[^=\n]*=\s*(.+)$", text, re.M)}
            return {"version": values.get("__version__"), "cuda": values.get("cuda"),
                    "hip": values.get("hip")}
    return None


def check_accelerator(accelerator: str, torch: dict | None) -> str:
    """Refuse a bundle whose PyTorch does not match the accelerator it is named for."""
    if accelerator == "cpu":
        if torch is None:
            raise SystemExit("package: the cpu bundle has no torch (is torch in the venv?)")
        if torch["cuda"] or torch["hip"]:
            raise SystemExit(f"package: the cpu bundle would carry torch {torch['version']} "
                             "(a GPU build); build it from a venv with the CPU wheel")
        return f"torch {torch['version']} (CPU build) bundled"
    if torch is not None:
        raise SystemExit(f"package: the {accelerator} bundle must not carry torch (found "
                         f"{torch['version']}); it installs the matching build at first launch")
    return f"no torch: the {accelerator.upper()} build is installed at first launch"


def add_anvil() -> Path | None:
    """Ship the sandbox chain's node beside the executable (bin/anvil)."""
    from studio.core.chain.anvil_binary import find_anvil

    anvil = find_anvil()
    if anvil is None:
        print("package: anvil not found (run scripts/bootstrap.sh); the sandbox chain will be "
              "missing from the bundle", file=sys.stderr)
        return None
    dest = BUNDLE / "bin" / "anvil"
    dest.parent.mkdir(exist_ok=True)
    shutil.copy2(anvil, dest)
    return dest


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def largest_parts(root: Path, n: int = 10) -> list[tuple[str, int]]:
    """The biggest top-level entries of the bundle's _internal folder (packages, libraries)."""
    internal = root / "_internal"
    base = internal if internal.is_dir() else root
    sizes = [(str(p.relative_to(root)), tree_size(p)) for p in base.iterdir()]
    return sorted(sizes, key=lambda kv: kv[1], reverse=True)[:n]


def make_tarball(accelerator: str, *, fast: bool = False) -> Path:
    out = DIST / f"{APP_ID}-{__version__}-linux-x86_64-{accelerator}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=1 if fast else 9) as tar:
        tar.add(BUNDLE, arcname=f"{APP_ID}-{__version__}")
        tar.add(ROOT / "resources" / f"{APP_ID}.desktop",
                arcname=f"{APP_ID}-{__version__}/{APP_ID}.desktop")
        tar.add(ROOT / "resources" / "icons" / "studio-256.png",
                arcname=f"{APP_ID}-{__version__}/{APP_ID}.png")
    return out


def make_deb(accelerator: str, *, fast: bool = False) -> Path | None:
    if shutil.which("dpkg-deb") is None:
        print("package: dpkg-deb not found; no .deb", file=sys.stderr)
        return None
    stage = DIST / "deb"
    shutil.rmtree(stage, ignore_errors=True)
    opt = stage / "opt" / APP_ID
    shutil.copytree(BUNDLE, opt, symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    os.symlink(f"/opt/{APP_ID}/studio", stage / "usr" / "bin" / "studio")
    apps = stage / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / f"{APP_ID}.desktop", apps / f"{APP_ID}.desktop")
    for size in (16, 32, 48, 64, 128, 256, 512):
        icon_dir = stage / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        icon_dir.mkdir(parents=True)
        shutil.copy2(ROOT / "resources" / "icons" / f"studio-{size}.png",
                     icon_dir / f"{APP_ID}.png")
    control = stage / "DEBIAN"
    control.mkdir()
    installed_kb = tree_size(stage) // 1024
    (control / "control").write_text(
        f"Package: {APP_ID}\nVersion: {__version__}+{accelerator}\nSection: graphics\n"
        "Priority: optional\n"
        f"Architecture: amd64\nInstalled-Size: {installed_kb}\n"
        "Depends: libegl1, libgl1, libfontconfig1, libdbus-1-3, libxkbcommon-x11-0, "
        "libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1\n"
        "Recommends: gnome-keyring | kwalletmanager\n"
        "Maintainer: Provenance Studio <team@provenance-studio.invalid>\n"
        "Description: Generative media studio with signed provenance\n"
        " Generate images locally, sign them with C2PA manifests, and mint them with\n"
        " on-chain royalty splits.\n"
    )
    out = DIST / f"{APP_ID}_{__version__}+{accelerator}_amd64.deb"
    # xz (dpkg's default) takes ~8 min for the 1.4 GB CPU bundle on 2 cores; zstd ~10 s for
    # a ~25 % larger file (dpkg >= 1.21.18 reads it): the test build's choice, not a release's.
    compression = ["-Zzstd"] if fast else []
    subprocess.run(["dpkg-deb", *compression, "--root-owner-group", "--build", str(stage),
                    str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-build", action="store_true", help="reuse dist/ as it is")
    parser.add_argument("--fast-compression", action="store_true",
                        help="light compression for test builds (gzip -1, zstd .deb)")
    parser.add_argument("--accelerator", choices=ACCELERATORS, default="cpu",
                        help="cpu bundles PyTorch; cuda/rocm install it at first launch")
    args = parser.parse_args()
    if not args.skip_build:
        build_bundle(args.accelerator)
    torch = bundled_torch(BUNDLE)
    torch_note = check_accelerator(args.accelerator, torch)
    print(f"package: {args.accelerator}: {torch_note}")
    anvil = add_anvil()
    report: dict = {"accelerator": args.accelerator, "torch": torch, "torch_note": torch_note,
                    "bundle": str(BUNDLE), "bundle_bytes": tree_size(BUNDLE),
                    "anvil_bundled": anvil is not None,
                    "largest_parts": largest_parts(BUNDLE)}
    if sys.platform.startswith("linux"):
        tarball = make_tarball(args.accelerator, fast=args.fast_compression)
        deb = make_deb(args.accelerator, fast=args.fast_compression)
        report["tar_gz"] = {"path": str(tarball), "bytes": tarball.stat().st_size}
        if deb:
            report["deb"] = {"path": str(deb), "bytes": deb.stat().st_size}
    (DIST / "package-report.json").write_text(json.dumps(report, indent=2))
    print(f"bundle: {report['bundle_bytes'] / 2**20:.0f} MiB at {BUNDLE}")
    for name, size in report["largest_parts"]:
        print(f"  {size / 2**20:8.1f} MiB  {name}")
    for key in ("tar_gz", "deb"):
        if key in report:
            print(f"{key}: {report[key]['bytes'] / 2**20:.0f} MiB  {report[key]['path']}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
