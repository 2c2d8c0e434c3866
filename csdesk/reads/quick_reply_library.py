"""The default quick-reply library (快捷短语): per service role, in named groups.

Plain data. Codes are short pinyin initials (``hy`` 欢迎, ``cf`` 催付, ``wl`` 物流 ...), as
agents type them in Qianniu. Variables in braces are filled from the conversation's focus
order before sending: {买家昵称} {订单号} {物流单号} {预计发货}. Wording follows the shop's
scripts (话术): a greeting, an apology when the buyer waited, a closing with a rating invite,
and nothing from the forbidden list (no 不知道 / 不可能 / 你自己看).
"""

from __future__ import annotations

from dataclasses import dataclass

from csdesk.storage.enums import ServiceRole


@dataclass(frozen=True)
class Phrase:
    code: str
    """Shortcut the agent types after ``/`` (unique in the library)."""
    group: str
    """Named group shown in the picker: 欢迎语, 催付, 售后 ..."""
    text: str
    roles: frozenset[ServiceRole] = frozenset()
    """Service roles that see it; empty means every role."""


R = ServiceRole
PRESALES = frozenset({R.PRESALES})
CHASING = frozenset({R.PAYMENT_CHASING, R.HOTLINE})
REVIEW = frozenset({R.ORDER_REVIEW})
AFTERSALES = frozenset({R.AFTERSALES_TRIAGE, R.PRESALES, R.REFUND})
LOGISTICS = frozenset({R.AFTERSALES_TRIAGE, R.PRESALES, R.ORDER_REVIEW})
REFUND = frozenset({R.REFUND, R.AFTERSALES_TRIAGE})
HOTLINE = frozenset({R.HOTLINE})

LIBRARY: tuple[Phrase, ...] = (
    # 欢迎语: every role opens with a greeting (QC ``greeting_missing``).
    Phrase(
        "hy", "欢迎语", "亲，您好！欢迎光临本店，我是客服，很高兴为您服务~ 请问有什么可以帮您？"
    ),
    Phrase("hy2", "欢迎语", "{买家昵称}，您好！感谢您的耐心等待，请问有什么可以帮到您？"),
    Phrase("hyd", "欢迎语", "亲，让您久等了，非常抱歉！我这就帮您查看。"),
    # 结束语: a closing and a rating invite (QC ``closing_missing``, ``rating_invite_missing``).
    Phrase("js", "结束语", "感谢您的支持，祝您生活愉快！如果满意，麻烦给个五星好评哦~"),
    Phrase("js2", "结束语", "还有其他问题随时联系我们，{买家昵称}，祝您购物愉快，期待您的好评！"),
    Phrase("dd", "结束语", "亲，我帮您核实一下，请稍等1-2分钟，马上回复您。"),
    # 售前咨询
    Phrase(
        "yh", "售前咨询", "亲，今天店铺有满减活动，领券下单更优惠，券在商品详情页顶部哦~", PRESALES
    ),
    Phrase("kc", "售前咨询", "亲，页面能拍下的都是有现货的，付款后按顺序尽快为您发出。", PRESALES),
    Phrase(
        "fh",
        "售前咨询",
        "亲，您的订单{订单号}预计{预计发货}前发货，发货后物流信息会同步给您。",
        PRESALES,
    ),
    Phrase(
        "cm", "售前咨询", "亲，尺码可以参考详情页的尺码表，告诉我身高体重，我帮您推荐~", PRESALES
    ),
    Phrase("bj", "售前咨询", "亲，本店支持价保，活动期间降价可以联系客服申请补差价哦。", PRESALES),
    # 催付: polite, once, never pushy (seeds/003 订单催付).
    Phrase(
        "cf",
        "催付",
        "{买家昵称}您好，您拍下的订单{订单号}还没有付款哦，库存有限，付款后优先为您安排发货~",
        CHASING,
    ),
    Phrase(
        "cf2", "催付", "亲，您的订单{订单号}付款时遇到问题了吗？需要的话我可以帮您看看。", CHASING
    ),
    Phrase(
        "cf3", "催付", "亲，活动优惠今晚结束，您的订单{订单号}现在付款还能享受活动价哦~", CHASING
    ),
    # 订单审核
    Phrase(
        "hd", "订单核对", "亲，跟您核对一下订单{订单号}的收货地址和电话，请确认是否正确~", REVIEW
    ),
    Phrase("zp", "订单核对", "亲，您的订单{订单号}赠品已为您备注，会和商品一起发出。", REVIEW),
    Phrase(
        "fp", "发票", "亲，发票会在确认收货后开具，电子发票发送到您的邮箱，请留意查收。", REVIEW
    ),
    Phrase(
        "gdz",
        "订单核对",
        "亲，地址修改需要在发货前完成，请把新的收货地址发给我，我帮您修改。",
        REVIEW,
    ),
    # 物流
    Phrase(
        "wl",
        "物流",
        "亲，您的订单{订单号}已发货，物流单号{物流单号}，可以在订单详情里查看物流进度。",
        LOGISTICS,
    ),
    Phrase(
        "wl2",
        "物流",
        "亲，物流单号{物流单号}，我帮您联系快递催一下，有消息第一时间通知您。",
        LOGISTICS,
    ),
    Phrase(
        "wfh",
        "物流",
        "亲，您的订单{订单号}还未发货，预计{预计发货}前发出，请您耐心等待。",
        LOGISTICS,
    ),
    # 售后 (presales also answers the simple how-to questions, seeds/003)
    Phrase(
        "az",
        "售后",
        "亲，安装步骤请参考包装内的说明书，也可以看商品详情页的安装视频哦。",
        AFTERSALES,
    ),
    Phrase("kj", "售后", "亲，首次使用请先充电2小时，再长按开关键3秒开机。", AFTERSALES),
    Phrase(
        "hh",
        "售后",
        "亲，非常抱歉给您带来不便！收到商品7天内支持换货，请拍照发给我看一下问题。",
        AFTERSALES,
    ),
    Phrase(
        "zl", "售后", "亲，非常抱歉！麻烦您拍一下商品问题的照片，我马上为您登记处理。", AFTERSALES
    ),
    # 退款
    Phrase(
        "tk", "退款", "亲，您的退款申请已收到，我们会尽快审核，审核通过后款项原路退回。", REFUND
    ),
    Phrase(
        "tk2", "退款", "亲，订单{订单号}还未发货，我已通知仓库拦截，退款会尽快为您处理。", REFUND
    ),
    Phrase(
        "th", "退款", "亲，退货请寄回时在包裹里附上订单号{订单号}，仓库收到后为您退款。", REFUND
    ),
    Phrase("tkjd", "退款", "亲，退款已同意，一般1-3个工作日原路到账，请留意查收。", REFUND),
    # 热线
    Phrase(
        "rx", "热线", "您好，这里是店铺客服热线，请问是{买家昵称}吗？打扰您一分钟时间。", HOTLINE
    ),
    Phrase("rx2", "热线", "您好，关于您的订单{订单号}，我们想跟您确认一下发货安排。", HOTLINE),
)
