"""Group robots and the delivery policy (``csdesk/alerts/robots.py``): DingTalk's signature,
the addresses, the answers, the retries, dedupe and rate limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from csdesk.alerts import robots
from csdesk.alerts.robots import Channel

AT = datetime(2026, 11, 11, 0, 0, 5, 123000, tzinfo=UTC)
TOKEN_URL = "https://oapi.dingtalk.com/robot/send?access_token=abc"


def independent_sign(secret: str, timestamp: str) -> str:
    """DingTalk's documented recipe, written out here rather than imported."""
    string_to_sign = f"{timestamp}\n{secret}"
    code = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(code.digest()).decode()


def test_sign_follows_the_documented_recipe() -> None:
    ts = robots.timestamp_ms(AT)
    assert ts == 1_794_355_205_123  # milliseconds
    for secret in ("SEC0123456789abcdef", "this is secret", "密钥"):
        assert robots.dingtalk_sign(secret, ts) == independent_sign(secret, str(ts))


def test_signed_url_carries_timestamp_and_url_encoded_sign() -> None:
    url = robots.request_url(Channel.DINGTALK, TOKEN_URL, "SECx", AT)
    parts = urlsplit(url)
    query = parse_qs(parts.query)  # decodes %2B etc. as the robot would
    assert query["access_token"] == ["abc"]
    assert query["timestamp"] == [str(robots.timestamp_ms(AT))]
    assert query["sign"] == [independent_sign("SECx", query["timestamp"][0])]
    assert "+" not in parts.query
    assert "/" not in parts.query.split("sign=")[1]


@pytest.mark.parametrize(
    ("channel", "url", "secret"),
    [
        (Channel.DINGTALK, TOKEN_URL, None),  # a keyword-secured robot: no sign
        (Channel.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "ignored"),
    ],
)
def test_unsigned_robots_get_the_webhook_as_is(
    channel: Channel, url: str, secret: str | None
) -> None:
    assert robots.request_url(channel, url, secret, AT) == url


@pytest.mark.parametrize(
    ("channel", "url", "ok"),
    [
        (Channel.DINGTALK, TOKEN_URL, True),
        (Channel.DINGTALK, "http://127.0.0.1:8123/robot/send?access_token=t", True),
        (Channel.DINGTALK, "http://localhost/robot/send?access_token=t", True),
        (Channel.DINGTALK, "http://oapi.dingtalk.com/robot/send?access_token=t", False),
        (Channel.DINGTALK, "https://oapi.dingtalk.com/robot/send", False),
        (Channel.DINGTALK, "ftp://x/robot?access_token=t", False),
        (Channel.DINGTALK, "oapi.dingtalk.com/robot/send?access_token=t", False),
        (Channel.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", True),
        (Channel.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?access_token=k", False),
        (Channel.WECOM, "https://x/" + "a" * 600 + "?key=k", False),
    ],
)
def test_webhook_addresses(channel: Channel, url: str, ok: bool) -> None:
    if ok:
        assert robots.check_webhook_url(channel, f"  {url} ") == url
    else:
        with pytest.raises(robots.RobotUrlError):
            robots.check_webhook_url(channel, url)


@pytest.mark.parametrize(
    ("status", "body", "ok", "error"),
    [
        (200, b'{"errcode":0,"errmsg":"ok"}', True, None),
        (200, b"{}", True, None),
        (
            200,
            b'{"errcode":310000,"errmsg":"sign not match"}',
            False,
            "errcode 310000: sign not match",
        ),
        (
            200,
            b'{"errcode":130101,"errmsg":"send too fast"}',
            False,
            "errcode 130101: send too fast",
        ),
        (500, b"oops", False, "HTTP 500"),
        (302, b"", False, "HTTP 302"),
        (200, b"<html>", False, "answer is not JSON"),
        (200, b"[1]", False, "answer is not a JSON object"),
    ],
)
def test_answers(status: int, body: bytes, ok: bool, error: str | None) -> None:
    outcome = robots.read_answer(status, body)
    assert (outcome.ok, outcome.status, outcome.error) == (ok, status, error)


@pytest.mark.parametrize(
    ("attempts", "wait_s"),
    [(1, 30), (2, 60), (3, 300), (4, 900), (5, 1800), (6, None), (7, None)],
)
def test_retry_backoff(attempts: int, wait_s: int | None) -> None:
    expected = AT + timedelta(seconds=wait_s) if wait_s is not None else None
    assert robots.retry_at(attempts, AT) == expected


@pytest.mark.parametrize(
    ("ago_s", "window_s", "repeat"),
    [(None, 1800, False), (0, 1800, True), (1799, 1800, True), (1800, 1800, False), (10, 5, False)],
)
def test_dedupe_window(ago_s: int | None, window_s: int, repeat: bool) -> None:
    last = AT - timedelta(seconds=ago_s) if ago_s is not None else None
    assert robots.is_repeat(last, AT, window_s) is repeat


@pytest.mark.parametrize(
    ("sent", "limit", "over"), [(0, 1, False), (19, 20, False), (20, 20, True)]
)
def test_rate_limit(sent: int, limit: int, over: bool) -> None:
    assert robots.over_rate(sent, limit) is over


def test_message_bodies() -> None:
    ding = json.loads(robots.message_body(Channel.DINGTALK, "退款即将自动通过", "3 笔", None))
    assert ding["msgtype"] == "markdown"
    assert ding["markdown"]["title"] == "csdesk 告警：退款即将自动通过"
    assert "3 笔" in ding["markdown"]["text"]
    wecom = json.loads(robots.message_body(Channel.WECOM, "标题", "正文", "https://desk/x"))
    assert wecom == {
        "msgtype": "markdown",
        "markdown": {
            "content": "### 【csdesk 告警】标题\n\n正文\n\n[打开告警列表](https://desk/x)"
        },
    }
