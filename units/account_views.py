from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render

from .constants import AuditAction
from .models import UserProfile
from .services import audit_log


@login_required
def profile(request):
    memberships = request.user.memberships.select_related("unit")
    return render(request, "accounts/profile.html", {"memberships": memberships})


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if form.is_valid():
        user = form.save()
        UserProfile.objects.update_or_create(user=user, defaults={"must_change_password": False})
        update_session_auth_hash(request, user)
        audit_log(action=AuditAction.PASSWORD_CHANGED, actor=user, target=user, ip_address=request.META.get("REMOTE_ADDR"))
        messages.success(request, "密码已修改。")
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})
