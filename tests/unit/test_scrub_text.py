"""``scrub_text``: a buyer's personal data masked inside a transcript (PIPL erasure)."""

from __future__ import annotations

import pytest

from csdesk.reads.masking import ERASED_ADDRESS, ERASED_NAME, ERASED_PHONE, scrub_text

P, A, N = ERASED_PHONE, ERASED_ADDRESS, ERASED_NAME


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("电话13800001234", (), f"电话{P}"),
        ("打 138-0000-1234 或 +86 139 1234 5678", (), f"打 {P} 或 {P}"),
        ("座机0571-88886666，客服400-800-1234", (), f"座机{P}，客服{P}"),
        ("浙江省杭州市余杭区文一西路969号3幢201室", (), A),
        ("改到：北京市朝阳区建国路88号SOHO现代城5号楼", (), f"改到：{A}"),
        # Words glued to an address may go with it: masking too much is the safe side.
        ("改到北京市朝阳区建国路88号", (), A),
        ("收件人王小明", ("王小明",), f"收件人{N}"),
        # What a transcript needs stays: order numbers, amounts, cities in passing.
        ("订单 202611110001234567 退 199.00 元", (), "订单 202611110001234567 退 199.00 元"),
        ("你们杭州市有仓库吗", (), "你们杭州市有仓库吗"),
        ("在吗？明天能发货吗", (), "在吗？明天能发货吗"),
        ("王", ("王",), "王"),  # a one-character "name" would mask every 王 in the text
    ],
)
def test_scrub_text(text: str, names: tuple[str, ...], expected: str) -> None:
    assert scrub_text(text, names=names) == expected


def test_known_values_are_masked_wherever_they_appear() -> None:
    known = ["13800001234", "某某小区7号楼"]
    assert scrub_text("号码13800001234，送某某小区7号楼", known=known) == f"号码{P}，送{A}"
