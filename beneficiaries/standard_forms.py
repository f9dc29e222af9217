from django import forms
from django.utils import timezone

from shuangyong.lib.money import MoneyFormField, format_yuan

from .constants import (
    ONE_OFF_KINDS,
    VARIANT_CHOICES,
    Basis,
    Category,
    DisabilityGrade,
    DisabilityNature,
    PaymentKind,
    PayMethod,
)
from .forms import _date_field, _date_input

GRADED = {"data-show-when": f"kind:{PaymentKind.DISABILITY},{PaymentKind.NURSING}"}
WITH_VARIANT = {"data-show-when": f"kind:{PaymentKind.CONSCRIPT},{PaymentKind.AWARD}"}
YEARLY = {"data-show-when": f"basis:{Basis.YEAR}"}
AWARD_ONLY = {"data-show-when": f"kind:{PaymentKind.AWARD}"}
NOT_AWARD = {"data-show-when": "kind:" + ",".join(k for k in ONE_OFF_KINDS if k != PaymentKind.AWARD)}


def _money_field(label, *, required=True, help_text="", attrs=None):
    field = MoneyFormField(
        label=label,
        required=required,
        min_value=0,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", **(attrs or {})}),
    )
    field.error_messages["required"] = f"请填写{label}。"
    field.error_messages["min_value"] = f"{label}不能为负数。"
    return field


class StandardFilterForm(forms.Form):
    on = forms.DateField(label="执行日期", required=False, widget=_date_input(**{"class": "form-control"}))
    history = forms.BooleanField(label="显示全部历史标准", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].error_messages["invalid"] = "执行日期格式不正确，请按 2025-07-31 填写；已显示今天执行的标准。"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name}{obj.name}" if obj.parent_id else obj.name


class StandardForm(forms.Form):
    unit = UnitChoiceField(
        label="制定单位", queryset=None, empty_label=None, help_text="标准适用于该单位管辖的全部乡镇。"
    )
    kind = forms.ChoiceField(label="发放类别", choices=[("", "请选择"), *PaymentKind.choices])
    category = forms.ChoiceField(
        label="优抚类别",
        choices=[("", "—（不分类别）"), *Category.choices],
        required=False,
        help_text="定期抚恤金、残疾抚恤金、定期生活补助、护理费须选择类别；残疾抚恤金、护理费为“残疾军人”。",
    )
    grade = forms.TypedChoiceField(
        label="残疾等级",
        choices=[("", "—"), *DisabilityGrade.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=GRADED),
        help_text="仅残疾抚恤金、护理费填写。因病致残七至十级不享受残疾抚恤金。",
    )
    nature = forms.ChoiceField(
        label="残疾性质",
        choices=[("", "—"), *DisabilityNature.choices],
        required=False,
        widget=forms.Select(attrs=GRADED),
    )
    variant = forms.ChoiceField(
        label="细分",
        choices=[("", "—（一般）"), *VARIANT_CHOICES],
        required=False,
        widget=forms.Select(attrs=WITH_VARIANT),
        help_text="义务兵家庭优待金：进藏、新疆、艰苦边远地区另定标准（一般地区留空）；立功奖励：选择奖励等级。",
    )
    basis = forms.ChoiceField(
        label="计发方式",
        choices=Basis.choices,
        initial=Basis.MONTH,
        help_text="每服役一年每月：按义务兵役年数乘以标准逐月发放（如农村籍老兵）；立功奖励等一次性发放选“一次性”。",
    )
    amount = _money_field("标准金额（元）", help_text="每月、每年或每次的金额，等于中央（国家）标准加地方提标。")
    national_part = _money_field("中央（国家）标准（元）", help_text="全部由地方承担的填 0。")
    local_part = _money_field("地方提标（元）", required=False, help_text="留空则按“标准金额 − 中央（国家）标准”计算。")
    effective_from = _date_field("执行起始日期", help_text="某月1日，如国家调标常为 08-01。")
    effective_to = _date_field("执行截止日期", required=False, help_text="长期执行的不填；调标时自动截止。")
    payment_month = forms.TypedChoiceField(
        label="年度发放月份",
        choices=[("", "—"), *[(m, f"{m}月") for m in range(1, 13)]],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=YEARLY),
        help_text="按年发放的标准在这个月所在的批次中整笔发放（如 8 月，八一前）。",
    )
    prorate = forms.BooleanField(
        label="不足一年按月折算", required=False, help_text="仅按年发放的标准适用：享受不满一年的按月数折算。"
    )
    cumulative = forms.BooleanField(
        label="可与同类待遇叠加", required=False, help_text="勾选后同时享受其他同类待遇的，本标准另行加发，不取高。"
    )
    document = forms.CharField(
        label="依据文件", max_length=200, required=False, help_text="如：退役军人部发〔2025〕12号"
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].error_messages["invalid_choice"] = "所选单位不在您可以制定标准的范围内。"
        self.fields["kind"].error_messages["required"] = "请选择发放类别。"


class StandardRaiseForm(forms.Form):
    amount = _money_field("调整后标准金额（元）")
    national_part = _money_field("其中中央（国家）标准（元）")
    local_part = _money_field(
        "其中地方提标（元）", required=False, help_text="留空则按“标准金额 − 中央（国家）标准”计算。"
    )
    effective_from = _date_field(
        "执行起始日期",
        help_text="某月1日。可以早于今天（如 08-01 起执行、数月后下文），已按原标准发放的月份随后“补发”差额。",
    )
    document = forms.CharField(label="依据文件", max_length=200, help_text="调标文件名称、文号。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].error_messages["required"] = "请填写调标依据文件。"


class BackpayForm(forms.Form):
    unit = UnitChoiceField(label="补发单位", queryset=None, empty_label=None)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].error_messages["invalid_choice"] = "所选单位不在您的管辖范围内。"


class AwardChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = {row["award"].pk: row for row in rows}

    def label_from_instance(self, obj):
        row = self.rows.get(obj.pk, {})
        name = obj.entitlement.serving_member_name
        label = f"{obj.get_level_display()}（{obj.awarded_on:%Y-%m-%d}{'，' + name if name else ''}）"
        if row.get("paid"):
            return f"{label}：已于 {row['paid'].paid_on:%Y-%m-%d} 发放 {format_yuan(row['paid'].amount)}"
        if row.get("standard"):
            return f"{label}：按标准 {format_yuan(row['standard'].amount)}"
        return f"{label}：未找到适用标准"


class OneOffForm(forms.Form):
    kind = forms.ChoiceField(
        label="发放类别", choices=[("", "请选择"), *[(k, PaymentKind(k).label) for k in ONE_OFF_KINDS]]
    )
    award = AwardChoiceField(
        label="立功受奖记录",
        queryset=None,
        rows=[],
        required=False,
        empty_label="请选择",
        widget=forms.Select(attrs=AWARD_ONLY),
        help_text="金额按立功（受奖）日期时执行的立功奖励标准计发，每项立功只发一次。",
    )
    amount = _money_field("金额（元）", required=False, attrs=NOT_AWARD)
    purpose = forms.CharField(
        label="用途", max_length=200, required=False, help_text="如：2026年春节走访慰问。立功奖励可不填。"
    )
    reference = forms.CharField(
        label="关联事项",
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs=NOT_AWARD),
        help_text="如：2026春节慰问、民政救助〔2026〕3号。同一对象同一类别同一事项只发放一次。",
    )
    paid_on = _date_field("发放日期")
    method = forms.ChoiceField(label="发放方式", choices=[("", "请选择"), *PayMethod.choices])

    def __init__(self, *args, awards, rows, **kwargs):
        kwargs.setdefault("initial", {"paid_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        field = self.fields["award"]
        field.queryset = awards
        field.rows = {row["award"].pk: row for row in rows}
        field.error_messages["invalid_choice"] = "所选立功受奖记录不属于该对象。"
        self.fields["kind"].error_messages["required"] = "请选择发放类别。"
        self.fields["method"].error_messages["required"] = "请选择发放方式。"

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == PaymentKind.AWARD:
            if not cleaned.get("award") and "award" not in self.errors:
                self.add_error("award", "请选择要发放奖励的立功受奖记录。")
            cleaned["amount"] = None
            cleaned["reference"] = ""
        elif kind:
            cleaned["award"] = None
            if cleaned.get("amount") is None and "amount" not in self.errors:
                self.add_error("amount", "请填写金额。")
            if not cleaned.get("purpose"):
                self.add_error("purpose", "请填写用途。")
            if not cleaned.get("reference"):
                self.add_error("reference", "请填写关联事项，同一事项只发放一次。")
        return cleaned
