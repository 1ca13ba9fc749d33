"""CARv1 export: one file's UnixFS DAG in a Content Addressable aRchive, for any IPFS node
or pinning service to import (``ipfs dag import``)."""

from __future__ import annotations

import os
from pathlib import Path

from studio.core.publish.unixfs import build_dag, cid_to_str, iter_blocks, varint


def _car_header(root: bytes) -> bytes:
    # DAG-CBOR {"roots": [CID], "version": 1}; keys in canonical (length-first) order and the
    # CID as tag 42 over its bytes with the 0x00 multibase-identity prefix.
    cid = b"\x00" + root
    assert len(cid) < 256
    body = (b"\xa2" + b"\x65roots" + b"\x81" + b"\xd8\x2a" + b"\x58" + bytes([len(cid)]) + cid
            + b"\x67version" + b"\x01")
    return varint(len(body)) + body


def export_car(src: Path, dest: Path) -> str:
    """Write ``src`` as a CARv1 file at ``dest`` (atomically). Returns the root CID."""
    root = build_dag(src)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with open(tmp, "wb") as out:
            out.write(_car_header(root.cid))
            for cid, block in iter_blocks(root, src):
                out.write(varint(len(cid) + len(block)) + cid + block)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return cid_to_str(root.cid)
