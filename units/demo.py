"""The demo city: 示例县 with its townships, member units, military units, groups and pairings."""

import datetime

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from activities.demo import build_activities
from beneficiaries.demo import build_registry
from beneficiaries.payment_demo import build_payments
from reports.demo import build_reports
from shuangyong.lib.pdf import render_pdf

from .constants import GroupRole, Role, UnitKind
from .models import GroupMember, LeadingGroup, Membership, Pairing, Unit, UserProfile
from .services import agreement_add, reveal_group

DEMO_PASSWORD = "Shuangyong@2025"

TOWNSHIPS = [
    ("城关街道", "001", [("团结社区", "001"), ("人民路社区", "002"), ("北门社区", "003")]),
    ("新华街道", "002", [("新华社区", "001"), ("东园社区", "002")]),
    ("溧东镇", "100", [("东村", "201"), ("西村", "202"), ("溧东社区", "001")]),
    ("南渡镇", "101", [("南渡村", "201"), ("庆丰村", "202")]),
    ("上兴镇", "102", [("上兴村", "201"), ("塘东村", "202")]),
    ("竹箦镇", "103", [("竹箦村", "201"), ("水母山村", "202")]),
    ("别桥镇", "104", [("别桥村", "201"), ("塘马村", "202")]),
    ("雅灰乡", "200", [("雅灰村", "201"), ("石塘村", "202")]),
    ("社渚乡", "201", [("社渚村", "201"), ("周城村", "202")]),
    ("天目湖乡", "202", [("平桥村", "201"), ("沙河村", "202")]),
]

MEMBER_UNITS = [
    ("县委办公室", UnitKind.DEPARTMENT),
    ("县政府办公室", UnitKind.DEPARTMENT),
    ("县委组织部", UnitKind.DEPARTMENT),
    ("县委宣传部", UnitKind.DEPARTMENT),
    ("县发展和改革委员会", UnitKind.DEPARTMENT),
    ("县教育局", UnitKind.DEPARTMENT),
    ("县公安局", UnitKind.DEPARTMENT),
    ("县民政局", UnitKind.DEPARTMENT),
    ("县财政局", UnitKind.DEPARTMENT),
    ("县人力资源和社会保障局", UnitKind.DEPARTMENT),
    ("县规划局", UnitKind.DEPARTMENT),
    ("县住房和城乡建设局", UnitKind.DEPARTMENT),
    ("县交通运输局", UnitKind.DEPARTMENT),
    ("县水利局", UnitKind.DEPARTMENT),
    ("县农业农村局", UnitKind.DEPARTMENT),
    ("县商务局", UnitKind.DEPARTMENT),
    ("县文化广电和旅游局", UnitKind.DEPARTMENT),
    ("县卫生健康委员会", UnitKind.DEPARTMENT),
    ("县退役军人事务局", UnitKind.DEPARTMENT),
    ("县应急管理局", UnitKind.DEPARTMENT),
    ("县市场监督管理局", UnitKind.DEPARTMENT),
    ("县医疗保障局", UnitKind.DEPARTMENT),
    ("县城市管理局", UnitKind.DEPARTMENT),
    ("县司法局", UnitKind.DEPARTMENT),
    ("县融媒体中心", UnitKind.DEPARTMENT),
    ("县总工会", UnitKind.MASS_ORG),
    ("共青团示例县委员会", UnitKind.MASS_ORG),
    ("县妇女联合会", UnitKind.MASS_ORG),
    ("县残疾人联合会", UnitKind.MASS_ORG),
    ("县红十字会", UnitKind.MASS_ORG),
    ("县科学技术协会", UnitKind.MASS_ORG),
    ("县人民医院", UnitKind.HOSPITAL),
    ("县中医院", UnitKind.HOSPITAL),
    ("县第一中学", UnitKind.SCHOOL),
    ("县实验小学", UnitKind.SCHOOL),
    ("县职业教育中心", UnitKind.SCHOOL),
    ("国网示例县供电公司", UnitKind.ENTERPRISE),
    ("示例县农村商业银行", UnitKind.ENTERPRISE),
    ("示例县邮政分公司", UnitKind.ENTERPRISE),
    ("示例县自来水公司", UnitKind.ENTERPRISE),
]

MILITARY_UNITS = [
    ("示例县人民武装部", UnitKind.MILITARY),
    ("武警示例县中队", UnitKind.MILITARY),
    ("73026部队", UnitKind.MILITARY),
    ("预备役防化营", UnitKind.MILITARY),
    ("雷达连", UnitKind.MILITARY),
    ("无线连", UnitKind.MILITARY),
    ("示例县消防救援大队", UnitKind.PARTNER_FORCE),
    ("示例县森林消防中队", UnitKind.PARTNER_FORCE),
]

PAIRINGS = [
    ("县人民医院", "示例县消防救援大队", datetime.date(2019, 7, 25), "定期为消防指战员体检，开展急救培训"),
    ("县教育局", "预备役防化营", datetime.date(2018, 8, 1), "军训指导、国防教育进校园"),
    ("团结社区", "无线连", datetime.date(2020, 3, 5), "军民联谊、帮扶困难家庭"),
    ("县发展和改革委员会", "示例县人民武装部", datetime.date(2017, 7, 28), "支持民兵训练基地建设"),
    ("县住房和城乡建设局", "武警示例县中队", datetime.date(2019, 1, 15), "营区基础设施维修、共建文明单位"),
    ("溧东镇", "73026部队", datetime.date(2016, 7, 30), "共建文明村镇、帮扶军属"),
    ("雅灰乡", "雷达连", datetime.date(2021, 8, 1), "送法进军营、助力乡村振兴"),
    ("县规划局", "示例县森林消防中队", datetime.date(2022, 4, 12), "防火规划共商、节日慰问"),
]

# (unit name, [(name, job title, role, start, end), ...]): end=None means still serving.
GROUPS = {
    "示例县": [
        ("孙建国", "县长", GroupRole.LEADER, "2021-06-01", "2025-05-31"),
        ("钱志远", "县长", GroupRole.LEADER, "2025-06-01", None),
        ("郑卫东", "县委副书记", GroupRole.FIRST_DEPUTY, "2021-06-01", None),
        ("吴强", "县人武部部长", GroupRole.DEPUTY, "2022-03-01", None),
        ("冯丽", "副县长", GroupRole.DEPUTY, "2021-06-01", None),
        ("陈明", "县退役军人事务局局长", GroupRole.MEMBER, "2021-06-01", None),
        ("褚红", "县民政局局长", GroupRole.MEMBER, "2021-06-01", None),
        ("卫海", "县财政局局长", GroupRole.MEMBER, "2021-06-01", None),
        ("蒋波", "县退役军人事务局副局长", GroupRole.OFFICE_DIRECTOR, "2021-06-01", None),
        ("王晓", "双拥办干事", GroupRole.LIAISON, "2023-01-01", None),
    ],
    "溧东镇": [
        ("陈书记", "镇党委书记", GroupRole.LEADER, "2022-01-01", None),
        ("周镇长", "镇长", GroupRole.FIRST_DEPUTY, "2022-01-01", "2025-09-30"),
        ("许明", "镇长", GroupRole.FIRST_DEPUTY, "2025-10-01", None),
        ("何平", "武装部长", GroupRole.DEPUTY, "2022-01-01", None),
        ("吕芳", "民政办主任", GroupRole.MEMBER, "2022-01-01", None),
        ("张丽", "退役军人服务站站长", GroupRole.LIAISON, "2022-01-01", None),
    ],
    "县规划局": [
        ("施建华", "局长", GroupRole.LEADER, "2020-03-01", None),
        ("张勇", "副局长", GroupRole.DEPUTY, "2020-03-01", None),
        ("曹敏", "办公室主任", GroupRole.MEMBER, "2020-03-01", None),
        ("赵敏", "办公室科员", GroupRole.LIAISON, "2024-02-01", None),
    ],
    "县人民医院": [
        ("严伟", "院长", GroupRole.LEADER, "2019-01-01", None),
        ("华英", "党委书记", GroupRole.FIRST_DEPUTY, "2019-01-01", None),
        ("金涛", "副院长", GroupRole.DEPUTY, "2019-01-01", None),
        ("魏琳", "院办主任", GroupRole.LIAISON, "2019-01-01", None),
    ],
}

SURNAMES = (
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛范彭郎鲁韦马苗方俞任袁柳"
)
GIVEN = ["建华", "志强", "丽娟", "海峰", "国庆", "秀英", "卫东", "晓明", "红梅", "立新", "文静", "永刚", "春燕", "德明"]
TITLES = {
    UnitKind.TOWNSHIP: ["党委书记", "镇长", "人武部部长", "民政办主任", "退役军人服务站站长"],
    UnitKind.VILLAGE: ["党支部书记", "村委会主任", "民兵营长", "妇女主任", "村委委员"],
}
DEFAULT_TITLES = ["主要负责人", "分管负责人", "办公室主任", "科室负责人", "办公室科员"]
ROLES = [GroupRole.LEADER, GroupRole.FIRST_DEPUTY, GroupRole.DEPUTY, GroupRole.MEMBER, GroupRole.LIAISON]


def generated_roster(index, kind):
    """Five plausible members for a unit's group, the same every run."""
    titles = TITLES.get(kind, DEFAULT_TITLES)
    return [
        (
            SURNAMES[(index * 5 + i) % len(SURNAMES)] + GIVEN[(index * 3 + i) % len(GIVEN)],
            titles[i],
            ROLES[i],
            "2023-01-01",
            None,
        )
        for i in range(5)
    ]


PERSONAS = [
    ("zhuren", "王主任", "示例县", Role.OFFICE, True, "示例县双拥办主任（审批）"),
    ("ganshi", "李干事", "示例县", Role.OFFICE, False, "示例县双拥办工作人员"),
    ("lidong", "张联络员", "溧东镇", Role.LIAISON, False, "溧东镇联络员"),
    ("guihua", "赵联络员", "县规划局", Role.LIAISON, False, "县规划局联络员"),
    ("xianzhang", "钱县长", "示例县", Role.LEADER, False, "领导（只读）"),
    ("linxian", "邻县干事", "邻县", Role.OFFICE, False, "邻县双拥办（看不到示例县）"),
]


def _unit(name, kind, parent, code=""):
    unit, _ = Unit.objects.get_or_create(name=name, parent=parent, defaults={"kind": kind, "region_code": code})
    return unit


def _attach_agreement(pairing, signed_on):
    pdf = render_pdf("units/agreement_pdf.html", {"pairing": pairing, "signed_on": signed_on})
    file = SimpleUploadedFile("军民共建协议书.pdf", pdf, content_type="application/pdf")
    agreement_add(pairing=pairing, signed_on=signed_on, file=file, uploaded_by=None)


def _date(text):
    return datetime.date.fromisoformat(text) if text else None


@transaction.atomic
def build_demo():
    """Create or complete the demo data; running it again changes nothing."""
    city = _unit("示例市", UnitKind.CITY, None, "320400")
    county = _unit("示例县", UnitKind.COUNTY, city, "320481")
    units = {"示例县": county}
    for name, code, villages in TOWNSHIPS:
        town = _unit(name, UnitKind.TOWNSHIP, county, f"320481{code}000")
        units[name] = town
        for village, vcode in villages:
            kind = UnitKind.VILLAGE
            units[village] = _unit(village, kind, town, f"320481{code}{vcode}")
    for name, kind in MEMBER_UNITS + MILITARY_UNITS:
        units[name] = _unit(name, kind, county)

    other = _unit("邻县", UnitKind.COUNTY, city, "320413")
    units["邻县"] = other
    for name, code in [("邻县城关镇", "100"), ("邻县河口镇", "101")]:
        units[name] = _unit(name, UnitKind.TOWNSHIP, other, f"320413{code}000")
    units["邻县退役军人事务局"] = _unit("邻县退役军人事务局", UnitKind.DEPARTMENT, other)
    units["邻县人武部"] = _unit("邻县人武部", UnitKind.MILITARY, other)
    rosters_other = {"邻县": [("邻县县长", "县长", GroupRole.LEADER, "2022-01-01", None)]}

    rosters = {**GROUPS, **rosters_other}
    with_groups = [name for name, _, _ in TOWNSHIPS] + [name for name, _ in MEMBER_UNITS]
    for index, name in enumerate(with_groups):
        rosters.setdefault(name, generated_roster(index, units[name].kind))
    for unit_name, members in rosters.items():
        group, created = LeadingGroup.objects.get_or_create(
            unit=units[unit_name], defaults={"office_note": f"领导小组下设办公室，办公室设在{unit_name}相关科室。"}
        )
        if created:
            for name, title, role, start, end in members:
                GroupMember.objects.create(
                    group=group, name=name, job_title=title, role=role, start_on=_date(start), end_on=_date(end)
                )

    for index, (civil, military, signed_on, goals) in enumerate(PAIRINGS):
        pairing, created = Pairing.objects.get_or_create(
            civil_unit=units[civil], military_unit=units[military], defaults={"signed_on": signed_on, "goals": goals}
        )
        # Most demo pairings have their signed agreement on file; a couple are left for the office to chase.
        if created and index % 4 != 3:
            _attach_agreement(pairing, signed_on)
    Pairing.objects.get_or_create(
        civil_unit=units["邻县城关镇"],
        military_unit=units["邻县人武部"],
        defaults={"signed_on": datetime.date(2020, 8, 1)},
    )

    User = get_user_model()
    for username, full_name, unit_name, role, is_director, _ in PERSONAS:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        UserProfile.objects.get_or_create(user=user, defaults={"full_name": full_name})
        Membership.objects.get_or_create(
            user=user, unit=units[unit_name], role=role, defaults={"is_director": is_director}
        )
    # The county office may reveal full ID numbers and bank accounts; each reveal is logged.
    reveal_group().user_set.add(*User.objects.filter(username__in=["zhuren", "ganshi"]))
    build_registry(units, today=timezone.localdate())
    build_payments(units, today=timezone.localdate())
    build_activities(units, today=timezone.localdate())
    build_reports(units, today=timezone.localdate())
    return units


def demo_logins():
    return [(username, DEMO_PASSWORD, note) for username, _, _, _, _, note in PERSONAS]
