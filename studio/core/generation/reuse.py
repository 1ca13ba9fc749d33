"""Reuse settings: the request that made a studio output, read back from its credentials (or
the library's generation record), so the same request makes the same pixels again."""

from __future__ import annotations

from pathlib import Path

from studio.core.generation.errors import RequestError
from studio.core.generation.request import GenerationRequest
from studio.core.library import Library


def request_from_credentials(data: bytes, name: str = "") -> GenerationRequest:
    """The request recorded in a signed studio output's C2PA manifest."""
    from studio.core.provenance.reader import read_report_bytes

    report = read_report_bytes(data, name=name)
    if not report.has_credentials:
        raise RequestError(f"{name or 'The file'} has no content credentials to take settings "
                           "from" + (f" ({report.error})" if report.error else "") + ".")
    if not report.is_valid:
        raise RequestError(f"The credentials of {name or 'the file'} do not validate ("
                           + "; ".join(report.failures) + "); their settings are not reused.")
    gen = report.generation or {}
    if "upscale" in gen and "request" not in gen:
        raise RequestError("This image is an upscaled copy; reuse the settings of its source "
                           "image, or upscale again with `studio upscale`.")
    if not isinstance(gen.get("request"), dict):
        raise RequestError(f"The credentials of {name or 'the file'} do not record how it was "
                           "generated (it was not made by this studio).")
    req = GenerationRequest.from_dict(gen["request"])
    seed = gen.get("seed")
    if isinstance(seed, int) and seed != req.seed:
        raise RequestError("The recorded seed and request disagree; the credentials are "
                           "inconsistent.")
    return req


def reuse_request(library: Library, spec: str) -> GenerationRequest:
    """``spec``: a library asset id or sha256, or a file path. The asset's own credentials
    come first; an unsigned library output falls back to its generation record."""
    from studio.core.generation.output import generation_record

    asset = None
    if spec.isdigit():
        asset = library.get(int(spec))
    elif len(spec) == 64 and all(c in "0123456789abcdefABCDEF" for c in spec):
        asset = library.get_by_sha256(spec)
    if asset is not None:
        path, name = library.path_of(asset), f"asset {asset.id}"
    else:
        path, name = Path(spec).expanduser(), Path(spec).name
        if not path.is_file():
            raise RequestError(f"{spec!r} is neither a library asset nor a file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RequestError(f"{name} cannot be read: {exc.strerror or exc}") from exc
    try:
        return request_from_credentials(data, name)
    except RequestError:
        record = generation_record(library, asset.id) if asset is not None else None
        if record is None:
            raise
        return record["request"]  # an output made before signing was on
