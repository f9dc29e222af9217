from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from activities import selectors as activity_selectors
from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import whole_number
from shuangyong.lib.pagination import paginate
from shuangyong.lib.uploads import private_file_response

from . import selectors, services
from .forms import AgreementForm, PairingEndForm, PairingFilterForm, PairingForm, PairingGoalsForm
from .models import Agreement, Pairing
from .permissions import in_scope


def _posted(request):
    """Return (data, files) for a form: bound on POST even when only a file was sent."""
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


@login_required
@require_safe
def pairing_list(request):
    search = PairingFilterForm(request.GET or None)
    filters = search.cleaned_data if search.is_valid() else {}
    by = filters.get("by") or "civil"
    pairings = selectors.pairing_list(
        user=request.user, by=by, status=filters.get("status", ""), query=filters.get("q", "")
    )
    return render(
        request,
        "units/pairing_list.html",
        {
            "page": paginate(request, pairings),
            "search": search,
            "by": by,
            "status": filters.get("status", ""),
            "can_create": selectors.pairing_civil_choices(user=request.user).exists(),
        },
    )


@login_required
def pairing_create(request):
    civil_units = selectors.pairing_civil_choices(user=request.user)
    if not civil_units.exists():
        raise Http404
    initial = {"signed_on": timezone.localdate()}
    for side in ("civil", "military"):
        value = whole_number(request.GET.get(side))
        if value is not None:
            initial[f"{side}_unit"] = value
    data, files = _posted(request)
    form = PairingForm(
        data,
        files,
        initial=initial,
        civil_units=civil_units,
        military_units=selectors.pairing_military_choices(user=request.user),
    )
    if form.is_valid():
        try:
            pairing = services.pairing_create(**form.cleaned_data, uploaded_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已建立共建对子“{pairing}”。")
            return redirect(pairing)
    return render(request, "units/pairing_form.html", {"form": form, "title": "新建共建对子", "multipart": True})


@login_required
@require_safe
def pairing_detail(request, pk):
    pairing = get_object_or_404(
        Pairing.objects.visible_to(request.user).select_related("civil_unit", "military_unit"), pk=pk
    )
    return render(
        request,
        "units/pairing_detail.html",
        {
            "pairing": pairing,
            "agreements": selectors.pairing_agreements(pairing=pairing),
            "can_edit": Pairing.objects.editable_by(request.user).filter(pk=pairing.pk).exists(),
            "civil_visible": in_scope(request.user, pairing.civil_unit),
            "military_visible": in_scope(request.user, pairing.military_unit),
            "unit_activities": activity_selectors.pairing_activities(user=request.user, pairing=pairing),
        },
    )


def _editable_pairing(request, pk):
    return get_object_or_404(
        Pairing.objects.editable_by(request.user).select_related("civil_unit", "military_unit"), pk=pk
    )


@login_required
def pairing_agreement_add(request, pk):
    pairing = _editable_pairing(request, pk)
    data, files = _posted(request)
    form = AgreementForm(data, files, initial={"signed_on": timezone.localdate()})
    if form.is_valid():
        try:
            agreement = services.agreement_add(pairing=pairing, uploaded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已上传协议“{agreement.original_name}”，原有协议仍保留。")
            return redirect(pairing)
    return render(
        request,
        "units/pairing_form.html",
        {"form": form, "pairing": pairing, "title": f"上传共建协议：{pairing}", "multipart": True},
    )


@login_required
def pairing_end(request, pk):
    pairing = _editable_pairing(request, pk)
    if pairing.ended_on:
        messages.info(request, f"该共建对子已于 {pairing.ended_on:%Y-%m-%d} 结束。")
        return redirect(pairing)
    data, _ = _posted(request)
    form = PairingEndForm(data, initial={"ended_on": timezone.localdate()})
    if form.is_valid():
        try:
            services.pairing_end(
                pairing=pairing, ended_on=form.cleaned_data["ended_on"], reason=form.cleaned_data["end_reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已结束该共建对子，协议文件仍保留备查。")
            return redirect(pairing)
    return render(
        request,
        "units/pairing_form.html",
        {"form": form, "pairing": pairing, "title": f"结束共建：{pairing}", "confirm": "确定结束该共建对子？"},
    )


@login_required
def pairing_edit(request, pk):
    pairing = _editable_pairing(request, pk)
    data, _ = _posted(request)
    form = PairingGoalsForm(data, initial={"goals": pairing.goals})
    if form.is_valid():
        try:
            services.pairing_update(pairing=pairing, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已保存共建目标。")
            return redirect(pairing)
    return render(
        request, "units/pairing_form.html", {"form": form, "pairing": pairing, "title": f"修改共建目标：{pairing}"}
    )


@login_required
@require_safe
def agreement_file(request, pk):
    """Send an agreement file to someone who may see its pairing; files never have a public URL."""
    agreement = get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)
    return private_file_response(
        agreement.file.name,
        filename=agreement.original_name,
        content_type=agreement.content_type,
        storage=agreement.file.storage,
    )
