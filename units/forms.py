from django import forms

from .constants import Role, UnitKind
from .models import Unit


class UnitForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    kind = forms.ChoiceField(label="类别", choices=UnitKind.choices)
    parent = forms.ModelChoiceField(label="上级单位", queryset=Unit.objects.none(), required=False)
    region_code = forms.CharField(
        label="区划代码",
        max_length=12,
        required=False,
        help_text="省市县填 6 位 GB/T 2260 代码，乡镇街道和村社区填 12 位统计用区划代码；其他单位留空。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only units the user may edit can become a parent, so a tampered id is refused here.
        self.fields["parent"].queryset = Unit.objects.editable_by(user).filter(is_active=True)
        self.fields["parent"].error_messages["invalid_choice"] = "所选上级单位不存在或不在您的管辖范围内。"

    def clean_region_code(self):
        return self.cleaned_data["region_code"].strip()


class UnitSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=50)
    kind = forms.ChoiceField(
        label="类别",
        choices=[("", "全部类别"), *UnitKind.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm", "aria-label": "类别"}),
    )
    inactive = forms.BooleanField(label="含已停用", required=False)


class AccountForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=30, help_text="登录用，3–30 位英文字母、数字或 . _ -。")
    full_name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="电话", max_length=30, required=False)
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.none())
    role = forms.ChoiceField(
        label="角色",
        choices=Role.choices,
        initial=Role.LIAISON,
        help_text="双拥办工作人员账号只能建在您本人所在的双拥办。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only units the user may edit are offered, so a tampered id is refused here.
        self.fields["unit"].queryset = Unit.objects.editable_by(user).filter(is_active=True)
        self.fields["unit"].error_messages["invalid_choice"] = "所选单位不存在或不在您的管辖范围内。"


class AccountSearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=50)
