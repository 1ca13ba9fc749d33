"""Local HTTP stand-ins for a remote IPFS node and a pinning service.

They are FAKES because no IPFS node or pinning service can run here (no network, no Kubo
binary). Each implements only the endpoints the studio calls, on 127.0.0.1, in a thread with
its own event loop (aiohttp.web), so both async tests and the synchronous CLI can use them.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from studio.core.publish.unixfs import file_cid

WRONG_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


class _Server:
    def __init__(self, token: str | None) -> None:
        self.token = token
        self.delay = 0.0  # seconds to stall before answering (timeout tests)
        self.wrong_cid = False  # report WRONG_CID instead of the real one (mismatch tests)
        self.requests: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.url = ""

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _authorised(self, request: web.Request) -> bool:
        return self.token is None or request.headers.get("Authorization") == \
            f"Bearer {self.token}"

    async def _start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self):
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class FakeKuboNode(_Server):
    """Fake (no IPFS node can run here): Kubo's ``POST /api/v0/add``. The honest answer is
    computed with the project's own UnixFS code over the bytes actually received."""

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v0/add", self.add)

    async def add(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(self.delay)
        if not self._authorised(request):
            return web.json_response({"Message": "unauthorized", "Code": 0, "Type": "error"},
                                     status=401)
        params = dict(request.query)
        if params.get("cid-version") != "1" or params.get("raw-leaves") != "true":
            return web.json_response({"Message": f"unexpected options {params}"}, status=400)
        reader = await request.multipart()
        part = await reader.next()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "upload"
            with open(path, "wb") as fh:
                while chunk := await part.read_chunk():
                    fh.write(chunk)
            data = path.read_bytes()
            cid = WRONG_CID if self.wrong_cid else file_cid(path)
        self.requests.append({"params": params, "name": part.filename, "data": data})
        body = f'{{"Name":"{part.filename}","Hash":"{cid}","Size":"{len(data)}"}}\n'
        return web.Response(text=body, content_type="application/json")


class FakePinningService(_Server):
    """Fake (no pinning service can run here): the IPFS Pinning Service API's ``POST /pins``
    and ``GET /pins/{requestid}``. A pin goes queued -> pinning -> ``final`` over two polls."""

    def __init__(self, token: str | None, final: str = "pinned") -> None:
        super().__init__(token)
        self.final = final
        self.pins: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/pins", self.add)
        app.router.add_get("/pins/{requestid}", self.status)

    def _deny(self) -> web.Response:
        return web.json_response({"error": {"reason": "UNAUTHORIZED",
                                            "details": "bad access token"}}, status=401)

    def _answer(self, pin: dict[str, Any]) -> web.Response:
        cid = WRONG_CID if self.wrong_cid else pin["cid"]
        return web.json_response({"requestid": pin["requestid"], "status": pin["status"],
                                  "created": "2026-01-01T00:00:00Z",
                                  "pin": {"cid": cid, "name": pin["name"]}, "delegates": []},
                                 status=202 if pin["status"] == "queued" else 200)

    async def add(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        if not self._authorised(request):
            return self._deny()
        body = await request.json()
        self.requests.append(body)
        pin = {"requestid": f"req-{len(self.pins) + 1}", "status": "queued",
               "cid": body["cid"], "name": body.get("name", ""), "polls": 0}
        self.pins[pin["requestid"]] = pin
        return self._answer(pin)

    async def status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._deny()
        pin = self.pins.get(request.match_info["requestid"])
        if pin is None:
            return web.json_response({"error": {"reason": "NOT_FOUND"}}, status=404)
        pin["polls"] += 1
        pin["status"] = "pinning" if pin["polls"] < 2 else self.final
        return self._answer(pin)
