"""Short buyer messages per intent, as buyers write them (the triage classifies them; a
message it reads differently is routed the way the product would route it)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from csdesk.roles.triage_rules import Intent

TEXTS: Mapping[Intent, tuple[str, ...]] = MappingProxyType(
    {
        Intent.PRESALE: (
            "这款有优惠券吗",
            "双十一有什么活动",
            "请问有货吗？什么时候发货",
            "这个和那款有什么区别",
            "能便宜点吗 亲",
            "有赠品吗",
        ),
        Intent.HOWTO: ("怎么安装啊", "这个怎么开机", "说明书在哪里下载", "遥控器怎么配对"),
        Intent.PAYMENT: ("付款失败怎么办", "花呗付不了款", "怎么付定金", "尾款什么时候付"),
        Intent.ADDRESS_CHANGE: ("地址填错了能改吗", "我要修改收货地址", "帮我改一下地址"),
        Intent.INVOICE: ("能开发票吗", "发票抬头写错了", "我要开专票"),
        Intent.LOGISTICS: ("什么时候发货", "快递到哪了", "物流三天没动了", "查一下物流"),
        Intent.EXCHANGE: ("尺码不对想换货", "可以换个颜色吗", "我要换货"),
        Intent.QUALITY: ("收到的东西坏了", "质量太差了 有划痕", "用了一天就坏了"),
        Intent.REFUND: ("我要退款", "不想要了 退款", "申请退款怎么还没处理", "拍错了 退款吧"),
        Intent.COMPLAINT: ("再不处理我就给差评", "我要投诉你们", "打12315投诉"),
        Intent.CALLBACK: ("给我回个电话", "请打电话给我"),
        Intent.OTHER: ("在吗", "你好", "？？"),
    }
)
