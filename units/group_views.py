"""双拥工作领导小组 pages: the roster on any date, its changes, and the notice PDF."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.pdf import pdf_response, render_pdf

from . import selectors, services
from .constants import GroupRole, Role
from .forms import GroupForm, GroupMemberEndForm, GroupMemberForm, GroupMemberReplaceForm, RosterDateForm
from .models import GroupMember, LeadingGroup, Unit
from .permissions import scope_q


def _group_editor_units(user):
    return Unit.objects.filter(scope_q(user, "path", roles=[Role.OFFICE, Role.LIAISON]))


def _editable_group(request, pk):
    return get_object_or_404(LeadingGroup.objects.editable_by(request.user).select_related("unit"), unit_id=pk)


def _editable_member(request, pk, member_pk):
    return get_object_or_404(
        GroupMember.objects.editable_by(request.user).select_related("group__unit"), pk=member_pk, group__unit_id=pk
    )


def _roster_date(request):
    """Return (form, day): the ?on date, or today when it is missing or bad."""
    form = RosterDateForm(request.GET or None)
    day = form.cleaned_data.get("on") if form.is_valid() else None
    return form, day or timezone.localdate()


@login_required
def group_detail(request, pk):
    unit = get_object_or_404(Unit.objects.visible_to(request.user), pk=pk)
    group = LeadingGroup.objects.visible_to(request.user).filter(unit=unit).first()
    date_form, day = _roster_date(request)
    context = {
        "unit": unit,
        "group": group,
        "date_form": date_form,
        "day": day,
        "today": timezone.localdate(),
        "can_edit": _group_editor_units(request.user).filter(pk=unit.pk).exists(),
    }
    if group:
        context["roster"] = selectors.group_roster(group=group, on=day)
        context["memberships"] = selectors.group_memberships(group=group)
        context["changes"] = selectors.group_change_log(group=group)
    return render(request, "units/group_detail.html", context)


@login_required
def group_create(request, pk):
    unit = get_object_or_404(_group_editor_units(request.user), pk=pk)
    if LeadingGroup.objects.filter(unit=unit).exists():
        return redirect("units:group", pk=unit.pk)
    form = GroupForm(request.POST or None)
    if form.is_valid():
        try:
            services.group_create(unit=unit, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已建立领导小组，请添加成员。")
            return redirect("units:group", pk=unit.pk)
    return render(request, "units/group_form.html", {"form": form, "unit": unit, "title": "建立双拥工作领导小组"})


@login_required
def group_edit(request, pk):
    group = _editable_group(request, pk)
    form = GroupForm(request.POST or None, initial={"name": group.name, "office_note": group.office_note})
    if form.is_valid():
        try:
            services.group_update(group=group, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已保存。")
            return redirect(group)
    return render(
        request, "units/group_form.html", {"form": form, "unit": group.unit, "group": group, "title": "修改领导小组"}
    )


@login_required
def group_member_add(request, pk):
    group = _editable_group(request, pk)
    form = GroupMemberForm(request.POST or None, initial={"role": GroupRole.MEMBER, "start_on": timezone.localdate()})
    if form.is_valid():
        try:
            member = services.group_member_add(group=group, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已添加{member.get_role_display()}：{member.name}。")
            return redirect(group)
    return render(
        request, "units/group_member_form.html", {"form": form, "unit": group.unit, "group": group, "title": "添加成员"}
    )


@login_required
def group_member_adjust(request, pk, member_pk):
    member = _editable_member(request, pk, member_pk)
    group = member.group
    if member.end_on is not None:
        messages.error(request, f"{member.name}的任职已于 {member.end_on:%Y-%m-%d} 终止，不能再调整。")
        return redirect(group)
    initial = {"role": member.role, "end_on": timezone.localdate() - datetime.timedelta(days=1)}
    form = GroupMemberReplaceForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            successor = services.group_member_replace(member=member, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"已调整：{member.name}任职至 {form.cleaned_data['end_on']:%Y-%m-%d}，"
                f"{successor.name}自 {successor.start_on:%Y-%m-%d} 起任{successor.get_role_display()}。",
            )
            return redirect(group)
    return render(
        request,
        "units/group_member_adjust.html",
        {"form": form, "unit": group.unit, "group": group, "member": member},
    )


@login_required
def group_member_end(request, pk, member_pk):
    member = _editable_member(request, pk, member_pk)
    group = member.group
    form = GroupMemberEndForm(request.POST or None, initial={"end_on": timezone.localdate()})
    if form.is_valid():
        try:
            services.group_member_end(member=member, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已终止{member.name}的任职（至 {form.cleaned_data['end_on']:%Y-%m-%d}）。")
            return redirect(group)
    return render(
        request, "units/group_member_end.html", {"form": form, "unit": group.unit, "group": group, "member": member}
    )


def _office_line(note):
    note = note.strip().rstrip("。")
    if not note:
        return ""
    return f"{note}。" if note.startswith("领导小组") else f"领导小组下设办公室，{note}。"


@login_required
def group_pdf(request, pk):
    unit = get_object_or_404(Unit.objects.visible_to(request.user), pk=pk)
    group = get_object_or_404(LeadingGroup.objects.visible_to(request.user), unit=unit)
    date_form, day = _roster_date(request)
    if date_form.errors:
        messages.error(request, date_form.errors["on"][0])
        return redirect(group)
    context = {
        "unit": unit,
        "group": group,
        "day": day,
        "sections": selectors.group_roster_by_role(group=group, on=day),
        "office_line": _office_line(group.office_note),
    }
    pdf = render_pdf("units/group_notice_pdf.html", context)
    return pdf_response(pdf, f"{unit.name}{group.name}成员名单（{day:%Y-%m-%d}）.pdf")
