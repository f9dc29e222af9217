"""Generate the scale profiles of DESIGN.md: a county (≈300 units) or a province (≈8,000 units)."""

import datetime
import functools
import random
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from activities import scale as activity_scale
from beneficiaries.constants import ChangeKind, Status
from beneficiaries.demo import PeopleMaker
from beneficiaries.models import (
    AccessLog,
    Award,
    BatchException,
    Beneficiary,
    Entitlement,
    Payment,
    PaymentBatch,
    Recovery,
    Standard,
    StatusChange,
    Transfer,
)
from beneficiaries.scale import build_payments
from units.constants import GroupRole, Role, UnitKind
from units.models import Agreement, GroupMember, LeadingGroup, Membership, Pairing, Unit, UserProfile
from units.regions import division_table, significant_prefix

PREFIX = "规模测试"
BATCH = 500
PEOPLE_CHUNK = 5_000  # people built and inserted at a time, to keep memory flat on the province profile


@dataclass(frozen=True)
class Profile:
    name: str
    root_code: str
    townships: tuple  # how many per county, (least, most)
    villages: tuple  # how many per township, (least, most)
    attached: dict  # region kind -> {kind: count} of units hung directly under each such region
    seed: int
    people: int  # 优抚对象 spread over the townships and villages
    payment_months: int  # months of paid batches up to last month (≈ 60,000 / 5,000,000 ledger rows)


PROFILES = {
    "county": Profile(
        name="county",
        root_code="330521",
        townships=(15, 15),
        villages=(11, 15),
        attached={
            UnitKind.COUNTY: {
                UnitKind.DEPARTMENT: 35,
                UnitKind.MASS_ORG: 5,
                UnitKind.SCHOOL: 20,
                UnitKind.HOSPITAL: 5,
                UnitKind.ENTERPRISE: 10,
                UnitKind.MILITARY: 6,
                UnitKind.PARTNER_FORCE: 4,
            }
        },
        seed=2025,
        people=5_000,
        payment_months=12,
    ),
    "province": Profile(
        name="province",
        root_code="210000",
        townships=(10, 14),
        villages=(3, 5),
        attached={
            UnitKind.PROVINCE: {
                UnitKind.DEPARTMENT: 20,
                UnitKind.MASS_ORG: 4,
                UnitKind.HOSPITAL: 1,
                UnitKind.MILITARY: 3,
                UnitKind.PARTNER_FORCE: 1,
            },
            UnitKind.CITY: {
                UnitKind.DEPARTMENT: 10,
                UnitKind.MASS_ORG: 2,
                UnitKind.MILITARY: 2,
                UnitKind.PARTNER_FORCE: 1,
            },
            UnitKind.COUNTY: {
                UnitKind.DEPARTMENT: 8,
                UnitKind.MASS_ORG: 1,
                UnitKind.SCHOOL: 2,
                UnitKind.HOSPITAL: 1,
                UnitKind.ENTERPRISE: 1,
                UnitKind.MILITARY: 1,
                UnitKind.PARTNER_FORCE: 1,
            },
        },
        seed=2026,
        people=150_000,
        payment_months=36,
    ),
}

DEPARTMENTS = [
    "退役军人事务局", "民政局", "人力资源和社会保障局", "财政局", "教育局", "卫生健康委员会", "公安局",
    "交通运输局", "住房和城乡建设局", "文化广电和旅游局", "司法局", "农业农村局", "应急管理局", "发展和改革局",
    "科学技术局", "工业和信息化局", "自然资源局", "生态环境局", "水利局", "商务局", "审计局",
    "市场监督管理局", "医疗保障局", "统计局", "信访局", "委办公室", "政府办公室", "委组织部", "委宣传部",
    "委统战部", "委政法委", "融媒体中心", "人民法院", "人民检察院", "税务局",
]  # fmt: skip
PROVINCE_KEEPS_BUREAU = {"统计局", "信访局", "医疗保障局", "税务局"}
MASS_ORGS = ["总工会", "团委", "妇女联合会", "残疾人联合会", "科学技术协会", "红十字会"]
HOSPITALS = ["人民医院", "中医医院", "妇幼保健院", "第二人民医院", "精神卫生中心", "疾病预防控制中心"]
ENTERPRISES = [
    "供电公司", "自来水有限公司", "城市建设投资集团", "农村商业银行", "公共交通有限公司",
    "燃气有限公司", "粮食储备库", "文化旅游集团", "交通投资集团", "水务集团",
]  # fmt: skip
MILITARY = {
    UnitKind.PROVINCE: ["军区", "武警总队", "驻地某部"],
    UnitKind.CITY: ["军分区", "武警支队"],
    UnitKind.COUNTY: ["人民武装部", "武警中队", "驻地某部一营", "驻地某部二营", "驻地某部通信连", "驻地某部雷达站"],
}
PARTNER_FORCES = {
    UnitKind.PROVINCE: ["消防救援总队"],
    UnitKind.CITY: ["消防救援支队"],
    UnitKind.COUNTY: ["消防救援大队", "森林消防中队", "城区消防救援站", "特勤消防救援站"],
}
SYLLABLES = (
    "东西南北新高长安平和青石白黄龙凤桃柳杨梅河湖山林溪泉云金银马牛双永兴福太宝清前后上下沙岭松竹花古仁义"
    "乐丰富民胜利华明光阳春秋望江海湾桥塘坪坝寨岗堡庄集店营屯口"
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严武戴孔汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红文辉玲斌鹏宇浩凯志海峰亮晨雪琳颖婷国庆立新卫东振兴"
GOALS = [
    "共建文明村镇，开展拥军优属和军事训练保障",
    "共建国防教育基地，组织国防教育进校园",
    "开展科技帮扶、兵员征集宣传和军属就业帮扶",
    "共建平安社区，联合开展应急救援演练",
    "帮助解决随军家属就业和子女入学",
]
END_REASONS = ["部队调防", "单位撤并", "协议期满，重新结对"]
DIGITS = "零一二三四五六七八九"


def chinese_number(n):
    if n < 10:
        return DIGITS[n]
    tens, ones = divmod(n, 10)
    return f"{DIGITS[tens] if tens > 1 else ''}十{DIGITS[ones] if ones else ''}"


def aware(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


@functools.cache
def history_model(model):
    return model.history.model


def history_row(obj, when, kind, **changes):
    """Build one simple-history row for obj as it stood at `when`."""
    model = history_model(type(obj))
    values = {f.attname: getattr(obj, f.attname) for f in model.tracked_fields}
    values.update(changes)
    return model(history_date=aware(when), history_type=kind, **values)


def root_name(profile):
    return PREFIX + division_table()[profile.root_code]


def scale_roots(profile):
    return Unit.objects.filter(parent__isnull=True, name=root_name(profile))


def usernames_prefix(profile):
    return f"scale_{profile.name}_"


class Generator:
    def __init__(self, profile):
        self.profile = profile
        self.rng = random.Random(profile.seed)
        self.units = []
        self.counts = Counter()

    # ---- the unit tree -------------------------------------------------------------------------
    def build_tree(self):
        code = self.profile.root_code
        kind = UnitKind.PROVINCE if code.endswith("0000") else UnitKind.COUNTY
        level = [Unit(name=root_name(self.profile), kind=kind, region_code=code)]
        while level:
            self._insert(level)
            level = [child for unit in level for child in self._children(unit)]
        self.counts.update(unit.kind for unit in self.units)

    def _insert(self, units):
        Unit.objects.bulk_create(units, batch_size=BATCH)
        for unit in units:
            unit.path = f"{unit.parent.path if unit.parent else '/'}{unit.pk}/"
            unit.depth = unit.path.count("/") - 2
        Unit.objects.bulk_update(units, ["path", "depth"], batch_size=BATCH)
        self.units.extend(units)

    def _children(self, unit):
        regions = []
        if unit.kind == UnitKind.PROVINCE:
            regions = [
                Unit(name=name, kind=UnitKind.CITY, parent=unit, region_code=code)
                for code, name in self._divisions(lambda c: c[:2] == unit.region_code[:2] and c[4:] == "00", unit)
            ]
        elif unit.kind == UnitKind.CITY:
            regions = [
                Unit(name=name, kind=UnitKind.COUNTY, parent=unit, region_code=code)
                for code, name in self._divisions(lambda c: c[:4] == unit.region_code[:4] and c[4:] != "00", unit)
            ]
        elif unit.kind == UnitKind.COUNTY:
            regions = self._townships(unit)
        elif unit.kind == UnitKind.TOWNSHIP:
            regions = self._villages(unit)
        return regions + self._attached(unit)

    def _divisions(self, keep, parent):
        for code, name in division_table().items():
            if code == parent.region_code or not keep(code) or name == "市辖区":
                continue
            # Codes whose fifth digit is 7 are development zones, not administrative counties.
            if code[4] == "7" or re.search("开发区|园区|示范区|管理区", name):
                continue
            yield code, name

    def _place_names(self, count, suffixes, taken=None):
        taken = set(taken or ())
        names = []
        while len(names) < count:
            suffix = suffixes[len(names) % len(suffixes)]
            name = "".join(self.rng.sample(SYLLABLES, 2)) + suffix
            if name not in taken:
                taken.add(name)
                names.append(name)
        return names

    def _townships(self, county):
        count = self.rng.randint(*self.profile.townships)
        streets = count // 3 if county.name.endswith("区") else min(2, count // 5)
        rural = count - streets
        townships = [
            Unit(name=name, kind=UnitKind.TOWNSHIP, parent=county, region_code=f"{county.region_code}{i + 1:03d}000")
            for i, name in enumerate(self._place_names(streets, ["街道"]))
        ]
        for i, name in enumerate(self._place_names(rural, ["镇", "镇", "镇", "乡"])):
            number = 100 + i if name.endswith("镇") else 200 + i
            townships.append(
                Unit(
                    name=name, kind=UnitKind.TOWNSHIP, parent=county, region_code=f"{county.region_code}{number:03d}000"
                )
            )
        return townships

    def _villages(self, township):
        count = self.rng.randint(*self.profile.villages)
        prefix = township.region_code[:9]
        if township.name.endswith("街道"):
            names = self._place_names(count, ["社区"])
            return [
                Unit(name=name, kind=UnitKind.VILLAGE, parent=township, region_code=f"{prefix}{i + 1:03d}")
                for i, name in enumerate(names)
            ]
        names = self._place_names(count, ["村"])
        return [
            Unit(name=name, kind=UnitKind.VILLAGE, parent=township, region_code=f"{prefix}{200 + i + 1:03d}")
            for i, name in enumerate(names)
        ]

    def _attached(self, region):
        place = region.name.removeprefix(PREFIX)
        units = []
        for kind, count in self.profile.attached.get(region.kind, {}).items():
            names = [self._attached_name(kind, region.kind, place, i) for i in range(count)]
            units.extend(Unit(name=name, kind=kind, parent=region) for name in names)
        return units

    def _attached_name(self, kind, level, place, i):
        if kind == UnitKind.DEPARTMENT:
            name = DEPARTMENTS[i % len(DEPARTMENTS)]
            if level == UnitKind.PROVINCE and name.endswith("局") and name not in PROVINCE_KEEPS_BUREAU:
                name = name[:-1] + "厅"
            return place + name
        if kind == UnitKind.MASS_ORG:
            return place + MASS_ORGS[i % len(MASS_ORGS)]
        if kind == UnitKind.SCHOOL:
            number, primary = divmod(i, 2)
            return f"{place}第{chinese_number(number + 1)}{'小学' if primary else '中学'}"
        if kind == UnitKind.HOSPITAL:
            return place + HOSPITALS[i % len(HOSPITALS)]
        if kind == UnitKind.ENTERPRISE:
            return place + ENTERPRISES[i % len(ENTERPRISES)]
        names = (MILITARY if kind == UnitKind.MILITARY else PARTNER_FORCES)[level]
        name = names[i % len(names)]
        if name.startswith("武警"):
            return f"武警{place}{name[2:]}"
        if name.startswith("驻地"):
            return f"驻{place}{name[2:]}"
        return place + name

    # ---- leading groups, pairings, users -------------------------------------------------------
    def person(self):
        return self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, self.rng.choice([1, 2])))

    def day(self, first_year, last_year):
        start = datetime.date(first_year, 1, 1)
        return start + datetime.timedelta(days=self.rng.randrange((datetime.date(last_year, 12, 31) - start).days))

    def _titles(self, unit):
        """Return the job titles for (leader, first deputy, deputies, members, liaison, office director)."""
        if unit.kind == UnitKind.TOWNSHIP:
            head = {"镇": "镇长", "乡": "乡长"}.get(unit.name[-1], "街道办事处主任")
            secretary = "党工委书记" if unit.name.endswith("街道") else "党委书记"
            members = ["组织委员", "宣传委员", "民政办主任", "财政所所长", "派出所所长", "社会事务办主任"]
            deputies = ["党委副书记", "人武部部长", "街道办事处副主任" if head.startswith("街道") else f"副{head}"]
            return secretary, head, deputies, members, "退役军人服务站工作人员", "退役军人服务站站长"
        level = {UnitKind.PROVINCE: "省", UnitKind.CITY: "市"}.get(unit.kind) or unit.name[-1]
        titles = (
            f"{level}委书记", f"{level}长", [f"{level}委副书记", f"{level}委常委、人武部政委", f"副{level}长"],
            [f"{level}委宣传部部长", f"{level}民政局局长", f"{level}财政局局长", f"{level}人力资源和社会保障局局长",
             f"{level}教育局局长", f"{level}卫生健康委员会主任", f"{level}公安局副局长", f"{level}总工会常务副主席"],
            f"{level}退役军人事务局双拥科科长", f"{level}退役军人事务局局长",
        )  # fmt: skip
        if unit.kind == UnitKind.PROVINCE:
            return tuple(
                [
                    t.replace("局局长", "厅厅长").replace("局副局长", "厅副厅长").replace("人武部", "省军区")
                    for t in item
                ]
                if isinstance(item, list)
                else item.replace("局局长", "厅厅长").replace("局双拥科", "厅双拥处").replace("科长", "处长")
                for item in titles
            )
        return titles

    def build_groups(self):
        regions = [
            u for u in self.units if u.kind in (UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP)
        ]
        groups = []
        for unit in regions:
            place = unit.name.removeprefix(PREFIX)
            if unit.kind == UnitKind.TOWNSHIP:
                office = "退役军人服务站"
            else:
                office = f"{place}退役军人事务{'厅' if unit.kind == UnitKind.PROVINCE else '局'}"
            groups.append(LeadingGroup(unit=unit, office_note=f"领导小组下设办公室，办公室设在{office}"))
        LeadingGroup.objects.bulk_create(groups, batch_size=BATCH)

        members, history = [], []
        for group in groups:
            formed = self.day(2019, 2022)
            history.append(history_row(group, formed, "+"))
            members.extend(self._members(group, formed))
        GroupMember.objects.bulk_create(members, batch_size=BATCH)
        for member in members:
            history.append(history_row(member, member.start_on, "+", end_on=None))
            if member.end_on:
                history.append(history_row(member, member.end_on, "~"))
        self._save_history(history)
        self.counts["领导小组"] = len(groups)
        self.counts["领导小组成员（含历任）"] = len(members)

    def _members(self, group, formed):
        leader, head, deputies, others, liaison, office = self._titles(group.unit)

        def member(role, title, start=formed, end=None):
            return GroupMember(group=group, name=self.person(), job_title=title, role=role, start_on=start, end_on=end)

        rows = [member(GroupRole.FIRST_DEPUTY, head)]
        rows += [member(GroupRole.DEPUTY, t) for t in self.rng.sample(deputies, self.rng.randint(1, 2))]
        rows += [member(GroupRole.MEMBER, t) for t in self.rng.sample(others, self.rng.randint(1, 4))]
        rows.append(member(GroupRole.LIAISON, liaison))
        if self.rng.random() < 0.5:
            rows.append(member(GroupRole.OFFICE_DIRECTOR, office))
        if self.rng.random() < 0.4:
            changed = self.day(2023, 2025)
            rows.append(member(GroupRole.LEADER, leader, end=changed))
            rows.append(member(GroupRole.LEADER, leader, start=changed + datetime.timedelta(days=1)))
        else:
            rows.append(member(GroupRole.LEADER, leader))
        if self.rng.random() < 0.3:
            rows.append(member(GroupRole.MEMBER, self.rng.choice(others), end=self.day(2023, 2025)))
        return rows

    def build_pairings(self):
        by_parent = {}
        for unit in self.units:
            by_parent.setdefault(unit.parent_id, []).append(unit)
        pairings = []
        for unit in self.units:
            if unit.kind not in (UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY):
                continue
            forces = [u for u in by_parent.get(unit.pk, []) if u.is_military]
            if not forces:
                continue
            pairings += [self._pairing(unit, force) for force in forces]
            for child in by_parent.get(unit.pk, []):
                if child.kind == UnitKind.TOWNSHIP:
                    if self.rng.random() < 0.1:
                        pairings.append(self._pairing(child, self.rng.choice(forces), ended=True))
                    pairings.append(self._pairing(child, self.rng.choice(forces)))
                    villages = [u for u in by_parent.get(child.pk, []) if u.kind == UnitKind.VILLAGE]
                    pairings += [
                        self._pairing(v, self.rng.choice(forces)) for v in villages if self.rng.random() < 0.05
                    ]
                elif child.kind == UnitKind.SCHOOL and self.rng.random() < 0.5:
                    pairings.append(self._pairing(child, self.rng.choice(forces)))
        Pairing.objects.bulk_create(pairings, batch_size=BATCH)
        history = []
        for pairing in pairings:
            history.append(history_row(pairing, pairing.signed_on, "+", ended_on=None, end_reason=""))
            if pairing.ended_on:
                history.append(history_row(pairing, pairing.ended_on, "~"))
        self._save_history(history)
        self.counts["共建对子（含已结束）"] = len(pairings)

    def _pairing(self, civil, force, ended=False):
        if ended:
            signed = self.day(2012, 2016)
            return Pairing(
                civil_unit=civil,
                military_unit=force,
                signed_on=signed,
                ended_on=signed + datetime.timedelta(days=self.rng.randint(700, 2500)),
                end_reason=self.rng.choice(END_REASONS),
                goals=self.rng.choice(GOALS),
            )
        return Pairing(
            civil_unit=civil, military_unit=force, signed_on=self.day(2017, 2025), goals=self.rng.choice(GOALS)
        )

    def _save_history(self, rows):
        by_model = {}
        for row in rows:
            by_model.setdefault(type(row), []).append(row)
        for model, items in by_model.items():
            model.objects.bulk_create(items, batch_size=BATCH)

    def build_users(self, password):
        wanted = []
        for unit in self.units:
            if unit.kind in (UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY):
                wanted.append((unit, Role.OFFICE))
            if unit.kind == UnitKind.COUNTY:
                wanted.append((unit, Role.LEADER))
            if unit.kind in (UnitKind.TOWNSHIP, UnitKind.DEPARTMENT):
                wanted.append((unit, Role.LIAISON))
        hashed = make_password(password)
        prefix = usernames_prefix(self.profile)
        users = [
            get_user_model()(username=f"{prefix}{role}_{unit.pk}", password=hashed, is_active=True)
            for unit, role in wanted
        ]
        get_user_model().objects.bulk_create(users, batch_size=BATCH)
        UserProfile.objects.bulk_create(
            [UserProfile(user=user, full_name=self.person()) for user in users], batch_size=BATCH
        )
        Membership.objects.bulk_create(
            [Membership(user=user, unit=unit, role=role) for user, (unit, role) in zip(users, wanted, strict=True)],
            batch_size=BATCH,
        )
        self.counts.update(f"users: {Role(role).label}" for _, role in wanted)

    # ---- 优抚对象 -----------------------------------------------------------------------------------
    def build_beneficiaries(self, today=None):
        """Spread the profile's people over the townships: each with entitlements, a 新增 event and history."""
        today = today or timezone.localdate()
        townships = [u for u in self.units if u.kind == UnitKind.TOWNSHIP]
        villages = {}
        for unit in self.units:
            if unit.kind == UnitKind.VILLAGE:
                villages.setdefault(unit.parent_id, []).append(unit)
        prefix = self.profile.root_code[:2] if self.profile.root_code.endswith("0000") else self.profile.root_code
        taken = Beneficiary.objects.filter(id_number__startswith=prefix).values_list("id_number", flat=True)
        maker = PeopleMaker(self.rng, today, taken=taken)
        weights = [self.rng.uniform(0.5, 1.5) for _ in townships]
        per_township = Counter(self.rng.choices(range(len(townships)), weights, k=self.profile.people))
        chunk = []
        for index, township in enumerate(townships):
            county = township.parent
            place = county.name.removeprefix(PREFIX)
            cadres = [self.person() for _ in range(3)]
            choices = villages.get(township.pk, [])
            for _ in range(per_township[index]):
                village = self.rng.choice(choices) if choices and self.rng.random() < 0.92 else None
                chunk.append(
                    maker.person(
                        maker.category(),
                        area_code=county.region_code,
                        township=township,
                        village=village,
                        place=place,
                        cadre=self.rng.choice(cadres),
                    )
                )
                if len(chunk) >= PEOPLE_CHUNK:
                    self._insert_people(chunk)
                    chunk = []
        self._insert_people(chunk)

    def _insert_people(self, specs):
        if not specs:
            return
        people = [
            Beneficiary(
                **spec.person_fields(),
                name_initials=spec.name_initials,
                sex=spec.sex,
                birth_date=spec.birth_date,
                status=Status.ACTIVE,
                status_since=spec.effective_on,
            )
            for spec in specs
        ]
        Beneficiary.objects.bulk_create(people, batch_size=BATCH)
        entitlements, awards, changes = [], [], []
        for person, spec in zip(people, specs, strict=True):
            held = [Entitlement(beneficiary=person, **item) for item in spec.entitlements]
            entitlements += held
            awards += [
                Award(entitlement=held[i], level=level, awarded_on=on, document=document)
                for i, level, on, document in spec.awards
            ]
            changes.append(
                StatusChange(beneficiary=person, kind=ChangeKind.ADD, effective_on=spec.effective_on, reason="登记在册")
            )
        Entitlement.objects.bulk_create(entitlements, batch_size=BATCH)
        Award.objects.bulk_create(awards, batch_size=BATCH)
        StatusChange.objects.bulk_create(changes, batch_size=BATCH)
        history = [history_row(p, p.status_since, "+") for p in people]
        history += [history_row(e, e.start_on, "+") for e in entitlements]
        history += [history_row(a, a.awarded_on, "+") for a in awards]
        self._save_history(history)
        self.counts["优抚对象"] += len(people)
        self.counts["优抚待遇资格"] += len(entitlements)
        self.counts["立功受奖"] += len(awards)
        self.counts["异动（新增）"] += len(changes)


def wipe_people(people):
    """Raw-delete these people with everything that hangs on them (no history rows written)."""
    ids = people.values("pk")
    entitlements = Entitlement.objects.filter(beneficiary__in=ids).values("pk")
    recoveries = Recovery.objects.filter(beneficiary__in=ids)
    Recovery.payments.through.objects.filter(recovery__in=recoveries.values("pk"))._raw_delete(Recovery.objects.db)
    Recovery.history.filter(beneficiary_id__in=ids)._raw_delete(Recovery.history.db)
    recoveries._raw_delete(Recovery.objects.db)
    BatchException.objects.filter(beneficiary__in=ids)._raw_delete(BatchException.objects.db)
    Payment.objects.filter(beneficiary__in=ids)._raw_delete(Payment.objects.db)
    AccessLog.objects.filter(beneficiary__in=ids)._raw_delete(AccessLog.objects.db)
    Transfer.objects.filter(beneficiary__in=ids)._raw_delete(Transfer.objects.db)
    StatusChange.objects.filter(beneficiary__in=ids)._raw_delete(StatusChange.objects.db)
    awards = Award.objects.filter(entitlement__in=entitlements)
    Award.history.filter(id__in=awards.values("pk"))._raw_delete(Award.history.db)
    awards._raw_delete(Award.objects.db)
    Entitlement.history.filter(beneficiary_id__in=ids)._raw_delete(Entitlement.history.db)
    Entitlement.objects.filter(beneficiary__in=ids)._raw_delete(Entitlement.objects.db)
    Beneficiary.history.filter(id__in=ids)._raw_delete(Beneficiary.history.db)
    people._raw_delete(Beneficiary.objects.db)


@transaction.atomic
def wipe(profile):
    """Delete what the generator made for a profile; return how many units went."""
    removed = 0
    for root in scale_roots(profile):
        units = Unit.objects.filter(path__startswith=root.path)
        activity_scale.wipe_activities(units)
        wipe_people(Beneficiary.objects.filter(township__in=units))
        batches = PaymentBatch.objects.filter(unit__in=units)
        BatchException.objects.filter(batch__in=batches.values("pk"))._raw_delete(BatchException.objects.db)
        Payment.objects.filter(batch__in=batches.values("pk"))._raw_delete(Payment.objects.db)
        PaymentBatch.history.filter(unit_id__in=units.values("pk"))._raw_delete(PaymentBatch.history.db)
        batches._raw_delete(PaymentBatch.objects.db)
        Standard.history.filter(unit_id__in=units.values("pk"))._raw_delete(Standard.history.db)
        Standard.objects.filter(unit__in=units)._raw_delete(Standard.objects.db)
        pairings = Pairing.objects.filter(civil_unit__in=units) | Pairing.objects.filter(military_unit__in=units)
        pairing_ids = list(pairings.values_list("pk", flat=True))
        Agreement.objects.filter(pairing_id__in=pairing_ids).delete()
        # Raw deletes: going through delete() would write a "deleted" history row for every record.
        Pairing.history.filter(id__in=pairing_ids)._raw_delete(Pairing.history.db)
        Pairing.objects.filter(pk__in=pairing_ids)._raw_delete(Pairing.objects.db)
        groups = LeadingGroup.objects.filter(unit__in=units)
        GroupMember.history.filter(group_id__in=groups.values("pk"))._raw_delete(GroupMember.history.db)
        GroupMember.objects.filter(group__in=groups)._raw_delete(GroupMember.objects.db)
        LeadingGroup.history.filter(unit_id__in=units.values("pk"))._raw_delete(LeadingGroup.history.db)
        groups._raw_delete(LeadingGroup.objects.db)
        get_user_model().objects.filter(username__startswith=usernames_prefix(profile)).delete()
        Membership.objects.filter(unit__in=units).delete()
        for depth in sorted(set(units.values_list("depth", flat=True)), reverse=True):
            removed += Unit.objects.filter(path__startswith=root.path, depth=depth).delete()[1].get("units.Unit", 0)
    return removed


class Command(BaseCommand):
    help = "生成性能测试用的规模数据（县级约 300 个单位，省级约 8,000 个单位）。"

    def add_arguments(self, parser):
        parser.add_argument("--profile", choices=sorted(PROFILES), required=True, help="规模：county 或 province")
        parser.add_argument("--reset", action="store_true", help="先删除本规模已生成的数据再重新生成")
        parser.add_argument("--delete", action="store_true", help="只删除本规模已生成的数据")
        parser.add_argument("--password", default="", help="生成账号的密码（默认随机生成并打印）")
        parser.add_argument(
            "--payments-only", action="store_true", help="只为已生成、尚无发放记录的规模数据补充标准、批次和发放记录"
        )
        parser.add_argument("--activities-only", action="store_true", help="只为已生成、尚无活动的规模数据补充双拥活动")

    def handle(self, *args, profile, reset, delete, password, payments_only, activities_only=False, **options):
        if settings.PRODUCTION:
            raise CommandError("生产环境（PRODUCTION=1）不能生成规模测试数据。")
        profile = PROFILES[profile]
        started = time.perf_counter()
        if payments_only:
            self.add_payments(profile)
            return
        if activities_only:
            self.add_activities(profile)
            return
        if reset or delete:
            removed = wipe(profile)
            self.stdout.write(f"已删除“{root_name(profile)}”的规模测试数据：{removed} 个单位。")
            if delete:
                return
        elif scale_roots(profile).exists():
            raise CommandError(
                f"规模测试数据“{root_name(profile)}”已存在。如需重新生成，请加 --reset；只删除请用 --delete。"
            )
        code_prefix = significant_prefix(
            UnitKind.PROVINCE if profile.root_code.endswith("0000") else UnitKind.COUNTY, profile.root_code
        )
        clash = Unit.objects.filter(region_code__startswith=code_prefix).first()
        if clash:
            raise CommandError(
                f"区划代码以 {code_prefix} 开头的单位“{clash.name}”已存在，规模测试数据会与其冲突，请换一个数据库。"
            )
        password = password or secrets.token_urlsafe(12)
        generator = Generator(profile)
        with transaction.atomic():
            generator.build_tree()
            generator.build_groups()
            generator.build_pairings()
            generator.build_users(password)
            generator.build_beneficiaries()
            people_done = time.perf_counter()
            payments = build_payments(scale_roots(profile).get(), months=profile.payment_months, log=self.stderr.write)
        payments_elapsed = time.perf_counter() - people_done
        elapsed = time.perf_counter() - started
        counts = generator.counts
        self.stdout.write(
            self.style.SUCCESS(f"已生成“{root_name(profile)}”（{profile.name}），用时 {elapsed:.1f} 秒：")
        )
        self.stdout.write(f"  {len(generator.units):>6}  单位，其中：")
        for kind in UnitKind:
            if counts[kind]:
                self.stdout.write(f"  {counts[kind]:>6}    {kind.label}")
        for label in (
            "领导小组",
            "领导小组成员（含历任）",
            "共建对子（含已结束）",
            "优抚对象",
            "优抚待遇资格",
            "立功受奖",
        ):
            self.stdout.write(f"  {counts[label]:>6}  {label}")
        for role in Role:
            self.stdout.write(f"  {counts[f'users: {role.label}']:>6}  账号（{role.label}）")
        self.write_payments(payments, payments_elapsed)
        self.add_activities(profile)
        self.stdout.write(f"  账号用户名以 {usernames_prefix(profile)} 开头，密码：{password}")

    def add_payments(self, profile):
        root = scale_roots(profile).first()
        if root is None:
            raise CommandError(f"规模测试数据“{root_name(profile)}”不存在，请先生成。")
        if Payment.objects.filter(township__path__startswith=root.path).exists():
            raise CommandError(f"“{root_name(profile)}”已有发放记录。如需重新生成，请加 --reset。")
        started = time.perf_counter()
        with transaction.atomic():
            payments = build_payments(root, months=profile.payment_months, log=self.stderr.write)
        self.stdout.write(self.style.SUCCESS(f"已为“{root_name(profile)}”补充发放数据："))
        self.write_payments(payments, time.perf_counter() - started)

    def add_activities(self, profile):
        root = scale_roots(profile).first()
        if root is None:
            raise CommandError(f"规模测试数据“{root_name(profile)}”不存在，请先生成。")
        if activity_scale.Activity.objects.filter(unit__path__startswith=root.path).exists():
            raise CommandError(f"“{root_name(profile)}”已有双拥活动。如需重新生成，请加 --reset。")
        started = time.perf_counter()
        count = activity_scale.COUNTS[profile.name]
        counts = activity_scale.build_activities(root, count=count, seed=profile.seed, log=self.stderr.write)
        for line in activity_scale.describe(counts, time.perf_counter() - started):
            self.stdout.write(line)

    def write_payments(self, counts, elapsed):
        self.stdout.write(f"  {counts['发放记录']:>9,}  发放记录（用时 {elapsed:.1f} 秒），其中：")
        for label in sorted(counts):
            if label.startswith("发放记录："):
                self.stdout.write(f"  {counts[label]:>9,}    {label.removeprefix('发放记录：')}")
        self.stdout.write(f"  {counts['发放批次']:>9,}  发放批次（已发放）")
        self.stdout.write(f"  {counts['抚恤补助标准']:>9,}  抚恤补助标准")
