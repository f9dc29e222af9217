from django import forms
from django.utils import timezone

from shuangyong.lib.forms import WorkbookUploadForm
from shuangyong.lib.money import MoneyFormField

from .constants import DeathCause, PayMethod, RecoveryStatus
from .forms import SMALL_SELECT, UnitChoiceField
from .recovery_services import MANUAL_SETTLE_METHODS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date_field(label, **kwargs):
    field = forms.DateField(label=label, widget=DATE_INPUT, **kwargs)
    field.error_messages["invalid"] = f"{label}格式不正确，请按 2026-03-10 填写。"
    field.error_messages["required"] = f"请填写{label}。"
    return field


class DeathSettleForm(forms.Form):
    paid_on = _date_field(
        "发放日期",
        help_text="结算即视为已向遗属发放：丧葬补助（抵扣多发部分后的余额）和一次性抚恤金按此日期和方式记入发放台账；"
        "多发部分未抵扣完的，另列追回。",
    )
    method = forms.ChoiceField(label="发放方式", choices=[("", "请选择"), *PayMethod.choices], required=False)

    def __init__(self, *args, ask_cause=False, needs_method=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("paid_on", timezone.localdate())
        if ask_cause:
            self.fields["death_cause"] = forms.ChoiceField(
                label="死亡原因",
                choices=[("", "请选择"), *DeathCause.choices],
                help_text="登记死亡时未填写死亡原因；残疾军人的丧葬补助取决于死亡原因，补录后不能修改。",
                error_messages={"required": "请选择死亡原因。"},
            )
            self.order_fields(["death_cause", "paid_on", "method"])
        if needs_method:
            self.fields["method"].required = True
            self.fields["method"].error_messages["required"] = "请选择发放方式。"
        else:
            self.fields["method"].widget = forms.HiddenInput()


class RecoverySettleForm(forms.Form):
    settle_method = forms.ChoiceField(
        label="追回方式",
        choices=[("", "请选择"), *[(m.value, m.label) for m in MANUAL_SETTLE_METHODS]],
        error_messages={"required": "请选择追回方式。"},
    )
    recovered = MoneyFormField(
        label="本次追回金额（元）",
        required=False,
        min_value=0,
        help_text="可分次追回，累计追回满应追回金额时自动结清；选择“经批准核销”时不填，未追回的余额全部核销。",
    )
    settled_on = _date_field("日期")
    note = forms.CharField(label="备注", max_length=300, required=False, help_text="核销须写明批准文件或理由。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recovered"].error_messages["min_value"] = "追回金额不能为负数。"
        self.initial.setdefault("settled_on", timezone.localdate())


class RecoveryFilterForm(forms.Form):
    township = UnitChoiceField(
        label="乡镇（街道）", queryset=None, required=False, empty_label="全部乡镇", widget=forms.Select(SMALL_SELECT)
    )
    status = forms.ChoiceField(
        label="状态",
        choices=[("", "全部状态"), *RecoveryStatus.choices],
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )

    def __init__(self, *args, townships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships
        self.fields["township"].error_messages["invalid_choice"] = "所选乡镇（街道）不存在或不在您的管辖范围内。"
        self.fields["status"].error_messages["invalid_choice"] = "请选择有效的状态。"

    def filters(self):
        if not self.is_bound or not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}


class DeathListForm(WorkbookUploadForm):
    file_help = "第 1 行为列名：姓名、身份证号、死亡日期（如殡葬、公安、卫健部门提供的名单）。"
