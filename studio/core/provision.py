"""First-run provisioning: install the PyTorch build that matches this machine's accelerator
into a per-user runtime folder, the way InvokeAI's launcher and ComfyUI Desktop do.

Layout (under the data dir, a platformdirs location unless STUDIO_HOME is set)::

    runtime/py3.11/downloads/<wheel>.part   the torch wheel while it downloads (resumable)
    runtime/py3.11/downloads/<wheel>        verified against the index's sha256
    runtime/py3.11/site/                    what ``pip install --target`` put there
    runtime/py3.11/provisioned.json         the choice and the verified build

Steps: :func:`plan` reads the PEP 503 index page of the chosen variant and picks the torch wheel
for this interpreter (tags from ``packaging``), with its size (HEAD). :meth:`Provisioner.run`
downloads it with HTTP ``Range`` resume into ``.part`` (a killed download continues where it
stopped), checks the hash, lets pip install it and its dependencies into ``site.new`` (pip
resolves; nothing here re-implements it), verifies it in a child process (``import torch``;
``torch.cuda.is_available()`` must be true when a real NVIDIA GPU is there) and only then swaps
``site.new`` for ``site``, so a kill at any point leaves the previous runtime intact.

In the PyInstaller bundle ``sys.executable`` is the studio binary: pip and the probe run through
``studio --internal-provision pip|probe`` (see packaging/launcher.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from studio.core.accelerator import Accelerator, WheelChoice, choose_wheel, detect
from studio.core.crashpoints import crash_point
from studio.core.runtime import activate, runtime_dir, site_dir

__all__ = ["activate", "runtime_dir", "site_dir"]

TORCH_VERSION = "2.13.0"  # the PyTorch the studio is tested with (scripts/bootstrap.sh)
CHUNK = 256 * 1024
Progress = Callable[[str, int, int], None]  # (phase, done, total)


class ProvisionError(Exception):
    """Provisioning failed; the message says why and what to do."""


class ProvisionCancelled(ProvisionError):
    pass


# -- the index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WheelFile:
    filename: str
    url: str
    sha256: str  # from the index's #sha256= fragment ("" when it gave none)
    size: int  # bytes (HEAD Content-Length; 0 when unknown)


@dataclass(frozen=True)
class Plan:
    choice: WheelChoice
    accelerator: Accelerator
    wheel: WheelFile

    def describe(self) -> str:
        size = f"{self.wheel.size / 2**20:.0f} MiB" if self.wheel.size else "unknown size"
        return f"{self.wheel.filename} ({size}) from {self.choice.index_url}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def index_links(index_url: str, project: str = "torch", timeout: float = 30) -> list[str]:
    """Absolute URLs of a project's files on a PEP 503 simple index."""
    page = index_url.rstrip("/") + f"/{project}/"
    req = urllib.request.Request(page, headers={"Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        parser = _Links()
        parser.feed(resp.read().decode("utf-8", "replace"))
    return [urllib.parse.urljoin(page, href) for href in parser.links]


def pick_wheel(urls: list[str], version: str = TORCH_VERSION,
               tags: list[str] | None = None) -> tuple[str, str] | None:
    """(url without fragment, sha256) of the best wheel of torch ``version`` (any local label:
    +cpu, +cu128...) for this interpreter's tags (most specific first), or None."""
    from packaging.tags import sys_tags
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    order = tags if tags is not None else [str(t) for t in sys_tags()]
    rank = {t: i for i, t in enumerate(order)}
    best: tuple[int, str, str] | None = None
    for url in urls:
        base, _, frag = url.partition("#")
        name = urllib.parse.unquote(base.rsplit("/", 1)[-1])
        if not name.endswith(".whl"):
            continue
        try:
            _n, ver, _b, wtags = parse_wheel_filename(name)
        except InvalidWheelFilename:
            continue
        if ver.base_version != version:
            continue
        score = min((rank[str(t)] for t in wtags if str(t) in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            sha = frag.split("=", 1)[1] if frag.startswith("sha256=") else ""
            best = (score, base, sha)
    return (best[1], best[2]) if best else None


def _head_size(url: str, timeout: float = 30) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"),
                                    timeout=timeout) as resp:
            return int(resp.headers.get("Content-Length") or 0)
    except (OSError, ValueError):
        return 0


def plan(acc: Accelerator | None = None, *, index_url: str | None = None,
         version: str = TORCH_VERSION) -> Plan:
    """What to install for this machine (network: reads the index). ``index_url`` overrides
    the chosen variant's index (tests: a FAKE local one)."""
    acc = acc or detect()
    choice = choose_wheel(acc)
    if index_url:
        choice = WheelChoice(choice.variant, index_url, choice.accelerator, choice.reason,
                             choice.runtime_version)
    try:
        links = index_links(choice.index_url)
    except OSError as exc:
        raise ProvisionError(f"Cannot read the package index {choice.index_url}: {exc}") from exc
    found = pick_wheel(links, version)
    if found is None:
        raise ProvisionError(f"No torch {version} wheel for this Python "
                             f"({sys.version_info.major}.{sys.version_info.minor}) and system "
                             f"on {choice.index_url}")
    url, sha = found
    name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
    return Plan(choice, acc, WheelFile(name, url, sha, _head_size(url)))


# -- running -----------------------------------------------------------------------------------


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def helper_command(kind: str) -> list[str]:
    """How to run pip (``kind="pip"``) or the torch probe in a child process."""
    if _frozen():
        return [sys.executable, "--internal-provision", kind]
    if kind == "pip":
        return [sys.executable, "-m", "pip"]
    return [sys.executable, "-m", "studio.core.provision", kind]


class Provisioner:
    def __init__(self, data_dir: Path, the_plan: Plan, progress: Progress | None = None,
                 cancel: Any = None) -> None:
        """``cancel``: a threading.Event, or anything with its ``is_set``/``wait``."""
        self.root = runtime_dir(data_dir)
        self.plan = the_plan
        self.progress = progress or (lambda phase, done, total: None)
        self.cancel = cancel or threading.Event()

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    def run(self) -> dict:
        """Download (resumable), install, verify, swap in. Returns the verified build."""
        wheel = self.download()
        staging = self.root / "site.new"
        shutil.rmtree(staging, ignore_errors=True)  # a killed earlier install
        self.install(wheel, staging)
        build = self.verify(staging)
        crash_point("provision.before_swap")
        site = self.root / "site"
        old = self.root / "site.old"
        shutil.rmtree(old, ignore_errors=True)
        if site.exists():
            site.rename(old)
        staging.rename(site)
        shutil.rmtree(old, ignore_errors=True)
        record = {"plan": {"variant": self.plan.choice.variant,
                           "index_url": self.plan.choice.index_url,
                           "reason": self.plan.choice.reason,
                           "wheel": asdict(self.plan.wheel)},
                  "accelerator": asdict(self.plan.accelerator), "build": build}
        tmp = self.root / "provisioned.json.tmp"
        tmp.write_text(json.dumps(record, indent=2))
        os.replace(tmp, self.root / "provisioned.json")
        self.progress("done", 1, 1)
        return build

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise ProvisionCancelled("Cancelled; the download resumes where it stopped next time")

    def download(self) -> Path:
        w = self.plan.wheel
        self.downloads.mkdir(parents=True, exist_ok=True)
        final = self.downloads / w.filename
        if final.exists():
            return final
        part = final.with_name(final.name + ".part")
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            resp = urllib.request.urlopen(urllib.request.Request(w.url, headers=headers),
                                          timeout=60)
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # nothing left to fetch: the part is complete
                resp = None
            else:
                raise ProvisionError(f"Download of {w.filename} failed: {exc}") from exc
        except OSError as exc:
            raise ProvisionError(f"Download of {w.filename} failed: {exc}") from exc
        if resp is not None:
            with resp:
                if have and resp.status != 206:  # the server ignored Range: start over
                    have = 0
                total = have + int(resp.headers.get("Content-Length") or 0) or w.size
                halfway = total // 2
                with open(part, "ab" if have else "wb") as out:
                    done = have
                    while chunk := resp.read(CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        self.progress("download", done, total)
                        if done >= halfway:
                            out.flush()
                            crash_point("provision.download.halfway")
                        self._check_cancel()
        if w.sha256:
            digest = hashlib.sha256()
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != w.sha256:
                part.unlink()
                raise ProvisionError(f"{w.filename} does not match the index's sha256; the "
                                     "partial file was removed, try again")
        os.replace(part, final)
        return final

    def _child(self, cmd: list[str], phase: str) -> subprocess.CompletedProcess:
        self.progress(phase, 0, 0)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True)
        reader.start()
        while proc.poll() is None:
            if self.cancel.wait(0.2):
                proc.terminate()
                proc.wait(30)
                reader.join(5)
                raise ProvisionCancelled("Cancelled while installing; nothing was changed")
        reader.join(5)
        return subprocess.CompletedProcess(cmd, proc.returncode, "".join(out), "")

    def install(self, wheel: Path, target: Path) -> None:
        """pip installs the wheel and resolves its dependencies from the same index."""
        cmd = [*helper_command("pip"), "install", "--disable-pip-version-check",
               "--no-input", "--only-binary", ":all:", "--target", str(target),
               *self.plan.choice.pip_args,
               str(wheel)]
        done = self._child(cmd, "install")
        if done.returncode != 0:
            raise ProvisionError("pip could not install PyTorch:\n" + done.stdout[-2000:])

    def verify(self, site: Path) -> dict:
        done = self._child([*helper_command("probe"), str(site)], "verify")
        try:
            build = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise ProvisionError("The installed PyTorch does not import:\n"
                                 + done.stdout[-2000:]) from None
        choice, acc = self.plan.choice, self.plan.accelerator
        if choice.accelerator == "cuda" and not build.get("cuda"):
            raise ProvisionError(f"Expected a CUDA build, got {build.get('version')}")
        if choice.accelerator == "rocm" and not build.get("hip"):
            raise ProvisionError(f"Expected a ROCm build, got {build.get('version')}")
        real_gpu = acc.kind in ("nvidia", "rocm") and not acc.fake
        if real_gpu and choice.accelerator in ("cuda", "rocm") and not build["cuda_available"]:
            raise ProvisionError(f"PyTorch {build['version']} installed but cannot use the GPU "
                                 f"({acc.detail}): torch.cuda.is_available() is False")
        build["gpu_checked"] = real_gpu
        return build


def probe(site: str) -> dict:
    """Import torch from ``site`` (in a child process) and report its build."""
    sys.path.insert(0, site)
    import torch

    cuda_ok = bool(torch.cuda.is_available())
    return {"version": torch.__version__, "cuda": torch.version.cuda,
            "hip": getattr(torch.version, "hip", None), "cuda_available": cuda_ok,
            "device": torch.cuda.get_device_name(0) if cuda_ok else "",
            "file": str(Path(torch.__file__).resolve())}


def internal_main(argv: list[str]) -> int:
    """``probe SITE``, ``pip ARGS...`` or ``install [--index-url URL]`` (the CLI for tests and
    for the frozen bundle's child processes)."""
    if argv[:1] == ["probe"]:
        print(json.dumps(probe(argv[1])))
        return 0
    if argv[:1] == ["pip"]:
        from pip._internal.cli.main import main as pip_main

        return int(pip_main(argv[1:]) or 0)
    if argv[:1] == ["install"]:
        import argparse

        from studio.core.paths import resolve_paths

        p = argparse.ArgumentParser(prog="provision install")
        p.add_argument("--index-url", default=None)
        args = p.parse_args(argv[1:])
        try:
            the_plan = plan(index_url=args.index_url)
            print(f"installing {the_plan.describe()}: {the_plan.choice.reason}", flush=True)
            build = Provisioner(resolve_paths().ensure().data_dir, the_plan).run()
        except ProvisionError as exc:
            print(f"provision: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(build))
        return 0
    print("usage: probe SITE | pip ARGS... | install [--index-url URL]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(internal_main(sys.argv[1:]))
