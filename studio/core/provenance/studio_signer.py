"""The signer every generated image goes through: the install's signing identity, bound to the
active wallet when there is one, with the source from the library as the parent (and an
inpaint / outpaint mask as an input)."""

from __future__ import annotations

from typing import Any

from studio.core.library import Library
from studio.core.library.models import Asset
from studio.core.paths import StudioPaths
from studio.core.provenance.attest import active_account
from studio.core.provenance.signing import GenerationSigner, Parent


class StudioSigner:
    """``sign(png_bytes, request, seed) -> signed bytes`` for ``GenerationEngine(sign=...)``,
    and :meth:`upscale` for upscaled copies. Nothing is read from the keyring until the first
    image is signed."""

    def __init__(self, paths: StudioPaths, settings: Any, library: Library) -> None:
        self.library = library
        self.signer = GenerationSigner(paths, settings, None,
                                       account_resolver=lambda: active_account(paths, settings))

    def parent_of(self, source: Asset) -> Parent:
        name = source.title or source.original_name or source.sha256[:12]
        return Parent(self.library.path_of(source).read_bytes(), name)

    def __call__(self, data: bytes, request: Any, seed: int, *,
                 producer: dict[str, str] | None = None) -> bytes:
        parent = None
        inputs: tuple[Parent, ...] = ()
        source_sha = getattr(request, "init_sha256", None)
        if source_sha:
            source = self.library.get_by_sha256(source_sha)
            if source is not None:
                parent = self.parent_of(source)
                inputs = self._mask_input(request)
        return self.signer(data, request, seed, parent, inputs, producer=producer)

    def _mask_input(self, request: Any) -> tuple[Parent, ...]:
        from studio.core.generation.edit import mask_for

        mask = mask_for(self.library, request)
        if mask is None:
            return ()
        title = f"{request.mode} mask" if hasattr(request, "mode") else "mask"
        return (Parent(mask, title, relationship="inputTo", label="mask"),)

    def upscale(self, data: bytes, info: dict[str, Any], source: Asset) -> bytes:
        return self.signer.sign_upscale(data, info, self.parent_of(source))


def studio_signer(paths: StudioPaths, settings: Any, library: Library) -> StudioSigner:
    return StudioSigner(paths, settings, library)
