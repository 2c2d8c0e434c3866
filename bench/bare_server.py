"""The bare baseline as a process of its own: what any webhook receiver must do (read the
body, verify the HMAC, parse the JSON, answer 202) and nothing else; and a bare websocket
endpoint that holds sockets (the memory baseline).

    python -m bench.bare_server --port 18000 --secret S [--reuse-port]
"""

from __future__ import annotations

import argparse
import json

from aiohttp import web

from csdesk.ingest.signature import verify


def bare_app(secret: str) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(body, secret, request.headers.get("X-Csdesk-Signature")):
            return web.json_response({"error": "signature"}, status=401)
        event = json.loads(body)
        return web.json_response({"accepted": True, "event_id": event["event_id"]}, status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_post("/api/v1/events", receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/ws", socket)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--reuse-port", action="store_true")
    args = parser.parse_args()
    web.run_app(
        bare_app(args.secret),
        host="127.0.0.1",
        port=args.port,
        reuse_port=args.reuse_port or None,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
