"""Triage vocabulary and the default phrase rules (data, no logic beyond compiling it).

The vocabulary (``Intent``, ``Risk``, the default intent → role map) is public contract
(shared/contract.md). Phrases are written in Simplified Chinese, lower case, half-width:
the same normalization the classifier applies to buyer text is applied to them, so a shop
may also write its overrides in Traditional script or full-width letters.

Weights follow one scale so mixed messages resolve by weight:
4 = an explicit act (投诉), 3-3.5 = an explicit request (退款, 改地址, 回电话),
2-2.5 = a strong hint, typo or pinyin abbreviation, 1-1.5 = weak context.
Threats (差评, 12315, 曝光) weigh 2.5: they make the risk ``high`` whatever the intent, but
they do not outvote a concrete request, so "不给退款我就给差评" stays a refund (with high
risk and a proactive hotline call) while "再不处理我就给差评" is a complaint.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from csdesk.storage.enums import ServiceRole


class Intent(enum.StrEnum):
    """What the buyer wants (contract: triage vocabulary)."""

    PRESALE = "presale"
    HOWTO = "howto"
    PAYMENT = "payment"
    ADDRESS_CHANGE = "address_change"
    INVOICE = "invoice"
    LOGISTICS = "logistics"
    EXCHANGE = "exchange"
    QUALITY = "quality"
    REFUND = "refund"
    COMPLAINT = "complaint"
    CALLBACK = "callback"
    OTHER = "other"


class Risk(enum.StrEnum):
    """Risk of a dispute or bad review: ``high`` for complaints and threats (contract)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RISK_RANK[self]


_RISK_RANK = {Risk.LOW: 0, Risk.MEDIUM: 1, Risk.HIGH: 2}


def max_risk(*risks: Risk) -> Risk:
    return max(risks, key=lambda r: r.rank, default=Risk.LOW)


DEFAULT_INTENT_ROLES: Mapping[Intent, ServiceRole] = MappingProxyType(
    {
        Intent.PRESALE: ServiceRole.PRESALES,
        Intent.HOWTO: ServiceRole.PRESALES,
        Intent.OTHER: ServiceRole.PRESALES,
        Intent.PAYMENT: ServiceRole.PAYMENT_CHASING,
        Intent.ADDRESS_CHANGE: ServiceRole.ORDER_REVIEW,
        Intent.INVOICE: ServiceRole.ORDER_REVIEW,
        Intent.LOGISTICS: ServiceRole.AFTERSALES_TRIAGE,
        Intent.EXCHANGE: ServiceRole.AFTERSALES_TRIAGE,
        Intent.QUALITY: ServiceRole.AFTERSALES_TRIAGE,
        Intent.COMPLAINT: ServiceRole.AFTERSALES_TRIAGE,
        Intent.REFUND: ServiceRole.REFUND,
        Intent.CALLBACK: ServiceRole.HOTLINE,
    }
)

# Tie-break when two intents carry the same weight: the one that costs the shop more if
# it waits comes first (a complaint or refund outranks a how-to question, seeds/003).
DEFAULT_PRECEDENCE: tuple[Intent, ...] = (
    Intent.COMPLAINT,
    Intent.REFUND,
    Intent.ADDRESS_CHANGE,
    Intent.EXCHANGE,
    Intent.QUALITY,
    Intent.LOGISTICS,
    Intent.INVOICE,
    Intent.CALLBACK,
    Intent.PAYMENT,
    Intent.HOWTO,
    Intent.PRESALE,
    Intent.OTHER,
)

# Risk the winning intent carries by itself: a complaint is high by contract; a quality
# problem is the usual start of a refund dispute, so it is medium even when said calmly.
DEFAULT_INTENT_RISK: Mapping[Intent, Risk] = MappingProxyType(
    {Intent.COMPLAINT: Risk.HIGH, Intent.QUALITY: Risk.MEDIUM}
)


@dataclass(frozen=True)
class PhraseRule:
    """One editable phrase: adds ``weight`` to ``intent`` and/or raises the risk.

    A rule with neither intent nor risk is a *shield*: it only owns its characters.

    ``negatable``: a negation cue right before (不要退款) or after (换货不用了) the phrase
    cancels it. Off for phrases whose negated form means the same thing to the shop
    (还没发货 is still a logistics question).
    """

    phrase: str
    intent: Intent | None
    weight: float = 0.0
    risk: Risk | None = None
    negatable: bool = True
    note: str = ""


def _p(
    intent: Intent | None,
    weight: float,
    *phrases: str,
    risk: Risk | None = None,
    negatable: bool = True,
    note: str = "",
) -> tuple[PhraseRule, ...]:
    return tuple(PhraseRule(p, intent, weight, risk, negatable, note) for p in phrases)


_I = Intent
_MED = Risk.MEDIUM
_HIGH = Risk.HIGH

DEFAULT_PHRASES: tuple[PhraseRule, ...] = (
    # --- complaint: explicit acts weigh 4, threats 2.5 (see module docstring) -----------
    *_p(_I.COMPLAINT, 4.0, "投诉", risk=_HIGH),
    *_p(_I.COMPLAINT, 2.5, "差评", "12315", "消协", "消费者协会", "曝光", "媒体", risk=_HIGH),
    *_p(_I.COMPLAINT, 2.5, "工商", "举报", "律师", "起诉", "法院", "维权", risk=_HIGH),
    *_p(_I.COMPLAINT, 2.5, "骗子", "欺诈", "诈骗", "骗钱", "黑店", "坑人", "太坑", risk=_HIGH),
    *_p(_I.COMPLAINT, 2.5, "骗人", "监管局", "市场监管", risk=_HIGH),
    *_p(_I.COMPLAINT, 2.5, "最差", "差的评价", "抖音", "微博", "小红书", "黑猫", risk=_HIGH),
    *_p(_I.COMPLAINT, 2.5, "假货", "一星", "态度差", "态度太差", "态度恶劣", risk=_HIGH),
    *_p(_I.COMPLAINT, 2.5, "差坪", "差平", risk=_HIGH, note="typo of 差评"),
    *_p(_I.COMPLAINT, 2.5, "cp", risk=_HIGH, note="pinyin abbreviation of 差评"),
    *_p(_I.COMPLAINT, 2.0, "不回消息", risk=_HIGH),
    # --- refund ------------------------------------------------------------------------
    *_p(_I.REFUND, 3.0, "退款", "退货", "退钱", "仅退款", "退货退款", "申请退款", "退差价"),
    *_p(_I.REFUND, 3.0, "取消订单", "取消吧", "就取消", "拦截", "不想要", "不要了", "想退"),
    *_p(_I.REFUND, 3.0, "退了吧", "直接退", "能退吗", "七天无理由退", "无理由退货"),
    *_p(_I.REFUND, 3.0, "还不退", "为什么不退", "怎么不退", "咋不退", negatable=False, risk=_MED),
    *_p(_I.REFUND, 2.5, "退", "退吧", "拍错了", "拍多了"),
    *_p(_I.REFUND, 2.5, "退回去", "寄回去"),
    *_p(_I.REFUND, 2.5, "钱呢", risk=_MED),
    *_p(_I.REFUND, 1.5, "不喜欢"),
    *_p(_I.REFUND, 2.5, "退宽", "退kuan", "退欵", "推款", "退款款", note="typo of 退款"),
    *_p(_I.REFUND, 2.5, "tk", note="pinyin abbreviation of 退款"),
    *_p(_I.REFUND, 2.5, "th", note="pinyin abbreviation of 退货"),
    *_p(_I.REFUND, 2.0, "被拒", "拒绝退", risk=_MED),
    # --- exchange ----------------------------------------------------------------------
    *_p(_I.EXCHANGE, 3.0, "换货", "换一个", "想换", "能换", "调换", "换新", "换一下", "我要换"),
    *_p(_I.EXCHANGE, 3.0, "可以换"),
    *_p(_I.EXCHANGE, 3.5, "怎么换货"),
    *_p(_I.EXCHANGE, 3.0, "换大", "换小", "换一双", "换一台", "换一件", "给我换", "换别的"),
    *_p(_I.EXCHANGE, 2.5, "换", "换个", "换成", "换码"),
    *_p(_I.EXCHANGE, 2.5, "换或", "换huo", note="typo of 换货"),
    *_p(_I.EXCHANGE, 2.5, "hh", note="pinyin abbreviation of 换货"),
    *_p(_I.EXCHANGE, 1.5, "不合适"),
    # --- quality: a defect is the usual start of a dispute, so every phrase is medium risk,
    # even when the buyer goes on to ask for a refund or an exchange ---------------------
    *_p(_I.QUALITY, 3.0, "质量问题", "质量差", "质量太差", "质量不好", "品质差", risk=_MED),
    *_p(_I.QUALITY, 3.0, "开不了机", "没反应", "充不进电", "不工作", "失灵", "冒烟", risk=_MED),
    *_p(_I.QUALITY, 3.0, "漏水", "品质太差", risk=_MED),
    *_p(_I.QUALITY, 2.5, "坏了", "坏的", "坏点", "破损", "碎了", "裂", "划痕", "瑕疵", risk=_MED),
    *_p(_I.QUALITY, 2.5, "使用痕迹", "异味", "掉色", "起球", "开胶", "噪音", "黑屏", risk=_MED),
    *_p(_I.QUALITY, 2.5, "少了", "少发", "漏发", "缺件", "发错", "有问题", "破了", risk=_MED),
    *_p(_I.QUALITY, 2.5, "色差", "二手", "品质", risk=_MED),
    *_p(_I.QUALITY, 2.0, "坏", "有个洞", "有洞", risk=_MED),
    *_p(_I.QUALITY, 2.5, "断了", "鼓包", "缺口", "开线", "脱线", "变形", "生锈", "发霉", risk=_MED),
    *_p(_I.QUALITY, 2.5, "过期", "不亮", "死机", "卡顿", "故障", "烂了", "污渍", risk=_MED),
    *_p(_I.QUALITY, 2.5, "拧不紧", risk=_MED),
    *_p(_I.QUALITY, 2.5, "不制冷", "不加热", "不出水", "不转", "掉漆", "褪色", "脱胶", risk=_MED),
    *_p(_I.QUALITY, 2.0, "漏", "断", risk=_MED),
    *_p(_I.QUALITY, 2.5, "没声音", "粗糙", "异物", "线头", "不符", "不灵", "没电", risk=_MED),
    *_p(_I.QUALITY, 2.0, "头发", "虫子", "缩水", risk=_MED),
    *_p(
        _I.QUALITY,
        1.0,
        "我拍的",
        risk=_MED,
        note="buyer contrasts what arrived with what was ordered",
    ),
    # --- logistics (not negatable: 还没发货 / 没收到 are the question itself) -----------
    *_p(_I.LOGISTICS, 3.5, "什么时候发货", "啥时候发货", negatable=False),
    *_p(_I.LOGISTICS, 3.0, "发货了吗", "到哪了", "几天能到", "明天能到", negatable=False),
    *_p(_I.LOGISTICS, 3.0, "到货了吗", negatable=False),
    *_p(_I.LOGISTICS, 3.0, "快递单号", "催发货", "啥时候发", "什么时候发", negatable=False),
    *_p(_I.LOGISTICS, 3.0, "不发货", "没收到", "收不到", "不送上门", negatable=False, risk=_MED),
    *_p(_I.LOGISTICS, 2.5, "发货", "快递", "物流", "单号", "包裹", "派送", "签收", "发出"),
    *_p(_I.LOGISTICS, 3.0, "还没到", "能收到", "揽收", negatable=False),
    *_p(_I.LOGISTICS, 3.0, "发错地方", "送错", negatable=False, risk=_MED),
    *_p(_I.LOGISTICS, 2.5, "送到", negatable=False),
    *_p(_I.LOGISTICS, 2.5, "被人拿", "被别人拿", negatable=False, risk=_MED),
    *_p(_I.LOGISTICS, 2.5, "顺丰", "中通", "圆通", "申通", "韵达", "极兔", "ems", "快递员"),
    *_p(_I.LOGISTICS, 2.5, "法货", "发huo", "快第", "快地", "快滴", "物留", note="typo"),
    *_p(_I.LOGISTICS, 2.5, "kd", "wl", "fh", note="pinyin abbreviation"),
    *_p(_I.LOGISTICS, 2.0, "还没发货", "查不到", "驿站", "几天到", "能到吗", negatable=False),
    *_p(_I.LOGISTICS, 2.0, "没更新", "好像丢了", "快递丢了", negatable=False, risk=_MED),
    *_p(_I.LOGISTICS, 2.0, "丢件", "退回", negatable=False, risk=_MED),
    *_p(_I.LOGISTICS, 1.5, "一直不动", negatable=False, risk=_MED),
    *_p(_I.LOGISTICS, 1.5, "催一下", negatable=False),
    # --- address change ----------------------------------------------------------------
    *_p(_I.ADDRESS_CHANGE, 3.5, "改地址", "修改地址", "改下地址", "改个地址", "换地址", "换个地址"),
    *_p(_I.ADDRESS_CHANGE, 3.5, "地址写错", "地址填错", "地址错了", "地址有误", "地址不对"),
    *_p(_I.ADDRESS_CHANGE, 3.5, "选错地址", "把地址改", "改收货", "电话写错", "改一下地址"),
    *_p(_I.ADDRESS_CHANGE, 3.0, "地址改", "改手机号", "改电话", "改个电话", "门牌号", "默认地址"),
    *_p(_I.ADDRESS_CHANGE, 3.0, "留错", "收货信息"),
    *_p(_I.ADDRESS_CHANGE, 2.5, "收货地址", "收件人", "收货人"),
    *_p(_I.ADDRESS_CHANGE, 2.5, "手机号"),
    *_p(_I.ADDRESS_CHANGE, 2.5, "少写", "改到"),
    *_p(_I.ADDRESS_CHANGE, 2.0, "寄到", "省份", "小区名", "地址", "填错"),
    *_p(_I.ADDRESS_CHANGE, 1.5, "发到", "改成", "写错", "号码"),
    # --- invoice -----------------------------------------------------------------------
    *_p(_I.INVOICE, 3.0, "发票", "开票", "专票", "普票", "税号", "增值税", "开个票"),
    *_p(_I.INVOICE, 2.5, "抬头", "税点", "报销", "电子票", "纸质票", "补开", "开具"),
    *_p(_I.INVOICE, 2.5, "发漂", "发飘", note="typo of 发票"),
    *_p(_I.INVOICE, 2.5, "fp", note="pinyin abbreviation of 发票"),
    *_p(_I.INVOICE, 1.0, "票"),
    # --- callback ----------------------------------------------------------------------
    *_p(_I.CALLBACK, 3.5, "回电话", "回个电话", "回电", "打给我", "打我手机", "来个电话", "致电"),
    *_p(_I.CALLBACK, 3.5, "电话联系", "电话沟通", "电话咨询", "打个电话", "电话多少", "电话是多少"),
    *_p(_I.CALLBACK, 3.0, "打电话", "来电", "电话说", "打过来", "座机", "客服电话"),
    *_p(_I.CALLBACK, 2.5, "400", "打不通"),
    *_p(_I.CALLBACK, 2.0, "电话"),
    # --- payment (low precedence: 付款 is often context, "已付款 开个发票") -------------
    *_p(_I.PAYMENT, 3.5, "付不了", "付款失败", "支付失败", "货到付款", negatable=False),
    *_p(_I.PAYMENT, 3.0, "付款", "支付", "花呗", "分期", "信用卡", "改价", "改下价", "改个价"),
    *_p(_I.PAYMENT, 3.0, "代付", "余额不足", "尾款", "待付款", "忘付", "分三期", "分六期"),
    *_p(_I.PAYMENT, 3.0, "扣了两次", "付了两次", "重复扣款", risk=_MED),
    *_p(_I.PAYMENT, 2.5, "扣款", risk=_MED),
    *_p(_I.PAYMENT, 2.5, "定金", "支付宝", "还没付", "扣钱"),
    *_p(_I.PAYMENT, 2.5, "fk", note="pinyin abbreviation of 付款"),
    *_p(_I.PAYMENT, 1.5, "付", "运费", "已经付了"),
    *_p(_I.PAYMENT, 1.0, "已付款", "付款了", note="context, not a payment problem"),
    # --- how-to ------------------------------------------------------------------------
    *_p(_I.HOWTO, 3.0, "怎么安装", "怎么装", "不会装", "怎么用", "怎么使用", "咋用", "使用方法"),
    *_p(_I.HOWTO, 3.0, "教程", "怎么设置", "怎么调", "怎么连接", "怎么拆", "怎么清洗", "安装视频"),
    *_p(_I.HOWTO, 3.0, "充电多久", "怎么充电", "插哪", "恢复出厂", "怎么开机", "多久换"),
    *_p(_I.HOWTO, 2.5, "安装", "说明书", "用法", "配对", "绑定", "连不上", "重置", "怎么弄"),
    *_p(_I.HOWTO, 2.5, "怎么操作", "看不懂", "不会用"),
    *_p(_I.HOWTO, 2.0, "开机", "设置", "设定", "连接", "调成", "调小", "调大", "投屏", "清洗"),
    *_p(_I.HOWTO, 2.0, "消毒", "切换", "保护膜", "第一次用"),
    *_p(_I.HOWTO, 1.5, "操作", "电源"),
    *_p(_I.HOWTO, 1.0, "蓝牙", "wifi", "模式"),
    # Generic "how do I ..." questions: weak, so any concrete phrase outweighs them.
    *_p(_I.HOWTO, 1.5, "怎么", "如何", "下载", "在哪下载"),
    *_p(_I.HOWTO, 2.5, "怎么换", "几档", "调几"),
    # --- presale -----------------------------------------------------------------------
    *_p(_I.PRESALE, 3.5, "质量怎么样", "支持七天无理由"),
    *_p(_I.PRESALE, 3.0, "有货吗", "现货", "补货", "包邮", "正品", "多大码", "穿多大", "多少钱"),
    *_p(_I.PRESALE, 3.0, "尺寸是多少", "送货上门", "今天拍", "哪个好", "有没有货"),
    *_p(_I.PRESALE, 2.5, "有货", "库存", "便宜", "优惠", "优惠券", "活动价", "区别", "推荐"),
    *_p(_I.PRESALE, 2.5, "保修", "质保", "送什么", "送不送", "价格", "价钱", "什么码"),
    *_p(_I.PRESALE, 2.5, "折扣", "打折", "差在哪", "差别", "码吗", "礼品", "全新", "翻新"),
    *_p(_I.PRESALE, 2.0, "新款", "老款", "能用吗", "送礼"),
    *_p(_I.PRESALE, 2.0, "划算", "一起拍", "旗舰店", "一样的货", "同款"),
    *_p(_I.PRESALE, 2.0, "赠品", "授权", "适合", "功能", "满减", "单买", "预售", "容易坏", "对比"),
    *_p(_I.PRESALE, 2.0, "会不会坏"),
    *_p(_I.PRESALE, 1.5, "有没有", "还有吗", "几岁", "下单", "降价", "尺码", "尺寸", "颜色"),
    *_p(_I.PRESALE, 1.5, "双十一", "双11", "618", "比较"),
    *_p(_I.PRESALE, 1.0, "怎么样", "还有"),
    # --- other: small weights so any real intent wins ----------------------------------
    *_p(_I.OTHER, 1.5, "转人工", "好评", "没事了", "没有问题", "没问题"),
    *_p(_I.OTHER, 1.0, "在吗", "在不在", "你好", "您好", "谢谢", "好的", "嗯", "ok", "👍"),
    *_p(_I.OTHER, 1.0, "人工", "哈哈", "收到了", "晚安", "早上好", "人呢", "机器人", "考虑"),
    *_p(_I.OTHER, 1.0, "确认收货", "不错"),
    # --- pure risk signals: impatience and anger (medium), no intent of their own -------
    *_p(None, 0.0, "怎么还没", "一直没", "一直在", "天了", "天没", "星期了", "周了", risk=_MED),
    *_p(None, 0.0, "好几天", risk=_MED),
    *_p(None, 0.0, "太慢", "慢死", "快点", "急", "到底", "气死", "生气", "失望", "太差", risk=_MED),
    *_p(None, 0.0, "没人处理", "没人理", "遍了", "垃圾", "再不", "受不了", risk=_MED),
    *_p(None, 0.0, "😡", "🤬", "😤", "😠", "💢", "😭", "👎", risk=_MED),
    # --- shields: no intent, no risk; they only own their characters so that a shorter
    # cue or phrase inside them does not match (是不是 is a question, not the cue 不是) --
    *_p(None, 0.0, "是不是", "还是", "要不要", "有没有问题", "不一样"),
)
del _I, _MED, _HIGH

# A cue within ``negation_gap`` characters before the phrase (same clause) negates it:
# 不要退款, 不会给差评, 没有质量问题, 不用回电话. Longer phrases win over cues, so
# 不想要 / 不要了 stay refund phrases and 还不退 stays a (complaining) refund.
DEFAULT_NEGATION_BEFORE: tuple[str, ...] = (
    "不要",
    "不想",
    "不用",
    "不需要",
    "无需",
    "不必",
    "别",
    "取消",
    "撤销",
    "撤回",
    "没有",
    "不是",
    "不会",
    "不再",
    "不打算",
    "不退",
    "不换",
)
# A cue right after the phrase negates it too: 换货不用了, 退款的事算了.
DEFAULT_NEGATION_AFTER: tuple[str, ...] = ("不用", "不用了", "算了", "不需要", "取消了")
