from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import client_ip
from shuangyong.lib.pagination import paginate

from . import selectors, services
from .constants import AuditAction
from .forms import AccountForm, AccountSearchForm
from .models import UserProfile
from .permissions import is_office
from .services import audit_log


def _managed_account(request, pk):
    return get_object_or_404(selectors.account_queryset(user=request.user).select_related("profile"), pk=pk)


def _require_office(request):
    if not is_office(request.user):
        raise Http404


@login_required
def profile(request):
    memberships = request.user.memberships.select_related("unit")
    return render(request, "accounts/profile.html", {"memberships": memberships})


@sensitive_post_parameters()
@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if form.is_valid():
        user = form.save()
        UserProfile.objects.update_or_create(user=user, defaults={"must_change_password": False})
        # Keeps this session; every other session of the user fails the new password hash and ends.
        update_session_auth_hash(request, user)
        audit_log(action=AuditAction.PASSWORD_CHANGED, actor=user, target=user, ip_address=client_ip(request))
        messages.success(request, "密码已修改。")
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
def account_list(request):
    _require_office(request)
    search = AccountSearchForm(request.GET or None)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    page = paginate(request, selectors.account_list(user=request.user, query=query))
    return render(request, "accounts/account_list.html", {"page": page, "search": search})


@login_required
def account_detail(request, pk):
    account = _managed_account(request, pk)
    return render(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "memberships": account.memberships.select_related("unit").order_by("unit__path"),
            "events": selectors.account_events(account=account),
            "is_self": account.pk == request.user.pk,
            "can_reveal": account.has_perm("beneficiaries.reveal_personal_data"),
        },
    )


@never_cache
@login_required
def account_create(request):
    _require_office(request)
    form = AccountForm(request.POST or None, user=request.user)
    if form.is_valid():
        try:
            account, password = services.account_create(
                actor=request.user, ip_address=client_ip(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # The password is rendered into this one response only: never stored, logged or put in a message.
            return render(request, "accounts/account_password.html", {"account": account, "password": password})
    return render(request, "accounts/account_form.html", {"form": form})


@never_cache
@login_required
@require_POST
def account_reset_password(request, pk):
    account = _managed_account(request, pk)
    try:
        password = services.account_reset_password(actor=request.user, user=account, ip_address=client_ip(request))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/account_password.html", {"account": account, "password": password, "reset": True})


@login_required
@require_POST
def account_toggle_active(request, pk):
    account = _managed_account(request, pk)
    try:
        services.account_set_active(
            actor=request.user, user=account, active=not account.is_active, ip_address=client_ip(request)
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        name = getattr(getattr(account, "profile", None), "full_name", "") or account.get_username()
        if account.is_active:
            messages.success(request, f"已启用“{name}”的账号。")
        else:
            messages.success(request, f"已停用“{name}”的账号，其现有登录已失效。")
    return redirect("accounts:detail", pk=account.pk)


@login_required
@require_POST
def account_set_reveal(request, pk):
    account = _managed_account(request, pk)
    allowed = request.POST.get("allowed") == "1"
    try:
        services.account_set_reveal(actor=request.user, user=account, allowed=allowed, ip_address=client_ip(request))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "已授予个人信息查看权限。" if allowed else "已收回个人信息查看权限。")
    return redirect("accounts:detail", pk=account.pk)
