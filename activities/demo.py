"""Demo activities for 示例县: 2025 and 2026 to date in the seeds' shape, recorded through the services.

春节 and 八一 visits by the county and the townships (registry people, whose 慰问金 lands in the ledger once,
units given money and goods, groups of people outside the registry: the county's 八一 campaign follows seed 001
篇4), 板报, 国防教育, the 高一新生 军训, 征兵 figures, 共建 with the pairings and photos, leading-group meetings,
信息报送, and the plans and 双拥经费 they are measured against. Each activity is known by its unit, date and
title, so that running the demo again adds only what has come due since.
"""

import datetime
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone
from PIL import Image, ImageDraw

from beneficiaries.constants import Category, PaymentKind, Status
from beneficiaries.models import Beneficiary, Entitlement, Payment
from units.models import Pairing, UnitPlan
from units.plan_services import plan_save

from . import services
from .budget_services import budget_line_save
from .constants import ActivityType, BudgetSource, Occasion
from .models import Activity, BudgetLine, Photo, Recipient

YEARS = (2025, 2026)
D = Decimal

# Whom each occasion's visits go to first. The county pays the 三属 and 一至四级 残疾军人 a 春节慰问金 of its own
# (beneficiaries/payment_demo.py), so townships visit the other 优抚对象 at 春节.
SPRING_CATEGORIES = (Category.ILL_RETURNED, Category.RURAL_VETERAN_60, Category.DEMOBILIZED, Category.WAR_VETERAN)
ARMY_DAY_CATEGORIES = (
    Category.MARTYR_FAMILY,
    Category.DUTY_DEATH_FAMILY,
    Category.ILLNESS_DEATH_FAMILY,
    Category.DEMOBILIZED,
    Category.WAR_VETERAN,
    Category.CONSCRIPT_FAMILY,
    Category.SERVING_FAMILY,
    Category.RETIRED_OFFICER,
)
TROOPS = [
    ("示例县人民武装部", 12000),
    ("武警示例县中队", 10000),
    ("73026部队", 15000),
    ("预备役防化营", 8000),
    ("雷达连", 5000),
    ("无线连", 5000),
    ("示例县消防救援大队", 8000),
    ("示例县森林消防中队", 5000),
]


@dataclass
class Pick:
    """Registry people to visit: `count` of the township (or village) in the categories, each given `amount`."""

    where: str
    count: int
    amount: int
    categories: tuple
    goods: str = ""
    goods_value: int = 0
    village: str = ""
    grade_max: int = None


@dataclass
class Spec:
    unit: str
    day: datetime.date
    type: str
    title: str
    occasion: str = ""
    days: int = 0
    place: str = ""
    description: str = ""
    leaders: str = ""
    participants: int = 0
    soldiers: int = 0
    reached: int = None  # None: the people the visit reached (registry recipients and groups)
    cost: int = 0
    counts: dict = field(default_factory=dict)
    military: tuple = ()
    pairing: tuple = None  # (civil unit, military unit)
    gifts: list = field(default_factory=list)  # (unit name or outside name, money, goods, goods value)
    groups: list = field(default_factory=list)  # (description, people, money, goods, goods value)
    pick: Pick = None
    photos: tuple = ()  # captions
    recorder: str = "ganshi"

    @property
    def end_date(self):
        return self.day + datetime.timedelta(days=self.days) if self.days else None


def _third_saturday_of_september(year):
    day = datetime.date(year, 9, 15)
    return day + datetime.timedelta(days=(5 - day.weekday()) % 7)


SPRING_VISITS = {2025: datetime.date(2025, 1, 20), 2026: datetime.date(2026, 2, 9)}


def _visits(year):
    """The 春节, 八一 and 元旦 visits of a year."""
    d = lambda month, day: datetime.date(year, month, day)  # noqa: E731
    spring = SPRING_VISITS[year]
    bump = 1 if year == 2025 else Decimal("1.1")
    specs = [
        Spec(
            "示例县",
            spring + datetime.timedelta(days=1),
            ActivityType.VISIT,
            f"{year}年春节走访慰问驻县部队",
            Occasion.SPRING_FESTIVAL,
            days=2,
            place="驻县各部队营区",
            description="春节前夕，县四套班子领导分两组走访慰问驻县部队，送去慰问金和年货，并与部队官兵座谈。",
            leaders="钱志远、郑卫东、吴强、冯丽",
            participants=18,
            soldiers=260,
            military=tuple(name for name, _ in TROOPS[:4]),
            gifts=[(name, int(amount * bump * D("0.6")), "年货（米、油、水果）", 1500) for name, amount in TROOPS],
            groups=[("军队离退休干部（移交地方管理）", 15, 3000, "春联、年画", 450)],
            photos=("县领导向驻县部队官兵拜年",),
        ),
        Spec(
            "溧东镇",
            spring,
            ActivityType.VISIT,
            f"{year}年春节走访慰问优抚对象",
            Occasion.SPRING_FESTIVAL,
            days=3,
            place="各村（社区）优抚对象家中",
            description="镇党委、政府组织包村领导和村干部走访慰问重点优抚对象，送去慰问金和米、油，了解生活、住房、医疗情况。",
            leaders="陈书记、许明",
            participants=14,
            pick=Pick("溧东镇", 8, 300, SPRING_CATEGORIES, goods="米、油", goods_value=120),
            recorder="lidong",
        ),
        Spec(
            "东村",
            spring + datetime.timedelta(days=2),
            ActivityType.VISIT,
            f"{year}年春节慰问本村老复员军人和军属",
            Occasion.SPRING_FESTIVAL,
            place="东村",
            description="村两委上门慰问，送去春联、年画和慰问金，帮助打扫卫生。",
            leaders="村党支部书记",
            participants=5,
            pick=Pick("溧东镇", 3, 200, SPRING_CATEGORIES + ARMY_DAY_CATEGORIES, goods="春联、年画", village="东村"),
            recorder="lidong",
        ),
        Spec(
            "雅灰乡",
            spring + datetime.timedelta(days=1),
            ActivityType.VISIT,
            f"{year}年春节走访慰问优抚对象",
            Occasion.SPRING_FESTIVAL,
            days=2,
            place="各村优抚对象家中",
            description="乡领导走访慰问优抚对象 16 户，每户送去慰问金。",
            leaders="乡党委书记、乡长",
            participants=8,
            pick=Pick("雅灰乡", 6, 200, SPRING_CATEGORIES),
        ),
        Spec(
            "南渡镇",
            spring + datetime.timedelta(days=2),
            ActivityType.VISIT,
            f"{year}年春节走访慰问优抚对象",
            Occasion.SPRING_FESTIVAL,
            days=1,
            place="各村优抚对象家中",
            description="镇领导带队走访慰问带病回乡退役军人和在乡老复员军人。",
            participants=10,
            pick=Pick("南渡镇", 7, 300, SPRING_CATEGORIES, goods="米、油", goods_value=100),
        ),
        Spec(
            "雅灰乡",
            spring + datetime.timedelta(days=4),
            ActivityType.FORUM,
            f"{year}年春节优抚对象座谈会",
            Occasion.SPRING_FESTIVAL,
            place="雅灰乡政府会议室",
            description="邀请优抚对象代表座谈，通报优抚政策落实情况，听取意见建议，发放误工补贴。",
            participants=20,
            groups=[("参会优抚对象代表（误工补贴）", 12, 240, "", 0)],
        ),
        Spec(
            "示例县",
            d(7, 28),
            ActivityType.VISIT,
            f"{year}年“八一”走访慰问",
            Occasion.ARMY_DAY,
            days=3,
            place="驻县部队、相关企业及优抚对象家中",
            description=(
                "“八一”前夕，县委、县人大、县政府、县政协主要领导和退役军人事务局的同志分两组走访慰问驻县部队、"
                "复退军人较集中的困难企业、伤残军人和军队离退休干部，送去慰问信和慰问金。"
            ),
            leaders="钱志远、郑卫东、冯丽、吴强",
            participants=24,
            soldiers=320,
            military=tuple(name for name, _ in TROOPS),
            gifts=[(name, int(amount * bump), "防暑降温用品", 800) for name, amount in TROOPS]
            + [
                ("示例县机械厂", 8000, "", 0),
                ("示例县纺织厂", 8000, "", 0),
                ("示例县农机修造厂", 9000, "", 0),
                ("示例县粮油食品公司", 9000, "", 0),
            ],
            groups=[
                ("军队离退休干部（移交地方管理）", 15, 3000, "", 0),
                ("驻县部队随军家属", 28, 5600, "", 0),
            ],
            pick=Pick("示例县", 3, 500, (Category.DISABLED,), grade_max=4),
            photos=("县领导走访慰问驻县部队", "为伤残军人送去慰问金"),
        ),
        Spec(
            "示例县",
            d(7, 30),
            ActivityType.FORUM,
            f"{year}年庆“八一”军政座谈会",
            Occasion.ARMY_DAY,
            place="县委第一会议室",
            description="县委、县政府与驻县部队召开军政座谈会，通报全县经济社会发展情况，听取部队建设需求。",
            leaders="钱志远、郑卫东、吴强",
            participants=42,
            soldiers=16,
            military=("示例县人民武装部", "武警示例县中队", "73026部队"),
        ),
        Spec(
            "溧东镇",
            d(7, 29),
            ActivityType.VISIT,
            f"{year}年“八一”走访慰问",
            Occasion.ARMY_DAY,
            days=1,
            place="73026部队营区及优抚对象家中",
            description="镇党委、政府领导走访慰问共建部队和烈军属、在乡老复员军人、义务兵家庭。",
            leaders="陈书记、许明、何平",
            participants=12,
            soldiers=120,
            military=("73026部队",),
            pairing=("溧东镇", "73026部队"),
            gifts=[("73026部队", int(5000 * bump), "西瓜、饮料", 2000)],
            pick=Pick("溧东镇", 6, 400, ARMY_DAY_CATEGORIES),
            photos=("镇领导走访慰问共建部队",),
            recorder="lidong",
        ),
        Spec(
            "雅灰乡",
            d(7, 25),
            ActivityType.VISIT,
            f"{year}年“八一”慰问优抚对象",
            Occasion.ARMY_DAY,
            place="各村优抚对象家中",
            description="“八一”前走访慰问烈军属、复员军人等 7 户，每户 100 元。",
            participants=6,
            pick=Pick("雅灰乡", 5, 100, ARMY_DAY_CATEGORIES),
        ),
        Spec(
            "城关街道",
            d(7, 30),
            ActivityType.VISIT,
            f"{year}年“八一”走访慰问",
            Occasion.ARMY_DAY,
            place="辖区优抚对象家中、无线连",
            description="街道党工委班子成员走访慰问辖区优抚对象和驻地无线连官兵。",
            participants=9,
            soldiers=40,
            military=("无线连",),
            gifts=[("无线连", 3000, "慰问品", 1500)],
            groups=[("困难退役士兵（未在优抚名册）", 6, 1200, "", 0)],
            pick=Pick("城关街道", 4, 300, ARMY_DAY_CATEGORIES),
        ),
        Spec(
            "县规划局",
            d(7, 27),
            ActivityType.VISIT,
            f"{year}年“八一”慰问森林消防中队",
            Occasion.ARMY_DAY,
            place="示例县森林消防中队",
            description="局领导带队到共建单位森林消防中队慰问，送去防暑降温用品，并就防火规划进行座谈。",
            leaders="施建华、张勇",
            participants=6,
            soldiers=35,
            military=("示例县森林消防中队",),
            pairing=("县规划局", "示例县森林消防中队"),
            gifts=[("示例县森林消防中队", 3000, "防暑降温用品", 1200)],
            photos=("局领导慰问森林消防中队指战员",),
            recorder="guihua",
        ),
        Spec(
            "县人民医院",
            d(7, 25),
            ActivityType.VISIT,
            f"{year}年“八一”慰问消防救援大队",
            Occasion.ARMY_DAY,
            place="示例县消防救援大队",
            description="院领导带领院办、保卫科等科室人员前往消防救援大队走访慰问，送去防暑降温药品和洗漱用品。",
            leaders="严伟、金涛",
            participants=8,
            soldiers=60,
            military=("示例县消防救援大队",),
            pairing=("县人民医院", "示例县消防救援大队"),
            gifts=[("示例县消防救援大队", 0, "防暑降温药品、洗漱用品", 3600)],
        ),
        Spec(
            "示例县",
            d(12, 29),
            ActivityType.VISIT,
            f"{year + 1}年元旦慰问驻县部队",
            Occasion.NEW_YEAR,
            place="驻县各部队营区",
            description="元旦前夕，县领导走访慰问驻县部队，致以新年问候。",
            leaders="钱志远、吴强",
            participants=10,
            soldiers=150,
            military=("示例县人民武装部", "武警示例县中队", "73026部队"),
            gifts=[
                ("示例县人民武装部", 5000, "", 0),
                ("武警示例县中队", 5000, "", 0),
                ("73026部队", 5000, "", 0),
            ],
        ),
    ]
    return specs


def _education_and_work(year):
    """板报, 国防教育, 军训, 征兵, 共建, meetings, 信息报送 and the rest of a year's work."""
    d = lambda month, day: datetime.date(year, month, day)  # noqa: E731
    students = 1860 if year == 2025 else 1920
    specs = [
        Spec(
            "示例县",
            d(3, 5),
            ActivityType.MEETING,
            f"{year}年县双拥工作领导小组第一次全体会议",
            place="县委第一会议室",
            description="总结上年度双拥工作，部署本年度双拥工作任务，审议《示例县双拥工作要点》。",
            leaders="钱志远、郑卫东、吴强、冯丽",
            participants=32,
        ),
        Spec(
            "示例县",
            d(12, 18),
            ActivityType.MEETING,
            f"{year}年县双拥工作领导小组第二次全体会议",
            place="县委第一会议室",
            description="听取各成员单位全年双拥工作汇报，研究下一年度双拥工作计划。",
            leaders="钱志远、郑卫东、冯丽",
            participants=30,
        ),
        Spec(
            "溧东镇",
            d(2, 26),
            ActivityType.MEETING,
            f"{year}年镇双拥工作领导小组会议",
            place="溧东镇政府会议室",
            description="研究制定《溧东镇双拥工作计划》和《溧东镇双拥宣教计划》，明确各村双拥联络员。",
            leaders="陈书记、许明、何平",
            participants=16,
            recorder="lidong",
        ),
        Spec(
            "溧东镇",
            d(8, 20),
            ActivityType.MEETING,
            f"{year}年镇双拥工作领导小组年中调度会",
            place="溧东镇政府会议室",
            description="调度上半年双拥工作，检查优抚政策落实情况。",
            leaders="陈书记、许明",
            participants=14,
            recorder="lidong",
        ),
        # 雅灰乡 plans two meetings a year and holds one: the dashboard shows a unit that lags.
        Spec(
            "雅灰乡",
            d(3, 6),
            ActivityType.MEETING,
            f"{year}年乡双拥工作领导小组会议",
            place="雅灰乡政府会议室",
            description="传达县双拥工作会议精神，部署全乡双拥工作。",
            participants=12,
        ),
        Spec(
            "县规划局",
            d(3, 12),
            ActivityType.MEETING,
            f"{year}年局党组研究双拥工作",
            place="县规划局会议室",
            description="局党组专题研究双拥工作，调整充实双拥工作领导小组。",
            leaders="施建华",
            participants=9,
            recorder="guihua",
        ),
        Spec(
            "县规划局",
            d(9, 10),
            ActivityType.MEETING,
            f"{year}年局双拥工作推进会",
            place="县规划局会议室",
            participants=8,
            recorder="guihua",
        ),
        Spec(
            "示例县",
            d(3, 20),
            ActivityType.CONSCRIPTION,
            f"{year}年上半年征兵工作",
            Occasion.CONSCRIPTION,
            days=40,
            place="县征兵办公室及各乡镇（街道）",
            description="组织适龄青年网上报名、体检和政治考核，完成上半年征兵任务。",
            leaders="吴强、冯丽",
            participants=60,
            counts={"enlist_applied": 168 if year == 2025 else 175, "enlist_passed": 71, "enlist_final": 45},
            military=("示例县人民武装部",),
        ),
        Spec(
            "示例县",
            d(8, 10),
            ActivityType.CONSCRIPTION,
            f"{year}年下半年征兵工作",
            Occasion.CONSCRIPTION,
            days=35,
            place="县征兵办公室及各乡镇（街道）",
            description="开展征兵宣传进校园、进村（社区），组织体检、政治考核和定兵。",
            leaders="吴强、冯丽",
            participants=80,
            counts={"enlist_applied": 412 if year == 2025 else 398, "enlist_passed": 186, "enlist_final": 121},
            military=("示例县人民武装部",),
        ),
        Spec(
            "溧东镇",
            d(6, 15),
            ActivityType.CONSCRIPTION,
            f"{year}年征兵宣传和报名动员",
            Occasion.CONSCRIPTION,
            days=20,
            place="溧东镇各村（社区）",
            description="张贴标语、悬挂横幅，利用广播宣传“一人当兵，全家光荣”，党委班子成员分工包干上门动员应征青年。",
            participants=30,
            counts={
                "slogans": 24,
                "banners": 6,
                "broadcasts": 12,
                "enlist_applied": 23,
                "enlist_passed": 9,
                "enlist_final": 5,
            },
            recorder="lidong",
        ),
        Spec(
            "县教育局",
            d(8, 25),
            ActivityType.TRAINING,
            f"{year}年高一新生军训",
            days=6,
            place="县第一中学、县职业教育中心等",
            description="各高中阶段学校与驻地部队联系，对高一新生进行内务、队列和纪律训练，由预备役防化营派员指导。",
            participants=students + 120,
            soldiers=36,
            counts={"training_schools": 3, "training_students": students},
            military=("预备役防化营",),
            pairing=("县教育局", "预备役防化营"),
            photos=("高一新生队列训练", "军训汇报表演"),
        ),
        Spec(
            "县教育局",
            d(9, 1),
            ActivityType.ASSISTANCE,
            f"{year}年驻军子女入学",
            place="县内中小学",
            description="落实现役军人子女入学优待政策，随到随录，妥善安排驻军子女入学。",
            participants=4,
            counts={"children_enrolled": 14 if year == 2025 else 11},
        ),
        Spec(
            "示例县",
            _third_saturday_of_september(year),
            ActivityType.DEFENSE_EDUCATION,
            f"{year}年全民国防教育日主题宣传",
            Occasion.DEFENSE_DAY,
            place="县城人民广场",
            description="设置宣传展板，发放国防知识读本，组织国防知识讲座和防空警报试鸣。",
            leaders="郑卫东、吴强",
            participants=1500,
            soldiers=30,
            counts={"boards": 12, "banners": 20, "lectures": 3, "broadcasts": 6},
            military=("示例县人民武装部",),
            photos=("国防教育宣传展板前的群众",),
        ),
        Spec(
            "县第一中学",
            d(5, 12),
            ActivityType.DEFENSE_EDUCATION,
            f"{year}年国防教育课",
            place="县第一中学报告厅",
            description="邀请人武部干部为学生讲授国防教育课，观看国防教育影片。",
            participants=620,
            soldiers=2,
            counts={"lectures": 1, "boards": 1},
            military=("示例县人民武装部",),
        ),
        Spec(
            "溧东镇",
            d(9, 18),
            ActivityType.DEFENSE_EDUCATION,
            f"{year}年国防教育和法律知识宣讲",
            Occasion.DEFENSE_DAY,
            place="溧东镇中心小学、各村",
            description="邀请武装部和司法所有关人员深入学校、行政村宣讲国防知识和法律知识。",
            participants=300,
            counts={"lectures": 4, "slogans": 10},
            recorder="lidong",
        ),
        Spec(
            "县人民医院",
            d(4, 15),
            ActivityType.MEDICAL,
            f"{year}年为消防救援大队指战员体检",
            place="县人民医院体检中心",
            description="为消防救援大队 100 余名指战员免费体检，并开展急救知识培训。",
            participants=25,
            soldiers=106 if year == 2025 else 112,
            military=("示例县消防救援大队",),
            pairing=("县人民医院", "示例县消防救援大队"),
            photos=("医护人员为消防指战员体检",),
        ),
        Spec(
            "团结社区",
            d(1, 8),
            ActivityType.SUPPORT_GOVERNMENT,
            f"{year}年无线连官兵协助社区清扫积雪",
            place="团结社区主要道路",
            description="大雪过后，无线连官兵与社区低保队员一起清理路面积雪，方便居民出行。",
            participants=15,
            soldiers=22,
            military=("无线连",),
            pairing=("团结社区", "无线连"),
            photos=("官兵和社区居民一起扫雪",),
        ),
        Spec(
            "团结社区",
            d(9, 28),
            ActivityType.FELLOWSHIP,
            f"{year}年迎国庆军民联欢",
            Occasion.NATIONAL_DAY,
            place="团结社区文化广场",
            description="社区自编自演拥军舞蹈，与无线连官兵同台联欢。",
            participants=160,
            soldiers=35,
            cost=2000,
            military=("无线连",),
            pairing=("团结社区", "无线连"),
            photos=("军民同台联欢",),
        ),
        Spec(
            "溧东镇",
            d(5, 20),
            ActivityType.JOINT,
            f"{year}年军民共建文明村镇推进会",
            place="73026部队营区",
            description="镇村干部与共建部队交流共建文明村镇经验，商定帮扶军属和部队训练保障事项。",
            participants=20,
            soldiers=15,
            military=("73026部队",),
            pairing=("溧东镇", "73026部队"),
            photos=("共建双方座谈交流",),
            recorder="lidong",
        ),
        Spec(
            "县住房和城乡建设局",
            d(6, 12),
            ActivityType.JOINT,
            f"{year}年帮助武警中队维修营区道路",
            place="武警示例县中队营区",
            description="组织施工力量为共建单位维修营区道路和排水设施。",
            participants=18,
            soldiers=10,
            military=("武警示例县中队",),
            pairing=("县住房和城乡建设局", "武警示例县中队"),
            gifts=[("武警示例县中队", 0, "营区道路及排水设施维修", 36000)],
        ),
        Spec(
            "县发展和改革委员会",
            d(9, 10),
            ActivityType.JOINT,
            f"{year}年支持民兵训练基地建设",
            place="县民兵训练基地",
            description="协调落实民兵训练基地改造项目资金，实地查看项目进度。",
            participants=6,
            soldiers=4,
            military=("示例县人民武装部",),
            pairing=("县发展和改革委员会", "示例县人民武装部"),
            gifts=[("示例县人民武装部", 20000, "", 0)],
        ),
        Spec(
            "雅灰乡",
            d(11, 5),
            ActivityType.LEGAL,
            f"{year}年送法进军营",
            place="雷达连营区",
            description="乡司法所为雷达连官兵开展法律讲座，解答涉军家庭法律问题。",
            participants=5,
            soldiers=45,
            counts={"lectures": 1},
            military=("雷达连",),
            pairing=("雅灰乡", "雷达连"),
        ),
        Spec(
            "县妇女联合会",
            d(7, 21),
            ActivityType.COMMENDATION,
            f"{year}年庆“八一”好军嫂表彰",
            Occasion.ARMY_DAY,
            place="县会议中心",
            description="表彰各乡镇（街道）和驻县部队推荐的好军嫂，每人颁发奖金。",
            leaders="冯丽",
            participants=150,
            groups=[("好军嫂", 20, 10000, "荣誉证书", 0)],
        ),
        Spec(
            "县退役军人事务局",
            d(12, 10),
            ActivityType.PLACEMENT,
            f"{year}年军队转业干部和退役士兵安置",
            place="县退役军人事务局",
            description="按政策接收安置军队转业干部和符合政府安排工作条件的退役士兵，协调安置随军家属就业。",
            participants=6,
            counts={"placed_officers": 1, "placed_soldiers": 7, "placed_spouses": 2},
        ),
        Spec(
            "县总工会",
            d(10, 15),
            ActivityType.ASSISTANCE,
            f"{year}年困难退役军人家庭“一助一”帮扶",
            place="各乡镇（街道）",
            description="组织机关干部与困难退役军人家庭结对，送去帮扶资金。",
            participants=8,
            groups=[("困难退役军人家庭（一助一）", 4, 4000, "", 0)],
        ),
        Spec(
            "溧东镇",
            d(3, 18),
            ActivityType.OTHER,
            f"{year}年为新兵家庭悬挂光荣牌",
            place="新兵家中",
            description="镇村干部敲锣打鼓为新入伍士兵家庭悬挂“光荣之家”牌匾，送达立功喜报。",
            participants=12,
            counts={"plaques_hung": 9, "merit_notices": 2},
            recorder="lidong",
        ),
        Spec(
            "城关街道",
            d(7, 10),
            ActivityType.SUPPORT_GOVERNMENT,
            f"{year}年驻地部队官兵参加防汛抢险",
            place="城关街道沿河地段",
            description="连续降雨期间，武警中队官兵与街道干部群众一起加固堤防、转移群众。",
            participants=80,
            soldiers=60,
            military=("武警示例县中队",),
        ),
    ]
    # 板报: 溧东镇 puts one up every two months (“全年共出拥军题材的板报6期”); 西村 twice a year.
    for number, month in enumerate((2, 4, 6, 8, 10, 12), start=1):
        specs.append(
            Spec(
                "溧东镇",
                d(month, 8),
                ActivityType.PUBLICITY,
                f"{year}年第{number}期拥军板报",
                place="溧东镇政府宣传栏",
                description="出拥军优属、国防教育题材板报一期。",
                counts={"boards": 1, "slogans": 4 if month in (2, 8) else 0},
                recorder="lidong",
            )
        )
    for month in (3, 9):
        specs.append(
            Spec(
                "西村",
                d(month, 12),
                ActivityType.PUBLICITY,
                f"{year}年{month}月双拥宣传栏",
                place="西村村务公开栏",
                counts={"boards": 1, "banners": 2},
                recorder="lidong",
            )
        )
    # 信息报送: the township reports to the county each quarter, the bureau twice a year.
    for quarter, (month, day) in enumerate(((3, 31), (6, 30), (9, 30), (12, 31)), start=1):
        specs.append(
            Spec(
                "溧东镇",
                d(month, day),
                ActivityType.INFORMATION,
                f"{year}年第{quarter}季度双拥信息报送",
                description="向县双拥办报送双拥工作信息。",
                counts={"info_items": 6},
                recorder="lidong",
            )
        )
    for month, day in ((6, 30), (12, 31)):
        specs.append(
            Spec(
                "县规划局",
                d(month, day),
                ActivityType.INFORMATION,
                f"{year}年{'上' if month == 6 else '下'}半年双拥信息报送",
                counts={"info_items": 2},
                recorder="guihua",
            )
        )
    return specs


def demo_specs(year):
    return sorted(_visits(year) + _education_and_work(year), key=lambda spec: (spec.day, spec.unit, spec.title))


# Photos drawn here, so that the repository holds no binary files.

PALETTES = [
    ((135, 180, 220), (96, 140, 80)),
    ((200, 215, 230), (150, 150, 150)),
    ((240, 200, 150), (120, 110, 90)),
    ((170, 200, 235), (200, 200, 205)),
]


def demo_photo(seed, size=(800, 533)):
    """A small JPEG of an outdoor scene: sky, ground, a red banner and rows of people in green and blue."""
    rng = random.Random(seed)
    width, height = size
    sky, ground = rng.choice(PALETTES)
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.45, 0.6))
    for y in range(horizon):
        shade = int(40 * y / horizon)
        draw.line([(0, y), (width, y)], fill=tuple(min(255, c + shade) for c in sky))
    draw.rectangle([0, horizon, width, height], fill=ground)
    left = rng.randint(40, 200)
    draw.rectangle([left, 40, left + rng.randint(320, 500), 95], fill=(200, 30, 35))
    draw.rectangle([left + 10, 60, left + 300, 75], fill=(245, 215, 80))
    for row in range(2):
        base = horizon + 40 + row * 90
        for x in range(rng.randint(20, 60), width - 30, rng.randint(38, 60)):
            colour = (70, 95, 60) if rng.random() < 0.6 else (40, 70, 140)
            draw.ellipse([x, base - 38, x + 22, base - 16], fill=(235, 200, 170))
            draw.rectangle([x - 4, base - 16, x + 26, base + 40], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


# Replaying the specs through the services


def _at(day, time):
    return timezone.make_aware(datetime.datetime.combine(day, time))


def _backdate(saved, when, *fields):
    """Date a saved row and its history as written `when` (the demo replays two years at once)."""
    model = type(saved)
    model.objects.filter(pk=saved.pk).update(**dict.fromkeys(fields, when))
    model.history.filter(id=saved.pk).update(history_date=when)


class DemoActivities:
    def __init__(self, units, *, today):
        self.units, self.today = units, today
        self.county = units["示例县"]
        names = ("ganshi", "zhuren", "lidong", "guihua")
        self.users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
        self.created = 0

    def unit(self, name):
        return self.units[name]

    def run(self):
        for year in YEARS:
            for spec in demo_specs(year):
                end = spec.end_date or spec.day
                if end > self.today:
                    continue  # not held yet, or still going on: logged once it is over
                unit = self.unit(spec.unit)
                if Activity.objects.filter(unit=unit, start_date=spec.day, title=spec.title).exists():
                    continue
                self.record(spec, unit)
            self.plans(year)
            self.budget(year)
        return self.created

    def record(self, spec, unit):
        user = self.users[spec.recorder]
        recipients = self.recipients(spec, unit) if spec.pick else []
        groups = [
            {"description": desc, "people": people, "money": D(money), "goods": goods, "goods_value": D(value)}
            for desc, people, money, goods, value in spec.groups
        ]
        reached = spec.reached
        if reached is None:
            reached = len(recipients) + sum(group["people"] for group in groups)
        pairings = []
        if spec.pairing:
            civil, military = spec.pairing
            pairings = list(Pairing.objects.filter(civil_unit=self.unit(civil), military_unit=self.unit(military)))
        activity = services.activity_create(
            unit=unit,
            created_by=user,
            type=spec.type,
            occasion=spec.occasion,
            start_date=spec.day,
            end_date=spec.end_date,
            place=spec.place,
            title=spec.title,
            description=spec.description,
            leaders=spec.leaders,
            participants=spec.participants,
            soldiers=spec.soldiers,
            reached=reached,
            cost=D(spec.cost),
            military_units=[self.unit(name) for name in spec.military],
            pairings=pairings,
            gifts=[self.gift(*gift) for gift in spec.gifts],
            groups=groups,
            recipients=recipients,
            **spec.counts,
        )
        for number, caption in enumerate(spec.photos, start=1):
            name = f"IMG_{spec.day:%Y%m%d}_{number:02d}.jpg"
            data = demo_photo(f"{spec.unit}{spec.title}{number}")
            services.photo_add(
                activity=activity,
                file=SimpleUploadedFile(name, data, content_type="image/jpeg"),
                caption=caption,
                uploaded_by=user,
            )
        self.stamp(activity, min(spec.end_date or spec.day, self.today))
        self.created += 1
        return activity

    def gift(self, name, money, goods, goods_value):
        unit = self.units.get(name)
        return {
            "recipient_unit": unit,
            "recipient_name": "" if unit else name,
            "money": D(money),
            "goods": goods,
            "goods_value": D(goods_value),
        }

    def recipients(self, spec, unit):
        """Registry people of the place not yet given 慰问金 for this occasion and year, the same every run."""
        pick, day = spec.pick, spec.day
        year = services.occasion_year_of(spec.occasion, day)
        place = self.unit(pick.where)
        people = Beneficiary.objects.filter(status=Status.ACTIVE, township__path__startswith=place.path)
        if pick.village:
            people = people.filter(village=self.unit(pick.village))
        held = Entitlement.objects.current(day).filter(category__in=pick.categories)
        if pick.grade_max:
            held = held.filter(grade__lte=pick.grade_max)
        people = people.filter(pk__in=held.values("beneficiary"))
        if spec.occasion:
            label = Occasion(spec.occasion).label
            visited = Recipient.objects.filter(
                amount__gt=0, activity__occasion=spec.occasion, activity__occasion_year=year
            ).values("beneficiary")
            paid = Payment.objects.filter(
                kind=PaymentKind.CONDOLENCE, paid_on__year=day.year, purpose__startswith=f"{year}年{label}"
            ).values("beneficiary")
            people = people.exclude(Q(pk__in=visited) | Q(pk__in=paid))
        found = list(people.select_related("township").order_by("id_number"))
        random.Random(f"{spec.unit}{spec.title}").shuffle(found)
        return [
            {"beneficiary": person, "amount": D(pick.amount), "goods": pick.goods, "goods_value": D(pick.goods_value)}
            for person in found[: pick.count]
        ]

    def stamp(self, activity, day):
        """Date what was written as entered on the day the activity ended."""
        when = _at(day, datetime.time(17, 30))
        _backdate(activity, when, "created_at", "updated_at")
        Recipient.objects.filter(activity=activity).update(created_at=when)
        services.activity_payments(activity).update(created_at=when)
        Photo.objects.filter(activity=activity).update(uploaded_at=when)

    # ---- plans and 双拥经费 ---------------------------------------------------------------------------
    PLANS = {
        "示例县": (
            "ganshi",
            {"type:meeting": 2, "type:visit": 3, "type:defense_edu": 1, "count:training_students": 1800},
            "一、指导思想：以“双拥共建”为主题，巩固省级双拥模范县创建成果。\n"
            "二、工作目标：组织领导坚强有力、国防教育广泛深入、双拥活动坚持经常、军民共建富有成效、"
            "政策法规落到实处、军政军民关系融洽。\n"
            "三、工作任务：（一）召开领导小组全体会议两次；（二）元旦、春节、“八一”走访慰问驻县部队和重点优抚对象；"
            "（三）组织全民国防教育日宣传和高一新生军训；（四）完成年度征兵任务。",
        ),
        "溧东镇": (
            "lidong",
            {"type:meeting": 2, "count:boards": 6, "count:info_items": 24, "type:visit": 2},
            "一、指导思想：围绕镇党委、政府中心工作，同步推进双拥工作。\n"
            "二、工作目标：全年出拥军题材板报 6 期，每季度报送双拥信息 6 篇。\n"
            "三、工作任务：（一）春节、“八一”走访慰问重点优抚对象；（二）与 73026 部队开展共建文明村镇活动；"
            "（三）做好征兵宣传动员；（四）为新兵家庭悬挂光荣牌。",
        ),
        "雅灰乡": (
            "ganshi",
            {"type:meeting": 2, "type:visit": 2, "count:lectures": 1},
            "乡双拥工作计划：春节、“八一”走访慰问优抚对象，召开优抚对象座谈会，开展送法进军营活动。",
        ),
        "县规划局": (
            "guihua",
            {"type:meeting": 2, "count:info_items": 4, "type:visit": 1},
            "局双拥工作计划：局党组每半年研究一次双拥工作；“八一”慰问共建单位森林消防中队；每半年报送双拥信息 2 篇。",
        ),
    }
    BUDGET = {
        2025: [(BudgetSource.COUNTY, 300000, "县财政双拥专项经费"), (BudgetSource.UPPER, 80000, "市双拥工作补助")],
        2026: [
            (BudgetSource.COUNTY, 320000, "县财政双拥专项经费"),
            (BudgetSource.UPPER, 80000, "市双拥工作补助"),
            (BudgetSource.DONATION, 20000, "爱心企业拥军捐款"),
        ],
    }

    def plans(self, year):
        written = datetime.date(year, 1, 15)
        if written > self.today:
            return
        for name, (recorder, targets, text) in self.PLANS.items():
            unit = self.unit(name)
            if UnitPlan.objects.filter(unit=unit, year=year).exists():
                continue
            try:
                plan = plan_save(
                    unit=unit,
                    year=year,
                    text=text,
                    targets=[{"metric": metric, "target": target} for metric, target in targets.items()],
                    saved_by=self.users[recorder],
                )
            except ValidationError:
                continue  # a year the plan pages no longer take (the demo run long after): left out
            _backdate(plan, _at(written, datetime.time(9)), "updated_at")

    def budget(self, year):
        written = datetime.date(year, 1, 10)
        if written > self.today:
            return
        for source, amount, note in self.BUDGET[year]:
            if BudgetLine.objects.filter(unit=self.county, year=year, source=source).exists():
                continue
            try:
                line = budget_line_save(
                    unit=self.county,
                    year=year,
                    source=source,
                    amount=D(amount),
                    note=note,
                    saved_by=self.users["ganshi"],
                )
            except ValidationError:
                continue  # a year the budget pages no longer take (the demo run long after): left out
            _backdate(line, _at(written, datetime.time(9)), "created_at")


def build_activities(units, *, today):
    """Add the demo years' activities, plans and 双拥经费 of 示例县; return how many activities were added."""
    return DemoActivities(units, today=today).run()
