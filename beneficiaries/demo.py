"""Demo and scale people for the 优抚对象 registry: names, ID numbers and entitlements that obey the rules.

`PeopleMaker` draws one person of a category from a seeded random generator, so the same seed gives the
same people; `seed_demo` saves them through the services, `seed_scale` in bulk.
"""

import datetime
import functools
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from shuangyong.lib.idcard import check_character
from units.models import Unit

from . import services
from .constants import AwardLevel, Category, ChangeKind, DisabilityNature, ServiceArea
from .models import Beneficiary

# No surnames with a second reading (曾, 单, 解, 仇 ...), so the initials are the ones people type.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金廖夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵钱严武戴孔汤"
)
MALE_GIVEN = (
    "建国 建华 建军 志强 志刚 志明 海峰 海涛 国庆 国平 国华 卫东 卫国 立新 永刚 永红 德明 德胜 文斌 文忠 振华 振国 "
    "保国 保平 金山 金福 福生 长根 长林 春生 春雷 秋生 明亮 明军 学军 学文 爱国 爱民 红兵 向东 忠诚 兴旺 伟 强 "
    "军 勇 刚 斌 杰 涛 鹏 磊 超 浩 宇 凯 晨 辉 林 峰"
).split()
FEMALE_GIVEN = (
    "秀英 秀兰 桂英 桂兰 玉兰 玉珍 凤英 淑珍 丽娟 丽华 红梅 春燕 春梅 文静 美玲 小红 彩霞 翠萍 海燕 晓燕 雪梅 金凤 "
    "月娥 素芬 建英 爱华 芳 娟 敏 静 丽 艳 霞 玲 琳 婷 颖 慧"
).split()
BANKS = ["{place}农村商业银行"] * 3 + ["中国邮政储蓄银行{place}支行", "中国农业银行{place}支行"]


# The service's own rule, computed once per distinct name of the pool.
name_initials = functools.cache(services.name_initials)
add_years = services.add_years


def id_number(area_code, birth_date, sequence):
    """An 18-character ID number; the sequence's last digit is odd for a man, even for a woman."""
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + check_character(body)


@dataclass(frozen=True)
class CategorySpec:
    category: str
    weight: int  # people per 300, in the proportions of a real township's roster
    ages: tuple  # (youngest, oldest) on the day of generation
    male: float  # share of men


# Proportions after the 溧东乡 roster of seed 000 篇四 (带病回乡 229, 60周岁以上 203, 义务兵家庭 44, 两参 27,
# 伤残 11, 复员 7, 烈士子女 5), with more 伤残 so that every grade and nature appears.
SPECS = [
    CategorySpec(Category.ILL_RETURNED, 95, (50, 82), 0.98),
    CategorySpec(Category.RURAL_VETERAN_60, 80, (61, 86), 1.0),
    CategorySpec(Category.CONSCRIPT_FAMILY, 40, (40, 58), 0.5),
    CategorySpec(Category.DISABLED, 28, (28, 88), 0.97),
    CategorySpec(Category.WAR_VETERAN, 18, (58, 80), 1.0),
    CategorySpec(Category.DEMOBILIZED, 10, (90, 99), 1.0),
    CategorySpec(Category.SERVING_FAMILY, 8, (25, 65), 0.3),
    CategorySpec(Category.MARTYR_FAMILY, 5, (50, 90), 0.4),
    CategorySpec(Category.RETIRED_OFFICER, 4, (66, 95), 0.9),
    CategorySpec(Category.DUTY_DEATH_FAMILY, 3, (40, 85), 0.4),
    CategorySpec(Category.ILLNESS_DEATH_FAMILY, 3, (45, 85), 0.4),
    CategorySpec(Category.OTHER, 3, (35, 85), 0.6),
]
SPEC_BY_CATEGORY = {spec.category: spec for spec in SPECS}
GRADE_WEIGHTS = [1, 2, 3, 4, 6, 8, 10, 12, 12, 10]  # 一级 (most severe) is rare, 七至十级 common
AWARD_WEIGHTS = {AwardLevel.EXCELLENT: 10, AwardLevel.THIRD: 6, AwardLevel.SECOND: 1, AwardLevel.FIRST: 0.2}


@dataclass
class PersonSpec:
    name: str
    name_initials: str
    id_number: str
    sex: str
    birth_date: datetime.date
    township: object
    village: object
    phone: str
    address: str
    bank_name: str
    bank_account: str
    cadre: str
    hardship_living: bool
    hardship_housing: bool
    hardship_medical: bool
    entitlements: list  # dicts of entitlement_add's keyword arguments
    awards: list = field(default_factory=list)  # (entitlement index, level, awarded_on, document)

    @property
    def effective_on(self):
        return min(item["start_on"] for item in self.entitlements)

    def person_fields(self):
        return {
            "name": self.name,
            "id_number": self.id_number,
            "township": self.township,
            "village": self.village,
            "phone": self.phone,
            "address": self.address,
            "bank_name": self.bank_name,
            "bank_account": self.bank_account,
            "cadre": self.cadre,
            "hardship_living": self.hardship_living,
            "hardship_housing": self.hardship_housing,
            "hardship_medical": self.hardship_medical,
        }


class PeopleMaker:
    """Draw plausible people; every ID number it hands out is new to `taken`."""

    def __init__(self, rng, today, taken=None):
        self.rng = rng
        self.today = today
        self.taken = set(taken or ())
        self.categories = [spec.category for spec in SPECS]
        self.weights = [spec.weight for spec in SPECS]
        # The enlistment windows (March and September) of the last two years that have already opened.
        windows = [datetime.date(year, month, 10) for year in range(today.year - 2, today.year + 1) for month in (3, 9)]
        self.enlistments = [day for day in windows if day <= today - datetime.timedelta(days=30)][-4:]

    # ---- small draws -----------------------------------------------------------------------------
    def category(self):
        return self.rng.choices(self.categories, self.weights)[0]

    def day(self, first, last):
        if last <= first:
            return first
        return first + datetime.timedelta(days=self.rng.randrange((last - first).days + 1))

    def full_name(self, male, surname=None):
        surname = surname or self.rng.choice(SURNAMES)
        return surname + self.rng.choice(MALE_GIVEN if male else FEMALE_GIVEN)

    def new_id(self, area_code, birth_date, male):
        while True:
            number = id_number(area_code, birth_date, self.rng.randrange(5, 500) * 2 + (1 if male else 0))
            if number not in self.taken:
                self.taken.add(number)
                return number

    def phone(self):
        return f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"

    # ---- a person ---------------------------------------------------------------------------------
    def person(self, category, *, area_code, township, village, place, cadre, birth_date=None, male=None):
        """Return a PersonSpec of `category` living in township/village; `place` names the county (示例县)."""
        spec = SPEC_BY_CATEGORY[category]
        if male is None:
            male = self.rng.random() < spec.male
        if birth_date is None:
            youngest, oldest = spec.ages
            birth_date = self.day(add_years(self.today, -oldest - 1), add_years(self.today, -youngest - 1))
        name = self.full_name(male)
        entitlements = [self.entitlement(category, birth_date, name, place)]
        if category == Category.DISABLED and entitlements[0]["nature"] == DisabilityNature.WAR:
            veteran = (self.today.year - birth_date.year) >= 58
            if veteran and self.rng.random() < 0.5:
                entitlements.append(self.entitlement(Category.WAR_VETERAN, birth_date, name, place))
        awards = []
        if category == Category.CONSCRIPT_FAMILY and self.rng.random() < 0.25:
            start = entitlements[0]["enlistment_date"]
            level = self.rng.choices(list(AWARD_WEIGHTS), list(AWARD_WEIGHTS.values()))[0]
            awarded_on = self.day(start + datetime.timedelta(days=180), self.today)
            if awarded_on <= self.today:
                awards.append((0, level, awarded_on, f"{place[:1]}武〔{awarded_on.year}〕{self.rng.randint(3, 90)}号"))
        village_name = village.name if village else ""
        if village_name.endswith("社区") or not village_name:
            address = f"{township.name}{village_name}{self.rng.choice(['人民路', '建设路', '新华路', '和平路'])}"
            address += f"{self.rng.randint(1, 188)}号"
        else:
            address = f"{township.name}{village_name}{self.rng.randint(1, 12)}组{self.rng.randint(1, 60)}号"
        hardship = self.rng.random()
        return PersonSpec(
            name=name,
            name_initials=name_initials(name),
            id_number=self.new_id(area_code, birth_date, male),
            sex="男" if male else "女",
            birth_date=birth_date,
            township=township,
            village=village,
            phone=self.phone() if self.rng.random() < 0.9 else "",
            address=address,
            bank_name=self.rng.choice(BANKS).format(place=place),
            bank_account=f"6228{self.rng.randrange(10**15):015d}",
            cadre=cadre,
            hardship_living=hardship < 0.10,
            hardship_housing=0.07 < hardship < 0.12,
            hardship_medical=0.05 < hardship < 0.14,
            entitlements=entitlements,
            awards=awards,
        )

    def entitlement(self, category, birth_date, name, place):
        """Keyword arguments for entitlement_add: dates, grade, service years, serving member as the rules need."""
        rng, today = self.rng, self.today
        last = today - datetime.timedelta(days=365)
        item = {"category": category, "grade": None, "nature": "", "service_years": None}
        item.update({"serving_member_name": "", "enlistment_date": None, "service_area": ""})
        if category == Category.RURAL_VETERAN_60:
            item["start_on"] = max(add_years(birth_date, 60), datetime.date(2011, 8, 1))
            item["service_years"] = rng.choice([2, 3, 3, 3, 4, 4, 5])
        elif category == Category.ILL_RETURNED:
            item["start_on"] = self.day(max(add_years(birth_date, 40), datetime.date(2005, 1, 1)), last)
        elif category == Category.DISABLED:
            grade = rng.choices(range(1, 11), GRADE_WEIGHTS)[0]
            nature = rng.choices([DisabilityNature.WAR, DisabilityNature.DUTY, DisabilityNature.ILLNESS], [3, 5, 2])[0]
            if nature == DisabilityNature.ILLNESS and grade > 6:
                nature = DisabilityNature.DUTY
            item.update(grade=grade, nature=nature)
            item["start_on"] = self.day(max(add_years(birth_date, 20), datetime.date(1985, 1, 1)), last)
        elif category in (Category.MARTYR_FAMILY, Category.DUTY_DEATH_FAMILY, Category.ILLNESS_DEATH_FAMILY):
            item["start_on"] = self.day(max(add_years(birth_date, 18), datetime.date(1990, 1, 1)), last)
        elif category == Category.WAR_VETERAN:
            item["start_on"] = self.day(datetime.date(2007, 8, 1), last)
        elif category == Category.DEMOBILIZED:
            item["start_on"] = self.day(datetime.date(1995, 1, 1), datetime.date(2010, 12, 31))
        elif category == Category.CONSCRIPT_FAMILY:
            enlisted = rng.choice(self.enlistments)
            item.update(start_on=enlisted, enlistment_date=enlisted)
            item["serving_member_name"] = self.full_name(rng.random() < 0.92, surname=name[0])
            item["service_area"] = rng.choices(
                [ServiceArea.ORDINARY, ServiceArea.TIBET, ServiceArea.XINJIANG, ServiceArea.HARDSHIP], [84, 8, 4, 4]
            )[0]
        elif category == Category.SERVING_FAMILY:
            item["start_on"] = self.day(max(add_years(birth_date, 20), datetime.date(2015, 1, 1)), last)
            item["enlistment_date"] = self.day(datetime.date(2004, 9, 1), item["start_on"])
            item["serving_member_name"] = self.full_name(rng.random() < 0.85)
        elif category == Category.RETIRED_OFFICER:
            item["start_on"] = self.day(datetime.date(2000, 1, 1), datetime.date(2020, 12, 31))
        else:
            item["start_on"] = self.day(datetime.date(2010, 1, 1), last)
        item["approval_document"] = f"{place[:1]}退役军人〔{item['start_on'].year}〕{rng.randint(1, 120)}号"
        return item


# ---- seed_demo ----------------------------------------------------------------------------------------
DEMO_SEED = 4
# People are drawn as of this day, so that every run draws the same people; events fall in 2025 and 2026.
DEMO_DRAWN_ON = datetime.date(2025, 10, 15)
# Relative number of people per township: rural towns keep most of the roster.
DEMO_TOWNSHIPS = {
    "城关街道": 5, "新华街道": 4, "溧东镇": 14, "南渡镇": 10, "上兴镇": 10,
    "竹箦镇": 9, "别桥镇": 9, "雅灰乡": 7, "社渚乡": 7, "天目湖乡": 6,
}  # fmt: skip
DEMO_CADRES = ["吕芳", "何平", "钱卫国", "孙丽华", "周海燕", "吴志刚", "郑红梅", "冯立新", "陈晓明", "褚建英"]
OTHER_COUNTY_PEOPLE = {"邻县城关镇": 6, "邻县河口镇": 4}
NATURES = [DisabilityNature.WAR, DisabilityNature.DUTY, DisabilityNature.ILLNESS]


@dataclass
class DemoPerson:
    spec: PersonSpec
    recorder: object
    events: list = field(default_factory=list)  # (kind, effective_on, keyword arguments for change_record)
    confirm: tuple = ()  # 年度确认 dates


def _demo_people(units, recorders):
    """Draw the demo county's roster and the neighbour county's few people, the same on every run."""
    rng = random.Random(DEMO_SEED)
    maker = PeopleMaker(rng, DEMO_DRAWN_ON)
    towns = [units[name] for name in DEMO_TOWNSHIPS]
    villages = {town.pk: list(Unit.objects.filter(parent=town).order_by("region_code")) for town in towns}
    categories = [spec.category for spec in SPECS for _ in range(spec.weight)]
    rng.shuffle(categories)
    people = []
    for category in categories:
        town = rng.choices(towns, list(DEMO_TOWNSHIPS.values()))[0]
        village = rng.choice(villages[town.pk]) if villages[town.pk] else None
        spec = maker.person(
            category,
            area_code="320481",
            township=town,
            village=village,
            place="示例县",
            cadre=DEMO_CADRES[(towns.index(town) * 3 + rng.randrange(3)) % len(DEMO_CADRES)],
        )
        people.append(DemoPerson(spec, recorders.get(town.name, recorders["示例县"])))
    _shape_demo_roster(rng, [p.spec for p in people])
    for name, count in OTHER_COUNTY_PEOPLE.items():
        for _ in range(count):
            spec = maker.person(
                maker.category(), area_code="320413", township=units[name], village=None, place="邻县", cadre="邻县干事"
            )
            people.append(DemoPerson(spec, recorders["邻县"]))
    _plan_events(rng, people, other_county=units["邻县"])
    return people


def _shape_demo_roster(rng, specs):
    """Make sure the roster shows every disability grade and nature, 进藏 and 新疆 members, and awards."""
    disabled = [s.entitlements[0] for s in specs if s.entitlements[0]["category"] == Category.DISABLED]
    for i, item in enumerate(disabled[:12]):
        grade = i % 10 + 1
        item["grade"], item["nature"] = grade, NATURES[i % 3] if grade <= 6 else NATURES[i % 2]
    families = [s for s in specs if s.entitlements[0]["category"] == Category.CONSCRIPT_FAMILY]
    for spec, area in zip(families, [ServiceArea.TIBET] * 3 + [ServiceArea.XINJIANG], strict=False):
        spec.entitlements[0]["service_area"] = area
    levels = [AwardLevel.SECOND, AwardLevel.THIRD, AwardLevel.THIRD, AwardLevel.EXCELLENT, AwardLevel.EXCELLENT]
    for spec, level in zip(families[-len(levels) :], levels, strict=False):
        if not spec.awards:
            start = spec.entitlements[0]["enlistment_date"]
            awarded_on = max(start + datetime.timedelta(days=200), datetime.date(2025, 6, 20))
            spec.awards.append((0, level, awarded_on, f"示武〔{awarded_on.year}〕{rng.randint(3, 90)}号"))


def _plan_events(rng, people, *, other_county):
    """Give most people their 2025 年度确认 and about half their 2026 one; a few die, are suspended, held or move."""
    # Events go to people registered before 2025, so that each falls after the person's 新增.
    local = [
        p for p in people if p.spec.id_number.startswith("320481") and p.spec.effective_on < datetime.date(2025, 1, 1)
    ]
    old = [p for p in local if p.spec.birth_date.year < 1950]
    young = [p for p in local if p not in old]
    deaths = [(old[3], "2025-03-12"), (old[11], "2025-07-08"), (old[20], "2025-11-20")]
    for person, day in deaths:
        person.events.append((ChangeKind.DEATH, day, {"reason": "因病去世，家属报告并提供死亡证明"}))
    for person, day in [(young[5], "2025-06-03"), (young[40], "2025-09-16")]:
        reason = "被判处有期徒刑，依《军人抚恤优待条例》第五十九条中止抚恤待遇"
        person.events.append((ChangeKind.SUSPEND, day, {"reason": reason}))
    holds = [
        (young[17], "2025-10-09", "长期居住外地，未按期提供生存证明"),
        (young[63], "2026-01-12", "未按期完成2025年度确认"),
        (young[88], "2026-02-02", "银行账户冻结，待本人更新账户信息"),
    ]
    for person, day, reason in holds:
        person.events.append((ChangeKind.HOLD, day, {"reason": reason}))
    resumed = young[101]
    resumed.events.append((ChangeKind.HOLD, "2025-04-07", {"reason": "未按期提供生存证明"}))
    resumed.events.append((ChangeKind.RESUME, "2025-05-20", {"reason": "已补交生存证明，恢复发放"}))
    mover = young[120]
    mover.events.append(
        (ChangeKind.TRANSFER_OUT, "2026-03-16", {"reason": "随子女迁居邻县", "to_county": other_county})
    )
    regraded = next(p for p in local if _regradable(p))
    item = regraded.spec.entitlements[0]
    regraded.events.append(
        (ChangeKind.REGRADE, "2025-09-01", {"new_grade": item["grade"] - 1, "reason": "示退役军人〔2025〕66号"})
    )
    unconfirmed_2025 = {id(p) for p, _, _ in holds[1:2]}
    for person in people:
        first = min((datetime.date.fromisoformat(day) for _, day, _ in person.events), default=None)
        dates = []
        if id(person) not in unconfirmed_2025 and rng.random() < 0.93:
            dates.append((2025, datetime.date(2025, 3, 1) + datetime.timedelta(days=rng.randrange(90))))
        if rng.random() < 0.5 and not person.events:
            dates.append((2026, datetime.date(2026, 3, 1) + datetime.timedelta(days=rng.randrange(90))))
        # Those registered late in the year confirm a week after their 新增.
        registered = person.spec.effective_on + datetime.timedelta(days=7)
        dates = [max(day, registered) for year, day in dates if max(day, registered).year == year]
        person.confirm = tuple(d for d in dates if first is None or d < first)
        person.events = [(kind, datetime.date.fromisoformat(day), kwargs) for kind, day, kwargs in person.events]


def _regradable(person):
    item = person.spec.entitlements[0]
    return (
        item["category"] == Category.DISABLED
        and item["grade"] > 2
        and item["nature"] != DisabilityNature.ILLNESS
        and item["start_on"] < datetime.date(2024, 9, 1)
        and not person.events
    )


def build_registry(units, *, today):
    """Register the demo people through the services; people already registered are left as they are."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["ganshi", "lidong", "linxian"])}
    recorders = {"示例县": users.get("ganshi"), "溧东镇": users.get("lidong"), "邻县": users.get("linxian")}
    people = _demo_people(units, recorders)
    numbers = [p.spec.id_number for p in people]
    registered = set(Beneficiary.objects.filter(id_number__in=numbers).values_list("id_number", flat=True))
    created = 0
    for person in people:
        spec = person.spec
        if spec.id_number in registered:
            continue
        entitlements = [item for item in spec.entitlements if item["start_on"] <= today]
        if not entitlements:
            continue
        record = services.beneficiary_create(
            **spec.person_fields(),
            entitlements=entitlements,
            effective_on=min(item["start_on"] for item in entitlements),
            created_by=person.recorder,
        )
        created += 1
        held = list(record.entitlements.order_by("start_on", "pk"))
        for index, level, awarded_on, document in spec.awards:
            if awarded_on <= today and index < len(held):
                services.award_add(
                    entitlement=held[index], level=level, awarded_on=awarded_on, document=document, recorded_by=None
                )
        for day in person.confirm:
            if day <= today:
                services.change_record(
                    beneficiary=record,
                    kind=ChangeKind.CONFIRM,
                    effective_on=day,
                    year=day.year,
                    reason="年度确认",
                    recorded_by=person.recorder,
                )
        for kind, day, kwargs in person.events:
            if day <= today:
                services.change_record(
                    beneficiary=record, kind=kind, effective_on=day, recorded_by=person.recorder, **kwargs
                )
    return created
