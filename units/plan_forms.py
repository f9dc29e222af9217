from django import forms
from django.core.exceptions import ValidationError

from activities.constants import metric_choices
from shuangyong.lib.forms import add_service_errors

from .plan_services import plan_years

# Blank target rows offered below the existing ones.
EXTRA_TARGET_ROWS = 4
MAX_TARGET_ROWS = 40


class PlanForm(forms.Form):
    text = forms.CharField(
        label="计划内容",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="指导思想、工作目标、主要措施等，可直接粘贴年度双拥工作计划全文。",
    )


class PlanYearForm(forms.Form):
    """The ?year= of the plans overview: one of the years a plan may exist for."""

    year = forms.TypedChoiceField(label="年度", coerce=int, required=False)

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        first, last = plan_years(today)
        self.fields["year"].choices = [(year, f"{year}年") for year in range(last, first - 1, -1)]
        self.fields["year"].error_messages["invalid_choice"] = f"请选择 {first}—{last} 年之间的年度。"
        self.fields["year"].widget.attrs.update({"class": "form-select form-select-sm", "data-autosubmit": ""})


class TargetForm(forms.Form):
    metric = forms.ChoiceField(label="指标", required=False, widget=forms.Select(attrs={"class": "form-select"}))
    # The service judges the number (and names the row), so the field accepts any integer.
    target = forms.IntegerField(
        label="目标数",
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control", "min": 1, "inputmode": "numeric"}),
        error_messages={"invalid": "目标数应为整数。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [("", "——请选择——"), *metric_choices()]
        self.fields["metric"].error_messages["invalid_choice"] = "所选指标不存在，请从列表中选择。"


TargetFormSet = forms.formset_factory(
    TargetForm, extra=EXTRA_TARGET_ROWS, max_num=MAX_TARGET_ROWS, validate_max=True, absolute_max=MAX_TARGET_ROWS
)


def target_rows(formset):
    """The targets as the service takes them: one dict per row, blank rows included (so row numbers match)."""
    return [
        {"metric": form.cleaned_data.get("metric", ""), "target": form.cleaned_data.get("target")}
        for form in formset.forms
    ]


def show_plan_errors(form, formset, error):
    """Show the service's errors: row problems above the targets table, the rest on the plan form."""
    messages = getattr(error, "message_dict", {})
    formset.row_errors = messages.get("targets", [])
    rest = {key: value for key, value in messages.items() if key != "targets"}
    if rest or not messages:
        add_service_errors(form, ValidationError(rest) if rest else error)
