"""Buyers (nick, tier, PII) and the names of the staff, from a seeded Faker zh_CN.

Faker's zh_CN addresses pair random provinces with invented cities, so addresses are
built here from real province/city/district triples; a few are incomplete or undeliverable
on purpose, for order review (订单审核) to catch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csdesk.actions.buyers import BuyerSpec
from csdesk.storage.enums import BuyerTier

TIER_SHARES = ((BuyerTier.VIP88, 0.05), (BuyerTier.VIP, 0.15))
"""Shares of the non-normal tiers; the rest (~80 %) are normal buyers."""
UNDELIVERABLE_SHARE = 0.03

_PLACES = (
    ("北京市", "北京市", ("朝阳区", "海淀区", "丰台区", "通州区", "昌平区")),
    ("上海市", "上海市", ("浦东新区", "徐汇区", "闵行区", "宝山区", "杨浦区")),
    ("天津市", "天津市", ("南开区", "河西区", "滨海新区")),
    ("重庆市", "重庆市", ("渝北区", "江北区", "九龙坡区", "沙坪坝区")),
    ("广东省", "广州市", ("天河区", "海珠区", "番禺区", "白云区")),
    ("广东省", "深圳市", ("南山区", "福田区", "宝安区", "龙岗区")),
    ("广东省", "东莞市", ("南城街道", "长安镇", "虎门镇")),
    ("浙江省", "杭州市", ("西湖区", "余杭区", "滨江区", "萧山区")),
    ("浙江省", "宁波市", ("鄞州区", "海曙区", "北仑区")),
    ("江苏省", "南京市", ("鼓楼区", "江宁区", "建邺区")),
    ("江苏省", "苏州市", ("工业园区", "姑苏区", "吴中区", "昆山市")),
    ("四川省", "成都市", ("武侯区", "锦江区", "高新区", "双流区")),
    ("湖北省", "武汉市", ("洪山区", "江汉区", "武昌区")),
    ("湖南省", "长沙市", ("岳麓区", "雨花区", "开福区")),
    ("福建省", "厦门市", ("思明区", "湖里区", "集美区")),
    ("山东省", "青岛市", ("市南区", "崂山区", "黄岛区")),
    ("山东省", "济南市", ("历下区", "槐荫区")),
    ("河南省", "郑州市", ("金水区", "郑东新区", "二七区")),
    ("陕西省", "西安市", ("雁塔区", "未央区", "长安区")),
    ("安徽省", "合肥市", ("蜀山区", "包河区", "政务区")),
    ("辽宁省", "沈阳市", ("和平区", "浑南区")),
    ("黑龙江省", "哈尔滨市", ("南岗区", "道里区")),
    ("云南省", "昆明市", ("五华区", "官渡区")),
    ("广西壮族自治区", "南宁市", ("青秀区", "西乡塘区")),
    ("河北省", "石家庄市", ("长安区", "裕华区")),
    ("江西省", "南昌市", ("红谷滩区", "青山湖区")),
)
_ROADS = (
    "人民路", "中山路", "解放路", "建设大道", "长江路", "文化路", "科技园路", "新华街",
    "和平路", "滨江大道", "学府路", "幸福大街", "光明路", "青年路", "东风路", "迎宾大道",
)  # fmt: skip
_COMPOUNDS = (
    "阳光花园", "幸福里小区", "万科城", "碧水湾", "翠苑", "金色家园", "锦绣华庭", "枫林苑",
    "世纪新城", "绿城桂花园", "东方名苑", "融创壹号院", "书香门第", "春江花月", "和谐家园",
)  # fmt: skip
UNDELIVERABLE_ADDRESSES = (
    "广东省深圳市南山区",
    "浙江省杭州市",
    "上海市浦东新区 到了打电话",
    "北京市朝阳区望京 具体地址见备注",
    "四川省成都市高新区天府大道（门牌号忘了）",
    "西藏自治区阿里地区改则县某牧区",
    "新疆维吾尔自治区和田地区于田县达里雅布依乡",
    "湖南省长沙市岳麓区 驿站",
)
"""Addresses order review must catch: no house number, city only, or not served by couriers."""

_CUTE_HEADS = (
    "快乐的", "爱吃", "不吃香菜的", "会飞的", "一只", "小小", "月亮上的", "睡不醒的",
    "安静的", "奔跑的", "想去海边的", "今天也要", "元气", "佛系", "努力的",
)  # fmt: skip
_CUTE_TAILS = (
    "小猪", "土豆", "鱼", "兔子", "橘子", "猫咪", "蜗牛", "喵", "西瓜", "团子", "小熊",
    "奶茶", "柠檬", "星星", "企鹅", "小鹿", "咸鱼", "可乐", "汤圆",
)  # fmt: skip
_NICK_SUFFIXES = ("", "", "", "呀", "酱", "_", "a", "666", "88", "2018", "1314", "520")
_ENGLISH_NAMES = (
    "jenny", "lucky", "sunny", "amy", "coco", "kevin", "tony", "lily", "momo", "leo",
    "vivian", "echo", "jack", "mia", "yoyo", "summer", "angel", "david",
)  # fmt: skip


@dataclass(frozen=True)
class BuyerProfile:
    """A generated buyer, with what the generator knows beyond the stored row."""

    spec: BuyerSpec
    undeliverable: bool
    """The address is one of ``UNDELIVERABLE_ADDRESSES``."""


def tier_for(draw: float) -> BuyerTier:
    """Map a uniform draw in [0, 1) to a tier with ``TIER_SHARES``."""
    threshold = 0.0
    for tier, share in TIER_SHARES:
        threshold += share
        if draw < threshold:
            return tier
    return BuyerTier.NORMAL


def make_nick(rng: random.Random, fake: Any) -> str:
    """A 旺旺-style nick: tb+digits, pinyin+year, cute Chinese phrases, English-ish handles."""
    style = rng.random()
    if style < 0.22:
        return f"tb{rng.randrange(10**8, 10**10)}"
    if style < 0.45:
        given = str(fake.first_romanized_name()).lower()
        family = str(fake.last_romanized_name()).lower()
        return f"{family}{given}{rng.choice(('', '_', ''))}{rng.randint(1975, 2008)}"
    if style < 0.8:
        return f"{rng.choice(_CUTE_HEADS)}{rng.choice(_CUTE_TAILS)}{rng.choice(_NICK_SUFFIXES)}"
    return f"{rng.choice(_ENGLISH_NAMES)}_{rng.randrange(1, 10000):04d}"


def make_address(rng: random.Random) -> str:
    province, city, districts = rng.choice(_PLACES)
    head = city if province == city else f"{province}{city}"
    return (
        f"{head}{rng.choice(districts)}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"
        f"{rng.choice(_COMPOUNDS)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元"
        f"{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
    )


def make_buyers(
    rng: random.Random, fake: Any, count: int, *, first_order_window_start: datetime
) -> list[BuyerProfile]:
    """``count`` buyers with unique nicks, known to the shop before the order window."""
    nicks: set[str] = set()
    buyers: list[BuyerProfile] = []
    for _ in range(count):
        nick = make_nick(rng, fake)
        while nick in nicks:
            nick = f"{nick}{rng.randint(0, 9)}"
        nicks.add(nick)
        undeliverable = rng.random() < UNDELIVERABLE_SHARE
        address = rng.choice(UNDELIVERABLE_ADDRESSES) if undeliverable else make_address(rng)
        # A buyer row exists from the first contact with the shop: before the window.
        created_at = first_order_window_start - timedelta(
            days=rng.uniform(1, 720), seconds=rng.randrange(86400)
        )
        buyers.append(
            BuyerProfile(
                BuyerSpec(
                    nick=nick,
                    created_at=created_at.replace(microsecond=0),
                    tier=tier_for(rng.random()),
                    name=str(fake.name()),
                    phone=str(fake.phone_number()),
                    address=address,
                ),
                undeliverable,
            )
        )
    return buyers


def make_staff_names(fake: Any, count: int) -> list[str]:
    """Unique Chinese full names for the staff."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = str(fake.name())
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def chat_name(full_name: str) -> str:
    """The 花名 an agent uses in chat: 小 + the last character of the given name (王芳 -> 小芳)."""
    return f"小{full_name[-1]}"
