"""A FAKE PyTorch package index for the provisioning tests: a PEP 503 simple index on
127.0.0.1 serving a tiny stand-in wheel named and versioned like torch (the real one is
~200 MB-3 GB), with HTTP Range support and a log of the requests it answered."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
import time
import zipfile
from pathlib import Path

TORCH_INIT = '''"""FAKE torch: a stand-in built by the provisioning tests, not PyTorch."""
from torch import backends, cuda, version
from torch.version import __version__
'''
CUDA_INIT = '''def is_available():
    return False


def get_device_name(i=0):
    raise RuntimeError("FAKE torch has no GPU")
'''


def build_wheel(out_dir: Path, version: str = "2.13.0+cu128", cuda: str | None = "12.8",
                blob_bytes: int = 3 * 2**20) -> Path:
    """A py3-none-any wheel with torch/{__init__,version}.py, torch/cuda and an incompressible
    blob (so a download takes long enough to be killed halfway)."""
    files = {
        "torch/__init__.py": TORCH_INIT.encode(),
        "torch/version.py": (f"__version__ = {version!r}\ncuda = {cuda!r}\nhip = None\n"
                             ).encode(),
        "torch/cuda/__init__.py": CUDA_INIT.encode(),
        "torch/backends/__init__.py": b"",
        "torch/lib/blob.bin": os.urandom(blob_bytes),
    }
    dist = f"torch-{version}.dist-info"
    files[f"{dist}/METADATA"] = (f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n"
                                 "Summary: FAKE stand-in for tests\n").encode()
    files[f"{dist}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: studio-tests\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = out_dir / f"torch-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


class FakeIndex:
    """``with FakeIndex(wheel) as idx:`` — ``idx.url`` is the simple index root."""

    def __init__(self, wheel: Path, *, chunk_delay: float = 0.002) -> None:
        self.wheel = wheel
        self.data = wheel.read_bytes()
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        self.requests: list[tuple[str, str, str]] = []  # (method, path, Range header)
        self.sent: dict[str, int] = {}  # Range header ("" for none) -> bytes sent for it
        self.chunk_delay = chunk_delay
        self._server: http.server.ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeIndex:
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _page(self) -> bytes | None:
                name = index.wheel.name
                if self.path.rstrip("/") in ("/simple/torch",):
                    return (f'<html><body><a href="../../files/{name}#sha256={index.sha256}">'
                            f"{name}</a></body></html>").encode()
                return None

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                rng = self.headers.get("Range", "")
                index.requests.append((self.command, self.path, rng))
                page = self._page()
                if page is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    if not head:
                        self.wfile.write(page)
                    return
                if self.path != f"/files/{index.wheel.name}":
                    self.send_error(404)
                    return
                start = 0
                if rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(index.data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(index.data)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(index.data) - 1}/{len(index.data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(index.data) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if head:
                    return
                try:
                    for off in range(start, len(index.data), 65536):
                        piece = index.data[off:off + 65536]
                        self.wfile.write(piece)
                        index.sent[rng] = index.sent.get(rng, 0) + len(piece)
                        time.sleep(index.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed mid-download

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/simple"

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
