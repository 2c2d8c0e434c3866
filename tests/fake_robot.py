"""A local stand-in for DingTalk's custom robot and WeCom's group robot (we cannot run the
real ones): an aiohttp app on 127.0.0.1 that checks each message as the real service
would, and records what it accepted.

DingTalk (加签): ``POST /robot/send?access_token=…&timestamp=<ms>&sign=<s>``. The sign must
be base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>")), URL-encoded, and the
timestamp within an hour of the receiver's clock; a wrong or missing sign, or an old
timestamp, is refused with HTTP 200 and ``{"errcode": 310000, ...}`` (DingTalk's answer).
WeCom: ``POST /cgi-bin/webhook/send?key=…``. Both want ``{"msgtype": "markdown", ...}``.

``fail_next`` makes the next N requests fail with ``fail_status`` (a robot or network
outage) before any check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

HOUR_MS = 3600 * 1000


@dataclass
class FakeRobot:
    access_token: str = "robot-token"
    secret: str = "SEC-test-secret-0123456789"
    wecom_key: str = "wecom-key"
    fail_next: int = 0
    fail_status: int = 500
    accepted: list[dict[str, Any]] = field(default_factory=list)
    """Messages accepted, each ``{"robot", "body", "timestamp"}``."""
    refused: list[str] = field(default_factory=list)
    """Why each refused request was refused (``sign not match`` ...)."""
    requests: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/robot/send", self.dingtalk)
        app.router.add_post("/cgi-bin/webhook/send", self.wecom)
        return app

    def _refuse(self, code: int, message: str) -> web.Response:
        self.refused.append(message)
        return web.json_response({"errcode": code, "errmsg": message})

    def _outage(self) -> web.Response | None:
        self.requests += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            self.refused.append(f"HTTP {self.fail_status}")
            return web.Response(status=self.fail_status, text="robot unavailable")
        return None

    async def _markdown(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return None
        if not isinstance(body, dict) or body.get("msgtype") != "markdown":
            return None
        return body

    async def dingtalk(self, request: web.Request) -> web.Response:
        outage = self._outage()
        if outage is not None:
            return outage
        if request.query.get("access_token") != self.access_token:
            return self._refuse(300001, "token is not exist")
        timestamp = request.query.get("timestamp", "")
        sign = request.query.get("sign", "")  # aiohttp has URL-decoded it, as DingTalk does
        if not timestamp.isdigit() or not sign:
            return self._refuse(310000, "sign not match")
        if abs(int(time.time() * 1000) - int(timestamp)) > HOUR_MS:
            return self._refuse(310000, "invalid timestamp")
        string_to_sign = f"{timestamp}\n{self.secret}".encode()
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), string_to_sign, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(sign, expected):
            return self._refuse(310000, "sign not match")
        body = await self._markdown(request)
        if body is None or not {"title", "text"} <= set(body.get("markdown", {})):
            return self._refuse(40035, "缺少参数 json")
        self.accepted.append({"robot": "dingtalk", "body": body, "timestamp": int(timestamp)})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wecom(self, request: web.Request) -> web.Response:
        outage = self._outage()
        if outage is not None:
            return outage
        if request.query.get("key") != self.wecom_key:
            return self._refuse(93000, "invalid webhook url")
        body = await self._markdown(request)
        if body is None or "content" not in body.get("markdown", {}):
            return self._refuse(40008, "invalid message type")
        self.accepted.append({"robot": "wecom", "body": body, "timestamp": None})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def texts(self, robot: str = "dingtalk") -> list[str]:
        key = "text" if robot == "dingtalk" else "content"
        return [m["body"]["markdown"][key] for m in self.accepted if m["robot"] == robot]
