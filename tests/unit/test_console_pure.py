"""Pure parts of the console issue: reply suggestions per intent, the one-click cards, the
image check, safe file names, and the collision frames of the live protocol."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from csdesk.actions.media import inspect_image, safe_name
from csdesk.errors import BadInputError
from csdesk.reads import cards
from csdesk.reads.quick_replies import builtin_groups
from csdesk.reads.suggestions import suggest
from csdesk.realtime.protocol import ProtocolError, Typing, Watch, parse_client_message
from csdesk.roles.config import Coupon
from csdesk.storage.enums import OrderStatus
from csdesk.storage.models import Order

SHIPPED = {"买家昵称": "小鱼", "订单号": "T-1", "物流单号": "SF123", "预计发货": None}
PAID = {"买家昵称": "小鱼", "订单号": "T-1", "物流单号": None, "预计发货": "11月13日"}
NOTHING: dict[str, str | None] = dict.fromkeys(("买家昵称", "订单号", "物流单号", "预计发货"))


@pytest.mark.parametrize(
    ("intent", "text", "values", "code"),
    [
        ("logistics", "我的快递到哪了", SHIPPED, "wl"),
        ("logistics", "什么时候发货", PAID, "wfh"),  # no tracking number yet: the dated one
        ("refund", "我要退款", SHIPPED, "tk"),
        ("quality", "收到的杯子是坏的", SHIPPED, "zl"),
        ("exchange", "能换个颜色吗", SHIPPED, "hh"),
        ("howto", "这个怎么安装", NOTHING, "az"),
        ("payment", "怎么付款", PAID, "cf"),
        ("address_change", "我要改地址", PAID, "gdz"),
        ("invoice", "能开发票吗", PAID, "fp"),
        ("other", "在吗", NOTHING, "hy"),
    ],
)
def test_suggestion_per_intent(
    intent: str, text: str, values: dict[str, str | None], code: str
) -> None:
    found = suggest(intent, text, builtin_groups(), values)
    assert found is not None
    assert found.phrase.code == code
    assert found.intent == intent


def test_no_suggestion_without_intent_or_group() -> None:
    assert suggest(None, "在吗", builtin_groups(), NOTHING) is None
    only_welcome = [g for g in builtin_groups() if g.name == "欢迎语"]
    assert suggest("refund", "退款", only_welcome, NOTHING) is None


def test_a_phrase_sent_often_wins_a_tie() -> None:
    from dataclasses import replace

    groups = builtin_groups()
    refund = next(g for g in groups if g.name == "退款")
    popular = tuple(replace(p, use_count=50) if p.code == "th" else p for p in refund.phrases)
    found = suggest("logistics", "", [replace(refund, name="物流", phrases=popular)], SHIPPED)
    assert found is not None
    assert found.phrase.code == "th"


def order(**extra: object) -> Order:
    values: dict[str, object] = {
        "id": 5,
        "external_id": "T-9",
        "status": OrderStatus.CREATED,
        "amount_fen": 12900,
        "items": [{"title": "保温杯", "qty": 2}],
        "gifts": ["杯套"],
        "receiver_name": "王小明",
        "receiver_phone": "13800001234",
        "address": "浙江省杭州市余杭区文一西路969号",
        "created_at": datetime(2026, 11, 11, 1, 30, tzinfo=UTC),
    }
    values.update(extra)
    return Order(**values)


def test_order_check_card_masks_contact_data() -> None:
    card = cards.order_check(order())
    fields = dict(card.fields)
    assert fields == {
        "订单号": "T-9",
        "商品": "保温杯 ×2",
        "金额": "¥129.00",
        "赠品": "杯套",
        "收货人": "王**",
        "电话": "138****1234",
        "地址": "浙江省杭州市****",
    }
    assert "13800001234" not in card.text
    assert card.attachment()["ref"] == {"order_id": 5, "external_id": "T-9"}


def test_payment_reminder_in_shop_time_and_coupon_terms() -> None:
    reminder = dict(cards.payment_reminder(order()).fields)
    assert reminder["下单时间"] == "11月11日 09:30"
    assert reminder["应付金额"] == "¥129.00"
    assert cards.unpaid(order())
    assert not cards.unpaid(order(status=OrderStatus.PAID))
    coupon = dict(cards.coupon(Coupon("C1", "店铺券", 500)).fields)
    assert coupon["使用条件"] == "无门槛"
    assert cards.money(5) == "¥0.05"


def image_bytes(kind: str, size: tuple[int, int] = (3, 2)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (image_bytes("PNG"), "image/png"),
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("GIF"), "image/gif"),
        (image_bytes("WEBP"), "image/webp"),
    ],
)
def test_accepted_images(data: bytes, content_type: str) -> None:
    assert inspect_image(data).content_type == content_type


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a but not really",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        image_bytes("BMP"),  # a real image, but not a type we serve
        image_bytes("PNG")[:40],  # truncated
        image_bytes("PNG", (5000, 2)),  # too wide
    ],
)
def test_refused_images(data: bytes) -> None:
    with pytest.raises(BadInputError) as refused:
        inspect_image(data)
    assert refused.value.field == "file"


@pytest.mark.parametrize(
    ("raw", "content_type", "name"),
    [
        ("尺码表.png", "image/png", "尺码表.png"),
        ("../../etc/passwd", "image/gif", "passwd.gif"),
        ('a"b;c.jpg', "image/jpeg", "a_b_c.jpg"),
        (None, "image/webp", "image.webp"),
        ("...", "image/png", "image.png"),
    ],
)
def test_safe_names(raw: str | None, content_type: str, name: str) -> None:
    assert safe_name(raw, content_type) == name


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ('{"op": "watch", "conversation_id": 7}', Watch(7)),
        ('{"op": "watch", "conversation_id": null}', Watch(None)),
        (
            '{"op": "typing", "conversation_id": 7, "typing": true, "mode": "note"}',
            Typing(7, True, "note"),
        ),
        ('{"op": "typing", "conversation_id": 7, "typing": false}', Typing(7, False, "reply")),
    ],
)
def test_collision_frames(raw: str, parsed: object) -> None:
    assert parse_client_message(raw) == parsed


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"op": "watch", "conversation_id": "7"}', "watch: conversation_id"),
        ('{"op": "watch", "conversation_id": 0}', "watch: conversation_id"),
        ('{"op": "typing", "conversation_id": 7, "typing": 1}', "typing: typing"),
        ('{"op": "typing", "conversation_id": 7, "typing": true, "mode": "x"}', "typing: mode"),
    ],
)
def test_bad_collision_frames(raw: str, problem: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_message(raw)
    assert str(refused.value).startswith(problem)
