from django.urls import path

from . import change_views, import_views, views

app_name = "beneficiaries"

urlpatterns = [
    # list, person page, privacy
    path("", views.not_built, name="list"),
    path("<int:pk>/", views.not_built, name="detail"),
    path("<int:pk>/reveal/<str:field>/", views.not_built, name="reveal"),
    path("access-log/", views.not_built, name="access_log"),
    # people, entitlements, 异动, transfers, annual confirmation, 公示
    path("new/", change_views.not_built, name="create"),
    path("<int:pk>/edit/", change_views.not_built, name="edit"),
    path("<int:pk>/entitlements/new/", change_views.not_built, name="entitlement_add"),
    path("entitlements/<int:pk>/awards/new/", change_views.not_built, name="award_add"),
    path("<int:pk>/changes/new/", change_views.not_built, name="change_add"),
    path("changes/<int:pk>/document/", change_views.not_built, name="change_document"),
    path("transfers/", change_views.not_built, name="transfers"),
    path("transfers/<int:pk>/accept/", change_views.not_built, name="transfer_accept"),
    path("confirmation/", change_views.not_built, name="confirmation"),
    path("notice/<int:village_pk>/pdf/", change_views.not_built, name="notice_pdf"),
    # Excel in and out
    path("import/", import_views.not_built, name="import"),
    path("import/template/", import_views.not_built, name="import_template"),
    path("export/", import_views.not_built, name="export"),
]
