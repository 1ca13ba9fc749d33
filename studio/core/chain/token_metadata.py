"""The mint's "publish" step: the token's metadata JSON and CIDs, all computed locally from the
library (the bytes stay there; pinning them elsewhere is the publish component's job)."""

from __future__ import annotations

from typing import Any

from studio.core.chain.mintstore import MintRecord
from studio.core.chain.plan import MintError
from studio.core.library import Library


def publish_fields(library: Library, rec: MintRecord) -> dict[str, Any]:
    """The ``mints`` columns the published state fills in for ``rec``."""
    from studio.core.generation.output import generation_record
    from studio.core.publish.metadata import TokenMetadata
    from studio.core.publish.unixfs import file_cid

    asset = library.get(rec.asset_id)
    if asset is None:
        raise MintError(f"Asset #{rec.asset_id} is no longer in the library")
    path = library.path_of(asset)
    if not path.is_file():
        raise MintError(f"The file of asset #{asset.id} is missing from the library store")
    image_cid = file_cid(path)
    model, seed = "", None
    try:
        gen = generation_record(library, asset.id)
    except Exception:  # no generation component or no record: an imported file
        gen = None
    if gen:
        model = str(gen.get("request", {}).get("model_name", "") if isinstance(
            gen.get("request"), dict) else getattr(gen.get("request"), "model_name", ""))
        seed = gen.get("seed")
    label = asset.manifest_label
    if label is None and asset.media_type.startswith("image/"):
        from studio.core.provenance.reader import read_report

        label = read_report(path).manifest_label  # generated files are signed too
    meta = TokenMetadata(name=rec.title, description=rec.description,
                         image=f"ipfs://{image_cid}", sha256=asset.sha256, model=model,
                         seed=seed, manifest_label=label, media_type=asset.media_type,
                         soft_binding=_soft_binding(library, asset, rec))
    return {"metadata_json": meta.to_bytes().decode("utf-8"), "metadata_cid": meta.cid(),
            "image_cid": image_cid, "token_uri": meta.token_uri()}


def _soft_binding(library: Library, asset, rec: MintRecord) -> dict[str, str] | None:
    """The soft binding the mint records on chain, with its algorithm when the file's own
    manifest declares it (an id given by hand for an unmarked file has none)."""
    import base64

    from studio.core.chain.durable import asset_soft_binding

    if not rec.soft_binding_id:
        return None
    value = bytes.fromhex(rec.soft_binding_id)
    own = asset_soft_binding(library, asset)
    alg = own.algorithm if own is not None and own.value == value else ""
    return {"alg": alg, "value": base64.b64encode(value).decode("ascii")}
