"""Integrity checks over the portal's data: each check returns a Result, `run_checks` runs them all.

Every check is a few set-based queries, or one streamed pass, so that it finishes on a province's database
(millions of payments).
"""

import datetime
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection, models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.models import registered_models

from activities.models import Activity, Gift, Photo, Recipient, RecipientGroup
from beneficiaries.constants import Basis, BatchStatus, PaymentKind
from beneficiaries.models import AccessLog, Payment, PaymentBatch, Recovery
from shuangyong.lib.money import to_fen
from units.models import AuditEvent

EXAMPLES = 5
# Folders under MEDIA_ROOT that hold working files, not records: import uploads, finished exports, cached PDFs.
TRANSIENT_MEDIA = ("jobs/", "exports/", "summaries/cache/")


@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    examples: list = field(default_factory=list)
    seconds: float = 0.0


def _fen(value):
    return Coalesce(value, Value(0), output_field=models.BigIntegerField())


def _money(value):
    return f"{value or 0:,.2f} 元"


def _verdict(name, problems, passed, failed):
    """The check passes with `passed` when it found no problem; else it fails with `failed` and the first examples."""
    if not problems:
        return Result(name, True, passed)
    return Result(name, False, failed, problems[:EXAMPLES])


# Ledger


def check_batches():
    """Each batch's rows agree with it: kind, 补发 cause, date and method of a paid batch, amount from the rate."""
    name = "发放批次与发放记录"
    rows = Payment.objects.filter(batch__isnull=False)
    paid = Q(batch__status=BatchStatus.PAID)
    problems = {
        "发放类别与批次不符": ~Q(kind=F("batch__kind")),
        "补发标记与批次不符": ~Q(is_backpay=F("batch__is_backpay")),
        "补发原因与批次不符": Q(batch__is_backpay=True) & (Q(cause__isnull=True) | ~Q(cause=F("batch__cause"))),
        "已发放批次中未登记发放日期或方式": paid
        & (Q(paid_on__isnull=True) | ~Q(paid_on=F("batch__paid_on")) | ~Q(method=F("batch__method"))),
        "未发放批次中已有发放日期": ~paid & Q(paid_on__isnull=False),
        # A monthly row (and a 补发 difference) is its rate times its months; annual rows may be pro-rated.
        "金额与标准不符": Q(is_backpay=True) & ~Q(amount=F("rate"))
        | Q(is_backpay=False, standard__basis__in=[Basis.MONTH, Basis.SERVICE_YEAR])
        & ~Q(amount=F("rate") * F("months")),
    }
    counts = rows.aggregate(
        rows=Count("pk"),
        total=Sum("amount", filter=Q(returned_on__isnull=True)),
        **{f"p{index}": Count("pk", filter=q) for index, q in enumerate(problems.values())},
    )
    batches = PaymentBatch.objects.aggregate(
        all=Count("pk"),
        paid=Count("pk", filter=Q(status=BatchStatus.PAID)),
        undated=Count("pk", filter=Q(status=BatchStatus.PAID) & (Q(paid_on__isnull=True) | Q(method=""))),
        empty=Count(
            "pk",
            filter=~Q(status=BatchStatus.DRAFT) & ~Exists(Payment.objects.filter(batch=OuterRef("pk"))),
        ),
    )
    found = {label: counts[f"p{index}"] for index, label in enumerate(problems)}
    found["已发放批次缺发放日期或方式"] = batches["undated"]
    found["已审批或已发放的批次没有发放记录"] = batches["empty"]
    found = {label: count for label, count in found.items() if count}
    detail = f"{batches['all']} 个批次（已发放 {batches['paid']} 个），{counts['rows']} 条发放记录"
    detail += f"，合计 {_money(counts['total'])}"
    if not found:
        return Result(name, True, detail)
    bad = Q()
    for q in problems.values():
        bad |= q
    examples = [
        f"批次 #{pk}“{title}”"
        for pk, title in rows.filter(bad)
        .values_list("batch_id", "batch__title")
        .distinct()
        .order_by("batch_id")[:EXAMPLES]
    ]
    detail += "；" + "，".join(f"{label} {count} 条" for label, count in found.items())
    return Result(name, False, detail, examples)


def _visit_ledger():
    """{(activity id, person id): fen} of the activities' 慰问金 rows: references `activity:<id>` and their
    corrections `activity:<id>:更正<n>` (activities.services.payment_reference)."""
    ledger = defaultdict(int)
    rows = Payment.objects.filter(
        kind=PaymentKind.CONDOLENCE, returned_on__isnull=True, reference__startswith="activity:"
    ).values_list("reference", "beneficiary_id", "amount")
    for reference, person, amount in rows.iterator(chunk_size=5000):
        activity = reference.split(":")[1]
        if activity.isdigit():
            ledger[(int(activity), person)] += to_fen(amount)
    return ledger


def check_visits():
    """A visited person's 慰问金 equals the activity's ledger rows for them (the first payment and corrections)."""
    name = "走访慰问金与台账"
    ledger = _visit_ledger()
    total, bad = 0, []
    recipients = Recipient.objects.values_list("activity_id", "beneficiary_id", "amount")
    for activity, person, amount in recipients.iterator(chunk_size=5000):
        total += 1
        if to_fen(amount) != ledger.get((activity, person), 0):
            bad.append(f"活动 #{activity} 对象 #{person}")
    passed = f"{total} 名走访对象的慰问金均与发放记录一致"
    return _verdict(name, bad, passed, f"{len(bad)} / {total} 名走访对象的慰问金与发放记录不符")


def check_recoveries():
    """A 追回's overpaid sum is what its overpaid rows add up to; it never recovers more than is due."""
    name = "追回与多发记录"
    linked = Recovery.objects.annotate(rows=Count("payments"), paid=_fen(Sum("payments__amount")))
    wrong = linked.filter(
        Q(rows__gt=0) & ~Q(overpaid=F("paid")) | Q(recovered__gt=F("amount")) | ~Q(amount=F("overpaid") - F("offset"))
    )
    total = Recovery.objects.count()
    bad = list(wrong.values_list("pk", flat=True)[:EXAMPLES])
    if not bad:
        return Result(name, True, f"{total} 笔追回的多发金额、应追回和已追回金额一致")
    return Result(name, False, f"{wrong.count()} / {total} 笔追回的金额与多发记录不符", [f"追回 #{pk}" for pk in bad])


# Activities


def _sum(model, column, **filters):
    rows = model.objects.filter(activity=OuterRef("pk"), **filters).order_by().values("activity")
    return _fen(Subquery(rows.annotate(total=Sum(column)).values("total")))


def _count(model, **filters):
    rows = model.objects.filter(activity=OuterRef("pk"), **filters).order_by().values("activity")
    return _fen(Subquery(rows.annotate(total=Count("pk")).values("total")))


def check_activity_totals():
    """The totals kept on each activity equal what its gifts, recipients, groups and photos add up to."""
    name = "活动汇总数与明细"
    activities = Activity.objects.annotate(
        want_money=_sum(Gift, "money") + _sum(Recipient, "amount") + _sum(RecipientGroup, "money"),
        want_goods=_sum(Gift, "goods_value") + _sum(Recipient, "goods_value") + _sum(RecipientGroup, "goods_value"),
        want_people=_count(Recipient) + _sum(RecipientGroup, "people"),
        want_photos=_count(Photo, is_removed=False),
    ).filter(
        ~Q(money=F("want_money"))
        | ~Q(goods_value=F("want_goods"))
        | ~Q(recipient_count=F("want_people"))
        | ~Q(photo_count=F("want_photos"))
    )
    total = Activity.objects.count()
    bad = list(activities.values_list("pk", "title")[:EXAMPLES])
    if not bad:
        return Result(name, True, f"{total} 项活动的慰问金额、物品折价、慰问人数和照片数均与明细一致")
    return Result(
        name,
        False,
        f"{activities.count()} / {total} 项活动的汇总数与明细不符",
        [f"活动 #{pk}“{title}”" for pk, title in bad],
    )


# Constraints


def _project_models():
    return [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]


def _database_constraints():
    """{table: {name: info}} of the tables the models use, as the database reports them."""
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        return {
            model._meta.db_table: connection.introspection.get_constraints(cursor, model._meta.db_table)
            for model in _project_models()
            if model._meta.db_table in tables
        }


def _violations(model, constraint):
    """Rows breaking a declared constraint the database does not enforce (set-based)."""
    manager = model._base_manager
    if isinstance(constraint, models.CheckConstraint):
        return manager.exclude(constraint.condition).count()
    if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
        rows = manager.filter(constraint.condition or Q()).filter(
            **{f"{name}__isnull": False for name in constraint.fields}
        )
        return rows.order_by().values(*constraint.fields).annotate(n=Count("pk")).filter(n__gt=1).count()
    return 0


def _unvalidated_constraints():
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE NOT c.convalidated AND n.nspname = current_schema()"
        )
        return cursor.fetchall()


def check_constraints():
    """Every declared constraint and foreign key exists in the database and is validated; else check the rows."""
    name = "数据库约束"
    present = _database_constraints()
    unvalidated = set(_unvalidated_constraints())
    declared, problems = 0, []
    for model in _project_models():
        table = model._meta.db_table
        found = present.get(table)
        if found is None:
            problems.append(f"缺少数据表 {table}")
            continue
        for constraint in model._meta.constraints:
            declared += 1
            missing = constraint.name not in found
            if missing or (table, constraint.name) in unvalidated:
                unvalidated.discard((table, constraint.name))
                broken = _violations(model, constraint)
                state = "缺失" if missing else "未验证（NOT VALID）"
                problems.append(f"{table}.{constraint.name} {state}" + (f"，{broken} 行违反" if broken else ""))
        fk_columns = {tuple(info["columns"]) for info in found.values() if info.get("foreign_key")}
        for model_field in model._meta.local_concrete_fields:
            if model_field.is_relation and model_field.db_constraint and (model_field.column,) not in fk_columns:
                problems.append(f"{table}.{model_field.column} 缺少外键约束")
    problems += [f"{table}.{constraint} 未验证（NOT VALID）" for table, constraint in sorted(unvalidated)]
    problems += _foreign_key_orphans()
    passed = f"{declared} 个声明的约束和全部外键均在数据库中并已生效，无悬空外键"
    return _verdict(name, problems, passed, f"{len(problems)} 处约束问题")


def _foreign_key_orphans():
    """On SQLite foreign keys may be switched off: ask it for rows that point nowhere (PostgreSQL never has them
    while its foreign keys are validated)."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_key_check")
        rows = cursor.fetchall()
    return [f"{table} 第 {rowid} 行的外键指向不存在的 {parent}" for table, rowid, parent, _ in rows]


# Files


def _file_fields():
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                yield model, model_field


def _stored_files():
    """Every file under MEDIA_ROOT as a storage name, or None when the storage is not a local folder."""
    if not isinstance(default_storage, FileSystemStorage):
        return None
    root = default_storage.location
    names = set()
    for folder, _, files in os.walk(root):
        for file in files:
            names.add(os.path.relpath(os.path.join(folder, file), root).replace(os.sep, "/"))
    return names


def _transient(name):
    return name.startswith(TRANSIENT_MEDIA)


def _referenced_files():
    """(names that must exist, names any row refers to): live rows must find their file; history rows only keep
    an old file from being called stray."""
    required, referenced = set(), set()
    for model, model_field in _file_fields():
        historical = model in {m.history.model for m in registered_models.values()}
        names = model._base_manager.exclude(**{model_field.name: ""}).exclude(**{f"{model_field.name}__isnull": True})
        for value in names.values_list(model_field.name, flat=True).iterator():
            referenced.add(value)
            if not historical and not _transient(value):
                required.add(value)
    return required, referenced


def check_files():
    """Every file a row names exists; every file in storage (outside the working folders) is named by a row."""
    required, referenced = _referenced_files()
    stored = _stored_files()
    if stored is None:
        missing = sorted(name for name in required if not default_storage.exists(name))
        stray = []
    else:
        missing = sorted(required - stored)
        stray = sorted(name for name in stored - referenced if not _transient(name))
    results = []
    if missing:
        results.append(
            Result("附件文件齐全", False, f"{len(missing)} / {len(required)} 个文件缺失", missing[:EXAMPLES])
        )
    else:
        results.append(Result("附件文件齐全", True, f"记录引用的 {len(required)} 个文件均存在"))
    if stored is None:
        results.append(Result("无孤立文件", True, "存储不是本地目录，未逐个列出文件"))
    elif stray:
        results.append(Result("无孤立文件", False, f"{len(stray)} 个文件没有任何记录引用", stray[:EXAMPLES]))
    else:
        results.append(Result("无孤立文件", True, f"附件目录中的 {len(stored)} 个文件均有记录引用（不含临时目录）"))
    return results


# History and audit


def check_history():
    """Every row of a model with an edit history has at least one history row."""
    name = "修改历史"
    counted, problems, rows = 0, [], 0
    for model in registered_models.values():
        history = model.history.model
        total = model._base_manager.count()
        without = model._base_manager.filter(~Exists(history.objects.filter(id=OuterRef("pk")))).count()
        counted += 1
        rows += total
        if without:
            problems.append(f"{model._meta.verbose_name}（{model._meta.label}）{without} / {total} 条没有历史记录")
    passed = f"{counted} 类记录共 {rows} 条，每条都有修改历史"
    return _verdict(name, problems, passed, f"{len(problems)} 类记录缺少修改历史")


def check_audit_log():
    """The security and personal-data logs are complete: each entry names its user and none lies in the future."""
    name = "安全日志与个人信息访问记录"
    users = get_user_model().objects.filter(pk=OuterRef("user_id"))
    soon = timezone.now() + datetime.timedelta(minutes=5)
    events = AuditEvent.objects.aggregate(
        all=Count("pk"),
        anonymous=Count("pk", filter=Q(actor__isnull=True, username="")),
        future=Count("pk", filter=Q(created_at__gt=soon)),
    )
    access = AccessLog.objects.aggregate(
        all=Count("pk"),
        future=Count("pk", filter=Q(created_at__gt=soon)),
    )
    access["userless"] = AccessLog.objects.filter(~Exists(users)).count()
    detail = f"安全日志 {events['all']} 条，个人信息查看和导出记录 {access['all']} 条"
    problems = []
    if events["anonymous"]:
        problems.append(f"{events['anonymous']} 条安全日志既无用户也无用户名")
    if access["userless"]:
        problems.append(f"{access['userless']} 条访问记录的用户不存在")
    if events["future"] + access["future"]:
        problems.append(f"{events['future'] + access['future']} 条日志的时间晚于现在")
    if not problems:
        return Result(name, True, detail + "，均记有用户")
    return Result(name, False, detail + "；" + "，".join(problems))


CHECKS = [
    check_batches,
    check_visits,
    check_recoveries,
    check_activity_totals,
    check_constraints,
    check_files,
    check_history,
    check_audit_log,
]


def run_checks():
    """Run every check and return their Results in order; a check that raises is reported as failed."""
    results = []
    for check in CHECKS:
        started = time.monotonic()
        try:
            found = check()
        except Exception as error:  # noqa: BLE001 — one broken check must not hide the others' report
            found = Result(check.__name__, False, f"检查出错：{type(error).__name__}: {error}")
        found = found if isinstance(found, list) else [found]
        for result in found:
            result.seconds = time.monotonic() - started
        results.extend(found)
    return results
