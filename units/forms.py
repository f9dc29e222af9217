from django import forms
from django.conf import settings

from shuangyong.lib.excel import check_workbook
from shuangyong.lib.uploads import format_size

from .constants import GroupRole, Role, UnitKind
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


# Leading groups

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class GroupForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100, initial="双拥工作领导小组")
    office_note = forms.CharField(
        label="办公室设置",
        max_length=200,
        required=False,
        help_text="如：领导小组下设办公室，办公室设在镇武装部，由武装部部长兼任办公室主任。",
    )


class GroupMemberForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    job_title = forms.CharField(label="职务", max_length=100, help_text="本人的行政职务，如：党委书记、镇长。")
    role = forms.ChoiceField(label="小组职务", choices=GroupRole.choices)
    start_on = forms.DateField(label="起始日期", widget=DATE_INPUT)
    end_on = forms.DateField(label="终止日期", widget=DATE_INPUT, required=False, help_text="仍在任的留空。")
    note = forms.CharField(label="备注", max_length=200, required=False)


class GroupMemberReplaceForm(forms.Form):
    end_on = forms.DateField(label="原成员终止日期", widget=DATE_INPUT, help_text="原成员在任的最后一天。")
    name = forms.CharField(label="接任人姓名", max_length=50, help_text="同一人改任其他小组职务时填本人姓名。")
    job_title = forms.CharField(label="接任人职务", max_length=100)
    role = forms.ChoiceField(label="小组职务", choices=GroupRole.choices)
    start_on = forms.DateField(
        label="接任日期", widget=DATE_INPUT, required=False, help_text="留空为终止日期的次日；也可填与终止日期同一天。"
    )


class GroupMemberEndForm(forms.Form):
    end_on = forms.DateField(label="终止日期", widget=DATE_INPUT, help_text="在任的最后一天。")


class RosterDateForm(forms.Form):
    on = forms.DateField(
        label="查询日期",
        required=False,
        widget=DATE_INPUT,
        error_messages={"invalid": "查询日期格式应为 YYYY-MM-DD，例如 2025-03-01；下面显示的是今天的名单。"},
    )


# 军民共建 pairings

OUT_OF_SCOPE = "所选单位不存在或不在您的管辖范围内。"
AGREEMENT_HELP = f"PDF 或 JPEG/PNG 图片，不超过 {format_size(settings.UPLOAD_MAX_BYTES)}。"
AGREEMENT_INPUT = forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"})


class PairingForm(forms.Form):
    civil_unit = forms.ModelChoiceField(label="地方单位", queryset=Unit.objects.none())
    military_unit = forms.ModelChoiceField(label="部队/共建力量", queryset=Unit.objects.none())
    signed_on = forms.DateField(label="结对日期", widget=DATE_INPUT)
    goals = forms.CharField(label="共建目标", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    agreement_file = forms.FileField(
        label="共建协议（可选）", required=False, help_text=AGREEMENT_HELP, widget=AGREEMENT_INPUT
    )

    def __init__(self, *args, civil_units, military_units, **kwargs):
        super().__init__(*args, **kwargs)
        # Only units in the user's scope are choices, so a tampered id is refused here.
        self.fields["civil_unit"].queryset = civil_units
        self.fields["military_unit"].queryset = military_units
        for name in ("civil_unit", "military_unit"):
            self.fields[name].error_messages["invalid_choice"] = OUT_OF_SCOPE


class PairingFilterForm(forms.Form):
    by = forms.ChoiceField(
        label="查看方式", required=False, choices=[("civil", "按地方单位"), ("military", "按部队/共建力量")]
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), ("active", "共建中"), ("ended", "已结束")]
    )
    q = forms.CharField(label="单位名称", required=False, max_length=50)


class AgreementForm(forms.Form):
    signed_on = forms.DateField(label="签订日期", widget=DATE_INPUT)
    file = forms.FileField(label="协议文件", help_text=AGREEMENT_HELP, widget=AGREEMENT_INPUT)
    note = forms.CharField(label="说明", required=False, max_length=200, help_text="如：2025 年续签")


class PairingEndForm(forms.Form):
    ended_on = forms.DateField(label="结束日期", widget=DATE_INPUT)
    end_reason = forms.CharField(label="结束原因", max_length=200)


class PairingGoalsForm(forms.Form):
    goals = forms.CharField(label="共建目标", required=False, widget=forms.Textarea(attrs={"rows": 6}))


# Import


class UnitImportForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件",
        help_text="请使用下载的导入模板，填好后上传 .xlsx 文件。",
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_workbook(upload)
        return upload
