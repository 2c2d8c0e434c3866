"""Service scripts (话术) per role, as typed, versioned data: what the auto-check holds an
agent's side of a conversation against.

Pure data and small constructors. A :class:`Script` names, for one role and version, the
required steps (greeting in the first reply, confirming the order, closing, the rating
invitation), the forbidden phrases (禁用语, the shop's list that the pre-send check also
uses: ``routing.console.forbidden_phrases``), whether pre-sales claims are checked for
extreme advertising words (极限词, 广告法 art. 9(3)), the timing rules, and every
:class:`Rule` with its category, severity and points. Scores are tied to
:attr:`Script.version_key` (``presales.v1``): a QC lead's edit makes a new version, and a
score keeps the one it was made under.

Scoring (``csdesk.qc.check``): 100 minus the points of every hit, floored at 0; a hit of a
``fatal`` rule (critical item: abuse of the buyer) zeroes the score outright.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import ServiceRole


class Category(enum.StrEnum):
    """QC hit categories; the first eight are fixed by the public contract."""

    GREETING_MISSING = "greeting_missing"
    CLOSING_MISSING = "closing_missing"
    RATING_INVITE_MISSING = "rating_invite_missing"
    FORBIDDEN_PHRASE = "forbidden_phrase"
    EXTREME_WORDS = "extreme_words"
    SLOW_FIRST_RESPONSE = "slow_first_response"
    LONG_GAP_NO_APOLOGY = "long_gap_no_apology"
    FOLLOWUP_MISSED = "followup_missed"
    ORDER_CONFIRM_MISSING = "order_confirm_missing"
    """Added by csdesk (the contract lets a shop add categories): the agent never
    confirmed the order with the buyer (核对订单) where the role's script requires it."""


class Severity(enum.StrEnum):
    FATAL = "fatal"
    """Critical item: one hit zeroes the score."""
    MAJOR = "major"
    MINOR = "minor"


@dataclass(frozen=True)
class Rule:
    id: str
    category: Category
    severity: Severity
    points: int
    why: str
    """For the agent and the inspector: what the script asks and why."""


# -- phrase lists (matched over normalized text: Traditional and full-width alike) ----------

GREETINGS: tuple[str, ...] = (
    *("您好", "你好", "亲亲", "欢迎", "很高兴为您服务", "很高兴为你服务", "在的", "在呢"),
    *("早上好", "上午好", "中午好", "下午好", "晚上好", "哈喽", "hello", "hi", "嗨"),
)
"""A greeting in the agent's first reply; "亲" counts too when it opens the reply."""

CLOSINGS: tuple[str, ...] = (
    *("感谢", "谢谢", "祝您", "祝你", "再见", "拜拜", "不客气", "生活愉快", "购物愉快"),
    *("有问题随时", "有任何问题", "随时联系", "随时找我", "还有什么可以帮", "还有其他问题"),
    *("还有什么问题", "还有别的问题", "还有其他需要", "欢迎下次", "欢迎再次", "期待您再次"),
    *("期待下次", "一切顺利"),
)
"""A closing in one of the agent's last two messages."""

RATING_INVITES: tuple[str, ...] = (
    *("评价", "评分", "打分", "满意度", "五星", "5星", "好评", "点评", "给个赞"),
)

ORDER_CONFIRMATIONS: tuple[str, ...] = (
    *("订单", "收货地址", "收货信息", "收件地址", "地址", "核对", "您拍的", "您拍了", "拍下"),
)

APOLOGIES: tuple[str, ...] = (
    *("抱歉", "不好意思", "久等", "对不起", "让您等", "见谅", "sorry", "耽误您", "回复晚了"),
    *("来晚了", "回复慢了"),
)

PROMISES: tuple[str, ...] = (
    *("稍等", "稍候", "我帮您查", "帮您查询", "我查一下", "我去查", "帮您核实", "我核实一下"),
    *("我去问", "我问一下", "帮您问", "马上给您回复", "稍后回复", "稍后给您", "等我一下"),
    *("我确认一下", "帮您确认一下", "马上回复您", "我看一下", "帮您看一下"),
)
"""The agent promises to come back (稍等 / 我帮您查一下 / 马上给您回复)."""

CHASE_DISTURB: tuple[str, ...] = ("打扰", "抱歉", "不好意思", "冒昧")
CHASE_SELF_INTRO: tuple[str, ...] = ("客服", "我这边是", "我是", "这里是")
"""The seeds/003 phone-chase opening: 您好 + an apology for calling + who is calling."""

PUSHY: tuple[str, ...] = (
    *("赶紧付款", "赶快付款", "快点付款", "马上付款", "立刻付款", "赶紧下单", "再不付"),
    *("不付款就", "必须今天", "最后一次机会", "过时不候", "到底买不买", "到底要不要", "别犹豫了"),
)
"""Pushy payment chasing (催付话术禁忌: seeds/003 wants it polite, never like a nuisance call)."""

EXTREME_WORDS: tuple[str, ...] = (
    *("国家级", "世界级", "全球级", "宇宙级", "顶级", "极品", "极致", "顶尖", "尖端"),
    *("全网最低", "史上最低", "全网第一", "销量第一", "全国第一", "排名第一", "行业第一"),
    *("世界第一", "天下第一", "第一品牌", "独一无二", "绝无仅有", "史无前例", "无与伦比"),
    # Not 万能: it names products (万能胶, 万能表) more often than it claims anything.
    *("首选", "首家", "王牌", "销量冠军", "no 1", "no1", "top 1", "top1"),
)
"""极限词 (广告法 art. 9(3)) besides the "最…" superlatives, which are read in context."""

SUPERLATIVE_EXEMPT: tuple[str, ...] = (
    # Time words (the regulator's guidance: 最近/最后/最新/最早 describe time, not quality).
    *("最近", "最后", "最新", "最早", "最晚", "最迟", "最终", "最初"),
    # Quantities and limits, not claims.
    *("最多", "最少", "最起码", "最低消费"),
    # Service attitude (尽最大努力, 最大程度满足): about effort, not the product.
    *("最大程度", "最大限度", "最大努力", "最大的努力"),
    # Discourse: "最主要的是…", the buyer's concern.
    *("最主要", "最重要", "最常见", "最关心", "最担心"),
)
""""最…" words that are not an advertising claim."""

SUPERLATIVE_EXEMPT_BEFORE: tuple[str, ...] = ("尽", "您", "你", "亲", "哪个", "哪款", "哪种")
""""最" right after these is service attitude (尽最大…), the buyer's own preference
(您最喜欢…) or a question (哪款最…), not a claim."""

ADVICE_AFTER_BEST: tuple[str, ...] = (
    *("先", "是", "在", "还是", "提前", "选", "联系", "别", "不要", "能", "可以", "您", "亲"),
    *("量", "备注", "拍", "确认", "保存", "留意", "等"),
)
""""最好" followed by these is advice ("您最好先量一下尺寸"), not a claim."""


def _rules(*rules: Rule) -> Mapping[str, Rule]:
    return MappingProxyType({rule.id: rule for rule in rules})


GREETING = Rule(
    "greeting",
    Category.GREETING_MISSING,
    Severity.MINOR,
    5,
    "首次回复要有问候语（您好 / 亲，欢迎光临）",
)
CHASE_OPENING = Rule(
    "hotline.chase_opening",
    Category.GREETING_MISSING,
    Severity.MINOR,
    5,
    "电话催付开场：您好，抱歉打扰您了，我这边是××店的客服……",
)
ORDER_CONFIRM = Rule(
    "order_confirm",
    Category.ORDER_CONFIRM_MISSING,
    Severity.MINOR,
    5,
    "与买家核对订单（订单、收货地址）",
)
CLOSING = Rule(
    "closing",
    Category.CLOSING_MISSING,
    Severity.MINOR,
    5,
    "结束语：感谢、祝福或询问是否还有其他问题",
)
RATING_INVITE = Rule(
    "rating_invite", Category.RATING_INVITE_MISSING, Severity.MINOR, 3, "邀请买家评价本次服务"
)
FORBIDDEN = Rule(
    "forbidden_phrase", Category.FORBIDDEN_PHRASE, Severity.MAJOR, 10, "服务禁用语（店铺规则）"
)
ABUSIVE = Rule(
    "forbidden_phrase.abusive",
    Category.FORBIDDEN_PHRASE,
    Severity.FATAL,
    100,
    "辱骂或顶撞买家：致命项，本次服务记 0 分",
)
PUSHY_CHASE = Rule(
    "chase.pushy", Category.FORBIDDEN_PHRASE, Severity.MAJOR, 10, "催付语气强硬，像骚扰电话"
)
EXTREME = Rule(
    "extreme_words",
    Category.EXTREME_WORDS,
    Severity.MAJOR,
    10,
    "广告法第九条第（三）项：不得使用“国家级”“最高级”“最佳”等用语",
)
SLOW_FIRST_RESPONSE = Rule(
    "timing.first_response",
    Category.SLOW_FIRST_RESPONSE,
    Severity.MINOR,
    5,
    "首次响应超过岗位目标时长",
)
LONG_GAP = Rule(
    "timing.long_gap_no_apology",
    Category.LONG_GAP_NO_APOLOGY,
    Severity.MINOR,
    5,
    "买家等待超过 3 分钟，回复未致歉（让您久等了）",
)
FOLLOWUP = Rule(
    "timing.followup_missed",
    Category.FOLLOWUP_MISSED,
    Severity.MAJOR,
    10,
    "承诺“稍等 / 我帮您查一下”后 15 分钟内未回复",
)

ABUSIVE_PHRASES: frozenset[str] = frozenset({"爱买不买"})
"""Forbidden phrases that are abuse, not just poor service: the fatal rule."""


@dataclass(frozen=True)
class Script:
    role: ServiceRole
    version: int
    forbidden_phrases: Mapping[str, str]
    """Phrase → why: the shop's ``routing.console.forbidden_phrases`` (the same list the
    pre-send check holds replies for)."""
    first_response_s: int
    """The role's first-reply target (``routing.sla.first_response_s``)."""
    require_greeting: bool = True
    require_order_confirm: bool = False
    require_closing: bool = True
    require_rating_invite: bool = True
    check_extreme_words: bool = False
    """Pre-sales claims (售前, 催付, 热线 selling) are held to the advertising law."""
    check_pushy: bool = False
    chase_opening: bool = False
    """Outbound calls (the agent speaks first) follow the seeds/003 phone-chase opening."""
    long_gap_s: int = 180
    followup_s: int = 15 * 60
    abusive_phrases: frozenset[str] = ABUSIVE_PHRASES
    rules: Mapping[str, Rule] = field(
        default_factory=lambda: _rules(
            GREETING,
            CHASE_OPENING,
            ORDER_CONFIRM,
            CLOSING,
            RATING_INVITE,
            FORBIDDEN,
            ABUSIVE,
            PUSHY_CHASE,
            EXTREME,
            SLOW_FIRST_RESPONSE,
            LONG_GAP,
            FOLLOWUP,
        )
    )

    @property
    def version_key(self) -> str:
        return f"{self.role.value}.v{self.version}"

    def to_json(self) -> dict[str, object]:
        """The version as data, for storing it beside the scores made under it."""
        return {
            "role": self.role.value,
            "version": self.version,
            "version_key": self.version_key,
            "forbidden_phrases": dict(self.forbidden_phrases),
            "first_response_s": self.first_response_s,
            "require_greeting": self.require_greeting,
            "require_order_confirm": self.require_order_confirm,
            "require_closing": self.require_closing,
            "require_rating_invite": self.require_rating_invite,
            "check_extreme_words": self.check_extreme_words,
            "check_pushy": self.check_pushy,
            "chase_opening": self.chase_opening,
            "long_gap_s": self.long_gap_s,
            "followup_s": self.followup_s,
            "abusive_phrases": sorted(self.abusive_phrases),
            "rules": {
                rule.id: {
                    "category": rule.category.value,
                    "severity": rule.severity.value,
                    "points": rule.points,
                    "why": rule.why,
                }
                for rule in self.rules.values()
            },
        }


def default_script(role: ServiceRole, config: RoutingConfig | None = None) -> Script:
    """The built-in script (version 1) of a role, under a shop's routing configuration (its
    forbidden phrases and first-reply targets; the built-in defaults when ``None``)."""
    config = config or RoutingConfig()
    base = Script(
        role=role,
        version=1,
        forbidden_phrases=config.console.active_forbidden_phrases,
        first_response_s=config.sla.first_response_s[role],
    )
    if role is ServiceRole.PRESALES:
        return replace(base, check_extreme_words=True)
    if role is ServiceRole.PAYMENT_CHASING:
        return replace(
            base,
            require_order_confirm=True,
            require_rating_invite=False,
            check_extreme_words=True,
            check_pushy=True,
        )
    if role is ServiceRole.HOTLINE:
        # Inbound calls: greeting and closing. Outbound (the agent speaks first): the
        # phone-chase opening and the order it is about, never pushy.
        return replace(
            base,
            require_rating_invite=False,
            check_extreme_words=True,
            check_pushy=True,
            chase_opening=True,
        )
    # Order review, after-sales triage, refund: about an order the buyer already has.
    return replace(base, require_order_confirm=True)


class ScriptError(ValueError):
    """A script document that cannot be used; ``field`` names the key (``rules.x.points``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_FLAGS = (
    "require_greeting",
    "require_order_confirm",
    "require_closing",
    "require_rating_invite",
    "check_extreme_words",
    "check_pushy",
    "chase_opening",
)
_SECONDS = (("first_response_s", 1, 3600), ("long_gap_s", 10, 3600), ("followup_s", 60, 86400))
MAX_PHRASES = 200
MAX_PHRASE_CHARS = 20


def _phrases(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ScriptError("forbidden_phrases", "must be an object: phrase → why")
    if len(value) > MAX_PHRASES:
        raise ScriptError("forbidden_phrases", f"at most {MAX_PHRASES} phrases")
    phrases: dict[str, str] = {}
    for phrase, why in value.items():
        if not phrase.strip() or len(phrase) > MAX_PHRASE_CHARS:
            raise ScriptError("forbidden_phrases", f"{phrase!r}: 1-{MAX_PHRASE_CHARS} characters")
        if not isinstance(why, str) or not why.strip():
            raise ScriptError(f"forbidden_phrases.{phrase}", "say why the phrase is held")
        phrases[phrase.strip()] = why
    return phrases


def script_from_json(data: object, *, base: Script) -> Script:
    """``base`` changed by the keys of ``data`` (the shape of :meth:`Script.to_json`); the role
    and the rules' categories never change, the version is the caller's to set."""
    if not isinstance(data, dict):
        raise ScriptError("script", "must be an object")
    changes: dict[str, object] = {}
    if "forbidden_phrases" in data:
        changes["forbidden_phrases"] = MappingProxyType(_phrases(data["forbidden_phrases"]))
    for flag in _FLAGS:
        if flag in data:
            if not isinstance(data[flag], bool):
                raise ScriptError(flag, "must be true or false")
            changes[flag] = data[flag]
    for name, low, high in _SECONDS:
        if name in data:
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ScriptError(name, f"must be a whole number of seconds, {low}-{high}")
            changes[name] = value
    if "abusive_phrases" in data:
        abusive = data["abusive_phrases"]
        if not isinstance(abusive, list) or not all(isinstance(p, str) and p for p in abusive):
            raise ScriptError("abusive_phrases", "must be a list of phrases")
        changes["abusive_phrases"] = frozenset(abusive)
    if "rules" in data:
        changes["rules"] = _rules_from(data["rules"], base.rules)
    return replace(base, **changes)  # type: ignore[arg-type]


def _rules_from(value: object, current: Mapping[str, Rule]) -> Mapping[str, Rule]:
    if not isinstance(value, dict):
        raise ScriptError("rules", "must be an object: rule id → {severity, points, why}")
    rules = dict(current)
    for rule_id, spec in value.items():
        field_name = f"rules.{rule_id}"
        if rule_id not in rules:
            raise ScriptError(field_name, "no such rule")
        if not isinstance(spec, dict):
            raise ScriptError(field_name, "must be an object")
        rule = rules[rule_id]
        severity = spec.get("severity", rule.severity.value)
        try:
            severity = Severity(severity)
        except ValueError:
            raise ScriptError(f"{field_name}.severity", "must be fatal, major or minor") from None
        points = spec.get("points", rule.points)
        if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= 100:
            raise ScriptError(f"{field_name}.points", "must be a whole number 0-100")
        why = spec.get("why", rule.why)
        if not isinstance(why, str):
            raise ScriptError(f"{field_name}.why", "must be a string")
        rules[rule_id] = replace(rule, severity=severity, points=points, why=why)
    return MappingProxyType(rules)
