import datetime
import re

from django import forms
from django.utils import timezone

from shuangyong.lib.http import whole_number
from units.constants import UnitKind
from units.models import Unit

from .constants import REGULAR_KINDS, BatchStatus, Category, PaymentKind, PayMethod
from .forms import SMALL_SELECT, TOWNSHIP_SELECT_LIMIT, TownshipLookupField
from .models import PaymentBatch
from .selectors import office_counties

REGULAR_KIND_CHOICES = [(kind.value, kind.label) for kind in REGULAR_KINDS]
YEARS_BACK = 10
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def year_choices(today, *, back=YEARS_BACK, ahead=1):
    return [(year, f"{year}年") for year in range(today.year + ahead, today.year - back - 1, -1)]


# Batches


class BatchFilterForm(forms.Form):
    year = forms.TypedChoiceField(
        label="年度", coerce=int, empty_value=None, required=False, widget=forms.Select(SMALL_SELECT)
    )
    kind = forms.ChoiceField(
        label="发放类别",
        choices=[("", "全部类别"), *PaymentKind.choices],
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )
    status = forms.ChoiceField(
        label="状态",
        choices=[("", "全部状态"), *BatchStatus.choices],
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "全部年度"), *[(year, f"{year}年") for year in years]]
        self.fields["year"].error_messages["invalid_choice"] = "所选年度没有发放批次。"

    def filters(self):
        """Return the valid filters as keyword arguments of selectors.batch_filter; invalid ones are left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}


# "m3" = March, "q2" = the second quarter, "h1" = the first half, "y" = the whole year.
PERIOD_CHOICES = [
    ("月", [(f"m{month}", f"{month}月") for month in range(1, 13)]),
    ("季度", [(f"q{quarter}", f"第{'一二三四'[quarter - 1]}季度") for quarter in range(1, 5)]),
    ("半年", [("h1", "上半年（1—6月）"), ("h2", "下半年（7—12月）")]),
    ("全年", [("y", "全年（1—12月）")]),
]
PERIOD_PATTERN = re.compile(r"^(m(1[0-2]|[1-9])|q[1-4]|h[12]|y)$")


def period_months(year, period):
    """Return the first and last month (day 1) of a period code within a year."""
    kind, number = period[0], int(period[1:] or 0)
    first, last = {
        "m": (number, number),
        "q": (3 * number - 2, 3 * number),
        "h": (6 * number - 5, 6 * number),
        "y": (1, 12),
    }[kind]
    return datetime.date(year, first, 1), datetime.date(year, last, 1)


class BatchCreateForm(forms.Form):
    unit = forms.ModelChoiceField(
        label="发放单位",
        queryset=Unit.objects.none(),
        empty_label=None,
        error_messages={"required": "请选择发放单位。"},
    )
    kind = forms.ChoiceField(
        label="发放类别", choices=REGULAR_KIND_CHOICES, error_messages={"required": "请选择发放类别。"}
    )
    year = forms.TypedChoiceField(label="年度", coerce=int, error_messages={"required": "请选择年度。"})
    period = forms.ChoiceField(
        label="发放期间",
        choices=PERIOD_CHOICES,
        error_messages={"required": "请选择发放期间。"},
        help_text="按月、季度、半年或全年发放；年度标准（如义务兵家庭优待金）在包含其发放月份的批次中一次发放。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["unit"].queryset = office_counties(user)
        self.fields["unit"].error_messages["invalid_choice"] = "所选发放单位不在您的管辖范围内。"
        self.fields["year"].choices = year_choices(today)
        self.fields["year"].error_messages["invalid_choice"] = "请选择列出的年度。"
        self.fields["period"].error_messages["invalid_choice"] = "请选择列出的发放期间。"
        self.initial.setdefault("year", today.year)
        self.initial.setdefault("period", f"m{today.month}")
        if len(self.fields["unit"].queryset) == 1:
            self.initial.setdefault("unit", self.fields["unit"].queryset[0])
            self.fields["unit"].widget = forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("year") and cleaned.get("period"):
            cleaned["first_month"], cleaned["last_month"] = period_months(cleaned["year"], cleaned["period"])
        return cleaned


class BatchPaidForm(forms.Form):
    paid_on = forms.DateField(label="发放日期", widget=DATE_INPUT, error_messages={"required": "请填写发放日期。"})
    method = forms.ChoiceField(
        label="发放方式",
        choices=PayMethod.choices,
        initial=PayMethod.CARD,
        error_messages={"required": "请选择发放方式。", "invalid_choice": "请选择发放方式：打卡、存折或现金。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("paid_on", timezone.localdate())
        self.fields["paid_on"].error_messages["invalid"] = "发放日期格式不正确，请写成 2026-03-15 的形式。"

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError("发放日期不能晚于今天。")
        return paid_on


class PaymentReturnForm(forms.Form):
    returned_on = forms.DateField(label="退回日期", widget=DATE_INPUT, error_messages={"required": "请填写退回日期。"})
    reason = forms.CharField(
        label="退回原因",
        max_length=200,
        error_messages={"required": "请填写退回原因。", "max_length": "退回原因不能超过 200 个字。"},
        help_text="如：账号错误、账户已销户。退回的款项将在本县（区）下一批同类发放中重发一次。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("returned_on", timezone.localdate())
        self.fields["returned_on"].error_messages["invalid"] = "退回日期格式不正确，请写成 2026-03-15 的形式。"

    def clean_returned_on(self):
        returned_on = self.cleaned_data["returned_on"]
        if returned_on > timezone.localdate():
            raise forms.ValidationError("退回日期不能晚于今天。")
        return returned_on


# Ledger and yearly summary


class MonthField(forms.CharField):
    """A month typed as 2026-03 (the browser's month input); cleans to the date of its first day."""

    widget = forms.TextInput(attrs={"type": "month", "class": "form-control form-control-sm"})

    def clean(self, value):
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
        if not match or not 1 <= int(match[2]) <= 12 or not 1900 <= int(match[1]) <= 2100:
            raise forms.ValidationError(f"“{text}”不是有效的月份，请写成 2026-03 的形式。")
        return datetime.date(int(match[1]), int(match[2]), 1)


LEDGER_STATES = [("paid", "已发放"), ("pending", "待发放（草稿、已审批）"), ("all", "全部")]
BATCH_SELECT_LIMIT = 200


class LedgerFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="发放类别",
        choices=[("", "全部发放类别"), *PaymentKind.choices],
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )
    month_from = MonthField(label="起始月份", required=False)
    month_to = MonthField(label="截止月份", required=False)
    category = forms.ChoiceField(
        label="优抚类别",
        choices=[("", "全部优抚类别"), *Category.choices],
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )
    township = forms.ModelChoiceField(
        label="乡镇（街道）",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="全部乡镇（街道）",
        widget=forms.Select(SMALL_SELECT),
    )
    batch = forms.ModelChoiceField(
        label="批次",
        queryset=PaymentBatch.objects.none(),
        required=False,
        empty_label="全部批次",
        widget=forms.Select(SMALL_SELECT),
    )
    state = forms.ChoiceField(label="状态", choices=LEDGER_STATES, required=False, widget=forms.Select(SMALL_SELECT))
    backpay_only = forms.BooleanField(
        label="只看补发", required=False, widget=forms.CheckboxInput({"class": "form-check-input"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        townships = Unit.objects.visible_to(user).filter(kind=UnitKind.TOWNSHIP).order_by("path")
        if townships.count() > TOWNSHIP_SELECT_LIMIT:
            self.fields["township"] = TownshipLookupField(
                queryset=townships,
                label="乡镇（街道）",
                required=False,
                max_length=50,
                widget=forms.TextInput(
                    attrs={"class": "form-control form-control-sm", "placeholder": "乡镇名称或区划代码"}
                ),
            )
        else:
            self.fields["township"].queryset = townships
            self.fields["township"].error_messages["invalid_choice"] = "所选乡镇（街道）不存在或不在您的管辖范围内。"
        batches = PaymentBatch.objects.visible_to(user).order_by("-first_month", "kind", "-pk")
        self.fields["batch"].queryset = batches
        self.fields["batch"].error_messages["invalid_choice"] = "所选批次不存在或不在您的管辖范围内。"
        # Offer the latest batches; an older one chosen by link stays selectable.
        options = [("", "全部批次"), *((b.pk, b.title) for b in batches[:BATCH_SELECT_LIMIT])]
        chosen = self.data.get("batch", "") if self.is_bound else ""
        pk = whole_number(chosen)
        if pk is not None and all(value != pk for value, _ in options):
            options += [(b.pk, b.title) for b in batches.filter(pk=pk)]
        self.fields["batch"].widget.choices = options

    def clean(self):
        cleaned = super().clean()
        month_from, month_to = cleaned.get("month_from"), cleaned.get("month_to")
        if month_from and month_to and month_from > month_to:
            self.add_error("month_to", "截止月份不能早于起始月份。")
        return cleaned

    def filters(self, *, default_year):
        """Return the valid filters as keyword arguments of selectors.ledger_filter; invalid ones are left out.

        Without months the ledger shows the default year; without a state, the money paid out.
        """
        cleaned = {}
        if self.is_bound:
            self.is_valid()
            cleaned = self.cleaned_data
        month_from, month_to = cleaned.get("month_from"), cleaned.get("month_to")
        if not month_from and not month_to:
            month_from, month_to = datetime.date(default_year, 1, 1), datetime.date(default_year, 12, 1)
        return {
            "kind": cleaned.get("kind", ""),
            "month_from": month_from,
            "month_to": month_to,
            "category": cleaned.get("category", ""),
            "township": cleaned.get("township"),
            "backpay_only": cleaned.get("backpay_only", False),
            "batch": cleaned.get("batch"),
            "state": cleaned.get("state") or "paid",
        }


class SummaryForm(forms.Form):
    year = forms.TypedChoiceField(label="年度", coerce=int, required=False, widget=forms.Select(SMALL_SELECT))
    unit = forms.ModelChoiceField(
        label="范围",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="全部管辖范围",
        widget=forms.Select(SMALL_SELECT),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices(timezone.localdate(), ahead=0)
        self.fields["year"].error_messages["invalid_choice"] = "请选择列出的年度。"
        units = Unit.objects.visible_to(user).filter(kind__in=[UnitKind.COUNTY, UnitKind.TOWNSHIP]).order_by("path")
        self.fields["unit"].queryset = units
        self.fields["unit"].error_messages["invalid_choice"] = "所选范围不存在或不在您的管辖范围内。"
        if units.count() > TOWNSHIP_SELECT_LIMIT:
            self.fields["unit"].queryset = units.filter(kind=UnitKind.COUNTY)
