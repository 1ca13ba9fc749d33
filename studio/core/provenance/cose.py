"""The certificate that actually signed a manifest, read from the file's own bytes.

c2pa's reader reports the signer's serial number and names, never its key. The wallet binding
must be checked against the key, so this module finds the C2PA manifest store (JUMBF) in a PNG,
JPEG or WebP file, takes the named manifest's ``c2pa.signature`` box (a COSE_Sign1) and returns
its ``x5chain``: the same bytes the SDK verified the signature with.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping

_X5CHAIN = 33  # COSE header label (RFC 9360)


class CoseError(ValueError):
    """The manifest's signature could not be located or parsed."""


def _one(found: list[bytes]) -> bytes | None:
    # More than one manifest store is ambiguous: which one did the SDK validate? A forger could
    # plant a second store carrying someone else's certificate, so refuse to pick.
    if len(found) > 1:
        raise CoseError("the file holds more than one C2PA manifest store")
    return found[0] if found else None


def _png_jumbf(data: bytes) -> bytes | None:
    found: list[bytes] = []
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"caBX":
            found.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    return _one(found)


def _webp_jumbf(data: bytes) -> bytes | None:
    found: list[bytes] = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4:pos + 8])
        if kind == b"C2PA":
            found.append(data[pos + 8:pos + 8 + length])
        pos += 8 + length + (length & 1)
    return _one(found)


def _jpeg_jumbf(data: bytes) -> bytes | None:
    # APP11 segments: "JP", box instance (2), sequence (4), then the box; continuation
    # segments repeat the 8-byte box header, which is dropped when joining.
    parts: dict[int, list[tuple[int, bytes]]] = {}
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA):  # end of image / start of scan: no more metadata
            break
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        seg = data[pos + 4:pos + 2 + length]
        if marker == 0xEB and seg[:2] == b"JP" and len(seg) >= 8:
            instance, seq = struct.unpack(">HI", seg[2:8])
            parts.setdefault(instance, []).append((seq, seg[8:]))
        pos += 2 + length
    found: list[bytes] = []
    for chunks in parts.values():
        chunks.sort()
        joined = chunks[0][1] + b"".join(c[8:] for _, c in chunks[1:])
        if _label(joined) == "c2pa":
            found.append(joined)
    return _one(found)


def _boxes(buf: bytes) -> Iterator[tuple[bytes, bytes]]:
    pos = 0
    while pos + 8 <= len(buf):
        size, kind = struct.unpack(">I4s", buf[pos:pos + 8])
        head = 8
        if size == 1:
            (size,) = struct.unpack(">Q", buf[pos + 8:pos + 16])
            head = 16
        elif size == 0:
            size = len(buf) - pos
        if size < head or pos + size > len(buf):
            raise CoseError("a JUMBF box runs past the end of the manifest store")
        yield kind, buf[pos + head:pos + size]
        pos += size


def _label(superbox: bytes) -> str | None:
    """The label of a ``jumb`` box given whole (with its header)."""
    try:
        for kind, payload in _boxes(superbox):
            if kind != b"jumb":
                return None
            return _describe(payload)[0]
    except CoseError:
        return None
    return None


def _describe(jumb_payload: bytes) -> tuple[str | None, list[tuple[bytes, bytes]]]:
    children = list(_boxes(jumb_payload))
    if not children or children[0][0] != b"jumd":
        raise CoseError("a JUMBF superbox has no description box")
    desc = children[0][1]
    label = None
    if len(desc) > 17 and desc[16] & 0x02:
        end = desc.find(b"\x00", 17)
        label = desc[17:end if end >= 0 else None].decode("utf-8", "replace")
    return label, children[1:]


def find_jumbf(data: bytes, mime: str) -> bytes | None:
    """The embedded C2PA manifest store, or None where there is none (or a remote one)."""
    finder = {"image/png": _png_jumbf, "image/jpeg": _jpeg_jumbf,
              "image/webp": _webp_jumbf}.get(mime)
    return finder(data) if finder else None


def signing_chain(data: bytes, mime: str, manifest_label: str) -> list[bytes]:
    """DER certificates (signer first) of ``manifest_label``'s claim signature."""
    import cbor2

    store = find_jumbf(data, mime)
    if store is None:
        raise CoseError("no embedded manifest store")
    (kind, payload), *_ = list(_boxes(store)) or [(b"", b"")]
    if kind != b"jumb":
        raise CoseError("the manifest store is not a JUMBF superbox")
    _, manifests = _describe(payload)
    matching = [parts for label, parts in (_describe(p) for k, p in manifests if k == b"jumb")
                if label == manifest_label]
    if len(matching) > 1:
        raise CoseError(f"manifest {manifest_label} appears more than once")
    if not matching:
        raise CoseError(f"manifest {manifest_label} is not in the file")
    signatures = [content for plabel, content in (_describe(p) for k, p in matching[0]
                                                  if k == b"jumb")
                  if plabel == "c2pa.signature" and content and content[0][0] == b"cbor"]
    if len(signatures) != 1:
        raise CoseError(f"manifest {manifest_label} has {len(signatures)} claim signatures")
    return _x5chain(cbor2.loads(signatures[0][0][1]))


def _x5chain(cose) -> list[bytes]:
    import cbor2

    value = cose.value if isinstance(cose, cbor2.CBORTag) else cose
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise CoseError("the claim signature is not a COSE_Sign1")
    protected = cbor2.loads(value[0]) if value[0] else {}
    unprotected = value[1] if isinstance(value[1], Mapping) else {}
    # The protected header wins (C2PA 2.x puts it there); 1.x readers also accept unprotected.
    chain = (protected.get(_X5CHAIN) if isinstance(protected, Mapping) else None) or \
        unprotected.get(_X5CHAIN) or unprotected.get("x5chain")
    if isinstance(chain, bytes):
        return [chain]
    if isinstance(chain, list | tuple) and chain and all(isinstance(c, bytes) for c in chain):
        return list(chain)
    raise CoseError("the claim signature carries no certificate")
