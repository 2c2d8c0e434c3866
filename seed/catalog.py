"""The demo shop's catalogue: ~200 products with Chinese titles, prices in fen, and gifts.

House brands are made up, so no real trademark appears in demo data. TVs carry the gift
of seeds/003 (an HDMI高清线), which order review checks against what the system attached.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from csdesk.actions.catalog import ProductSpec

LARGE_APPLIANCES = "大家电"
SMALL_APPLIANCES = "小家电"
DIGITAL = "数码"
APPAREL = "服饰"
BEAUTY = "美妆"
FOOD = "食品"
CATEGORIES = (LARGE_APPLIANCES, SMALL_APPLIANCES, DIGITAL, APPAREL, BEAUTY, FOOD)

TV_GIFT = "HDMI高清线"
WRONG_TV_GIFT = "旅游券"
"""What the system attached instead of the HDMI cable in the seeds/003 example."""

BRANDS = ("云川", "星澜", "禾木", "青屿", "朗拓", "暖山")

# How many products of each family make up the default catalogue of 200.
_FAMILY_QUOTA = {
    "tv": 16, "fridge": 8, "washer": 8, "aircon": 8,
    "small_appliance": 30, "phone": 10, "digital": 30,
    "apparel": 35, "beauty": 30, "food": 25,
}  # fmt: skip


@dataclass(frozen=True)
class CatalogProduct:
    spec: ProductSpec
    short_name: str
    """How an agent names it in chat (titles are long search-optimised strings)."""
    family: str

    @property
    def is_large_appliance(self) -> bool:
        return self.spec.category == LARGE_APPLIANCES

    @property
    def is_tv(self) -> bool:
        return self.family == "tv"


def _price(rng: random.Random, low_yuan: int, high_yuan: int) -> int:
    """A shop-style price in fen: whole yuan ending in 9 (1999, 329, 59...)."""
    yuan = rng.randint(low_yuan, high_yuan)
    yuan = yuan // 100 * 100 + 99 if yuan >= 1000 else yuan // 10 * 10 + 9
    return yuan * 100


@dataclass(frozen=True)
class _Draft:
    title: str
    short_name: str
    category: str
    price_fen: int
    gifts: tuple[str, ...] = ()


def _tvs(rng: random.Random) -> Iterator[_Draft]:
    features = (
        "4K超高清 远场语音 全面屏",
        "MEMC运动防抖 120Hz高刷",
        "Mini LED 量子点 HDR",
        "护眼防蓝光 智能投屏",
    )
    price_by_size = {43: (1099, 1699), 50: (1399, 2199), 55: (1799, 3299),
                     65: (2599, 4999), 75: (3999, 7999), 85: (6999, 12999)}  # fmt: skip
    while True:
        size = rng.choice(tuple(price_by_size))
        brand = rng.choice(BRANDS)
        model = f"{rng.choice('QVEA')}{size}{rng.choice(('', 'Pro', 'S', 'Max'))}"
        gifts = (TV_GIFT, "壁挂架") if size >= 65 and rng.random() < 0.5 else (TV_GIFT,)
        yield _Draft(
            f"{brand} {model} {size}英寸 {rng.choice(features)} 液晶电视机",
            f"{size}英寸电视{model}",
            LARGE_APPLIANCES,
            _price(rng, *price_by_size[size]),
            gifts,
        )


def _fridges(rng: random.Random) -> Iterator[_Draft]:
    doors = ("对开门", "十字对开门", "法式多门", "三门")
    while True:
        volume = rng.choice((236, 325, 405, 470, 516, 603))
        door = rng.choice(doors)
        brand = rng.choice(BRANDS)
        yield _Draft(
            f"{brand} {volume}升 {door}冰箱 一级能效 风冷无霜 变频",
            f"{volume}升{door}冰箱",
            LARGE_APPLIANCES,
            _price(rng, 1500 + volume * 6, 2500 + volume * 10),
        )


def _washers(rng: random.Random) -> Iterator[_Draft]:
    while True:
        kilos = rng.choice((8, 10, 12))
        kind = rng.choice(("滚筒洗衣机 洗烘一体", "滚筒洗衣机 除菌", "波轮洗衣机 全自动"))
        brand = rng.choice(BRANDS)
        yield _Draft(
            f"{brand} {kilos}公斤 {kind} 变频 家用",
            f"{kilos}公斤{kind.split()[0]}",
            LARGE_APPLIANCES,
            _price(rng, 999 + kilos * 100, 2500 + kilos * 250),
        )


def _aircons(rng: random.Random) -> Iterator[_Draft]:
    while True:
        power, form, low, high = rng.choice(
            (
                ("1匹", "挂机", 1799, 2699),
                ("1.5匹", "挂机", 2199, 3599),
                ("3匹", "立式柜机", 4999, 8999),
            )
        )
        brand = rng.choice(BRANDS)
        yield _Draft(
            f"{brand} {power} 新一级能效 变频冷暖 {form} 自清洁",
            f"{power}空调{form}",
            LARGE_APPLIANCES,
            _price(rng, low, high),
            ("铜管延长1米",),
        )


def _from_table(
    category: str,
    table: tuple[tuple[str, str, int, int, tuple[str, ...]], ...],
    variants: tuple[str, ...],
) -> Callable[[random.Random], Iterator[_Draft]]:
    """A family drawn from (name, title tail, low yuan, high yuan, gifts) rows."""

    def family(rng: random.Random) -> Iterator[_Draft]:
        while True:
            name, tail, low, high, gifts = rng.choice(table)
            variant = rng.choice(variants)
            brand = rng.choice(BRANDS)
            yield _Draft(
                f"{brand} {name} {variant} {tail}",
                f"{name}（{variant}）",
                category,
                _price(rng, low, high),
                gifts,
            )

    return family


_small_appliances = _from_table(
    SMALL_APPLIANCES,
    (
        ("空气炸锅", "家用大容量 无油低脂", 199, 499, ()),
        ("电饭煲", "智能预约 IH加热 4L", 199, 899, ()),
        ("电动牙刷", "声波震动 成人款 长续航", 99, 399, ("替换刷头×2",)),
        ("吹风机", "负离子 大风力 速干", 129, 699, ()),
        ("扫地机器人", "扫拖一体 自动集尘", 1299, 3499, ()),
        ("破壁机", "加热 低音 家用多功能", 299, 1099, ()),
        ("电热水壶", "304不锈钢 保温 1.7L", 69, 199, ()),
        ("加湿器", "卧室静音 大雾量 上加水", 99, 299, ()),
        ("无线吸尘器", "大吸力 手持 除螨", 599, 1899, ()),
        ("电风扇", "落地扇 直流变频 遥控", 199, 599, ()),
    ),
    ("白色", "灰色", "升级款", "标准款", "礼盒装"),
)
_digital = _from_table(
    DIGITAL,
    (
        ("蓝牙耳机", "真无线 主动降噪 长续航", 129, 999, ()),
        ("充电宝", "20000毫安 22.5W快充", 79, 199, ("数据线",)),
        ("平板电脑", "11英寸 2.5K屏 学习办公", 1299, 3299, ("保护套",)),
        ("智能手表", "心率血氧监测 NFC 长续航", 299, 1299, ()),
        ("机械键盘", "三模无线 热插拔 RGB", 199, 699, ()),
        ("无线鼠标", "静音 蓝牙双模 办公", 59, 199, ()),
        ("移动硬盘", "1TB USB3.2 高速", 299, 599, ()),
        ("快充数据线", "Type-C 100W 编织 1.5米", 19, 59, ()),
    ),
    ("黑色", "白色", "蓝色", "标准版", "套装版"),
)
_apparel = _from_table(
    APPAREL,
    (
        ("羽绒服", "女 中长款 90白鸭绒 冬季加厚", 399, 1299, ()),
        ("连帽卫衣", "男女同款 宽松 加绒", 129, 299, ()),
        ("牛仔裤", "高腰 直筒 显瘦 四季款", 129, 399, ()),
        ("连衣裙", "法式 收腰 气质 长裙", 199, 599, ()),
        ("衬衫", "男 免烫 商务 长袖", 129, 399, ()),
        ("运动鞋", "轻便 透气 缓震 跑步鞋", 199, 699, ("袜子一双",)),
        ("羊毛衫", "女 圆领 纯羊毛 打底", 299, 799, ()),
        ("冲锋衣", "三合一 防风防水 户外", 399, 1299, ()),
    ),
    ("黑色", "米白", "藏青", "卡其", "灰色", "燕麦色"),
)
_beauty = _from_table(
    BEAUTY,
    (
        ("精华液", "修护 保湿 30ml", 199, 899, ("小样×3",)),
        ("面霜", "补水 滋润 50g", 159, 699, ("小样×3",)),
        ("口红", "丝绒雾面 显白", 99, 399, ()),
        ("粉底液", "持妆 控油 遮瑕 30ml", 159, 499, ("美妆蛋",)),
        ("防晒霜", "SPF50+ 清爽 隔离", 89, 299, ()),
        ("面膜", "补水 10片装", 69, 199, ()),
        ("卸妆水", "温和 敏感肌 400ml", 59, 159, ()),
        ("洗面奶", "氨基酸 温和清洁 120g", 49, 139, ()),
    ),
    ("经典款", "限定款", "旅行装", "正装", "套装"),
)
_food = _from_table(
    FOOD,
    (
        ("每日坚果", "混合果仁 30袋 礼盒", 89, 199, ()),
        ("风干牛肉干", "内蒙古 手撕 500g", 79, 169, ()),
        ("明前龙井", "绿茶 250g 礼盒装", 199, 699, ()),
        ("咖啡豆", "中深烘焙 意式 1kg", 89, 229, ()),
        ("螺蛳粉", "广西柳州 5袋装", 39, 69, ()),
        ("东北大米", "五常稻花香 10kg", 89, 199, ()),
        ("土蜂蜜", "农家自产 500g", 49, 129, ()),
        ("零食大礼包", "网红休闲 30包", 59, 129, ()),
    ),
    ("原味", "家庭装", "尝鲜装", "礼盒装", "组合装"),
)


def _phones(rng: random.Random) -> Iterator[_Draft]:
    while True:
        series = rng.choice(("X", "Note", "Pro", "Lite"))
        number = rng.randint(5, 15)
        memory = rng.choice(("8+256GB", "12+256GB", "12+512GB", "16+1TB"))
        brand = rng.choice(BRANDS)
        yield _Draft(
            f"{brand} {series}{number} 5G手机 {memory} 全网通 拍照游戏",
            f"{series}{number}手机{memory}",
            DIGITAL,
            _price(rng, 1299, 6999),
            ("钢化膜", "手机壳"),
        )


_FAMILIES: dict[str, Callable[[random.Random], Iterator[_Draft]]] = {
    "tv": _tvs,
    "fridge": _fridges,
    "washer": _washers,
    "aircon": _aircons,
    "small_appliance": _small_appliances,
    "phone": _phones,
    "digital": _digital,
    "apparel": _apparel,
    "beauty": _beauty,
    "food": _food,
}
_SKU_PREFIX = {
    "tv": "TV", "fridge": "RF", "washer": "WM", "aircon": "AC", "small_appliance": "SA",
    "phone": "PH", "digital": "DG", "apparel": "AP", "beauty": "BT", "food": "FD",
}  # fmt: skip


def build_catalog(rng: random.Random, count: int = 200) -> list[CatalogProduct]:
    """``count`` products in a fixed family mix; titles unique, SKUs ``TV-0001`` style."""
    total_quota = sum(_FAMILY_QUOTA.values())
    products: list[CatalogProduct] = []
    titles: set[str] = set()
    for family, quota in _FAMILY_QUOTA.items():
        wanted = max(1, round(quota * count / total_quota))
        drafts = _FAMILIES[family](rng)
        made = 0
        while made < wanted:
            draft = next(drafts)
            if draft.title in titles:
                continue
            titles.add(draft.title)
            made += 1
            sku = f"{_SKU_PREFIX[family]}-{made:04d}"
            spec = ProductSpec(sku, draft.title, draft.category, draft.price_fen, draft.gifts)
            products.append(CatalogProduct(spec, draft.short_name, family))
    return products[:count]
