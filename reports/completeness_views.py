"""The office's completeness dashboard, the quarter's workbook, and the reporting settings (list and deadlines)."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from shuangyong.lib.excel import workbook_response
from shuangyong.lib.forms import add_service_errors
from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import is_office, memberships, roles_of

from . import completeness as selectors
from . import settings_services
from .completeness import unit_order
from .constants import QUARTERS
from .exporters import quarter_workbook
from .models import ReportingUnit
from .settings_services import date_text

READERS = [Role.OFFICE, Role.LEADER]
SMALL_SELECT = {"class": "form-select form-select-sm w-auto"}
SMALL_DATE_INPUT = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d")
# The quarters offered go back this many years before the first unit was put on the list (or today).
YEARS_BACK = 1
# Kinds whose units are ticked by default when the office puts units on the list.
DEFAULT_KINDS = [UnitKind.TOWNSHIP, UnitKind.DEPARTMENT]


def _readers_only(user):
    if not roles_of(user) & set(READERS):
        raise Http404


def _offices_only(user):
    if not is_office(user):
        raise Http404


class QuarterForm(forms.Form):
    """The ?year=&quarter= of the dashboard and the workbook: a quarter that has ended."""

    year = forms.TypedChoiceField(label="年度", coerce=int, required=False, widget=forms.Select(SMALL_SELECT))
    quarter = forms.TypedChoiceField(
        label="季度", coerce=int, required=False, choices=QUARTERS, widget=forms.Select(SMALL_SELECT)
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.latest = selectors.latest_ended_quarter(today)
        first = ReportingUnit.objects.order_by("start_on").values_list("start_on", flat=True).first()
        first_year = min(first.year if first else self.latest[0], self.latest[0]) - YEARS_BACK
        self.fields["year"].choices = [(year, f"{year}年") for year in range(self.latest[0], first_year - 1, -1)]
        self.fields["year"].error_messages["invalid_choice"] = "请选择列出的年度。"
        self.fields["quarter"].error_messages["invalid_choice"] = "请选择第一至第四季度。"
        self.initial = {"year": self.latest[0], "quarter": self.latest[1], **self.initial}

    def clean(self):
        data = super().clean()
        year, quarter = data.get("year"), data.get("quarter")
        if year and quarter and (year, quarter) > self.latest:
            raise ValidationError(f"{selectors.quarter_period(year, quarter).label}尚未结束，还没有需要报送的报告。")
        return data

    def quarter_chosen(self):
        """Return (year, quarter): the valid choice, else the latest quarter that has ended."""
        if self.is_bound and self.is_valid() and self.cleaned_data.get("year") and self.cleaned_data.get("quarter"):
            return self.cleaned_data["year"], self.cleaned_data["quarter"]
        return self.latest


def _quarter(request, today):
    form = QuarterForm(request.GET or None, today=today)
    year, quarter = form.quarter_chosen()
    if form.is_bound and not form.is_valid():
        form.data = form.data.copy()
        form.data["year"], form.data["quarter"] = str(year), str(quarter)
    return form, year, quarter


@login_required
@require_safe
def completeness(request):
    _readers_only(request.user)
    today = timezone.localdate()
    form, year, quarter = _quarter(request, today)
    data = selectors.completeness(user=request.user, year=year, quarter=quarter, today=today, roles=READERS)
    return render(
        request,
        "reports/completeness.html",
        {
            "form": form,
            "data": data,
            "totals": data["totals"],
            "today": today,
            "is_office": is_office(request.user),
            "default_due": selectors.default_due_date(year, quarter),
        },
    )


@login_required
@require_safe
def quarter_export(request):
    _readers_only(request.user)
    today = timezone.localdate()
    _, year, quarter = _quarter(request, today)
    data = selectors.completeness(user=request.user, year=year, quarter=quarter, today=today, roles=READERS)
    return workbook_response(quarter_workbook(data), f"{data['period'].label}双拥工作报告.xlsx")


# Settings


def office_units(user):
    """The units the user is office staff of (their reporting settings apply below them), highest first."""
    paths = [path for path, role, _ in memberships(user) if role == Role.OFFICE]
    return Unit.objects.filter(path__in=paths).order_by("depth", "path")


def _chosen_unit(request, units):
    raw = request.POST.get("unit") or request.GET.get("unit")
    if raw:
        try:
            return units.get(pk=int(raw))
        except (ValueError, Unit.DoesNotExist):
            raise Http404 from None
    return units.first()


class UnitCheckboxes(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        if obj.kind == UnitKind.TOWNSHIP or obj.parent is None or obj.parent.kind != UnitKind.TOWNSHIP:
            return obj.name
        return f"{obj.parent.name}{obj.name}"


class AddUnitsForm(forms.Form):
    units = UnitCheckboxes(
        label="单位",
        queryset=Unit.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
    )
    start_on = forms.DateField(
        label="起始日期",
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm w-auto"}, format="%Y-%m-%d"
        ),
        help_text="该日期所在季度起须报送。",
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = candidates
        self.fields["units"].error_messages["invalid_choice"] = "所选单位不在可列入名单的单位中。"
        self.fields["start_on"].error_messages.update({"required": "请填写起始日期。", "invalid": "请填写有效日期。"})

    def groups(self):
        """The checkboxes grouped by unit kind, in the kinds' order."""
        by_kind = {kind: (label, []) for kind, label in UnitKind.choices}
        kinds = dict(self.fields["units"].queryset.values_list("pk", "kind"))
        for checkbox in self["units"]:
            by_kind[kinds[checkbox.data["value"].value]][1].append(checkbox)
        return [(kind, label, boxes) for kind, (label, boxes) in by_kind.items() if boxes]


class EndForm(forms.Form):
    end_on = forms.DateField(label="报送至", widget=SMALL_DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["end_on"].error_messages.update({"required": "请填写停止报送日期。", "invalid": "请填写有效日期。"})


class DeadlineForm(forms.Form):
    year = forms.IntegerField(min_value=settings_services.FIRST_YEAR, max_value=2100)
    quarter = forms.TypedChoiceField(coerce=int, choices=QUARTERS)
    due_on = forms.DateField(label="报送截止日期", required=False, widget=SMALL_DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_on"].error_messages["invalid"] = "请填写有效日期。"
        self.fields["year"].error_messages.update({"invalid": "年度无效。", "required": "缺少年度。"})
        self.fields["quarter"].error_messages.update({"invalid_choice": "季度无效。", "required": "缺少季度。"})


def _quarter_start(today):
    return datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def _deadline_rows(unit, today):
    """The quarters of last year and this year: the default due date, the one that applies, who set it."""
    rows = []
    for year in range(today.year - 1, today.year + 1):
        for quarter in range(1, 5):
            deadlines = selectors.deadlines_of(year, quarter)
            applies = selectors.deadline_for(unit, year, quarter, deadlines)
            period = selectors.quarter_period(year, quarter)
            default = selectors.default_due_date(year, quarter)
            rows.append(
                {
                    "year": year,
                    "quarter": quarter,
                    "label": period.label,
                    "end": period.end,
                    "default": default,
                    "due_on": applies.due_on if applies else default,
                    "set_here": applies is not None and applies.unit_id == unit.pk,
                    "set_above": applies if applies is not None and applies.unit_id != unit.pk else None,
                    "ended": period.end < today,
                }
            )
    return rows


def _settings_page(request, unit, *, add_form=None, status=200):
    today = timezone.localdate()
    candidates = settings_services.reporting_candidates(user=request.user).filter(path__startswith=unit.path)
    duties = ReportingUnit.objects.editable_by(request.user).filter(unit__path__startswith=unit.path)
    open_duties = sorted(
        duties.filter(end_on__isnull=True).select_related("unit", "unit__parent"),
        key=lambda duty: unit_order(duty.unit),
    )
    free = candidates.exclude(pk__in=[duty.unit_id for duty in open_duties])
    if add_form is None:
        initial = {"units": list(free.filter(kind__in=DEFAULT_KINDS)), "start_on": _quarter_start(today)}
        add_form = AddUnitsForm(candidates=free, initial=initial)
    return render(
        request,
        "reports/settings.html",
        {
            "unit": unit,
            "units": office_units(request.user),
            "open_duties": open_duties,
            "ended_duties": duties.filter(end_on__isnull=False)
            .select_related("unit", "unit__parent")
            .order_by("-end_on", "unit__path"),
            "add_form": add_form,
            "end_form": EndForm(),
            "deadline_rows": _deadline_rows(unit, today),
            "today": today,
        },
        status=status,
    )


@login_required
@require_safe
def reporting_settings(request):
    _offices_only(request.user)
    unit = _chosen_unit(request, office_units(request.user))
    return _settings_page(request, unit)


def _settings_url(unit):
    return f"{reverse('reports:settings')}?unit={unit.pk}"


@login_required
@require_POST
def reporting_unit_set(request):
    """Put the ticked units on the list (action=add) or end one unit's duty (action=end, duty=pk)."""
    _offices_only(request.user)
    unit = _chosen_unit(request, office_units(request.user))
    if request.POST.get("action") == "end":
        return _end_duty(request, unit)
    candidates = settings_services.reporting_candidates(user=request.user).filter(path__startswith=unit.path)
    form = AddUnitsForm(request.POST, candidates=candidates)
    if form.is_valid():
        try:
            added = settings_services.reporting_unit_add(
                units=list(form.cleaned_data["units"]), start_on=form.cleaned_data["start_on"], set_by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已将 {len(added)} 个单位列入报送名单。")
            return redirect(_settings_url(unit))
    return _settings_page(request, unit, add_form=form)


def _end_duty(request, unit):
    try:
        pk = int(request.POST.get("duty", ""))
    except ValueError:
        raise Http404 from None
    duty = get_object_or_404(
        ReportingUnit.objects.editable_by(request.user).select_related("unit"),
        pk=pk,
        unit__path__startswith=unit.path,
    )
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            settings_services.reporting_unit_end(duty=duty, end_on=form.cleaned_data["end_on"], ended_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            until = date_text(form.cleaned_data["end_on"])
            messages.success(request, f"“{duty.unit.name}”报送至{until}，此后的季度不再要求报送。")
            return redirect(_settings_url(unit))
    messages.error(request, f"未能停止“{duty.unit.name}”的报送：{'；'.join(_form_messages(form))}")
    return redirect(_settings_url(unit))


def _form_messages(form):
    return [message for errors in form.errors.values() for message in errors]


@login_required
@require_POST
def deadline_set(request):
    """Set a quarter's due date for the units below the office's unit, or (clear=1) go back to the default."""
    _offices_only(request.user)
    unit = _chosen_unit(request, office_units(request.user))
    form = DeadlineForm(request.POST)
    if form.is_valid():
        year, quarter = form.cleaned_data["year"], form.cleaned_data["quarter"]
        due_on = None if request.POST.get("clear") else form.cleaned_data["due_on"]
        label = selectors.quarter_period(year, quarter).label
        if due_on is None and not request.POST.get("clear"):
            form.add_error("due_on", "请填写报送截止日期。")
        else:
            try:
                settings_services.deadline_set(
                    unit=unit, year=year, quarter=quarter, due_on=due_on, set_by=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                due = selectors.due_date(unit, year, quarter)
                note = "已恢复默认" if due_on is None else "已设定"
                messages.success(request, f"{label}报告截止日期{note}：{date_text(due)}。")
                return redirect(_settings_url(unit))
    messages.error(request, f"未能设定截止日期：{'；'.join(_form_messages(form))}")
    return redirect(_settings_url(unit))
