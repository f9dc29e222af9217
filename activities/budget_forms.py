from django import forms
from django.utils import timezone

from shuangyong.lib.money import MoneyFormField
from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import scope_q

from .budget_services import budget_years
from .constants import BudgetSource

SMALL_SELECT = {"class": "form-select form-select-sm w-auto"}
BUDGET_KINDS = [UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP]
TOP_KINDS = [UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY]
# More units than this make a select unusable: the page then offers the counties and above.
UNIT_SELECT_LIMIT = 150
READERS = [Role.OFFICE, Role.LEADER]


def budget_units(user, roles=READERS):
    """The units whose 双拥经费 a user reads (office and leaders) or records (office): regions down to townships."""
    units = Unit.objects.filter(scope_q(user, "path", roles=roles), kind__in=BUDGET_KINDS).order_by("path")
    if units.count() > UNIT_SELECT_LIMIT:
        units = units.filter(kind__in=TOP_KINDS)
    return units


def year_choices(today):
    first, last = budget_years(today)
    return [(year, f"{year}年") for year in range(last, first - 1, -1)]


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.kind in TOP_KINDS or not obj.parent_id else f"{obj.parent.name}{obj.name}"


class ScopeForm(forms.Form):
    """The ?year=&unit= of the 双拥经费 page and the dashboard."""

    year = forms.TypedChoiceField(label="年度", coerce=int, required=False, widget=forms.Select(SMALL_SELECT))
    unit = UnitChoiceField(label="单位", queryset=Unit.objects.none(), required=False, empty_label=None)

    def __init__(self, *args, units, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices(today)
        self.fields["year"].error_messages["invalid_choice"] = "请选择列出的年度。"
        self.fields["unit"].queryset = units.select_related("parent")
        self.fields["unit"].widget.attrs.update(SMALL_SELECT)
        self.fields["unit"].error_messages["invalid_choice"] = "所选单位不存在或不在您的管辖范围内。"

    def scope(self, *, default_unit, default_year):
        """Return (unit, year): the valid choices, the defaults for what is missing or wrong."""
        if not self.is_bound:
            return default_unit, default_year
        self.is_valid()
        return self.cleaned_data.get("unit") or default_unit, self.cleaned_data.get("year") or default_year


class BudgetLineForm(forms.Form):
    unit = UnitChoiceField(label="单位", queryset=Unit.objects.none(), empty_label=None)
    year = forms.TypedChoiceField(label="年度", coerce=int)
    source = forms.ChoiceField(label="经费来源", choices=BudgetSource.choices)
    amount = MoneyFormField(
        label="金额（元）", widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"})
    )
    note = forms.CharField(label="说明", max_length=200, required=False, help_text="如：文件号、用途。")

    def __init__(self, *args, user, line=None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = today or timezone.localdate()
        units = budget_units(user, roles=[Role.OFFICE])
        if line is not None:
            units = units | Unit.objects.filter(pk=line.unit_id)
        self.fields["unit"].queryset = units.select_related("parent")
        self.fields["unit"].error_messages["invalid_choice"] = "所选单位不存在或不在您的管辖范围内。"
        years = year_choices(today)
        if line is not None and line.year not in dict(years):
            years.append((line.year, f"{line.year}年"))
        self.fields["year"].choices = years
        self.fields["year"].error_messages["invalid_choice"] = "请选择列出的年度。"
        self.fields["source"].error_messages["invalid_choice"] = "请选择列出的经费来源。"
        self.fields["amount"].error_messages["required"] = "请填写金额。"
