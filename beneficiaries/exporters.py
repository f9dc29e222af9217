"""Export the filtered 优抚对象 list as .xlsx: masked by default, unmasked only with the permission and logged."""

import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from shuangyong.lib import excel
from shuangyong.lib.idcard import mask_bank_account, mask_id_number
from shuangyong.lib.jobs import JobFailed, job_runner
from shuangyong.lib.uploads import random_name

from . import selectors
from .constants import AccessKind, Category, DisabilityGrade, DisabilityNature, ServiceArea, Status
from .forms import BeneficiaryFilterForm
from .models import AccessLog
from .privacy import can_reveal

EXPORT_KIND = "beneficiaries_export"
# Larger exports run as a background job whose file is kept for the user who asked.
BACKGROUND_FROM_ROWS = 5000
CHUNK_SIZE = 2000
EXPORT_FOLDER = "exports"
SHEET = "优抚对象"
HEADER = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "乡镇（街道）",
    "村（社区）",
    "联系电话",
    "住址",
    "开户银行",
    "银行账号",
    "包户责任人",
    "生活困难",
    "住房困难",
    "医疗困难",
    "优抚类别",
    "残疾等级",
    "残疾性质",
    "批准文件",
    "享受起始日期",
    "义务兵役年数",
    "现役军人姓名",
    "入伍日期",
    "服役地区",
    "状态",
    "状态起始日期",
    "最近年度确认",
    "备注",
]
WIDTHS = [10, 6, 12, 22, 16, 14, 14, 24, 20, 24, 10, 9, 9, 9, 22, 9, 9, 20, 13, 11, 12, 13, 16, 8, 13, 12, 20]
TEXT_COLUMNS = [HEADER.index(label) + 1 for label in ("身份证号", "联系电话", "银行账号")]


def filter_form(*, user, query):
    """Return the list page's filter form for a query string, validated; bad filters are left out."""
    form = BeneficiaryFilterForm(query or None, user=user)
    form.is_valid()
    return form


def filtered_people(*, user, form, on):
    """Return the people the list page shows for the same filters."""
    return selectors.beneficiary_filter(user=user, on=on, **form.filters())


def describe_filters(form):
    """Return the filters in words for the access log and the workbook; a full ID number stays masked."""
    parts = []
    for name, value in getattr(form, "cleaned_data", {}).items():
        if value in (None, "", False):
            continue
        field = form.fields[name]
        if name == "q":
            shown = mask_id_number(value) if selectors.is_full_id_number(value) else value
        elif isinstance(value, bool):
            shown = "是"
        elif hasattr(field, "choices") and not hasattr(value, "pk"):
            shown = dict(field.choices).get(value, value)
        else:
            shown = str(value)
        parts.append(f"{field.label}={shown}")
    return "；".join(parts) or "全部"


def _joined(values):
    values = [value for value in values if value not in (None, "")]
    if len(values) == 1:
        return values[0]
    return "、".join(f"{v:%Y-%m-%d}" if isinstance(v, datetime.date) else str(v) for v in values)


def _yes(value):
    return "是" if value else "否"


# Labels looked up once: get_FOO_display() rebuilds its choices dict on every call.
CATEGORY_LABELS = dict(Category.choices)
GRADE_LABELS = dict(DisabilityGrade.choices)
NATURE_LABELS = dict(DisabilityNature.choices)
AREA_LABELS = dict(ServiceArea.choices)
STATUS_LABELS = dict(Status.choices)


def person_row(person, *, unmasked):
    """Return the cells of a person loaded by selectors.beneficiary_export_rows.

    The entitlement columns list every entitlement held, in the same order.
    """
    held = person.current_entitlements
    return [
        person.name,
        person.sex,
        person.birth_date,
        person.id_number if unmasked else mask_id_number(person.id_number),
        person.township_name,
        person.village_name or "",
        person.phone,
        person.address,
        person.bank_name,
        person.bank_account if unmasked else mask_bank_account(person.bank_account),
        person.cadre,
        _yes(person.hardship_living),
        _yes(person.hardship_housing),
        _yes(person.hardship_medical),
        _joined([CATEGORY_LABELS.get(e.category, e.category) for e in held]),
        _joined([GRADE_LABELS.get(e.grade, e.grade) for e in held if e.grade]),
        _joined([NATURE_LABELS.get(e.nature, e.nature) for e in held if e.nature]),
        _joined([e.approval_document for e in held]),
        _joined([e.start_on for e in held]),
        _joined([e.service_years for e in held]),
        _joined([e.serving_member_name for e in held]),
        _joined([e.enlistment_date for e in held]),
        _joined([AREA_LABELS.get(e.service_area, e.service_area) for e in held if e.service_area]),
        STATUS_LABELS.get(person.status, person.status),
        person.status_since,
        person.confirmed_year,
        person.notes,
    ]


def beneficiary_workbook(*, people, on, unmasked, description, exported_by, progress=None):
    """Return the .xlsx bytes of a roster, streamed row by row; every cell goes through excel.safe_cell."""
    rows = selectors.beneficiary_export_rows(people=people, on=on)

    def lines():
        for done, person in enumerate(rows.iterator(chunk_size=CHUNK_SIZE), start=1):
            if progress and done % CHUNK_SIZE == 0:
                progress(done)
            yield person_row(person, unmasked=unmasked)

    about = [
        ["导出时间", timezone.localtime().replace(tzinfo=None, microsecond=0)],
        ["导出人", exported_by],
        ["筛选条件", description],
        ["待遇统计日期", on],
        ["身份证号、银行账号", "未脱敏（已记录查看日志，请妥善保管）" if unmasked else "已脱敏"],
    ]
    return excel.write_workbook(
        [
            excel.Sheet(title=SHEET, header=HEADER, rows=lines(), widths=WIDTHS, text_columns=TEXT_COLUMNS),
            excel.Sheet(title="导出说明", rows=about, widths=[20, 60]),
        ]
    )


def export_filename(on, *, unmasked):
    return f"优抚对象名册{'（未脱敏）' if unmasked else ''}-{on:%Y%m%d}.xlsx"


def user_unit(user):
    """Return the unit whose office reads the user's access-log rows: their highest membership."""
    membership = user.memberships.select_related("unit").order_by("unit__depth", "unit__path").first()
    return membership.unit if membership else None


def export_log(*, user, unit, description, count, ip_address=None):
    """Write the access-log row of an unmasked export: the filters in words and how many people it held."""
    return AccessLog.objects.create(
        user=user,
        unit=unit,
        kind=AccessKind.EXPORT_UNMASKED,
        detail=f"筛选：{description}；共 {count} 人"[:200],
        ip_address=ip_address or None,
    )


def display_name(user):
    profile = getattr(user, "profile", None)
    return (profile.full_name if profile else "") or user.get_username()


@job_runner(EXPORT_KIND)
def run_export(job, progress):
    """Write a large export to storage; only the user who asked may download it."""
    user = job.created_by
    unmasked = job.params.get("unmasked", False)
    if unmasked and not can_reveal(user):
        raise JobFailed("您没有导出未脱敏名册的权限。")
    on = datetime.date.fromisoformat(job.params["on"])
    form = filter_form(user=user, query=QueryDict(job.params.get("query", "")))
    people = filtered_people(user=user, form=form, on=on)
    count = people.count()
    progress(0, count)
    content = beneficiary_workbook(
        people=people,
        on=on,
        unmasked=unmasked,
        description=describe_filters(form),
        exported_by=display_name(user),
        progress=progress,
    )
    name = default_storage.save(f"{EXPORT_FOLDER}/{random_name('xlsx')}", ContentFile(content))
    return {
        "message": f"已导出 {count} 人的名册。",
        "file": name,
        "filename": export_filename(on, unmasked=unmasked),
        "next_url": reverse("beneficiaries:export_download", args=[job.pk]),
        "next_label": "下载名册",
    }
