"""Downloading a model from a Hugging Face repo with ``huggingface_hub`` (its cache, resume of
partial files, ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE``), checked against the sha256 the hub
publishes for LFS files, then registered.

A download is planned first (``plan_hub``): the file list, sizes, licence and free disk space,
so the user can confirm before anything is written. ``run_download`` then fetches file by file;
a cancel or a crash leaves a partial file in the cache, which the next run resumes with an
HTTP range request (see ``_fetch_blob``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

log = logging.getLogger(__name__)

CHUNK = 4 * 1024 * 1024
# What a diffusers folder needs; weights in .safetensors only (a .bin can run code).
_FOLDER_PATTERNS = ("model_index.json", "*/config.json", "*/*.json", "*/*.txt", "*/*.model",
                    "*/*.safetensors")
_WEIGHT_SUFFIX = ".safetensors"


class DownloadError(Exception):
    """The download cannot go on; the message says why and what to do."""


class Cancelled(DownloadError):
    """The user cancelled; the partial file stays for the next run to resume."""


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # the LFS oid, when the hub publishes one


@dataclass
class DownloadPlan:
    repo_id: str
    revision: str  # the commit the files come from (pinned, so a resume fetches the same)
    files: list[RemoteFile]
    single_file: str | None  # the checkpoint / LoRA file, or None for a diffusers folder
    licence: str
    gated: bool
    cache_dir: Path
    free_bytes: int
    present_bytes: int = 0  # already in the cache (complete or partial)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def needed_bytes(self) -> int:
        return max(0, self.total_bytes - self.present_bytes)

    @property
    def enough_space(self) -> bool:
        return self.free_bytes >= self.needed_bytes

    @property
    def source(self) -> str:
        base = f"{self.repo_id}@{self.revision}"
        return f"{base}:{self.single_file}" if self.single_file else base

    @property
    def page(self) -> str:
        return f"{hub_endpoint()}/{self.repo_id}"

    def summary(self) -> list[str]:
        what = self.single_file or "diffusers folder"
        lines = [f"{self.repo_id} ({what}) at {self.revision[:12]}",
                 f"licence: {self.licence or 'not stated'} (see {self.page})"
                 + (" - gated: accept it there first" if self.gated else "")]
        lines += [f"  {f.path}  {human(f.size)}" for f in self.files]
        lines.append(f"total {human(self.total_bytes)}"
                     + (f", {human(self.present_bytes)} already here" if self.present_bytes
                        else "")
                     + f"; free disk {human(self.free_bytes)} at {self.cache_dir}")
        return lines


@dataclass
class Progress:
    file: str
    done: int  # bytes over the whole download
    total: int
    speed: float  # bytes per second (recent average)

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.speed if self.speed > 0 else None


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n}"


def hub_endpoint() -> str:
    """HF_ENDPOINT as it is now (huggingface_hub reads it once, at import)."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def default_cache_dir() -> Path:
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return Path(constants.HF_HUB_CACHE)


def _free_bytes(path: Path) -> int:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _hub_errors(repo_id: str, licence: str = "") -> Callable[[Exception], DownloadError | None]:
    """Maps huggingface_hub's errors to messages that say what to do."""

    def convert(exc: Exception) -> DownloadError | None:
        from huggingface_hub.errors import (
            GatedRepoError,
            HfHubHTTPError,
            LocalEntryNotFoundError,
            OfflineModeIsEnabled,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        page = f"{hub_endpoint()}/{repo_id}"
        if isinstance(exc, GatedRepoError):
            return DownloadError(
                f"{repo_id} is gated: accept its licence{f' ({licence})' if licence else ''} "
                f"at {page} while signed in to Hugging Face, then store an access token of that "
                "account with `studio models token` (or in the model manager).")
        if isinstance(exc, RepositoryNotFoundError):
            return DownloadError(f"There is no repository {repo_id} on {hub_endpoint()} (or it "
                                 "is private: store an access token with `studio models token`).")
        if isinstance(exc, RevisionNotFoundError):
            return DownloadError(f"{repo_id} has no such revision: {exc}")
        if isinstance(exc, OfflineModeIsEnabled | LocalEntryNotFoundError):
            return DownloadError("Hugging Face is switched off (HF_HUB_OFFLINE is set) or not "
                                 f"reachable, and {repo_id} is not in the local cache.")
        if isinstance(exc, HfHubHTTPError):
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 403):
                return DownloadError(f"{hub_endpoint()} refused access to {repo_id} (HTTP "
                                     f"{status}). If it is gated, accept its licence at {page} "
                                     "and store a token with `studio models token`.")
            return DownloadError(f"The hub answered with an error for {repo_id}: {exc}")
        if isinstance(exc, OSError | ConnectionError):
            return DownloadError(f"The download from {hub_endpoint()} failed: {exc}. Run the "
                                 "same command again to resume.")
        return None

    return convert


def _licence(info: Any) -> str:
    card = getattr(info, "card_data", None) or getattr(info, "cardData", None)
    lic = None
    if card is not None:
        lic = card.get("license") if hasattr(card, "get") else getattr(card, "license", None)
        name = card.get("license_name") if hasattr(card, "get") else None
        if lic == "other" and name:
            lic = name
    if not lic:
        lic = next((t.split(":", 1)[1] for t in getattr(info, "tags", None) or []
                    if t.startswith("license:")), "")
    return str(lic or "")


def _select_folder_files(files: list[RemoteFile]) -> list[RemoteFile]:
    """A diffusers folder's configs, tokenizers and .safetensors weights: the default
    (non-variant) weights, nothing at the repo root but model_index.json, no .bin/.ckpt."""
    picked = [f for f in files if any(fnmatch.fnmatch(f.path, p) for p in _FOLDER_PATTERNS)
              and len(PurePosixPath(f.path).parts) <= 2]
    weights = [f for f in picked if f.path.endswith(_WEIGHT_SUFFIX)]
    by_dir: dict[str, list[RemoteFile]] = {}
    for f in weights:
        by_dir.setdefault(str(PurePosixPath(f.path).parent), []).append(f)
    keep_weights: set[str] = set()
    for group in by_dir.values():
        # diffusion_pytorch_model.fp16.safetensors is a variant; keep the default when there.
        plain = [f for f in group if len(PurePosixPath(f.path).suffixes) == 1
                 or ".safetensors.index" in f.path or "-of-" in f.path]
        keep_weights.update(f.path for f in (plain or group))
    return [f for f in picked if not f.path.endswith(_WEIGHT_SUFFIX) or f.path in keep_weights]


def plan_hub(repo_id: str, *, revision: str | None = None, file: str | None = None,
             token: str | None = None, cache_dir: Path | None = None) -> DownloadPlan:
    """Ask the hub what a download would fetch; writes nothing."""
    from huggingface_hub import HfApi

    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    convert = _hub_errors(repo_id)
    try:
        info = HfApi(endpoint=hub_endpoint(), token=token or None).model_info(
            repo_id, revision=revision, files_metadata=True)
    except Exception as exc:
        mapped = convert(exc)
        if mapped is None:
            raise
        raise mapped from exc
    files = [RemoteFile(s.rfilename, int(s.size or 0),
                        getattr(getattr(s, "lfs", None), "sha256", None))
             for s in info.siblings or []]
    if file:
        chosen = [f for f in files if f.path == file]
        if not chosen:
            raise DownloadError(f"{repo_id} has no file {file}.")
        single: str | None = file
    elif any(f.path == "model_index.json" for f in files):
        chosen, single = _select_folder_files(files), None
    else:
        candidates = [f for f in files if f.path.endswith(_WEIGHT_SUFFIX)]
        if len(candidates) != 1:
            listing = ", ".join(f.path for f in candidates) or "none"
            raise DownloadError(f"{repo_id} is not a diffusers folder; choose one checkpoint "
                                f"with --file (its .safetensors files: {listing}).")
        chosen, single = candidates, candidates[0].path
    if single and not single.endswith(_WEIGHT_SUFFIX):
        raise DownloadError(f"{single}: only .safetensors files are downloaded (.ckpt and "
                            ".bin files can run code when loaded).")
    plan = DownloadPlan(repo_id, str(info.sha), chosen, single, _licence(info),
                        bool(getattr(info, "gated", False)), cache_dir, _free_bytes(cache_dir))
    plan.present_bytes = _present_bytes(plan)
    return plan


def _repo_cache(plan: DownloadPlan) -> Path:
    return plan.cache_dir / ("models--" + plan.repo_id.replace("/", "--"))


def _present_bytes(plan: DownloadPlan) -> int:
    """Bytes of the plan's files already in the cache, partial downloads included."""
    blobs = _repo_cache(plan) / "blobs"
    total = 0
    for f in plan.files:
        if not f.sha256:
            continue
        for name in (f.sha256, f.sha256 + ".studio-partial"):
            p = blobs / name
            if p.is_file():
                total += min(p.stat().st_size, f.size)
    return total


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Meter:
    total: int
    report: Callable[[Progress], None] | None
    cancel: threading.Event
    done: int = 0
    file: str = ""
    _samples: list[tuple[float, int]] = field(
        default_factory=lambda: [(time.monotonic(), 0)])

    def credit(self, n: int) -> None:
        """Bytes already on disk (a resumed file): done, but not part of the speed."""
        self.done += n
        self._samples = [(time.monotonic(), self.done)]

    def add(self, n: int) -> None:
        if self.cancel.is_set():
            raise Cancelled("Download cancelled; run it again to resume where it stopped.")
        self.done += n
        now = time.monotonic()
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[0][0] > 5.0:
            self._samples.pop(0)  # a 5-second window: speed and ETA follow the recent rate
        t0, d0 = self._samples[0]
        speed = (self.done - d0) / (now - t0) if now > t0 else 0.0
        if self.report is not None:
            self.report(Progress(self.file, self.done, self.total, speed))


def _tqdm_class(meter: _Meter) -> type:
    from tqdm.auto import tqdm

    class MeterTqdm(tqdm):  # huggingface_hub reports bytes through its tqdm_class
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            if kwargs.get("initial"):
                meter.credit(int(kwargs["initial"]))  # resumed: the bytes already on disk

        def update(self, n: float | None = 1) -> bool | None:
            meter.add(int(n or 0))
            return super().update(n)

    return MeterTqdm


def run_download(plan: DownloadPlan, *, token: str | None = None,
                 progress: Callable[[Progress], None] | None = None,
                 cancel: threading.Event | None = None,
                 verified: Callable[[Path, str], None] | None = None) -> Path:
    """Fetch the plan's files into the hub cache; returns the snapshot folder (diffusers) or
    the checkpoint file. Every file with a published sha256 is checked; a mismatch deletes it.
    ``verified(path, sha256)`` is told each checked file (the registry caches the hash)."""
    from huggingface_hub import hf_hub_download

    if not plan.enough_space:
        raise DownloadError(f"Not enough disk space: the download needs {human(plan.needed_bytes)}"
                            f" but {plan.cache_dir} has {human(plan.free_bytes)} free.")
    meter = _Meter(plan.total_bytes, progress, cancel or threading.Event())
    convert = _hub_errors(plan.repo_id, plan.licence)
    local: Path | None = None
    for f in plan.files:
        meter.file = f.path
        before = meter.done
        try:
            _fetch_blob(plan, f, token, meter, verified)
            # The blob is in place: huggingface_hub only links it into the snapshot (and keeps
            # its refs), so the cache stays exactly its own layout.
            local = Path(hf_hub_download(plan.repo_id, f.path, revision=plan.revision,
                                         cache_dir=str(plan.cache_dir), token=token or None,
                                         endpoint=hub_endpoint(),
                                         tqdm_class=_tqdm_class(meter)))
        except DownloadError:
            raise
        except Exception as exc:
            mapped = convert(exc)
            if mapped is None:
                raise
            raise mapped from exc
        meter.done = before + f.size  # a cached file reports no bytes; count it as done
        if f.sha256 and verified is not None:
            verified(local, f.sha256)
    if plan.single_file:
        assert local is not None
        return local
    return _repo_cache(plan) / "snapshots" / plan.revision


def _fetch_blob(plan: DownloadPlan, f: RemoteFile, token: str | None, meter: _Meter,
                verified: Callable[[Path, str], None] | None) -> None:
    """Download one file into the cache's ``blobs/<etag>``, resumably.

    huggingface_hub (>= 1.x) downloads to a per-process temporary file that it deletes on
    failure, so it cannot resume after a crash or a cancel. The studio keeps its own partial
    file next to the blob and continues it with huggingface_hub's ``http_get`` (range
    request, retries, its auth headers); the blob only takes its final name once complete and
    checked, so a corrupted download never enters the cache.
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    url = hf_hub_url(plan.repo_id, f.path, revision=plan.revision, endpoint=hub_endpoint())
    meta = get_hf_file_metadata(url, token=token or None)
    if not meta.etag:
        raise DownloadError(f"The hub gave no ETag for {f.path}; it cannot be cached.")
    blobs = _repo_cache(plan) / "blobs"
    blob = blobs / meta.etag
    if blob.is_file():
        return
    blobs.mkdir(parents=True, exist_ok=True)
    part = blobs / (meta.etag + ".studio-partial")
    headers = build_hf_headers(token=token or None)
    location = meta.location or url
    if not location.startswith(hub_endpoint()):
        headers.pop("authorization", None)  # never send the hub token to a storage host
    with open(part, "ab") as fh:
        resume = fh.tell()
        http_get(location, fh, resume_size=resume, headers=headers,
                 expected_size=meta.size, displayed_filename=f.path,
                 tqdm_class=_tqdm_class(meter))
    if f.sha256:
        got = _sha256(part)
        if got != f.sha256:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"{f.path} is corrupted: its sha256 is {got[:16]}…, the hub publishes "
                f"{f.sha256[:16]}…. The file was deleted and nothing was registered; "
                "download it again.")
    os.replace(part, blob)
