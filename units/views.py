from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from activities import selectors as activity_selectors
from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import whole_number
from shuangyong.lib.pagination import paginate

from . import selectors, services
from .forms import UnitForm, UnitSearchForm
from .models import Unit
from .permissions import in_scope


@login_required
def unit_list(request):
    search = UnitSearchForm(request.GET or None)
    filters = search.cleaned_data if search.is_valid() else {}
    units = selectors.unit_list(
        user=request.user,
        query=filters.get("q", ""),
        kind=filters.get("kind", ""),
        include_inactive=filters.get("inactive", False),
    )
    page = paginate(request, units)
    can_edit = Unit.objects.editable_by(request.user).exists()
    return render(request, "units/unit_list.html", {"page": page, "search": search, "can_edit": can_edit})


@login_required
def unit_detail(request, pk):
    unit = get_object_or_404(Unit.objects.visible_to(request.user).select_related("parent"), pk=pk)
    group = selectors.unit_group(unit=unit)
    return render(
        request,
        "units/unit_detail.html",
        {
            "unit": unit,
            "ancestors": [a for a in unit.ancestors() if in_scope(request.user, a)],
            "children": selectors.unit_children(unit=unit, user=request.user),
            "group": group,
            "roster": selectors.group_roster(group=group, on=timezone.localdate()) if group else [],
            "pairings": selectors.unit_pairings(unit=unit, user=request.user),
            "liaisons": selectors.unit_liaisons(unit=unit),
            "can_edit": Unit.objects.editable_by(request.user).filter(pk=unit.pk).exists(),
            "unit_activities": activity_selectors.unit_activities(user=request.user, unit=unit),
        },
    )


@login_required
def unit_create(request):
    if not Unit.objects.editable_by(request.user).exists():
        return render(request, "403.html", status=403)
    initial = {}
    parent_id = whole_number(request.GET.get("parent"))
    if parent_id is not None:
        initial["parent"] = Unit.objects.editable_by(request.user).filter(pk=parent_id).first()
    form = UnitForm(request.POST or None, user=request.user, initial=initial)
    if form.is_valid():
        try:
            unit = services.unit_create(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已添加单位“{unit.name}”。")
            return redirect(unit)
    return render(request, "units/unit_form.html", {"form": form, "title": "添加单位"})


@login_required
def unit_edit(request, pk):
    unit = get_object_or_404(Unit.objects.editable_by(request.user), pk=pk)
    initial = {"name": unit.name, "kind": unit.kind, "parent": unit.parent, "region_code": unit.region_code}
    form = UnitForm(request.POST or None, user=request.user, initial=initial)
    if form.is_valid():
        parent = form.cleaned_data["parent"]
        if parent is None and unit.parent is not None:
            form.add_error("parent", "请选择上级单位。")
        else:
            try:
                services.unit_update(unit=unit, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "已保存。")
                return redirect(unit)
    return render(request, "units/unit_form.html", {"form": form, "title": f"修改单位：{unit.name}", "unit": unit})


@login_required
@require_POST
def unit_toggle_active(request, pk):
    unit = get_object_or_404(Unit.objects.editable_by(request.user), pk=pk)
    try:
        if unit.is_active:
            services.unit_deactivate(unit=unit)
            messages.success(request, f"已停用“{unit.name}”。")
        else:
            services.unit_activate(unit=unit)
            messages.success(request, f"已启用“{unit.name}”。")
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect(unit)
