import datetime
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from beneficiaries.constants import REGULAR_KINDS, PaymentKind
from beneficiaries.jobs import generation_message
from beneficiaries.models import Standard
from beneficiaries.payment_services import backpay_span, batch_create, batch_generate
from beneficiaries.selectors import batch_totals
from shuangyong.lib.http import whole_number
from shuangyong.lib.money import format_yuan
from units.constants import TOP_KINDS, Role
from units.models import Membership, Unit

PERIOD_FORMS = "2026-03（一个月）、2026Q1（季度）、2026H1（半年）或 2026（全年）"


def parse_period(text):
    """Return (first month, last month) of '2026-03', '2026Q1', '2026H2' or '2026'."""
    text = (text or "").strip().upper()
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            return datetime.date(year, month, 1), datetime.date(year, month, 1)
    elif match := re.fullmatch(r"(\d{4})Q([1-4])", text):
        year, quarter = int(match[1]), int(match[2])
        return datetime.date(year, quarter * 3 - 2, 1), datetime.date(year, quarter * 3, 1)
    elif match := re.fullmatch(r"(\d{4})H([12])", text):
        year, half = int(match[1]), int(match[2])
        return datetime.date(year, half * 6 - 5, 1), datetime.date(year, half * 6, 1)
    elif re.fullmatch(r"\d{4}", text):
        return datetime.date(int(text), 1, 1), datetime.date(int(text), 12, 1)
    raise CommandError(f"发放期间“{text}”格式不对，应为 {PERIOD_FORMS}。")


def parse_kind(text):
    for value, label in PaymentKind.choices:
        if text in (value, label):
            if value not in REGULAR_KINDS:
                break
            return value
    choices = "、".join(f"{PaymentKind(k).value}（{PaymentKind(k).label}）" for k in REGULAR_KINDS)
    raise CommandError(f"发放类别“{text}”不对，可选：{choices}。")


class Command(BaseCommand):
    help = "生成一个发放批次的草稿名单（与页面上的“生成”相同）；重复运行不会重复生成。"

    def add_arguments(self, parser):
        parser.add_argument("--kind", help="发放类别，如 pension 或 定期抚恤金；补发时可省略")
        parser.add_argument("--period", help=f"发放期间：{PERIOD_FORMS}；补发时省略则补到已发放的最后一个月")
        parser.add_argument("--unit", required=True, help="县（区）及以上单位的区划代码或编号")
        parser.add_argument("--backpay-standard", type=int, help="调标（提高后的标准）的编号：生成该调标的补发批次")
        parser.add_argument("--user", help="记为建立和生成人的用户名；省略时用该单位的一位双拥办工作人员")

    def handle(self, *args, kind, period, unit, backpay_standard, user, **options):
        region = self.unit(unit)
        account = self.account(user, region)
        cause = None
        if backpay_standard is not None:
            cause = Standard.objects.filter(pk=backpay_standard).select_related("unit").first()
            if cause is None:
                raise CommandError(f"找不到编号为 {backpay_standard} 的标准。")
            kind = kind or cause.kind
        if not kind:
            raise CommandError("请用 --kind 指定发放类别。")
        kind = parse_kind(kind)
        try:
            if period:
                first, last = parse_period(period)
            elif cause is not None:
                first, last = backpay_span(unit=region, standard=cause)
            else:
                raise CommandError(f"请用 --period 指定发放期间：{PERIOD_FORMS}。")
            batch = batch_create(
                unit=region, kind=kind, first_month=first, last_month=last, created_by=account, cause=cause
            )
            if batch.locked:
                self.stdout.write(
                    self.style.WARNING(f"“{batch.title}”{batch.get_status_display()}，已锁定，没有重新生成。")
                )
            else:
                self.stdout.write(f"正在生成“{batch.title}”（{region.name}）……")
                counts = batch_generate(batch=batch, generated_by=account)
                self.stdout.write(self.style.SUCCESS(generation_message(batch, counts)))
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from None
        self.print_totals(batch)

    def print_totals(self, batch):
        totals = batch_totals(batch=batch)
        for row in totals["rows"]:
            self.stdout.write(f"  {row['text']}")
        self.stdout.write(f"  合计 {totals['people']}人 {format_yuan(totals['amount'])}")

    def unit(self, code):
        code = (code or "").strip()
        units = list(Unit.objects.filter(region_code=code, kind__in=TOP_KINDS, is_active=True)[:2])
        if not units and whole_number(code) is not None:
            units = list(Unit.objects.filter(pk=whole_number(code), kind__in=TOP_KINDS, is_active=True))
        if len(units) != 1:
            raise CommandError(f"“{code}”不对应唯一的在用县（区）或以上单位（请用区划代码或单位编号）。")
        return units[0]

    def account(self, username, region):
        ancestors = [int(part) for part in region.path.strip("/").split("/") if part]
        if username:
            account = get_user_model().objects.filter(username=username, is_active=True).first()
            if account is None:
                raise CommandError(f"找不到在用的用户“{username}”。")
            return account
        membership = (
            Membership.objects.filter(unit_id__in=ancestors, role=Role.OFFICE, user__is_active=True)
            .select_related("user", "unit")
            .order_by("-unit__depth", "-is_director", "user__username")
            .first()
        )
        if membership is None:
            raise CommandError(f"{region.name}没有双拥办工作人员账号，请用 --user 指定。")
        return membership.user
