"""A FAKE IPFS gateway for tests: remote IPFS cannot be reached here."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from studio.core.publish.unixfs import bytes_cid


class FakeIpfsGateway:
    """A FAKE path-style IPFS gateway on loopback (GET /ipfs/<cid>), standing in for a public
    one. ``tamper`` serves other bytes for a CID, as a dishonest gateway would."""

    def __init__(self) -> None:
        self.blocks: dict[str, bytes] = {}
        self.tamper: dict[str, bytes] = {}
        self.requests: list[str] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                gateway.requests.append(self.path)
                cid = self.path.removeprefix("/ipfs/")
                body = gateway.tamper.get(cid, gateway.blocks.get(cid))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, data: bytes) -> str:
        cid = bytes_cid(data)
        self.blocks[cid] = data
        return cid

    def __enter__(self) -> FakeIpfsGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
