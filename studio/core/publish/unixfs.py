"""The IPFS UnixFS file DAG, built locally: the CID ``ipfs add --cid-version 1`` gives.

Parameters are Kubo's for ``--cid-version 1``: 256 KiB fixed-size chunks stored as raw leaves,
a balanced DAG of dag-pb nodes with at most 174 links, sha2-256, CIDv1 in base32. A file of one
chunk (or none) is its raw leaf. No PyPI package builds UnixFS DAGs (``multiformats`` and
friends stop at encoding a CID), so the few protobuf fields are written here, checked
against the JS reference importer in tests/publish.

Files are streamed: only the dag-pb nodes (a few bytes per 256 KiB) are held in memory.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
_UNIXFS_FILE = 2


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def cid_bytes(codec: int, data: bytes) -> bytes:
    """Binary CIDv1 of ``data`` under ``codec`` with a sha2-256 multihash."""
    digest = hashlib.sha256(data).digest()
    return varint(1) + varint(codec) + varint(SHA2_256) + varint(len(digest)) + digest


def cid_to_str(cid: bytes) -> str:
    """Multibase base32 (lower case, no padding): the ``b`` prefix."""
    return "b" + base64.b32encode(cid).decode("ascii").lower().rstrip("=")


def _field(num: int, wire: int) -> bytes:
    return varint(num << 3 | wire)


def _bytes_field(num: int, value: bytes) -> bytes:
    return _field(num, 2) + varint(len(value)) + value


def _unixfs_file_data(filesize: int, blocksizes: list[int]) -> bytes:
    out = _field(1, 0) + varint(_UNIXFS_FILE) + _field(3, 0) + varint(filesize)
    for size in blocksizes:
        out += _field(4, 0) + varint(size)
    return out


def dag_pb_node(links: list[tuple[bytes, int]], data: bytes) -> bytes:
    """A canonical dag-pb node: links (hash, empty name, tsize) first, then data."""
    out = b""
    for cid, tsize in links:
        link = _bytes_field(1, cid) + _bytes_field(2, b"") + _field(3, 0) + varint(tsize)
        out += _bytes_field(2, link)
    return out + _bytes_field(1, data)


@dataclass
class Node:
    """A DAG node. Leaves point into the file (offset, length); inner nodes carry bytes."""

    cid: bytes
    filesize: int  # bytes of the file below this node
    tsize: int  # bytes of all blocks below and including this node
    offset: int = 0
    block: bytes | None = None  # None for a raw leaf (its bytes are the file's)
    children: list[Node] = field(default_factory=list)


def _leaves(fh, chunk_size: int) -> Iterator[Node]:
    first, offset = True, 0
    while True:
        chunk = fh.read(chunk_size)
        if not chunk and not first:
            return
        first = False
        yield Node(cid_bytes(RAW, chunk), len(chunk), len(chunk), offset=offset)
        offset += len(chunk)
        if len(chunk) < chunk_size:
            return


def _parent(children: list[Node]) -> Node:
    filesize = sum(c.filesize for c in children)
    block = dag_pb_node([(c.cid, c.tsize) for c in children],
                        _unixfs_file_data(filesize, [c.filesize for c in children]))
    return Node(cid_bytes(DAG_PB, block), filesize, len(block) + sum(c.tsize for c in children),
                block=block, children=children)


def build_dag(path: Path, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS) -> Node:
    """The root of ``path``'s balanced UnixFS DAG (the defaults are Kubo's)."""
    with open(path, "rb") as fh:
        level = list(_leaves(fh, chunk_size))
    if len(level) == 1:
        return level[0]  # one chunk: the raw leaf is the file
    while True:
        level = [_parent(level[i:i + max_links]) for i in range(0, len(level), max_links)]
        if len(level) == 1:
            return level[0]


def file_cid(path: Path) -> str:
    """``ipfs add --cid-version 1 --only-hash`` for one file (``bafy...``/``bafk...``)."""
    return cid_to_str(build_dag(path).cid)


def bytes_cid(data: bytes) -> str:
    """The CID of a small in-memory document (metadata JSON): one raw leaf when it fits."""
    if len(data) <= CHUNK_SIZE:
        return cid_to_str(cid_bytes(RAW, data))
    import tempfile

    with tempfile.NamedTemporaryFile() as tmp:
        tmp.write(data)
        tmp.flush()
        return file_cid(Path(tmp.name))


def iter_blocks(root: Node, path: Path) -> Iterator[tuple[bytes, bytes]]:
    """(cid, block bytes) for every block, root first, depth first, each CID once."""
    seen: set[bytes] = set()
    with open(path, "rb") as fh:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.cid in seen:
                continue
            seen.add(node.cid)
            if node.block is None:
                fh.seek(node.offset)
                yield node.cid, fh.read(node.filesize)
            else:
                yield node.cid, node.block
                stack.extend(reversed(node.children))
