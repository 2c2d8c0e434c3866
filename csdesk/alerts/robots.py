"""Group robots (群机器人) and the delivery policy, pure: how a message to a DingTalk custom
robot or a WeCom group robot is addressed, signed and worded, what their answers mean, and
when a failed delivery is tried again. The job that sends is ``jobs.alerts``.

**DingTalk custom robot** (钉钉自定义机器人, 加签 security): ``POST`` the webhook URL
(``https://oapi.dingtalk.com/robot/send?access_token=…``) with ``&timestamp=<ms>&sign=<s>``
added, where ``s`` is ``base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))``,
URL-encoded. DingTalk refuses a wrong sign, and a timestamp more than an hour from its own
clock, with HTTP 200 and ``{"errcode": 310000, ...}``; ``errcode`` 0 means delivered.

**WeCom group robot** (企业微信群机器人): ``POST`` the webhook URL (``…/cgi-bin/webhook/send?
key=…``; the key in the URL is the credential); ``errcode`` 0 means delivered.

Both take ``{"msgtype": "markdown", ...}`` and allow 20 messages a minute per robot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from urllib.parse import parse_qs, quote_plus, urlsplit

from csdesk.clock import require_aware


class Channel(StrEnum):
    DINGTALK = "dingtalk"
    WECOM = "wecom"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"


MAX_ATTEMPTS: Final = 6
RETRY_AFTER_S: Final = (30, 60, 300, 900, 1800)
"""Waits after the 1st, 2nd ... failed attempt (about 52 minutes in all); after the last
attempt fails the delivery is ``failed``."""
CLAIM_LEASE_S: Final = 60
"""A delivery being sent is not picked up again for this long (a worker that died while
sending leaves it to be retried after this)."""
MAX_URL: Final = 500
MAX_SECRET: Final = 200
_CREDENTIAL: Final = {Channel.DINGTALK: "access_token", Channel.WECOM: "key"}


class RobotUrlError(ValueError):
    pass


def check_webhook_url(channel: Channel, url: str) -> str:
    """The webhook URL trimmed, or :class:`RobotUrlError` saying what is wrong: https
    (plain http only to this machine, for a local relay), a host, and the robot's
    credential in the query (``access_token`` for DingTalk, ``key`` for WeCom)."""
    if len(url) > MAX_URL:
        raise RobotUrlError(f"at most {MAX_URL} characters")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RobotUrlError("must be an https:// webhook address")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise RobotUrlError("must be https:// (plain http only to 127.0.0.1 or localhost)")
    credential = _CREDENTIAL[channel]
    if not parse_qs(parts.query).get(credential):
        raise RobotUrlError(f"must carry the robot's {credential}=… (copy the whole webhook)")
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` before URL encoding: base64 of HMAC-SHA256 over
    ``"{timestamp}\\n{secret}"`` keyed with the secret."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_ms(at: datetime) -> int:
    """Milliseconds since the epoch, exactly (no float rounding)."""
    return (require_aware(at) - _EPOCH) // timedelta(milliseconds=1)


def request_url(channel: Channel, url: str, secret: str | None, at: datetime) -> str:
    """Where to POST: the webhook, signed for DingTalk when a secret is set."""
    if channel is not Channel.DINGTALK or not secret:
        return url
    ts = timestamp_ms(at)
    joiner = "&" if urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={ts}&sign={quote_plus(dingtalk_sign(secret, ts))}"


def message_body(channel: Channel, title: str, text: str, console_url: str | None) -> bytes:
    """The robot message: a markdown card with the alert's title and text (and where to
    look, when the desk knows its address). DingTalk's title is the notification preview."""
    lines = [f"### 【csdesk 告警】{title}", "", text]
    if console_url:
        lines += ["", f"[打开告警列表]({console_url})"]
    markdown = "\n".join(lines)
    body: dict[str, Any]
    if channel is Channel.DINGTALK:
        body = {
            "msgtype": "markdown",
            "markdown": {"title": f"csdesk 告警：{title}", "text": markdown},
        }
    else:
        body = {"msgtype": "markdown", "markdown": {"content": markdown}}
    return json.dumps(body, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    """The HTTP status, None when no answer came (refused, timed out)."""
    error: str | None = None

    def to_json(self, at: datetime) -> dict[str, Any]:
        return {"at": at.isoformat(), "ok": self.ok, "status": self.status, "error": self.error}


def read_answer(status: int, body: bytes) -> Outcome:
    """What a robot's answer means: delivered only on 2xx with ``errcode`` 0."""
    if not 200 <= status < 300:
        return Outcome(False, status, f"HTTP {status}")
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return Outcome(False, status, "answer is not JSON")
    if not isinstance(answer, dict):
        return Outcome(False, status, "answer is not a JSON object")
    code = answer.get("errcode", 0)
    if code == 0:
        return Outcome(True, status)
    message = str(answer.get("errmsg", ""))[:300]
    return Outcome(False, status, f"errcode {code}: {message}")


def no_answer(reason: str) -> Outcome:
    return Outcome(False, None, reason[:300])


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """After ``attempts`` failed attempts: when to try again, or None to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    wait = RETRY_AFTER_S[min(attempts, len(RETRY_AFTER_S)) - 1]
    return require_aware(now) + timedelta(seconds=wait)


def is_repeat(last_raised_at: datetime | None, now: datetime, window_s: int) -> bool:
    """Was the same alert raised within the dedupe window before ``now``?"""
    if last_raised_at is None:
        return False
    return require_aware(now) - require_aware(last_raised_at) < timedelta(seconds=window_s)


def over_rate(sent_in_last_hour: int, max_per_hour: int) -> bool:
    return sent_in_last_hour >= max_per_hour


__all__ = [
    "CLAIM_LEASE_S",
    "MAX_ATTEMPTS",
    "RETRY_AFTER_S",
    "Channel",
    "DeliveryStatus",
    "Outcome",
    "RobotUrlError",
    "check_webhook_url",
    "dingtalk_sign",
    "is_repeat",
    "message_body",
    "no_answer",
    "over_rate",
    "read_answer",
    "request_url",
    "retry_at",
    "timestamp_ms",
]
