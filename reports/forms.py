from django import forms
from django.conf import settings

from shuangyong.lib.uploads import format_size

from .constants import QUARTERS, ReportStatus
from .figures import Period
from .selectors import ended_quarters

CREATE_QUARTERS = 8
ATTACHMENT_ACCEPT = "application/pdf,image/jpeg,image/png"


def _quarter_value(year, quarter):
    return f"{year}-{quarter}"


class ReportCreateForm(forms.Form):
    """Which unit and which ended quarter to draft a report for."""

    unit = forms.ModelChoiceField(label="报告单位", queryset=None, empty_label=None)
    period = forms.ChoiceField(label="季度")

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].error_messages["invalid_choice"] = "所选单位不存在或不在您的管辖范围内。"
        self.fields["unit"].error_messages["required"] = "请选择报告单位。"
        self.fields["period"].choices = [
            (_quarter_value(y, q), Period.quarter(y, q).label) for y, q in ended_quarters(count=CREATE_QUARTERS)
        ]
        self.fields["period"].error_messages["invalid_choice"] = "只能为已经结束的季度起草报告，请从列表中选择。"
        self.fields["period"].error_messages["required"] = "请选择季度。"
        self.fields["period"].help_text = "季度结束后才能起草报告；已有的报告会直接打开，不会重复创建。"

    def clean(self):
        data = super().clean()
        if data.get("period"):
            year, quarter = data["period"].split("-")
            data["year"], data["quarter"] = int(year), int(quarter)
        return data


class ReportTextForm(forms.Form):
    work_text = forms.CharField(
        label="工作开展情况",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="起草时已按本季度登记的活动生成草稿，请核对、补充后报送。",
    )
    problems_text = forms.CharField(label="存在的问题", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    plan_text = forms.CharField(label="下季度工作计划", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    # The version of the report the user loaded: a save by someone else since refuses this one.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _review_comment(label, *, rows, help_text, required):
    """A review step's comment: required, up to 2000 characters."""
    return forms.CharField(
        label=label,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
        error_messages={"required": required},
    )


class ReturnForm(forms.Form):
    comment = _review_comment(
        "退回意见",
        rows=4,
        help_text="说明需要修改或补充的内容，联络员修改后重新报送。",
        required="请填写退回意见，说明需要修改或补充的内容。",
    )


class ReopenForm(forms.Form):
    reason = _review_comment(
        "重新打开的原因",
        rows=3,
        help_text="报告将退回单位修改，修改后重新报送审核。",
        required="请填写重新打开的原因。",
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="附件",
        widget=forms.ClearableFileInput(attrs={"accept": ATTACHMENT_ACCEPT}),
        error_messages={"required": "请选择要上传的文件。", "empty": "文件是空文件。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"PDF 或图片（JPEG/PNG），不超过 {format_size(settings.UPLOAD_MAX_BYTES)}。"


class ReportFilterForm(forms.Form):
    """The office's filters over the reports in its jurisdiction; a bad value is ignored, never an error page."""

    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    quarter = forms.TypedChoiceField(
        label="季度", required=False, coerce=int, empty_value=None, choices=[("", "全部季度"), *QUARTERS]
    )
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *ReportStatus.choices])
    unit = forms.ModelChoiceField(label="单位", required=False, queryset=None, empty_label="全部单位")

    def __init__(self, *args, years, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "全部年度"), *[(y, f"{y}年") for y in years]]
        self.fields["unit"].queryset = units

    def filters(self):
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}
