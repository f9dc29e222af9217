"""Benchmarks of the 优抚对象 registry on the scale profile, each beside its anchor.

Called by bench/measure.py (Django already set up for the database under test):
- `pages(root)`: the list page, its searches, and the Django admin changelist of Beneficiary as the anchor;
- `import_results(root)`: 10,000 roster rows through the import job's check and save, against django-import-export;
- `export_results()`: the whole province exported to .xlsx in a child process (time and peak memory), against a
  bare openpyxl write_only loop. The child is this file run as `registry.py export ours|anchor`.
"""

import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shuangyong.settings")
    import django

    django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from beneficiaries.demo import PeopleMaker  # noqa: E402
from beneficiaries.models import Beneficiary  # noqa: E402
from units.constants import Role, UnitKind  # noqa: E402
from units.management.commands.seed_scale import PREFIX, PROFILES, scale_roots, wipe_people  # noqa: E402
from units.models import Job, Membership, Unit  # noqa: E402

LIST_TARGET_MS = 300
SEARCH_TARGET_MS = 100
IMPORT_ROWS = 10_000
IMPORT_TARGET_S = 15
EXPORT_TARGET_S = 30
EXPORT_MEMORY_MB = 500
PER_PAGE = 50
ADMIN_USERNAME = "bench_admin"


def log(message):
    print(message, file=sys.stderr, flush=True)


def office_user(root):
    return Membership.objects.get(unit=root, role=Role.OFFICE).user


def township_liaison(root):
    """The liaison of the root's first township."""
    return (
        Membership.objects.filter(role=Role.LIAISON, unit__kind=UnitKind.TOWNSHIP, unit__path__startswith=root.path)
        .select_related("user")
        .order_by("unit__path")
        .first()
        .user
    )


def county_of(root):
    """The root's last county, or None when the root is a county."""
    if root.kind == UnitKind.COUNTY:
        return None
    return Unit.objects.filter(path__startswith=root.path, kind=UnitKind.COUNTY).order_by("path").last()


@contextmanager
def count_queries():
    """Count the queries run inside the block without keeping their SQL."""
    counter = {"n": 0}

    def wrapper(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def people_of(root):
    return Beneficiary.objects.filter(township__path__startswith=root.path)


# ---- list page and searches ---------------------------------------------------------------------------
def superuser():
    user, created = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user


def pages(root):
    """Return [(label, user, url, target ms, POST data or None)]; anchors carry target None."""
    office = office_user(root)
    liaison = township_liaison(root)
    admin = superuser()
    people = people_of(root)
    total = people.count()
    deep = max(1, int(total / PER_PAGE * 0.9))
    sample = people.order_by("pk")[total // 2]
    name = sample.name
    listing = reverse("beneficiaries:list")
    changelist = reverse("admin:beneficiaries_beneficiary_changelist")
    return [
        ("优抚对象列表 首页（双拥办）", office, listing, LIST_TARGET_MS, None),
        ("  对照：Django admin 列表首页", admin, changelist, None, None),
        (f"优抚对象列表 第 {deep} 页（双拥办）", office, f"{listing}?page={deep}", LIST_TARGET_MS, None),
        (f"  对照：Django admin 第 {deep} 页", admin, f"{changelist}?p={deep}", None, None),
        ("优抚对象列表 残疾军人（双拥办）", office, f"{listing}?category=04", LIST_TARGET_MS, None),
        ("优抚对象列表 首页（乡镇联络员）", liaison, listing, LIST_TARGET_MS, None),
        ("优抚对象搜索 姓名（双拥办）", office, f"{listing}?{urlencode({'q': name})}", SEARCH_TARGET_MS, None),
        ("  对照：Django admin 搜索姓名", admin, f"{changelist}?{urlencode({'q': name})}", None, None),
        ("优抚对象搜索 拼音首字母（双拥办）", office, f"{listing}?q={sample.name_initials}", SEARCH_TARGET_MS, None),
        ("优抚对象搜索 身份证号（双拥办）", office, listing, SEARCH_TARGET_MS, {"q": sample.id_number}),
        ("  对照：Django admin 搜索身份证号", admin, f"{changelist}?q={sample.id_number}", None, None),
    ]


# ---- import -------------------------------------------------------------------------------------------
def import_rows(root, count, seed=4004):
    """Return roster rows (as the import template's columns) for `count` new people of the profile."""
    from beneficiaries.constants import Category, DisabilityGrade, DisabilityNature, ServiceArea

    today = timezone.localdate()
    townships = list(Unit.objects.filter(path__startswith=root.path, kind=UnitKind.TOWNSHIP).select_related("parent"))
    villages = {}
    for village in Unit.objects.filter(path__startswith=root.path, kind=UnitKind.VILLAGE):
        villages.setdefault(village.parent_id, []).append(village)
    taken = people_of(root).values_list("id_number", flat=True).iterator(chunk_size=5000)
    rng = random.Random(seed)
    maker = PeopleMaker(rng, today, taken=taken)
    rows = []
    for _ in range(count):
        township = rng.choice(townships)
        village = rng.choice(villages[township.pk]) if villages.get(township.pk) else None
        spec = maker.person(
            maker.category(),
            area_code=township.parent.region_code,
            township=township,
            village=village,
            place=township.parent.name.removeprefix(PREFIX),
            cadre="基准测试",
        )
        item = spec.entitlements[0]
        rows.append(
            {
                "姓名": spec.name,
                "身份证号": spec.id_number,
                "乡镇（街道）": township.region_code,
                "村（社区）": village.region_code if village else None,
                "联系电话": spec.phone,
                "住址": spec.address,
                "开户银行": spec.bank_name,
                "银行账号": spec.bank_account,
                "包户责任人": spec.cadre,
                "生活困难": "是" if spec.hardship_living else "否",
                "住房困难": "是" if spec.hardship_housing else "否",
                "医疗困难": "是" if spec.hardship_medical else "否",
                "优抚类别": Category(item["category"]).label,
                "残疾等级": DisabilityGrade(item["grade"]).label if item["grade"] else None,
                "残疾性质": DisabilityNature(item["nature"]).label if item["nature"] else None,
                "批准文件": item["approval_document"],
                "享受起始日期": item["start_on"],
                "义务兵役年数": item["service_years"],
                "现役军人姓名": item["serving_member_name"] or None,
                "入伍日期": item["enlistment_date"],
                "服役地区": ServiceArea(item["service_area"]).label if item["service_area"] else None,
                "备注": None,
            }
        )
    return rows


def roster_file(rows):
    """The rows as an .xlsx roster with the import template's header row."""
    from openpyxl import Workbook

    from beneficiaries.importers import COLUMNS, SHEET

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    labels = list(COLUMNS)
    sheet.append(labels)
    for row in rows:
        sheet.append([row[label] for label in labels])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def remove_people(numbers):
    numbers = list(numbers)
    for start in range(0, len(numbers), 2000):
        wipe_people(Beneficiary.objects.filter(id_number__in=numbers[start : start + 2000]))


def _our_import(root, content, numbers):
    from beneficiaries.importers import import_confirm, import_start

    office = office_user(root)
    upload = SimpleUploadedFile("roster.xlsx", content)
    started = time.perf_counter()
    with count_queries() as check_queries:
        check = import_start(upload=upload, created_by=office)  # runs at once: the bench uses the immediate backend
    checked = time.perf_counter()
    check.refresh_from_db()
    if not check.result.get("valid"):
        errors = check.result.get("errors", [])[:3]
        raise RuntimeError(f"导入检查未通过：{check.error} {errors}")
    with count_queries() as save_queries:
        save, _ = import_confirm(check_job=check, confirmed_by=office)
    saved = time.perf_counter()
    save.refresh_from_db()
    if save.result.get("count") != len(numbers):
        raise RuntimeError(f"导入保存失败：{save.error} {save.result.get('errors', [])[:3]}")
    for job in (check, save):
        if job.input_file:
            job.input_file.delete(save=False)
    Job.objects.filter(pk__in=[check.pk, save.pk]).delete()
    return checked - started, saved - checked, check_queries["n"], save_queries["n"]


def _anchor_resource():
    from import_export import fields, resources, widgets

    from shuangyong.lib.idcard import validate_id_number

    text = widgets.CharWidget(allow_blank=True)

    class BeneficiaryResource(resources.ModelResource):
        name = fields.Field("name", column_name="姓名")
        id_number = fields.Field("id_number", column_name="身份证号")
        township = fields.Field(
            "township", column_name="乡镇（街道）", widget=widgets.ForeignKeyWidget(Unit, "region_code")
        )
        village = fields.Field(
            "village", column_name="村（社区）", widget=widgets.ForeignKeyWidget(Unit, "region_code")
        )
        phone = fields.Field("phone", column_name="联系电话", widget=text)
        address = fields.Field("address", column_name="住址", widget=text)
        bank_name = fields.Field("bank_name", column_name="开户银行", widget=text)
        bank_account = fields.Field("bank_account", column_name="银行账号", widget=text)
        cadre = fields.Field("cadre", column_name="包户责任人", widget=text)

        class Meta:
            model = Beneficiary
            import_id_fields = ["id_number"]
            fields = ["name", "id_number", "township", "village", "phone", "address", "bank_name", "bank_account"]
            fields += ["cadre"]

        def before_save_instance(self, instance, row, **kwargs):
            parsed = validate_id_number(instance.id_number)
            instance.sex, instance.birth_date = parsed.sex, parsed.birth_date

    return BeneficiaryResource()


def _anchor_import(content, numbers):
    import tablib

    dataset = tablib.Dataset().load(content, format="xlsx")
    resource_ = _anchor_resource()
    started = time.perf_counter()
    with count_queries() as queries:
        result = resource_.import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
    elapsed = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise RuntimeError("django-import-export 导入出错")
    return elapsed, queries["n"]


def import_results(root, rows=IMPORT_ROWS):
    log(f"[{connection.vendor}] 导入 {rows} 行 ……")
    data = import_rows(root, rows)
    numbers = [row["身份证号"] for row in data]
    content = roster_file(data)
    results = []
    remove_people(numbers)
    try:
        check_s, save_s, check_q, save_q = _our_import(root, content, numbers)
    except Exception as error:  # a missing or failing importer is reported in the table, not a crash
        log(f"  本系统导入失败：{error!r}")
        results.append(once(f"导入 {rows:,} 行（检查+保存）", None, IMPORT_TARGET_S, status=f"失败：{error}"[:60]))
    else:
        results += [
            once(f"导入 {rows:,} 行：检查任务", check_s, None, queries=check_q, status="（分项）"),
            once(f"导入 {rows:,} 行：保存任务（含复查）", save_s, None, queries=save_q, status="（分项）"),
            once(f"导入 {rows:,} 行：检查+保存", check_s + save_s, IMPORT_TARGET_S, queries=check_q + save_q),
        ]
    finally:
        remove_people(numbers)
    try:
        anchor_s, anchor_q = _anchor_import(content, numbers)
    except ImportError:
        results.append(once("  对照：django-import-export 导入同样的行", None, None, status="未安装"))
    else:
        results.append(once("  对照：django-import-export 导入同样的行", anchor_s, None, queries=anchor_q))
    finally:
        remove_people(numbers)
    for row in results:
        log(f"  {row['page']}: {row['p95']}")
    return results


# ---- export -------------------------------------------------------------------------------------------
def once(label, seconds, target, *, queries=None, memory_mb=None, status=None, note=None):
    """A one-off measurement (seconds) for the table."""
    return {
        "page": label,
        "kind": "once",
        "p95": seconds,
        "queries": queries,
        "memory_mb": memory_mb,
        "target": target,
        "memory_target": None,
        "status": status,
        "note": note,
    }


def _export_ours(root):
    from beneficiaries.exporters import beneficiary_workbook, filter_form, filtered_people

    office = office_user(root)
    today = timezone.localdate()
    form = filter_form(user=office, query=None)
    people = filtered_people(user=office, form=form, on=today)
    count = people.count()
    content = beneficiary_workbook(people=people, on=today, unmasked=False, description="全部", exported_by="基准测试")
    return count, len(content)


def _export_anchor(root):
    from openpyxl import Workbook

    fields = ["name", "sex", "birth_date", "id_number", "township__name", "village__name", "phone", "address"]
    fields += ["bank_name", "bank_account", "cadre", "status", "status_since", "confirmed_year"]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("优抚对象")
    sheet.append(fields)
    count = 0
    rows = people_of(root).order_by("township__path", "name", "pk").values_list(*fields)
    for row in rows.iterator(chunk_size=2000):
        sheet.append(row)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return count, len(buffer.getvalue())


def peak_memory_mb():
    """This process's peak resident memory. ru_maxrss survives exec (it starts at the parent's), VmHWM does not."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_child(mode, profile):
    """Run one export in this process and print its time, peak memory and size as JSON."""
    root = scale_roots(PROFILES[profile]).get()
    baseline = peak_memory_mb()
    started = time.perf_counter()
    with count_queries() as queries:
        count, size = (_export_ours if mode == "ours" else _export_anchor)(root)
    elapsed = time.perf_counter() - started
    peak = peak_memory_mb()
    result = {"seconds": elapsed, "peak_mb": peak, "baseline_mb": baseline, "rows": count, "bytes": size}
    print(json.dumps({**result, "queries": queries["n"]}))


def export_results(profile):
    results = []
    for mode, label, target in (
        ("ours", "导出全部（{rows:,} 行，脱敏）", EXPORT_TARGET_S),
        ("anchor", "  对照：openpyxl write_only 裸循环（{rows:,} 行）", None),
    ):
        log(f"[{connection.vendor}] 导出（{mode}）……")
        done = subprocess.run(
            [sys.executable, __file__, "export", mode, profile], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        if done.returncode != 0:
            results.append(once(label.format(rows=0), None, target, status=f"失败（退出码 {done.returncode}）"))
            continue
        data = json.loads(done.stdout.strip().splitlines()[-1])
        row = once(
            label.format(rows=data["rows"]),
            data["seconds"],
            target,
            queries=data["queries"],
            memory_mb=data["peak_mb"],
        )
        row["memory_target"] = EXPORT_MEMORY_MB if target else None
        row["note"] = f"文件 {data['bytes'] / 1e6:.1f} MB；进程起始 {data['baseline_mb']:.0f} MB"
        log(f"  {row['page']}: {data['seconds']:.1f} s, 峰值 {data['peak_mb']:.0f} MB")
        results.append(row)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["export"]:
        export_child(sys.argv[2], sys.argv[3])
    else:
        print(f"用法：{sys.argv[0]} export ours|anchor PROFILE", file=sys.stderr)
        sys.exit(2)
