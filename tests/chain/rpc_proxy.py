"""A FAKE endpoint for the chain tests: an HTTP proxy in front of a real anvil that accepts any
path (so URLs can carry a key-like path, which anvil itself refuses) and can lie.

``lies`` maps a JSON-RPC method to a function of the real result returning the answer the
client gets: an endpoint that inflates fees cannot be produced any other way. Every request
is counted by method, so a test can show that nothing was sent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import ClientSession, web


class RpcProxy:
    def __init__(self, target: str) -> None:
        self.target = target
        self.lies: dict[str, Callable[[Any], Any]] = {}
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, list]] = []  # (method, params), in order

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        payload = json.loads(body)
        batch = payload if isinstance(payload, list) else [payload]
        for item in batch:
            self.calls[item.get("method", "?")] += 1
            self.requests.append((item.get("method", "?"), item.get("params") or []))
        async with ClientSession() as s, s.post(self.target, data=body, headers={
                "Content-Type": "application/json"}) as r:
            answer = await r.json(content_type=None)
        answers = answer if isinstance(answer, list) else [answer]
        for item, reply in zip(batch, answers, strict=False):
            lie = self.lies.get(item.get("method"))
            if lie is not None and "result" in reply:
                reply["result"] = lie(reply["result"])
        return web.json_response(answers if isinstance(answer, list) else answers[0])

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)  # the fake server logs nothing
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()
