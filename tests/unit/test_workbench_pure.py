"""Pure parts of the workbench: PII masks, quick-reply variables and roles, the catalogs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from csdesk.clock import SHOP_TZ
from csdesk.i18n import LOCALE_DIR, LOCALES, load_catalogs, read_catalog
from csdesk.reads.masking import mask_address, mask_name, mask_phone
from csdesk.reads.quick_replies import (
    VARIABLES,
    expected_shipping,
    fill,
    grouped,
    phrases_for,
    unresolved,
)
from csdesk.reads.quick_reply_library import LIBRARY
from csdesk.storage.enums import OrderStatus, ServiceRole
from csdesk.storage.models import Order
from csdesk.web.console.labels import TABLES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13800001234", "138****1234"),
        ("+86 138-0000-1234", "861****1234"),
        ("0571-88881234", "057****1234"),
        ("12345", "****45"),
        ("12", "****"),
        ("", None),
        (None, None),
    ],
)
def test_mask_phone(value: str | None, masked: str | None) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("浙江省杭州市余杭区文一西路969号", "浙江省杭州市****"),
        ("北京市朝阳区", "北京****"),
        ("上海", "上****"),
        (None, None),
    ],
)
def test_mask_address(value: str | None, masked: str | None) -> None:
    assert mask_address(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"), [("王小明", "王**"), ("李雷", "李*"), ("王", "王*"), (None, None)]
)
def test_mask_name(value: str | None, masked: str | None) -> None:
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("text", "values", "filled", "missing"),
    [
        ("{买家昵称}您好", {"买家昵称": "小鱼"}, "小鱼您好", ()),
        ("单号{物流单号}", {"物流单号": None}, "单号{物流单号}", ("物流单号",)),
        ("单号{物流单号}", {"物流单号": ""}, "单号{物流单号}", ("物流单号",)),
        ("{订单号}/{订单号}", {"订单号": "T-1"}, "T-1/T-1", ()),
        ("{订单号}{预计发货}{订单号}", {}, "{订单号}{预计发货}{订单号}", ("订单号", "预计发货")),
        ("{别的}不是变量", {}, "{别的}不是变量", ()),
    ],
)
def test_fill(
    text: str, values: dict[str, str | None], filled: str, missing: tuple[str, ...]
) -> None:
    result = fill(text, values)
    assert (result.text, result.missing) == (filled, missing)
    assert tuple(unresolved(result.text)) == missing


def test_phrases_follow_roles_and_every_phrase_is_well_formed() -> None:
    codes = [p.code for p in LIBRARY]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z0-9]{1,8}", code) for code in codes)
    for phrase in LIBRARY:
        for name in re.findall(r"\{([^{}]*)\}", phrase.text):
            assert name in VARIABLES, (phrase.code, name)
    refund = {p.group for p in phrases_for([ServiceRole.REFUND])}
    assert {"欢迎语", "结束语", "退款"} <= refund
    assert "催付" not in refund
    assert "催付" in {p.group for p in phrases_for(["payment_chasing"])}
    for role in ServiceRole:
        groups = [name for name, _ in grouped(phrases_for([role]))]
        assert groups[0] == "欢迎语"
        assert len(groups) == len(set(groups))


def test_expected_shipping_in_shop_days() -> None:
    late_evening_utc = datetime(2024, 6, 18, 17, 30, tzinfo=UTC)  # 01:30 on the 19th, Shanghai
    order = Order(status=OrderStatus.PAID, paid_at=late_evening_utc, shipped_at=None)
    assert expected_shipping(order, SHOP_TZ) == "6月21日"
    order.status = OrderStatus.SHIPPED
    order.shipped_at = late_evening_utc
    assert expected_shipping(order, SHOP_TZ) == "6月19日"
    assert (
        expected_shipping(Order(status=OrderStatus.CREATED, paid_at=None, shipped_at=None)) is None
    )


def test_every_console_string_has_a_chinese_translation() -> None:
    catalog = read_catalog("zh_CN")
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    for locale in LOCALES:
        assert (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").exists()
    catalogs = load_catalogs()
    assert catalogs.get("zh_CN").gettext("Transfer") == "转接"
    assert catalogs.get("en").gettext("Transfer") == "Transfer"
    assert catalogs.js_messages["zh_CN"]["Live"] == "实时连接"
    assert "Transfer conversation" not in catalogs.js_messages["zh_CN"]  # template-only string
    for table in TABLES.values():
        for msgid in table.values():
            assert catalogs.get("zh_CN").gettext(msgid) != msgid or msgid in {"VIP", "88VIP"}


def test_catalogs_match_the_source() -> None:
    """Every string in templates, scripts and label tables is in the catalogs, and no stale
    one is left (run the pybabel commands in csdesk/i18n/__init__.py to fix)."""
    with (ROOT / "csdesk/i18n/babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "t": None, "N_": None}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords
        )
    }
    for locale in LOCALES:
        assert {m.id for m in read_catalog(locale) if m.id} == extracted, locale


def test_scripts_never_assign_markup() -> None:
    """Buyer text stays inert: no innerHTML / outerHTML / insertAdjacentHTML / document.write
    anywhere in the console's scripts, and no inline handlers in its templates."""
    scripts = (ROOT / "csdesk/web/static/console").glob("*.js")
    for path in scripts:
        source = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, (path.name, sink)
    for path in (ROOT / "csdesk/web/templates/console").glob("*.html"):
        assert not re.search(r"\son[a-z]+\s*=", path.read_text()), path.name
