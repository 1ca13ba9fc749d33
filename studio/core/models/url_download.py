"""Downloading one checkpoint or LoRA from a direct URL (a model page's download link).

Not the hub, so there is no file list or published hash to ask for: a HEAD request gives the
name and size (Content-Disposition, Content-Length) for the plan; the transfer uses
huggingface_hub's ``http_get`` (range resume, retries) into a partial file next to the target,
and a sha256 the user gives (``--sha256``, e.g. from the model page) is checked before the file
takes its final name.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from studio.core.models.download import (
    Cancelled,
    DownloadError,
    Progress,
    _free_bytes,
    _Meter,
    _tqdm_class,
    human,
)

_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class UrlPlan:
    url: str
    filename: str
    size: int | None
    sha256: str | None
    target: Path
    free_bytes: int

    @property
    def partial(self) -> Path:
        return self.target.with_name(self.target.name + ".studio-partial")

    @property
    def present_bytes(self) -> int:
        return self.partial.stat().st_size if self.partial.is_file() else 0

    @property
    def needed_bytes(self) -> int:
        return max(0, (self.size or 0) - self.present_bytes)

    @property
    def enough_space(self) -> bool:
        return self.free_bytes >= self.needed_bytes

    @property
    def source(self) -> str:
        return self.url

    def summary(self) -> list[str]:
        size = human(self.size) if self.size is not None else "size unknown"
        return [f"{self.url}", f"  {self.filename}  {size}",
                f"sha256 to check: {self.sha256 or 'none given (the source publishes none)'}",
                f"to {self.target}; free disk {human(self.free_bytes)}"]


def _filename(url: str, disposition: str | None) -> str:
    if disposition:
        m = re.search(r"filename\*=UTF-8''([^;]+)", disposition) or re.search(
            r'filename="?([^";]+)"?', disposition)
        if m:
            return _SAFE.sub("_", unquote(m.group(1))).strip() or "model.safetensors"
    return _SAFE.sub("_", Path(unquote(urlparse(url).path)).name) or "model.safetensors"


def plan_url(url: str, folder: Path, *, sha256: str | None = None) -> UrlPlan:
    from huggingface_hub.utils import get_session

    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"{url} is not an http(s) URL.")
    try:
        response = get_session().head(url, follow_redirects=True, timeout=20)
    except Exception as exc:
        raise DownloadError(f"{url} cannot be reached: {exc}") from exc
    if response.status_code in (401, 403):
        raise DownloadError(f"{url} refused access (HTTP {response.status_code}); the site may "
                            "need you to sign in or accept the model's licence on its page.")
    if response.status_code >= 400:
        raise DownloadError(f"{url} answered HTTP {response.status_code}.")
    name = _filename(str(response.url), response.headers.get("Content-Disposition"))
    if not name.endswith(".safetensors"):
        raise DownloadError(f"{name}: only .safetensors files are downloaded (.ckpt and .bin "
                            "files can run code when loaded).")
    length = response.headers.get("Content-Length")
    folder.mkdir(parents=True, exist_ok=True)
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise DownloadError("--sha256 must be 64 hexadecimal characters.")
    return UrlPlan(url, name, int(length) if length and length.isdigit() else None,
                   sha256.lower() if sha256 else None, folder / name, _free_bytes(folder))


def run_url_download(plan: UrlPlan, *, progress: Callable[[Progress], None] | None = None,
                     cancel: threading.Event | None = None) -> Path:
    from huggingface_hub.file_download import http_get

    if plan.target.exists():
        raise DownloadError(f"{plan.target} already exists; remove it or add it with "
                            "`studio models add`.")
    if not plan.enough_space:
        raise DownloadError(f"Not enough disk space: the download needs "
                            f"{human(plan.needed_bytes)} but {human(plan.free_bytes)} is free.")
    meter = _Meter(plan.size or 0, progress, cancel or threading.Event())
    meter.file = plan.filename
    try:
        with open(plan.partial, "ab") as fh:
            http_get(plan.url, fh, resume_size=fh.tell(), expected_size=plan.size,
                     displayed_filename=plan.filename, tqdm_class=_tqdm_class(meter))
    except Cancelled:
        raise
    except Exception as exc:
        raise DownloadError(f"The download from {plan.url} failed: {exc}. Run it again to "
                            "resume.") from exc
    digest = hashlib.sha256()
    with open(plan.partial, "rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            digest.update(chunk)
    if plan.sha256 and digest.hexdigest() != plan.sha256:
        plan.partial.unlink(missing_ok=True)
        raise DownloadError(f"{plan.filename} is corrupted: its sha256 is "
                            f"{digest.hexdigest()[:16]}…, expected {plan.sha256[:16]}…. The file "
                            "was deleted and nothing was registered.")
    os.replace(plan.partial, plan.target)
    return plan.target
