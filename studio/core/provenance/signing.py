"""Build and sign C2PA manifests for the studio's outputs.

Signing is always the last step: the bytes returned are written as they are. The generation
output step gets its signer from :func:`make_generation_signer`.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio import APP_NAME, __version__
from studio.core.paths import StudioPaths
from studio.core.provenance.attestation import BINDING_LABEL, SigningAccount, make_binding
from studio.core.provenance.formats import sniff_mime
from studio.core.provenance.identity import IdentityManager, SigningIdentity
from studio.core.provenance.reader import GENERATION_LABEL, TRAINING_MINING_LABEL
from studio.core.provenance.report import COMPOSITE_TRAINED, ENHANCED, TRAINED
from studio.core.provenance.soft_binding import Marker, marker_for

log = logging.getLogger(__name__)

SIGNABLE = {"image/png", "image/jpeg", "image/webp"}
# The manifest thumbnail: a JPEG at most half the image's long edge and at most THUMBNAIL_CAP.
# Images of THUMBNAIL_MIN_IMAGE px or less get none (they are their own thumbnail).
THUMBNAIL_CAP = 512
THUMBNAIL_MIN_IMAGE = 128
SPEC_VERSION = "2.2"  # the C2PA specification the manifests follow (claim v2, actions v2)
_TRAINING_KEYS = ("cawg.ai_inference", "cawg.ai_generative_training", "cawg.ai_training",
                  "cawg.data_mining")


class SigningError(Exception):
    """Signing failed; the message is meant for the user. The input is left untouched."""


@dataclass(frozen=True)
class Parent:
    """A source file recorded as the ``parentOf`` ingredient (or, with ``relationship``
    "inputTo", another input of the edit such as an inpaint mask, under ``label``)."""

    data: bytes
    title: str
    relationship: str = "parentOf"
    label: str = "parent"


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def software_agent() -> dict[str, str]:
    return {"name": APP_NAME, "version": __version__}


def claim_generator() -> dict[str, str]:
    # The conformance program asks every generator to declare its spec version here.
    return {**software_agent(), "specVersion": SPEC_VERSION}


def actions_assertion(actions: list[dict[str, Any]]) -> dict[str, Any]:
    # created: the claim generator made this assertion (created_assertions in claim v2);
    # allActionsIncluded: nothing else was done to the asset (conformance v0.2).
    return {"label": "c2pa.actions.v2", "created": True,
            "data": {"actions": actions, "allActionsIncluded": True}}


def training_mining(policy: str) -> dict[str, Any]:
    use = policy if policy in ("allowed", "notAllowed", "constrained") else "notAllowed"
    return {"entries": {k: {"use": use} for k in _TRAINING_KEYS}}


def request_dict(request: Any) -> dict[str, Any]:
    """A GenerationRequest (anything with ``to_json()``), a JSON string, or a plain dict."""
    if hasattr(request, "to_json"):
        request = request.to_json()
    if isinstance(request, str | bytes):
        request = json.loads(request)
    if not isinstance(request, dict):
        raise SigningError(f"The generation request is not a JSON object ({type(request)}).")
    return request


def _find_model_hash(req: dict[str, Any]) -> str | None:
    for key in ("model_sha256", "model_hash", "sha256"):
        if isinstance(req.get(key), str):
            return req[key]
    model = req.get("model")
    if isinstance(model, dict):
        return _find_model_hash(model)
    return None


def _input(title: str, sha256: str, source: str, kind: str, **extra: Any) -> dict[str, Any]:
    """A model file the image was made with: a C2PA 2.x ``inputTo`` ingredient that names it
    and pins it by hash (the file itself is not embedded, only described)."""
    ingredient: dict[str, Any] = {
        "title": title, "format": "application/octet-stream", "relationship": "inputTo",
        "instance_id": f"sha256:{sha256}", "data_types": [{"type": "c2pa.types.model"}],
        "description": f"{kind} sha256 {sha256}",
        "metadata": {"sha256": sha256, "kind": kind, **({"source": source} if source else {}),
                     **extra},
    }
    if source.startswith(("http://", "https://")):
        ingredient["informational_URI"] = source
    elif source:
        repo = source.split("@")[0].split(":")[0]
        ingredient["informational_URI"] = f"https://huggingface.co/{repo}"
    return ingredient


def input_ingredients(req: dict[str, Any]) -> list[dict[str, Any]]:
    """The checkpoint and each LoRA of a generation request, as ``inputTo`` ingredients."""
    out = []
    model_hash = _find_model_hash(req)
    if model_hash:
        out.append(_input(str(req.get("model_name") or req.get("model_id") or "model"),
                          model_hash, str(req.get("model_source") or ""), "checkpoint"))
    for lora in req.get("loras") or []:
        if isinstance(lora, dict) and isinstance(lora.get("sha256"), str):
            out.append(_input(str(lora.get("name") or lora.get("id") or "LoRA"),
                              lora["sha256"], str(lora.get("source") or ""), "lora",
                              weight=lora.get("weight", 1.0)))
    return out


_EDIT_WORDS = {
    "img2img": "Image-to-image generation from the source image",
    "inpaint": "Regenerated the masked area with a trained model; the rest is the source",
    "outpaint": "Extended the canvas and filled the new area with a trained model; the "
                "source area is unchanged",
}


def request_mode(req: dict[str, Any]) -> str:
    """The edit a request dict describes (GenerationRequest.mode, from its JSON)."""
    if req.get("init_asset_id") is None and not req.get("init_sha256"):
        return "txt2img"
    if any(int(req.get(f"outpaint_{k}") or 0) for k in ("left", "top", "right", "bottom")):
        return "outpaint"
    return "inpaint" if req.get("mask_sha256") else "img2img"


def edit_actions(mode: str, *, mask: bool = False,
                 parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """c2pa.opened (the parent) then what was done to it: c2pa.edited by a trained model for
    img2img / inpaint / outpaint (the mask named as its input), c2pa.resized for an upscale."""
    agent = software_agent()
    actions: list[dict[str, Any]] = [
        {"action": "c2pa.opened", "softwareAgent": agent, "when": _now(),
         "parameters": {"ingredientIds": ["parent"]}}]
    if mode == "upscale":
        params = dict(parameters or {})
        step: dict[str, Any] = {"action": "c2pa.resized", "softwareAgent": agent,
                                "when": _now(), "description": "Upscaled"
                                + (f" with the model {params['model']}" if params.get("model")
                                   else " (Lanczos resampling)"), "parameters": params}
        if params.get("model"):
            step["digitalSourceType"] = ENHANCED
        actions.append(step)
        return actions
    step = {"action": "c2pa.edited", "softwareAgent": agent, "when": _now(),
            "digitalSourceType": COMPOSITE_TRAINED,
            "description": _EDIT_WORDS.get(mode, _EDIT_WORDS["img2img"])}
    if mask:
        step["parameters"] = {"ingredientIds": ["mask"]}
    actions.append(step)
    return actions


def generation_manifest(req: dict[str, Any], seed: int, *, binding: dict[str, Any] | None,
                        policy: str, img2img: bool, mask: bool = False,
                        producer: dict[str, str] | None = None) -> dict[str, Any]:
    if img2img:
        actions = edit_actions(request_mode(req), mask=mask)
    else:
        agent = software_agent()
        actions = [{"action": "c2pa.created", "softwareAgent": agent, "when": _now(),
                    "digitalSourceType": TRAINED}]
    generation: dict[str, Any] = {"request": req, "seed": int(seed),
                                  "model_sha256": _find_model_hash(req)}
    if producer:  # which backend and device rendered the pixels (a batch on a Ray cluster)
        generation["producer"] = dict(producer)
    assertions: list[dict[str, Any]] = [
        actions_assertion(actions),
        {"label": GENERATION_LABEL, "data": generation},
        {"label": TRAINING_MINING_LABEL, "data": training_mining(policy)},
    ]
    if binding is not None:
        assertions.append({"label": BINDING_LABEL, "data": binding})
    manifest = _manifest(str(req.get("prompt", ""))[:80] or "Generated image", assertions)
    manifest["ingredients"] = input_ingredients(req)
    return manifest


def _manifest(title: str, assertions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "claim_generator_info": [claim_generator()],
        "title": title,
        "assertions": assertions,
    }


THUMBNAIL_ID = "thumbnail.jpg"
THUMBNAIL_QUALITY = 75
# Above this many pixels a PNG's thumbnail is left to c2pa: its PNG decoder is faster than
# Pillow's on large images, Pillow's integer reduce faster on small ones (bench/provenance.py).
SDK_THUMBNAIL_PIXELS = 1_600_000
SDK_THUMBNAIL_MIN_FILE = 1_000_000  # large enough that c2pa's 512 px JPEG is within budget
THUMBNAIL_MIN_BUDGET = 4096
THUMBNAIL_MIN_EDGE = 64


@dataclass(frozen=True)
class ThumbnailPlan:
    jpeg: bytes | None = None  # made here (Pillow)
    sdk_long_edge: int | None = None  # or made by c2pa at this long edge


def thumbnail_budget(file_size: int) -> int:
    """Most bytes a thumbnail may add: a tenth of the file, never under 4 KB. A highly
    compressed file (a 5 KB WebP) must not grow many times over for its thumbnail."""
    return max(THUMBNAIL_MIN_BUDGET, file_size // 10)


def plan_thumbnail(data: bytes) -> ThumbnailPlan:
    """The manifest thumbnail: a JPEG with a long edge of half the image's, at most
    THUMBNAIL_CAP, and within ``thumbnail_budget`` (smaller and plainer until it fits, else
    none); none for images of THUMBNAIL_MIN_IMAGE px or less (they are their own thumbnail)
    or that cannot be decoded (the signature is what matters)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            long_edge = max(img.size)
            if long_edge <= THUMBNAIL_MIN_IMAGE:
                return ThumbnailPlan()
            target = min(THUMBNAIL_CAP, long_edge // 2)
            if (img.format == "PNG" and width * height > SDK_THUMBNAIL_PIXELS
                    and len(data) >= SDK_THUMBNAIL_MIN_FILE):
                return ThumbnailPlan(sdk_long_edge=target)
            if img.format == "JPEG":
                img.draft("RGB", (target, target))  # DCT scaling: a cheap decode
            img = img.convert("RGB")
    except Exception:
        log.info("no thumbnail: the image could not be decoded")
        return ThumbnailPlan()
    factor = max(img.size) // target
    if factor > 1:
        img = img.reduce(factor)  # integer box reduce: fast
    budget = thumbnail_budget(len(data))
    edge = target
    while edge >= THUMBNAIL_MIN_EDGE:
        if max(img.size) > edge:
            img.thumbnail((edge, edge), Image.Resampling.BILINEAR)
        for quality in (THUMBNAIL_QUALITY, 50):
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=quality)
            if buf.tell() <= budget:
                return ThumbnailPlan(jpeg=buf.getvalue())
        edge //= 2
    return ThumbnailPlan()  # no thumbnail fits: the file is small enough to be its own


def _settings_context(plan: ThumbnailPlan):
    import c2pa

    thumb: dict[str, Any] = {"enabled": False}
    if plan.sdk_long_edge:
        thumb = {"enabled": True, "long_edge": plan.sdk_long_edge, "format": "jpeg",
                 "prefer_smallest_format": False, "quality": "medium"}
    config = {"builder": {"thumbnail": thumb}, "verify": {"verify_after_sign": False}}
    return c2pa.Context(c2pa.Settings.from_dict(config))


def sign_bytes(data: bytes, manifest: dict[str, Any], identity: SigningIdentity,
               parent: Parent | None = None, tsa_url: str | None = None,
               inputs: tuple[Parent, ...] = (), marker: Marker | None = None,
               keep_mask: bytes | None = None) -> bytes:
    """Embed a manifest in ``data`` (PNG, JPEG or WebP, told apart by content) and sign it.

    ``tsa_url``: an RFC 3161 time-stamp authority; the signature then carries a trusted time,
    so it stays checkable after the certificate expires. None (the default, for privacy)
    contacts nobody. ``inputs``: more ingredients after the parent (an edit's mask).
    With a ``marker`` the pixels get an invisible watermark first and the manifest a
    ``c2pa.soft-binding`` assertion declaring it (see soft_binding.py); ``keep_mask`` (an
    edit's mask, 0 = untouched) keeps the watermark off the pixels the edit left as they were.
    """
    import c2pa

    mime = sniff_mime(data[:64])
    if mime not in SIGNABLE:
        raise SigningError(f"Only PNG, JPEG and WebP files can be signed here (this file is "
                           f"{mime or 'of an unknown type'}).")
    if marker is not None:
        marked = marker.apply(data, manifest, keep=keep_mask)
        signed = sign_bytes(marked.data, marked.manifest, identity, parent, tsa_url, inputs)
        marker.signed(marked, signed)
        return signed
    try:
        plan = plan_thumbnail(data)
        if plan.jpeg is not None:
            manifest = {**manifest, "thumbnail": {"format": "image/jpeg",
                                                  "identifier": THUMBNAIL_ID}}
        builder = c2pa.Builder(json.dumps(manifest), context=_settings_context(plan))
        with builder:
            if plan.jpeg is not None:
                builder.add_resource(THUMBNAIL_ID, io.BytesIO(plan.jpeg))
            for ingredient in ([parent] if parent is not None else []) + list(inputs):
                pmime = sniff_mime(ingredient.data[:64])
                if pmime is None:
                    raise SigningError(f"The format of {ingredient.title} is not recognised.")
                builder.add_ingredient(
                    json.dumps({"title": ingredient.title,
                                "relationship": ingredient.relationship,
                                "label": ingredient.label}),
                    pmime, io.BytesIO(ingredient.data))
            alg = getattr(c2pa.C2paSigningAlg, identity.alg.upper())
            info = c2pa.C2paSignerInfo(alg,
                                       identity.chain_pem.encode("ascii"),
                                       identity.key_pem.encode("ascii"),
                                       tsa_url.encode("ascii") if tsa_url else None)
            with c2pa.Signer.from_info(info) as signer:
                out = io.BytesIO()
                builder.sign(signer, mime, io.BytesIO(data), out)
                return out.getvalue()
    except c2pa.C2paError as exc:
        if tsa_url and ("timestamp" in str(exc).lower() or "tsa" in str(exc).lower()):
            raise SigningError(f"The time-stamp authority {tsa_url} did not answer with a "
                               f"usable time stamp ({exc}). Nothing was signed; check the "
                               "TSA URL in Settings > Provenance.") from exc
        raise SigningError(f"Signing failed: {exc}") from exc


def _provenance_settings(settings: Any):
    return getattr(settings, "provenance", settings)


def tsa_url(prov: Any) -> str | None:
    """The configured time-stamp authority, or None (the default: no network)."""
    url = str(getattr(prov, "tsa_url", "") or "").strip()
    return url or None


class GenerationSigner:
    """``sign(png_bytes, request, seed, parent=None) -> signed bytes``; thread-safe.

    The identity and the wallet binding are made once, on the first call (so a window that
    never generates never touches the keyring).
    """

    def __init__(self, paths: StudioPaths, settings: Any, account: SigningAccount | None,
                 account_resolver: Callable[[], SigningAccount | None] | None = None) -> None:
        # account_resolver defers the keyring read for the wallet to the first signature.
        self.paths, self.account = paths, account
        self._resolve_account = account_resolver
        self.prov = _provenance_settings(settings)
        self._lock = threading.Lock()
        self._identity: SigningIdentity | None = None
        self._binding: dict[str, Any] | None = None
        self.marker = marker_for(paths, settings)

    def prepare(self) -> tuple[SigningIdentity, dict[str, Any] | None]:
        with self._lock:
            if self._identity is not None and self._identity.needs_renewal():
                self._identity = None  # a long session: renew, and the wallet re-binds
            if self._identity is None:
                if self.account is None and self._resolve_account is not None:
                    self.account = self._resolve_account()
                address = self.account.address if self.account is not None else None
                ident = IdentityManager(self.paths).ensure(self.prov.creator_name, address)
                self._binding = (make_binding(self.account, ident.cert_pem)
                                 if self.account is not None else None)
                self._identity = ident
            return self._identity, self._binding

    def __call__(self, data: bytes, request: Any, seed: int,
                 parent: Path | Parent | None = None,
                 inputs: tuple[Parent, ...] = (), *,
                 producer: dict[str, str] | None = None) -> bytes:
        identity, binding = self.prepare()
        req = request_dict(request)
        if parent is None and isinstance(req.get("init_image"), str):
            init = Path(req["init_image"])
            parent = init if init.is_file() else None
        if isinstance(parent, Path):
            parent = Parent(parent.read_bytes(), parent.name)
        manifest = generation_manifest(req, seed, binding=binding,
                                       policy=self.prov.training_mining,
                                       img2img=parent is not None,
                                       mask=any(i.label == "mask" for i in inputs),
                                       producer=producer)
        mask = next((i.data for i in inputs if i.label == "mask"), None)
        return sign_bytes(data, manifest, identity, parent, tsa_url=tsa_url(self.prov),
                          inputs=inputs, marker=self.marker, keep_mask=mask)

    def sign_upscale(self, data: bytes, info: dict[str, Any], parent: Parent) -> bytes:
        """An upscaled copy of ``parent``: c2pa.resized, with how it was upscaled."""
        identity, binding = self.prepare()
        assertions: list[dict[str, Any]] = [
            actions_assertion(edit_actions("upscale", parameters=info)),
            {"label": GENERATION_LABEL, "data": {"upscale": info}},
            {"label": TRAINING_MINING_LABEL, "data": training_mining(self.prov.training_mining)},
        ]
        if binding is not None:
            assertions.append({"label": BINDING_LABEL, "data": binding})
        manifest = _manifest(f"Upscaled {parent.title}"[:80], assertions)
        return sign_bytes(data, manifest, identity, parent, tsa_url=tsa_url(self.prov),
                          marker=self.marker)


def make_generation_signer(paths: StudioPaths, settings: Any,
                           account: SigningAccount | None) -> Callable[..., bytes]:
    """The ``sign`` callable for ``store_output(..., sign=...)``: ``sign(png, request, seed)``.

    ``settings`` is the app Settings (or its ProvenanceSettings); ``account`` the active
    wallet's LocalAccount (None signs without a wallet binding).
    """
    return GenerationSigner(paths, settings, account)


def attest_manifest(title: str, binding: dict[str, Any] | None, policy: str) -> dict[str, Any]:
    """The manifest for "Attest…": the original is the parent; nothing was changed."""
    agent = software_agent()
    assertions: list[dict[str, Any]] = [
        actions_assertion([
            {"action": "c2pa.opened", "softwareAgent": agent, "when": _now(),
             "parameters": {"ingredientIds": ["parent"]}},
        ]),
        {"label": TRAINING_MINING_LABEL, "data": training_mining(policy)},
    ]
    if binding is not None:
        assertions.append({"label": BINDING_LABEL, "data": binding})
    return _manifest(title, assertions)
