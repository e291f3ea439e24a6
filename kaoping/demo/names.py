"""The fixed vocabulary of the demo county: places, departments, surnames and given-name characters.

The structure follows the Ouhai report (seeds/001): 13 towns and streets, 151 villages and 39
communities, 54 clusters (片区), 95 departments. The place names are plausible for Wenzhou, not a
copy of the official list, so nothing here should be read as real data.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TownshipSpec:
    serial: str  # the township's 3 digits in the division code
    name: str
    communities: tuple[str, ...]  # names without the 社区 suffix
    villages: tuple[str, ...]  # names without the 村 suffix
    clusters: int  # how many 片区 its 村社 form (3–4 村社 each)


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Streets (街道) take serials 001–099 and towns (镇) 100–199, as in the national code.
TOWNSHIPS: tuple[TownshipSpec, ...] = (
    TownshipSpec(
        "001", "景山街道", _split("景山 翠微 西山 净水 锦园 景德 杨柳"), _split("山前"), 2
    ),
    TownshipSpec(
        "002",
        "新桥街道",
        _split("新桥 高翔 金竹 旸岙 泰安 新庄"),
        _split("岙底 金岙 上横 下横 西岙 马岙"),
        3,
    ),
    TownshipSpec(
        "003",
        "娄桥街道",
        _split("娄桥 古岸 汇昌 南湖"),
        _split("上汇 下汇 古岸头 娄东 娄南 屿田 安下 杜山头 河头 新居 陈埭 涂村 垟头 东垟"),
        6,
    ),
    TownshipSpec(
        "004",
        "潘桥街道",
        _split("潘桥 丹霞"),
        _split("陈庄 横塘 石垟 仙门 西垟 潘东 潘西 桐岭 下庄 塘头 华亭 金岙底 凤凰 上庄 岩头 竹坑"),
        5,
    ),
    TownshipSpec(
        "005",
        "郭溪街道",
        _split("郭溪 梅屿"),
        _split("浦东 塘下 任桥 曹埭 岩门 梅园 泉川 下岙 林宅 郭南 郭北 前垟 后垟 渔渡"),
        5,
    ),
    TownshipSpec(
        "006",
        "瞿溪街道",
        _split("瞿溪 雄溪 河口"),
        _split("瞿南 瞿北 溪口 三溪 坑源 山头 上山 叶垟 石门"),
        3,
    ),
    TownshipSpec(
        "007",
        "三垟街道",
        _split("三垟 南仙"),
        _split("黄屿 南仙堡 詹岙 瓯渠 池底 李浦 北垟 徐岙 河埭 新垟"),
        3,
    ),
    TownshipSpec(
        "008",
        "南白象街道",
        _split("白象 新城 龙霞 繁荣"),
        _split("茶堂 南村 新田 殿前 金垟 岷山 郑宅 横街 沙河 龟湖 塘河 仙堂"),
        5,
    ),
    TownshipSpec(
        "009",
        "梧田街道",
        _split("梧田 慈湖 老殿 莲花 蒋家桥"),
        _split("南堡 北村 坦前 塘西 高新 岙口 湖滨"),
        3,
    ),
    TownshipSpec(
        "010",
        "茶山街道",
        _split("茶山 大学城"),
        _split("丁岙 五美园 罗山 河口埭 南山头 凤岙 茶北 刘宅 黄宅 洞桥"),
        3,
    ),
    TownshipSpec(
        "011",
        "丽岙街道",
        _split("丽岙"),
        _split("下呈 叶宅 任宅 杨宅 白门 姜宅 河头埭 梓岙 茶坑 岙前 丽北 丽南 周宅"),
        4,
    ),
    TownshipSpec(
        "012",
        "仙岩街道",
        _split("仙岩"),
        _split("穗丰 河口塘 竹溪 沈岙 岷岗 仙北 盖竹 渔潭 寺前 霞岙 下林 南岙 前岩 西岩 上林"),
        5,
    ),
    TownshipSpec(
        "100",
        "泽雅镇",
        (),
        _split(
            "纸山 五凤垟 黄坑 周岙 唐宅 西岸 岙外 水碓坑 林岙 戈恬 寨下 庙后 "
            "纸源 石桥 七甲 岩坦 源口 泽雅 金坑 外垟 上戈 龙井 陈岙 珠岙"
        ),
        7,
    ),
)

CLUSTER_ORDINALS = "一二三四五六七八九十"

# The first ten are the ones the brief names; the rest are the other county offices, state firms
# and banks the report lists among the 95 (机关部门、国企、重点银行业金融机构).
DEPARTMENTS: tuple[str, ...] = _split(
    """
    区委组织部 区委政法委 区纪委监委 区公安分局 区信访局 区农业农村局 区民政局 区司法局 区住建局
    区生态环境分局
    区委办公室 区人大常委会办公室 区政府办公室 区政协办公室 区委宣传部 区委统战部 区委编办
    区委党校 区委社会工作部 区委网信办 区委巡察办 区直机关工委 区总工会 团区委 区妇联 区科协
    区工商联 区残联 区侨联 区文联 区红十字会 区发展和改革局 区经济和信息化局 区教育局 区科学技术局
    区财政局 区人力资源和社会保障局 区自然资源和规划分局 区交通运输局 区水利局 区商务局
    区文化和广电旅游体育局 区卫生健康局 区退役军人事务局 区应急管理局 区审计局 区市场监督管理局
    区统计局 区医疗保障局 区综合行政执法局 区数据管理中心 区机关事务管理中心 区投资促进中心
    区融媒体中心 区档案馆 区供销社 区人民法院 区人民检察院 区税务局 区消防救援大队 区气象局
    区人民武装部 区邮政分公司 区供电分公司 区烟草专卖局 区城市建设投资集团 区交通投资集团
    区国有资产投资集团 区农业投资发展公司 区水务集团 区农商银行
    工商银行瓯海支行 农业银行瓯海支行 中国银行瓯海支行 建设银行瓯海支行 邮储银行瓯海支行
    交通银行瓯海支行 温州银行瓯海支行 浙商银行瓯海支行 兴业银行瓯海支行 招商银行瓯海支行
    浦发银行瓯海支行 民生银行瓯海支行 中信银行瓯海支行 光大银行瓯海支行 华夏银行瓯海支行
    平安银行瓯海支行 宁波银行瓯海支行 杭州银行瓯海支行 台州银行瓯海支行 泰隆银行瓯海支行
    人保财险瓯海支公司 中国人寿瓯海支公司 区电信分公司 区移动分公司
    """
)

# Wenzhou's common surnames with rough shares (陈 far ahead, then 林 王 黄 张 李 …). Surnames
# read differently as a surname (曾 单 解 仇 区 查) are left out so per-character initials hold.
SURNAME_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("陈", 11.0),
    ("林", 6.0),
    ("王", 5.5),
    ("黄", 5.0),
    ("张", 4.5),
    ("李", 4.0),
    ("吴", 3.5),
    ("郑", 3.2),
    ("周", 3.0),
    ("徐", 2.8),
    ("潘", 2.6),
    ("金", 2.4),
    ("叶", 2.3),
    ("朱", 2.0),
    ("胡", 2.0),
    ("杨", 1.8),
    ("刘", 1.6),
    ("谢", 1.5),
    ("蔡", 1.4),
    ("池", 1.2),
    ("戴", 1.2),
    ("孙", 1.1),
    ("薛", 1.1),
    ("何", 1.0),
    ("董", 1.0),
    ("邵", 0.9),
    ("施", 0.9),
    ("季", 0.8),
    ("项", 0.8),
    ("余", 0.8),
    ("夏", 0.7),
    ("缪", 0.7),
    ("卢", 0.7),
    ("姜", 0.6),
    ("方", 0.6),
    ("赵", 0.6),
    ("洪", 0.6),
    ("苏", 0.5),
    ("钱", 0.5),
    ("高", 0.5),
    ("彭", 0.5),
    ("詹", 0.5),
    ("柯", 0.4),
    ("章", 0.4),
    ("包", 0.4),
    ("虞", 0.4),
    ("梅", 0.3),
    ("麻", 0.3),
    ("郭", 0.3),
    ("程", 0.3),
    ("任", 0.3),
    ("姚", 0.3),
    ("庄", 0.3),
    ("翁", 0.3),
    ("娄", 0.2),
    ("欧阳", 0.1),
)

# Given-name characters by generation and gender: 秀英 and 根福 for the old, 建国 and 丽红 for the
# middle-aged, 子轩 and 欣怡 for the young. Characters whose reading (and so initial) changes
# with context (乐 长 重 朝 行) are left out for the same reason as above.
GIVEN_CHARS: dict[tuple[str, str], str] = {
    ("old", "M"): "德福根友庆金银荣发宝财林松海春成兴顺国明昌祥才寿生贵仁义忠志",
    ("old", "F"): "秀英兰菊梅凤珍娥花玉香桂彩月云琴美娣仙莲妹翠芝素",
    ("mid", "M"): "建国军伟强明华平志勇海林文斌杰东峰波刚辉锋亮鹏飞超磊进胜洪",
    ("mid", "F"): "丽红燕霞芳娟敏静玲萍艳慧雪琴莉芬洁春晓微蓉丹",
    ("young", "M"): "浩宇轩子博泽晨俊涛杰睿然一航天逸辰凯哲昊文豪嘉鑫奕锦诚铭杭煜",
    ("young", "F"): "欣怡雨诗梦涵琪婷佳悦可馨思彤语萱瑶妍梓依璐琳雅颖蕾晴安宁",
}


def generation(birth_year: int) -> str:
    if birth_year < 1960:
        return "old"
    if birth_year < 1990:
        return "mid"
    return "young"


# Mobile prefixes of the three carriers (13x, 15x, 18x, 19x).
PHONE_PREFIXES: tuple[str, ...] = _split(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "180 181 182 183 184 185 186 187 188 189 191 193 195 198 199"
)
