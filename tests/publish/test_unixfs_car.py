"""Local CIDs against the JS reference importer (npm ``ipfs-only-hash``, the code js-ipfs uses
for ``ipfs add``), and CAR files checked block by block and by the npm ``ipfs-car`` tool."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from studio.core.publish.car import export_car
from studio.core.publish.unixfs import CHUNK_SIZE, build_dag, cid_to_str, file_cid

NODE_DIR = Path(__file__).parent / "node"
SIZES = [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * 1024 * 1024 + 123]


def node_tools() -> Path:
    """The node_modules folder with the reference tools, installed on first use."""
    modules = NODE_DIR / "node_modules"
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed: cannot run the ipfs-only-hash reference")
    if not (modules / "ipfs-only-hash").is_dir() or not (modules / "ipfs-car").is_dir():
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm install of the reference tools failed: {done.stderr[-300:]}")
    return modules


def reference_cids(files: list[Path], **env: str) -> list[str]:
    node_tools()
    out = subprocess.run(["node", str(NODE_DIR / "hash.js"), *map(str, files)],
                         capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, **env})
    return out.stdout.split()


@pytest.fixture
def sample_files(tmp_path: Path) -> list[Path]:
    rng = __import__("random").Random(7)
    files = []
    for size in SIZES:
        path = tmp_path / f"sample-{size}.bin"
        path.write_bytes(rng.randbytes(size))
        files.append(path)
    return files


def test_cids_match_ipfs_add_cid_version_1(sample_files: list[Path]) -> None:
    ours = [file_cid(p) for p in sample_files]
    assert ours == reference_cids(sample_files)
    assert ours[0] == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"  # empty
    assert all(c.startswith("bafkrei") for c in ours[:3])  # one chunk: a raw leaf
    assert all(c.startswith("bafybei") for c in ours[3:])  # a dag-pb root


def test_deep_balanced_tree_matches(tmp_path: Path) -> None:
    # Small chunks and fan-out give a three-level tree without a 45 MB file.
    path = tmp_path / "deep.bin"
    path.write_bytes(os.urandom(20_000))
    ours = cid_to_str(build_dag(path, chunk_size=1024, max_links=4).cid)
    assert [ours] == reference_cids([path], CHUNK="1024", MAX_LINKS="4")


def read_car(path: Path) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    data = path.read_bytes()

    def varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = data[pos]
            value |= (byte & 0x7F) << shift
            pos, shift = pos + 1, shift + 7
            if not byte & 0x80:
                return value, pos

    length, pos = varint(0)
    header, pos = data[pos:pos + length], pos + length
    blocks = []
    while pos < len(data):
        length, pos = varint(pos)
        entry, pos = data[pos:pos + length], pos + length
        blocks.append((entry[:36], entry[36:]))  # CIDv1 sha2-256: 36 bytes
    return header, blocks


def test_car_export_is_valid_and_unpacks(sample_files: list[Path], tmp_path: Path) -> None:
    src = sample_files[-1]
    car = tmp_path / "out.car"
    root = export_car(src, car)
    assert root == file_cid(src)
    header, blocks = read_car(car)
    assert b"roots" in header and b"version" in header
    assert cid_to_str(blocks[0][0]) == root  # root first
    for cid, block in blocks:  # every block is what its CID says
        assert cid[-32:] == hashlib.sha256(block).digest()
    assert len(blocks) == 1 + -(-src.stat().st_size // CHUNK_SIZE)

    modules = node_tools()
    cli = ["node", str(modules / "ipfs-car" / "bin.js")]
    roots = subprocess.run([*cli, "roots", str(car)], capture_output=True, text=True,
                           check=True, timeout=120).stdout.split()
    assert roots == [root]
    unpacked = tmp_path / "unpacked.bin"
    subprocess.run([*cli, "unpack", str(car), "--output", str(unpacked)], check=True,
                   capture_output=True, timeout=120)
    assert unpacked.read_bytes() == src.read_bytes()


def test_car_of_a_missing_file_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        export_car(tmp_path / "nope.png", tmp_path / "x.car")
    assert list(tmp_path.iterdir()) == []
