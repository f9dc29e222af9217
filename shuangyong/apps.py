from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """The Django admin with the portal's own site: superusers only (shuangyong.admin_site)."""

    default_site = "shuangyong.admin_site.SuperuserAdminSite"
