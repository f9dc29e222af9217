"""Django admin for superusers only: staff accounts of the portal never see it."""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError


class SuperuserAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError("后台管理仅限系统管理员（超级用户）登录。", code="invalid_login")


class SuperuserAdminSite(AdminSite):
    site_header = "双拥工作管理平台 · 系统后台"
    site_title = "双拥工作管理平台后台"
    login_form = SuperuserAuthenticationForm

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser
