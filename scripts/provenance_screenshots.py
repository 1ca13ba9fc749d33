"""Screenshots of the inspector for each verdict class (docs/screenshots/inspector-*.png).

    xvfb-run -a scripts/with-keyring.sh .venv/bin/python scripts/provenance_screenshots.py

Builds real files in a throw-away studio home: trusted (studio identity, its root trusted),
valid-untrusted (a stranger's CA), invalid (one pixel changed), remote (credentials at a URL,
not fetched), expired (a 2-second certificate, no time stamp) and expired-timestamped (the same,
time-stamped by a real local RFC 3161 TSA, ``openssl ts``, whose root the user trusts).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(out_dir: Path) -> None:
    os.environ["STUDIO_HOME"] = tempfile.mkdtemp(prefix="shots-")
    from eth_account import Account
    from PySide6.QtWidgets import QApplication

    from studio.app import create_context
    from studio.core.library.models import AssetOrigin
    from studio.core.paths import resolve_paths
    from studio.core.provenance.identity import IdentityManager
    from studio.core.provenance.signing import make_generation_signer
    from studio.ui.inspector import InspectorPanel
    from tests.provenance.conftest import REQUEST, image_bytes
    from tests.provenance.pki import CA, LocalTSA, pem, sign_with
    from tests.provenance.test_sign_verify import _flip_pixel_byte
    from tests.provenance.test_trust_defects import _manifest, _remote_file

    app = QApplication.instance() or QApplication([])
    paths = resolve_paths().ensure()
    ctx = create_context(paths)
    ctx.settings.provenance.creator_name = "Ada Lovelace"
    sign = make_generation_signer(paths, ctx.settings, Account.from_key("0x" + "11" * 32))
    files: dict[str, bytes] = {}
    files["trusted"] = sign(_picture(), REQUEST, 7)
    root = Path(os.environ["STUDIO_HOME"]) / "root.pem"
    IdentityManager(paths).export_root(root)
    ctx.settings.provenance.trust_anchors.append(str(root))
    stranger = CA.make("Stranger CA")
    key, cert = stranger.issue("Bob the Photographer")
    files["valid-untrusted"] = sign_with(_picture(), _manifest(), key, cert,
                                         stranger)
    files["invalid"] = _flip_pixel_byte(sign(image_bytes("PNG", (96, 64)), REQUEST, 8))
    tmp = Path(tempfile.mkdtemp())
    remote, _ = _remote_file(tmp, "https://credentials.example.org/manifests/cloud.c2pa")
    files["remote"] = remote.read_bytes()
    key, cert = stranger.issue("Short-lived signer",
                               not_after=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2))
    files["expired"] = sign_with(_picture(), _manifest(), key, cert,
                                 stranger)
    # Expired too, but time-stamped by a TSA the user trusts: valid, with the trusted time.
    tsa = LocalTSA()
    tsa_root = Path(os.environ["STUDIO_HOME"]) / "tsa-root.pem"
    tsa_root.write_text(pem(tsa.ca.cert))
    ctx.settings.provenance.trust_anchors.append(str(tsa_root))
    key, cert = stranger.issue("Short-lived signer",
                               not_after=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2))
    files["expired-timestamped"] = sign_with(_picture(), _manifest(), key, cert, stranger,
                                             tsa_url=tsa.url)
    tsa.close()
    time.sleep(3)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        suffix = ".jpg" if name == "remote" else ".png"
        asset, _ = ctx.library.add_bytes(data, suffix=suffix, origin=AssetOrigin.IMPORTED,
                                         media_type="image/jpeg" if name == "remote"
                                         else "image/png", title=f"{name} example")
        panel = InspectorPanel(ctx)
        panel.resize(440, 860)
        panel.show()
        done: list[object] = []
        panel.report_ready.connect(done.append)
        panel.show_asset(asset)
        deadline = time.monotonic() + 30
        while not done and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        app.processEvents()
        path = out_dir / f"inspector-{name}.png"
        panel.grab().save(str(path))
        _shrink(path)
        print(f"{path}: {panel.badge.text()} | {panel.state_label.text()}")
        panel.close()
    ctx.close()


def _picture() -> bytes:
    """A calm test picture (a sky gradient with a sun) that keeps the screenshots small."""
    import io

    from PIL import Image, ImageDraw

    img = Image.linear_gradient("L").resize((320, 240))
    img = Image.merge("RGB", (img.point(lambda v: 60 + v // 3), img.point(lambda v: 90 + v // 3),
                              img.point(lambda v: 200 - v // 4)))
    ImageDraw.Draw(img).ellipse((200, 40, 260, 100), fill=(250, 210, 90))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _shrink(path: Path) -> None:
    """Small PNGs for the docs: a 64-colour palette (text stays crisp)."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
