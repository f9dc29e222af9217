from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from units import views_home

urlpatterns = [
    path("", views_home.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("jobs/<int:pk>/", views_home.job_detail, name="job"),
    path("units/", include("units.urls")),
    path("accounts/", include("units.account_urls")),
    path("beneficiaries/", include("beneficiaries.urls")),
    path("payments/", include("beneficiaries.payment_urls")),
    path("activities/", include("activities.urls")),
    path("reports/", include("reports.urls")),
]
if settings.ADMIN_URL:
    urlpatterns.append(path(settings.ADMIN_URL, admin.site.urls))

handler403 = "units.views_home.permission_denied"
handler404 = "units.views_home.page_not_found"
handler500 = "units.views_home.server_error"
