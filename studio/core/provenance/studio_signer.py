"""The signer every generated image goes through: the install's signing identity, bound to the
active wallet when there is one, with the img2img source from the library as the parent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.core.library import Library
from studio.core.paths import StudioPaths
from studio.core.provenance.attest import active_account
from studio.core.provenance.signing import GenerationSigner, Parent


def studio_signer(paths: StudioPaths, settings: Any,
                  library: Library) -> Callable[[bytes, Any, int], bytes]:
    """``sign(png_bytes, request, seed) -> signed bytes`` for ``GenerationEngine(sign=...)``.

    Nothing is read from the keyring until the first image is signed.
    """
    signer = GenerationSigner(paths, settings, None,
                              account_resolver=lambda: active_account(paths, settings))

    def sign(data: bytes, request: Any, seed: int) -> bytes:
        parent = None
        source_sha = getattr(request, "init_sha256", None)
        if source_sha:
            source = library.get_by_sha256(source_sha)
            if source is not None:
                name = source.title or source.original_name or f"{source_sha[:12]}"
                parent = Parent(library.path_of(source).read_bytes(), name)
        return signer(data, request, seed, parent)

    return sign
