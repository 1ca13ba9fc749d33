"""Typed, versioned settings stored as JSON in the config dir.

The file is plain data (never secrets: those live in the OS keyring). Each section is a
dataclass; unknown keys are ignored and ill-typed values fall back to their default, so an
older or hand-edited file still loads. ``MIGRATIONS[n]`` turns a version-n dict into n+1.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import types
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

CURRENT_VERSION = 1

# Every dataclass here has a docstring: without one, @dataclass makes it from the class's
# inspect.signature, ~0.3 ms each at import, before the window's first paint.


@dataclass
class UiSettings:
    """The window: theme, size and place, the section shown last."""

    theme: str = "system"  # system | light | dark
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    last_section: str = "generate"
    # The system's colour scheme as last seen (None: never looked). The "system" theme paints
    # the first frame with it and checks the real scheme right after (studio/ui/theme.py).
    system_dark: bool | None = None


@dataclass
class FastPathSettings:
    """The GPU fast path, piece by piece. "auto" turns a piece on where it pays (CUDA) and off
    elsewhere; "on" forces it (the CPU compiled path works too, it is just slow to compile)."""

    enabled: str = "auto"  # auto (CUDA only) | on | off: the master switch
    dtype: str = "auto"  # auto (what the family wants) | float16 | bfloat16
    channels_last: bool = True  # UNet/VAE memory format (convolutions run faster)
    fuse_qkv: bool = True  # one matmul for Q, K and V
    sdpa_backend: str = "auto"  # auto (flash on Hopper/Ada/Ampere) | flash | efficient | math
    compile: str = "auto"  # auto (CUDA) | on | off: torch.compile of the denoiser
    compile_mode: str = "auto"  # auto (CUDA graphs on CUDA) | default | reduce-overhead |
    #                             max-autotune | max-autotune-no-cudagraphs
    compile_scope: str = "full"  # full (the whole denoiser) | blocks (repeated blocks only)
    compile_vae: bool = True  # also compile the VAE decoder
    compile_cache: bool = True  # keep compiled kernels on disk per model, torch and device
    fp8: str = "off"  # off | auto (Hopper/Ada with torchao) | on: float8 weights+activations
    # Draft speed: trades quality for speed, off by default and labelled so in the UI.
    draft_cache: str = "off"  # off | first-block | mag | taylorseer (transformer models)
    draft_cache_threshold: float = 0.2


@dataclass
class GenerationSettings:
    """Defaults of the Generate section and how the engine runs."""

    device: str = "auto"  # auto | cuda | mps | cpu
    attention_slicing: str = "auto"  # auto | on | off
    vae_tiling: str = "auto"
    cpu_offload: str = "auto"
    default_model: str = ""
    default_steps: int = 25
    default_guidance: float = 7.0
    default_scheduler: str = "Euler a"
    default_width: int = 512
    default_height: int = 512
    preview_every: int = 2  # steps between live previews
    # Images of a batch made by one pipeline call. 0 = auto: 4 on CUDA (the text encoder runs
    # once, the denoiser batched); 1 elsewhere, where a batch item then replays bit for bit
    # (batched kernels round differently: +-1 level on a few pixels).
    batch_per_call: int = 0
    # Tiny-autoencoder (TAESD family) folders for real previews; empty: the linear preview.
    preview_decoder_sd: str = ""  # SD 1.x/2.x latents (madebyollin/taesd)
    preview_decoder_sdxl: str = ""  # SDXL latents (madebyollin/taesdxl)
    fast_path: FastPathSettings = field(default_factory=FastPathSettings)


@dataclass
class WalletAccount:
    """One account of the wallet (the key itself is in the OS keyring)."""

    address: str = ""
    label: str = ""
    source: str = ""  # created | key | mnemonic | keystore
    derivation_path: str = ""


@dataclass
class WalletSettings:
    """The wallet's accounts and the active one."""

    accounts: list[WalletAccount] = field(default_factory=list)
    active_account: str = ""


@dataclass
class ChainProfile:
    """A chain endpoint the user can switch to."""

    id: str = ""
    name: str = ""
    rpc_url: str = ""  # secret-bearing URLs live in the keyring; this holds the rest
    chain_id: int = 0
    confirmations: int = 1
    explorer_url: str = ""
    currency: str = "ETH"
    # True when rpc_url above is a redacted form and the full URL is in the OS keyring.
    rpc_in_keyring: bool = False
    # The most any transaction on this chain may pay per gas, in gwei; 0 = no cap of its own
    # (fees are still bounded by the chain's recent history, see studio.core.chain.fees).
    max_fee_gwei: float = 0.0


@dataclass
class ChainSettings:
    """The chain profiles, the active one, and the IPFS gateway."""

    active_profile: str = "sandbox"
    profiles: list[ChainProfile] = field(default_factory=list)
    # Where ipfs:// token metadata is fetched from (path style: GATEWAY/ipfs/CID), only when
    # the user allows network (`studio verify --fetch-metadata`); bytes are checked against
    # the CID, so the gateway needs no trust.
    ipfs_gateway: str = "https://ipfs.io"


@dataclass
class ProvenanceSettings:
    """What every signed output declares, and whom the verifier trusts."""

    creator_name: str = ""
    training_mining: str = "notAllowed"  # allowed | notAllowed | constrained
    trust_anchors: list[str] = field(default_factory=list)  # PEM file paths
    # RFC 3161 time-stamp authority for every signature; empty = none (nothing is contacted).
    tsa_url: str = ""
    # Use the C2PA Trust List and TSA Trust List shipped with the app as trust anchors.
    official_trust_lists: bool = True
    trusted_signers: list[str] = field(default_factory=list)  # end-entity PEM file paths
    # An invisible watermark in every signed output, declared as a C2PA soft binding, so a
    # copy stripped of its metadata still leads back to its credentials.
    watermark: bool = True


@dataclass
class Settings:
    """Everything the studio remembers between starts (``settings.json``)."""

    version: int = CURRENT_VERSION
    ui: UiSettings = field(default_factory=UiSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    wallet: WalletSettings = field(default_factory=WalletSettings)
    chain: ChainSettings = field(default_factory=ChainSettings)
    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)


def _migrate_0_to_1(data: dict[str, Any]) -> dict[str, Any]:
    # Version 0 is a file written before settings carried a version: a flat "theme" key.
    ui = dict(data.get("ui") or {})
    if "theme" in data:
        ui.setdefault("theme", data.pop("theme"))
    data["ui"] = ui
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0_to_1}

T = TypeVar("T")


class SettingsError(Exception):
    """The settings file cannot be used as it is."""


def _coerce(tp: Any, value: Any, default: Any, where: str, problems: list[str]) -> Any:
    origin = typing.get_origin(tp)
    if is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, dict):
            return from_dict(tp, value, problems, where)
        problems.append(f"{where}: expected an object")
        return default
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list")
            return default
        out = []
        for i, item in enumerate(value):
            marker = object()
            got = _coerce(item_tp, item, marker, f"{where}[{i}]", problems)
            if got is not marker:
                out.append(got)
        return out
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None) and value is None:
                return None
            if arg is not type(None) and isinstance(value, arg):
                return value
        problems.append(f"{where}: unexpected value {value!r}")
        return default
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(tp, type) and isinstance(value, tp) and not (
        tp is int and isinstance(value, bool)
    ):
        return value
    problems.append(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")
    return default


def from_dict(cls: type[T], data: dict[str, Any], problems: list[str], where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; bad fields keep defaults and are listed."""
    hints = typing.get_type_hints(cls)
    default = cls()
    kwargs = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        path = f"{where}.{f.name}" if where else f.name
        kwargs[f.name] = _coerce(hints[f.name], data[f.name], getattr(default, f.name), path,
                                 problems)
    return cls(**kwargs)


@dataclass
class LoadResult:
    """The settings read, and what the user should be told about reading them."""

    settings: Settings
    # Plain-language messages for the user (a corrupt file, a newer version...).
    notices: list[str] = field(default_factory=list)


class SettingsStore:
    """Loads and atomically saves :class:`Settings` at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> LoadResult:
        if not self.path.exists():
            return LoadResult(Settings())
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise SettingsError("the top level is not a JSON object")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, SettingsError) as exc:
            backup = self._backup()
            log.warning("settings file %s is unreadable (%s); kept as %s", self.path, exc, backup)
            return LoadResult(
                Settings(),
                [f"Your settings file could not be read ({exc}). It was kept as {backup.name} "
                 "and default settings are in use."],
            )
        return self._from_raw(raw)

    def _from_raw(self, raw: dict[str, Any]) -> LoadResult:
        notices: list[str] = []
        version = raw.get("version", 0)
        if not isinstance(version, int) or version < 0:
            version = 0
        if version > CURRENT_VERSION:
            notices.append(
                f"Your settings were written by a newer version of the studio (format {version}); "
                "settings this version does not know are ignored."
            )
        while version < CURRENT_VERSION:
            raw = MIGRATIONS[version](raw)
            version += 1
            raw["version"] = version
        problems: list[str] = []
        settings = from_dict(Settings, raw, problems)
        settings.version = CURRENT_VERSION
        if problems:
            log.warning("settings values replaced by defaults: %s", "; ".join(problems))
            notices.append("Some settings had invalid values and were reset to defaults: "
                           + "; ".join(problems[:5]))
        return LoadResult(settings, notices)

    def save(self, settings: Settings) -> None:
        data = json.dumps(asdict(settings), indent=2, sort_keys=True)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)

    def reset(self) -> Path | None:
        """Back up the current file (if any) and write defaults. Returns the backup path."""
        backup = self._backup() if self.path.exists() else None
        self.save(Settings())
        return backup

    def _backup(self) -> Path:
        backup = self.path.with_name(self.path.name + ".bak")
        if backup.exists():
            backup = self.path.with_name(f"{self.path.name}.{int(time.time())}.bak")
        os.replace(self.path, backup)
        return backup
