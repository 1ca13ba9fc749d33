"""Files the studio signs validate in a second C2PA implementation (c2pa-node).

c2pa-node downloads its native binary from GitHub in ``postinstall`` (and 0.9.x needs Node 22):
it does not install from the npm registry alone, so this test runs only where
``cd tests/provenance/node && npm install`` has succeeded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.provenance.conftest import REQUEST, image_bytes

NODE_DIR = Path(__file__).parent / "node"
PACKAGE = NODE_DIR / "node_modules" / "@contentauth" / "c2pa-node"


def _node_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not PACKAGE.is_dir():
        return (f"@contentauth/c2pa-node is not installed in {NODE_DIR} (run npm install there;"
                " its postinstall fetches a native binary from GitHub, so it needs internet)")
    return None


@pytest.mark.skipif(_node_ready() is not None, reason=str(_node_ready()))
@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_c2pa_node_validates_studio_output(sign, tmp_path, fmt, mime):
    path = tmp_path / f"out.{fmt.lower()}"
    path.write_bytes(sign(image_bytes(fmt), REQUEST, 3))
    out = subprocess.run(["node", str(NODE_DIR / "verify.mjs"), str(path), mime],
                         capture_output=True, text=True, timeout=120, cwd=NODE_DIR)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["state"] in ("Valid", "Trusted"), result
    assert result["failures"] == []
    assert result["signer"] == "Ada Lovelace"
