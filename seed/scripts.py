"""The words (话术) of the demo conversations: scenarios per service role and the script
pieces around them (greetings, closings, rating invitations), plus the bad wording QC must
catch (forbidden phrases, extreme words).

Agent wording follows the scripts of seeds/003; the outbound payment-chase call opens with
its "您好，非常抱歉，打扰您了…" word for word. ``csdesk.seed.transcripts`` assembles them into
timed transcripts; ``tests/unit/test_seed_transcripts.py`` checks every line here against
the QC vocabulary there, so a good line never carries a flaw by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from csdesk.storage.enums import Channel, ServiceRole

Speaker = Literal["buyer", "agent"]
LARGE_APPLIANCE_FAMILIES = frozenset({"tv", "fridge", "washer", "aircon"})


@dataclass(frozen=True)
class Say:
    speaker: Speaker
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """The agent looks something up: a promise to come back, then the answer."""

    promises: tuple[str, ...]
    results: tuple[str, ...]


Step = Say | Check


def B(*variants: str) -> Say:  # noqa: N802 - reads like a script: B(...) buyer, A(...) agent
    return Say("buyer", variants)


def A(*variants: str) -> Say:  # noqa: N802
    return Say("agent", variants)


@dataclass(frozen=True)
class Scenario:
    key: str
    role: ServiceRole
    intent: str
    disposition: str
    steps: tuple[Step, ...]
    channel: Channel = Channel.CHAT
    kind: str = "chat"
    outbound: bool = False
    """The agent speaks first (a chase, an order check, an outbound call)."""
    risk: str = "low"
    families: frozenset[str] = frozenset()
    """Product families the wording fits; empty: any product."""

    @property
    def is_call(self) -> bool:
        return self.channel is Channel.HOTLINE

    @property
    def has_check(self) -> bool:
        return any(isinstance(step, Check) for step in self.steps)

    def fits(self, family: str) -> bool:
        return not self.families or family in self.families


_TV = frozenset({"tv"})
_BIG = LARGE_APPLIANCE_FAMILIES
_BIG_NOT_TV = frozenset({"fridge", "washer", "aircon"})
_DIGITAL = frozenset({"phone", "digital"})

PRESALES_SCENARIOS = (
    Scenario(
        "presales_tv_size",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B(
                "客厅沙发到电视墙3米多，{product}合适吗",
                "3米5的距离买多大的电视好",
                "卧室用{product}会不会太大",
            ),
            A(
                "观看距离3米左右的话，65英寸看着比较舒服；卧室2米多选55英寸就够用",
                "按观看距离算，3到3.5米建议65到75英寸，画面更有沉浸感",
                "一般观看距离是屏幕对角线的1.5到2倍，您这个距离选65英寸正合适",
            ),
            B("能挂墙吗", "送挂架不", "有赠品吗"),
            A(
                "可以挂墙的，下单后师傅上门安装，标准挂架免费；活动期间还赠送{gift}一根",
                "支持壁挂，安装师傅会带挂架上门，另外随箱附赠{gift}",
            ),
            B("好 那我拍了", "行 我再看看", "ok 下单了"),
            A(
                "好的，大家电一般3到5天送达，签收后师傅会电话预约安装时间",
                "好的，您慢慢看，有问题随时找我",
                "收到，拍下后仓库按顺序发货，物流信息可以在订单里随时查看",
            ),
        ),
        families=_TV,
    ),
    Scenario(
        "presales_appliance_install",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B("{product}包安装吗", "这个送货上楼吗 我家6楼没电梯", "安装要另外收钱吗"),
            A(
                "送货上门并且免费安装，没有电梯的楼层搬运也包含在内",
                "我们是送装一体，快递送到后安装师傅会提前电话预约，基础安装免费",
            ),
            B("旧的能回收吗", "多久能到"),
            A(
                "支持以旧换新，下单时勾选旧机回收，师傅送新机时顺便把旧机拉走",
                "江浙沪一般2到3天，其他地区3到5天送达",
            ),
            B("好的", "明白了"),
            A("好的，下单后可以在订单里查看配送进度", "收到，安装预约以师傅电话为准"),
        ),
        families=_BIG_NOT_TV,
    ),
    Scenario(
        "presales_digital_spec",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B("{product}是国行吗", "这个支持快充不", "保修多久"),
            A(
                "是国行正品，全国联保一年，可以在官方售后网点维修",
                "支持快充，盒内附带充电器和数据线",
                "整机保修一年，全国联保，可以在官方售后网点维修",
            ),
            B("能开发票不", "可以分期吗"),
            A(
                "可以开具电子发票，下单时在发票栏填写抬头就行，发货后会发到您的邮箱",
                "支持花呗分期，3期免息，结算时选择分期就可以",
            ),
            B("好嘞", "行"),
        ),
        families=_DIGITAL,
    ),
    Scenario(
        "presales_apparel_size",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B("身高165 体重110斤穿什么码", "平时穿L 这个偏大还是偏小", "160 95斤 选s还是m"),
            A(
                "按您的身高体重建议选M码，这款是常规版型",
                "这款版型偏宽松，平时穿L的话选M就可以",
                "建议S码，如果喜欢宽松一点可以选M",
            ),
            B("有色差吗", "会起球吗", "会掉色吗"),
            A(
                "图片是实物拍摄，不同屏幕显示会略有差异",
                "面料是精梳棉，正常洗涤不容易起球，建议翻面冷水洗",
                "首次洗涤建议单独手洗，之后正常机洗就可以",
            ),
            B("好的 那我拍m", "嗯嗯"),
            A("好的，支持七天无理由退换，尺码不合适可以换", "好的，今天下单明天发货"),
        ),
        families=frozenset({"apparel"}),
    ),
    Scenario(
        "presales_beauty_skin",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B("混油皮能用这个吗", "敏感肌会不会过敏", "孕妇可以用{product}吗"),
            A(
                "混油皮可以用，这款质地清爽不黏腻，建议先在耳后试用一下",
                "成分比较温和，敏感肌建议先在耳后或手腕内侧试用",
                "孕期护肤建议先咨询医生，成分表在详情页，可以拿给医生看看",
            ),
            B("保质期到什么时候", "是正品吗"),
            A(
                "现在发的是今年的新批次，保质期三年，开封后建议12个月内用完",
                "官方授权正品，每件都有防伪码，可以扫码验证",
            ),
            B("ok", "好的"),
        ),
        families=frozenset({"beauty"}),
    ),
    Scenario(
        "presales_food_fresh",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B("生产日期是几月的", "是新货吗", "从哪里发货啊"),
            A(
                "这批是本月新生产的，保质期180天，收到后放阴凉干燥处",
                "是新货，仓库按先进先出发货，收到的都是近期生产的",
                "从浙江仓发货，江浙沪一般次日达，其他地区2到3天",
            ),
            B("多买有优惠吗", "能便宜点不"),
            A("店铺满199减20，还可以叠加店铺券", "两件以上可以用满减，结算时自动计算"),
            B("好", "行吧"),
        ),
        families=frozenset({"food"}),
    ),
    Scenario(
        "presales_price",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B("双十一还会降价吗", "现在买和活动那天一个价吗", "{product}能便宜点不"),
            A(
                "店铺支持价保，活动期间如果降价可以申请补差价，现在领券还能再减30元",
                "现在已经是活动价了，领券下单还能再减30元",
                "价格是统一的活动价，可以领一下店铺优惠券",
            ),
            B("券在哪领", "好吧"),
            A("在商品详情页价格下方点“领券”就可以", "好的，您考虑好了随时下单"),
            B("ok 拍了", "知道了"),
        ),
    ),
    Scenario(
        "presales_stock",
        ServiceRole.PRESALES,
        "presale",
        "answered",
        (
            B("今天下单什么时候发货", "这个还有货吗 急用", "{product}有现货吗"),
            Check(
                ("我帮您确认一下仓库库存，稍后回复您", "我去和仓库核实一下发货时间，稍后给您回复"),
                (
                    "仓库还有现货，今天16点前下单当天就能发出",
                    "已经确认有货，预计明天发货，一般两到三天送达",
                ),
            ),
            B("好的 那我现在拍", "行"),
            A("好的，付款后会尽快给您安排", "收到，发货后物流信息会同步到订单里"),
        ),
    ),
    Scenario(
        "presales_howto_tv",
        ServiceRole.PRESALES,
        "howto",
        "answered",
        (
            B("电视怎么连wifi", "开机一直显示logo咋办", "怎么投屏啊"),
            A(
                "在设置-网络里选择您家的wifi，输入密码就可以了",
                "长按遥控器电源键10秒重启一下，一般就能正常进入",
                "手机和电视连同一个wifi，在手机上点投屏图标选择电视就可以",
            ),
            B("好了 谢谢", "可以了"),
            A("好的，使用中有问题随时找我们"),
        ),
        families=_TV,
    ),
    Scenario(
        "presales_howto_small",
        ServiceRole.PRESALES,
        "howto",
        "answered",
        (
            B("第一次用要洗吗", "这个怎么清洗啊", "能预约定时吗"),
            A(
                "首次使用前用清水冲洗一下，空烧5分钟去除异味就可以",
                "可拆卸的部件可以直接水洗，机身用湿布擦拭，不要泡水",
                "可以的，在面板上按“预约”键设定时间，到点会自动开始",
            ),
            B("好了 谢谢", "懂了"),
            A("好的，使用中有问题随时找我们"),
        ),
        families=frozenset({"small_appliance"}),
    ),
    Scenario(
        "presales_howto_digital",
        ServiceRole.PRESALES,
        "howto",
        "answered",
        (
            B("耳机怎么配对", "手机怎么导入旧手机的数据", "充电宝怎么看电量"),
            A(
                "打开充电仓盖，长按按键3秒进入配对，在手机蓝牙里选择耳机名称",
                "新手机开机后选择“从旧设备迁移”，两台手机靠近按提示操作就可以",
                "按一下侧面的按键，指示灯亮几格就是剩余几格电",
            ),
            B("好了 谢谢", "懂了"),
            A("好的，使用中有问题随时找我们"),
        ),
        families=_DIGITAL,
    ),
)

ORDER_REVIEW_SCENARIOS = (
    Scenario(
        "review_address",
        ServiceRole.ORDER_REVIEW,
        "address_change",
        "address_fixed",
        (
            A(
                "核对订单时发现您尾号{order_tail}的收货地址不够详细，缺少门牌号，麻烦补充一下具体地址",
                "您的订单尾号{order_tail}收货地址只写到了区，麻烦提供一下详细的小区和门牌号，方便快递送达",
            ),
            B(
                "哦哦 漏写了 是幸福里小区3栋2单元502",
                "写错了 阳光花园6栋1101",
                "人民路88号 xx大厦1203",
            ),
            A(
                "已经帮您备注修改好了，今天会正常安排发货",
                "好的，地址已更新，发货后物流信息会同步到订单里",
            ),
            B("好的谢谢", "嗯嗯"),
        ),
        kind="order_check",
        outbound=True,
    ),
    Scenario(
        "review_remote",
        ServiceRole.ORDER_REVIEW,
        "address_change",
        "address_fixed",
        (
            A("您填写的地址在快递暂不派送的区域，可以改到附近镇上或者驿站的地址吗"),
            B("那寄到县城菜鸟驿站吧", "改到县里我姐家 地址是xx路18号"),
            Check(
                ("我和仓库确认一下能不能改，稍后回复您",),
                ("已经帮您改好了，到了会有短信通知取件", "仓库已经改好地址，今天就能发出"),
            ),
            B("好", "谢谢"),
        ),
        kind="order_check",
        outbound=True,
    ),
    Scenario(
        "review_gift",
        ServiceRole.ORDER_REVIEW,
        "other",
        "gift_fixed",
        (
            A(
                "您订单尾号{order_tail}的{product}，活动赠品应该是{gift}，系统误关联成了{wrong_gift}，"
                "我们已经更正，发货时会随箱附上{gift}",
                "核对订单时发现赠品登记错了：{product}配的是{gift}，系统显示成了{wrong_gift}，这边已经改过来",
            ),
            B("那旅游券还给吗", "哦 只要线就行", "好的 谢谢提醒"),
            A(
                "{wrong_gift}是系统误关联的，不在本次活动里；{gift}会和电视一起发出",
                "好的，{gift}会和电视同一个包裹发出",
            ),
            B("行吧", "ok"),
        ),
        kind="order_check",
        outbound=True,
        families=_TV,
    ),
    Scenario(
        "review_invoice",
        ServiceRole.ORDER_REVIEW,
        "invoice",
        "invoice_confirmed",
        (
            A(
                "您的订单申请了发票，抬头是“{invoice}”，麻烦确认一下是否需要填写税号",
                "看到您订单尾号{order_tail}需要开发票，抬头“{invoice}”对吗",
            ),
            B("对 税号91330106MA2XXXXX", "对的", "抬头没问题 税号等下发你"),
            A(
                "好的，已经登记，电子发票会在发货后发送到您的邮箱",
                "收到，发票信息已经更新，发货后可以在订单里下载",
            ),
            B("好的", "嗯"),
        ),
        kind="order_check",
        outbound=True,
    ),
)

PAYMENT_CHASING_SCENARIOS = (
    Scenario(
        "chase_reminder",
        ServiceRole.PAYMENT_CHASING,
        "payment",
        "chased",
        (
            A(
                "看到您拍下的{product}还没有付款，活动价库存不多，需要帮您保留吗",
                "您拍下的订单尾号{order_tail}还没付款，店铺优惠券今晚24点到期，记得及时支付哦",
                "您的订单还差付款这一步，付款后当天就能安排发货",
            ),
            B("忘了 马上付", "钱不够 等发工资", "我再考虑下", "在比价呢"),
            A(
                "好的，付款后我们会优先给您发货",
                "没关系，订单会保留一段时间，您方便了再付款就行",
                "好的，您考虑好了随时付款",
                "理解的，这款的参数和售后都在详情页，有疑问可以直接问我",
            ),
            B("嗯嗯", "好的", "知道了"),
            A("好的，不打扰您了", "好的，有需要随时找我"),
        ),
        kind="payment_chase",
        outbound=True,
    ),
    Scenario(
        "chase_payment_problem",
        ServiceRole.PAYMENT_CHASING,
        "payment",
        "chased",
        (
            A("看到您的订单尾号{order_tail}还没付款，是支付遇到问题了吗"),
            B("付款一直失败", "花呗付不了", "提示订单异常"),
            Check(
                ("我帮您看一下订单状态，稍后回复您", "我核实一下订单情况，稍后给您回复"),
                (
                    "订单状态正常，您重新进入订单页面支付就可以了",
                    "已经帮您处理好，现在可以正常支付了",
                ),
            ),
            B("好了 付了", "付好了"),
            A("收到付款，今天安排发货"),
        ),
        kind="payment_chase",
        outbound=True,
    ),
)

AFTERSALES_SCENARIOS = (
    Scenario(
        "triage_logistics",
        ServiceRole.AFTERSALES_TRIAGE,
        "logistics",
        "answered",
        (
            B("我的快递到哪了", "都三天了怎么还没到", "物流一直不动"),
            Check(
                ("我帮您联系快递核实一下，稍后回复您", "我去和快递确认一下，稍后给您答复"),
                (
                    "快递显示已经到您所在城市的网点，预计明天派送",
                    "快递在中转站积压了一天，已经催促派送，预计明天送达",
                ),
            ),
            B("好吧", "行 麻烦了"),
            A("不客气，派送时请保持电话畅通"),
        ),
    ),
    Scenario(
        "triage_install",
        ServiceRole.AFTERSALES_TRIAGE,
        "howto",
        "answered",
        (
            B("{product}到了 什么时候上门安装", "东西到了要自己装吗", "啥时候来装啊"),
            A(
                "大家电是送装一体的，签收后24小时内师傅会电话预约上门时间",
                "不用自己装，安装师傅会带工具上门，基础安装免费",
            ),
            B("好的", "那我等着"),
        ),
        families=_BIG,
    ),
    Scenario(
        "triage_quality",
        ServiceRole.AFTERSALES_TRIAGE,
        "quality",
        "handed_to_refund",
        (
            B("收到的{product}有问题", "东西坏了 怎么办", "用了两天就坏了"),
            A("麻烦您拍一张照片或者短视频发给我，我这边帮您登记", "方便拍个照片给我看看吗"),
            B("[图片]", "[视频]"),
            A(
                "看到了，确实是质量问题，已经帮您登记，退款专员会优先处理，您在订单页申请退货退款就可以",
                "已经帮您登记为质量问题，运费由我们承担，直接申请退货退款就行",
            ),
            B("好吧", "行"),
        ),
        risk="medium",
    ),
    Scenario(
        "triage_exchange",
        ServiceRole.AFTERSALES_TRIAGE,
        "exchange",
        "answered",
        (
            B("衣服小了能换大一码吗", "颜色不喜欢 能换吗"),
            A(
                "可以换的，在订单页申请换货，选好尺码，寄回运费有运费险理赔",
                "支持换货，申请时备注想换的颜色，收到退回的商品后就给您发新的",
            ),
            B("好的", "ok"),
        ),
        families=frozenset({"apparel"}),
    ),
    Scenario(
        "triage_complaint",
        ServiceRole.AFTERSALES_TRIAGE,
        "complaint",
        "escalated",
        (
            B("什么破东西 我要投诉", "再不处理我就打12315", "差评了 太坑了"),
            A(
                "非常理解您的心情，给您带来不好的体验很抱歉，麻烦说一下具体情况",
                "真的很抱歉让您不满意，您先别着急，具体是哪里有问题",
            ),
            B("收到就是坏的 客服还不回", "发货慢 包装还破了"),
            A(
                "已经为您登记加急处理，退款专员会优先处理您的问题，运费和损失由我们承担",
                "这个责任在我们，已经给您登记补偿，退换货都可以优先处理",
            ),
            B("那行吧", "哼"),
        ),
        risk="high",
    ),
)

REFUND_SCENARIOS = (
    Scenario(
        "refund_regret",
        ServiceRole.REFUND,
        "refund",
        "refund_processed",
        (
            B("刚拍的不想要了 能取消吗", "拍错颜色了 要退款", "多拍了一件 退一件"),
            Check(
                (
                    "我马上联系仓库帮您拦截，稍后回复您",
                    "我和仓库确认一下是否已经打包，稍后给您回复",
                ),
                (
                    "已经拦截成功，订单没有发出，退款审核通过后钱会原路退回",
                    "仓库还没打包，已经取消发货，您提交退款申请这边直接通过",
                ),
            ),
            B("好的谢谢", "嗯"),
        ),
    ),
    Scenario(
        "refund_progress",
        ServiceRole.REFUND,
        "refund",
        "answered",
        (
            B("退货寄回去了 什么时候退款", "退款怎么还没到账", "退货单号填好了"),
            A(
                "仓库签收退货后24小时内会给您处理退款，原路退回",
                "看到您的退货已经在路上了，仓库签收后会尽快退款",
            ),
            B("要几天啊", "好"),
            A("退回到支付宝一般当天到账，银行卡1到3个工作日", "一般签收当天就处理"),
        ),
    ),
    Scenario(
        "refund_review_only",
        ServiceRole.REFUND,
        "refund",
        "refund_processed",
        (
            B("我申请了仅退款 快点处理", "少发了一个 退我差价", "赠品没收到"),
            A(
                "已经看到您的申请，核对过确实少发，审核已通过，款项原路退回",
                "这边已经为您审核通过，1到3个工作日到账",
            ),
            B("好的", "行"),
        ),
    ),
    Scenario(
        "refund_reject_explain",
        ServiceRole.REFUND,
        "refund",
        "answered",
        (
            B("为什么驳回我的退款", "凭什么不给退"),
            A(
                "您的商品已经签收，仅退款需要走退货退款流程，麻烦先把商品寄回，我们收到后为您退款",
                "给您添麻烦了，这单需要退货后才能退款，退货地址已经发到订单里",
            ),
            B("那运费谁出", "好吧"),
            A(
                "质量问题的运费由我们承担，寄回时选择运费到付就可以",
                "您购买了运费险，退货运费会自动理赔",
            ),
        ),
        risk="medium",
    ),
)

HOTLINE_SCENARIOS = (
    Scenario(
        "hotline_install",
        ServiceRole.HOTLINE,
        "howto",
        "answered",
        (
            B(
                "喂，你好，我买的{product}什么时候能来装啊",
                "你好，我想问一下安装的事",
                "东西到了，什么时候来装",
            ),
            A("请问您的手机号码后四位是多少，我帮您查一下订单"),
            B("{phone_tail}", "尾号是{phone_tail}"),
            A(
                "查到了，您的{product}已经签收，安装师傅明天上午会打电话跟您约时间",
                "查到您的订单了，安装已经派单，师傅明天上门",
            ),
            B("好的，那我明天在家等", "行，知道了"),
        ),
        channel=Channel.HOTLINE,
        kind="call",
        families=_BIG,
    ),
    Scenario(
        "hotline_chase_big",
        ServiceRole.HOTLINE,
        "payment",
        "chased",
        (
            A(
                # seeds/003 continues "不知道您对这个订单需要了解一些什么内容"; 不知道 is on the
                # forbidden list, so the polite question is asked without it.
                "我看您拍了一个{product}的订单，想问一下您对这个订单还需要了解哪些内容",
                "看到您拍了{product}还没有付款，想问问您还有什么顾虑",
            ),
            B("哦，我在犹豫，怕安装麻烦", "价格还能少点吗", "我还在比较"),
            A(
                "安装是免费的，送货后师傅上门装好，旧机也可以帮您搬走",
                "价格已经是活动价了，现在付款还送赠品",
                "理解的，这款是全国联保，有问题上门服务",
            ),
            B("那我晚点付", "行，那我今天付了"),
            A("好的，订单会为您保留，有问题随时拨打我们的热线"),
        ),
        channel=Channel.HOTLINE,
        kind="call",
        outbound=True,
    ),
    Scenario(
        "hotline_complaint_callback",
        ServiceRole.HOTLINE,
        "callback",
        "resolved",
        (
            A("看到您在旺旺上反馈{product}的问题，想电话和您确认一下情况"),
            B("对，东西收到就坏了，很生气", "你们客服半天不回消息"),
            A(
                "非常抱歉给您添麻烦了，我们直接给您换新，运费我们承担，今天就安排上门取件",
                "真的很抱歉，这边给您优先处理，换货或者退款您选一个，我们来安排",
            ),
            B("那换新吧", "那就退了吧"),
            A("好的，已经为您登记，取件的快递员会提前打电话"),
        ),
        channel=Channel.HOTLINE,
        kind="call",
        outbound=True,
        risk="high",
    ),
    Scenario(
        "hotline_notice_delay",
        ServiceRole.HOTLINE,
        "other",
        "notified",
        (
            A("您双十一预售的{product}，因为厂家排产原因，预计要晚5天发货，非常抱歉通知您"),
            B("啊，要等这么久", "那我能退吗"),
            A(
                "如果不想等可以全额退款；愿意等的话我们补偿一张20元无门槛券",
                "可以的，您在订单页申请退款我们直接通过；如果等的话会给您补偿优惠券",
            ),
            B("那我等等吧", "那还是退了吧"),
            A("好的，已经为您登记"),
        ),
        channel=Channel.HOTLINE,
        kind="call",
        outbound=True,
    ),
)

SCENARIOS: dict[str, Scenario] = {
    scenario.key: scenario
    for scenario in (
        *PRESALES_SCENARIOS,
        *ORDER_REVIEW_SCENARIOS,
        *PAYMENT_CHASING_SCENARIOS,
        *AFTERSALES_SCENARIOS,
        *REFUND_SCENARIOS,
        *HOTLINE_SCENARIOS,
    )
}

# Script pieces around the body (话术: what to say, and how).
CHAT_GREETINGS = (
    "亲，您好，欢迎光临{shop}，我是客服{agent}，很高兴为您服务～",
    "您好，我是{agent}，很高兴为您服务～",
    "亲，您好～欢迎光临{shop}，{agent}这就为您解答",
)
CHAT_OUTBOUND_GREETINGS = ("您好，我是{shop}客服{agent}～", "亲，您好，这里是{shop}客服{agent}，")
CALL_GREETINGS = (
    "您好，{shop}客服热线，工号{agent_no}，很高兴为您服务",
    "您好，这里是{shop}，我是客服{agent}，请问有什么可以帮您",
)
CALL_OUTBOUND_GREETINGS = ("您好，非常抱歉，打扰您了，我这边是{shop}的客服{agent}，",)
"""seeds/003's phone-chase script opening, word for word but for the shop's name."""
CALL_PICKUPS_WITHOUT_GREETING = ("喂，说吧。", "喂，什么事？")
CHAT_CLOSINGS = (
    "亲，还有其他可以帮您的吗？",
    "感谢您的支持，祝您生活愉快～",
    "亲，还有其他问题随时找{agent}哦，祝您购物愉快！",
    "感谢您的耐心，祝您生活愉快",
)
CALL_CLOSINGS = ("感谢您的来电，祝您生活愉快，再见", "好的，感谢您的耐心，祝您生活愉快，再见")
CALL_OUTBOUND_CLOSINGS = ("打扰您了，祝您生活愉快，再见",)
CHAT_RATING_INVITES = (
    "麻烦您对{agent}的服务做个评价哦～",
    "如果对服务满意，麻烦点一下评价，谢谢亲～",
    "会话结束后会弹出服务评价，您的认可对我们很重要",
)
CALL_RATING_INVITES = (
    "挂机后会有一条满意度短信，麻烦您帮忙评价一下",
    "挂机后请对本次通话评价打分，谢谢",
)
BUYER_OPENERS = ("在吗", "在不在", "亲 在吗", "你好", "hello", "有人吗")
BUYER_AFTER_CLOSING = ("好的", "已评", "👌", "好滴 谢谢", "嗯嗯")
BUYER_PUSHES = ("那到底怎么弄啊", "能不能快点", "你们怎么回事", "说清楚点啊", "那咋办")
CALL_BUYER_PUSHES = ("那怎么办啊", "你们到底能不能处理", "能不能快一点")
RUDE_REPLIES: dict[ServiceRole, tuple[str, ...]] = {
    ServiceRole.PRESALES: (
        "这个我也不知道，你自己看详情页吧",
        "爱买不买，价格就这样",
        "没办法，活动价就这样",
    ),
    ServiceRole.ORDER_REVIEW: ("没办法，系统就是这样的", "说了好几遍了，你听不懂吗"),
    ServiceRole.PAYMENT_CHASING: ("爱买不买，不付款就算了", "没办法，系统就是这样的"),
    ServiceRole.AFTERSALES_TRIAGE: (
        "你自己看物流信息就行了",
        "这个不归我管，你找别人",
        "我也不知道快递怎么回事",
    ),
    ServiceRole.REFUND: ("这是规定，退不了", "这个不归我管，你找别人", "没办法，系统就是这样的"),
}
CALL_RUDE_REPLIES = (
    "我也没办法，你自己看着办吧",
    "这个我不知道，你去问快递",
    "这是规定，你听不懂吗",
)
BUYER_COMPARE_QUESTIONS = ("跟别家比哪个好", "这个值得买吗", "质量咋样")
EXTREME_CLAIMS = (
    "我们家这款是全网最低价，质量也是行业第一",
    "放心买，国家级品质认证，同价位里最好的一款",
    "绝对是全网最低，买到就是赚到",
)
COMPLIANT_CLAIMS = (
    "这款近期销量和口碑都不错，买家秀里有很多实拍可以参考",
    "这款的参数和售后在详情页都有写，您可以对比看看再决定",
)
GAP_APOLOGY = "抱歉让您久等了，"
FOLLOWUP_ON_TIME = "久等了，"
FOLLOWUP_LATE = "不好意思让您久等了，"
