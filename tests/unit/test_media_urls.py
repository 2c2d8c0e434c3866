"""Signed public image URLs (``csdesk.outbound.media_urls``): what they sign, what breaks
them, and the outbound bodies they are put into."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from csdesk.outbound.media_urls import Verdict, sign_images, signed_url, verify

SECRET = "server-secret"
NOW = 1_800_000_000


def _parts(url: str) -> tuple[str, str, str, str]:
    split = urlsplit(url)
    _, _, shop, media = split.path.split("/")
    query = parse_qs(split.query)
    return shop, media, query["expires"][0], query["signature"][0]


def test_a_url_verifies_until_it_expires_and_not_after() -> None:
    url = signed_url("https://desk.example.com/", SECRET, "shop-a", 7, NOW + 60)
    assert url.startswith("https://desk.example.com/media/shop-a/7?expires=")
    shop, media, expires, signature = _parts(url)
    assert verify(SECRET, shop, media, expires, signature, NOW) is Verdict.VALID
    assert verify(SECRET, shop, media, expires, signature, NOW + 60) is Verdict.EXPIRED


def test_any_changed_part_is_forged() -> None:
    shop, media, expires, signature = _parts(signed_url("", SECRET, "shop-a", 7, NOW + 60))
    assert verify(SECRET, "shop-b", media, expires, signature, NOW) is Verdict.FORGED
    assert verify(SECRET, shop, "8", expires, signature, NOW) is Verdict.FORGED
    assert verify(SECRET, shop, media, str(NOW + 61), signature, NOW) is Verdict.FORGED
    assert verify("other-secret", shop, media, expires, signature, NOW) is Verdict.FORGED
    assert verify(SECRET, shop, media, None, signature, NOW) is Verdict.FORGED
    assert verify(SECRET, shop, media, expires, None, NOW) is Verdict.FORGED
    assert verify(SECRET, shop, media, "-5", signature, NOW) is Verdict.FORGED
    assert verify(SECRET, shop, media, expires, "é" * 64, NOW) is Verdict.FORGED
    assert verify(SECRET, shop, media, expires, signature[:-1], NOW) is Verdict.FORGED


def _outbound(attachments: list[dict[str, object]]) -> bytes:
    body = {
        "delivery_id": "msg_1",
        "type": "message.outbound",
        "shop_id": "shop-a",
        "data": {"text": "看图", "attachments": attachments},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def test_images_of_an_outbound_message_get_signed_urls_and_nothing_else_changes() -> None:
    card: dict[str, object] = {"type": "card", "card": "product", "fields": []}
    body = _outbound([{"type": "image", "id": 7, "url": "/api/v1/media/7"}, card])
    signed = json.loads(sign_images(body, "https://desk.example.com", SECRET, NOW, 3600))
    image, same_card = signed["data"]["attachments"]
    assert same_card == card
    assert image["url_expires_at"] == NOW + 3600
    shop, media, expires, signature = _parts(image["url"])
    assert (shop, media, expires) == ("shop-a", "7", str(NOW + 3600))
    assert verify(SECRET, shop, media, expires, signature, NOW) is Verdict.VALID
    assert signed["data"]["text"] == "看图"


def test_bodies_without_images_are_sent_as_stored() -> None:
    no_images = _outbound([])
    assert sign_images(no_images, "https://d", SECRET, NOW, 60) is no_images
    webhook = json.dumps({"type": "conversation.closed", "data": {"attachments": []}}).encode()
    assert sign_images(webhook, "https://d", SECRET, NOW, 60) is webhook
    assert sign_images(b"not json", "https://d", SECRET, NOW, 60) == b"not json"
