from django.urls import path

from . import change_views, import_views, views

app_name = "beneficiaries"

urlpatterns = [
    # list, person page, privacy
    path("", views.beneficiary_list, name="list"),
    path("<int:pk>/", views.beneficiary_detail, name="detail"),
    path("<int:pk>/reveal/<str:field>/", views.beneficiary_reveal, name="reveal"),
    path("access-log/", views.access_log, name="access_log"),
    # people, entitlements, 异动, transfers, annual confirmation, 公示
    path("new/", change_views.beneficiary_create, name="create"),
    path("<int:pk>/edit/", change_views.beneficiary_edit, name="edit"),
    path("<int:pk>/entitlements/new/", change_views.entitlement_add, name="entitlement_add"),
    path("entitlements/<int:pk>/awards/new/", change_views.award_add, name="award_add"),
    path("<int:pk>/changes/new/", change_views.change_add, name="change_add"),
    path("changes/<int:pk>/document/", change_views.change_document, name="change_document"),
    path("transfers/", change_views.transfers, name="transfers"),
    path("transfers/<int:pk>/accept/", change_views.transfer_accept, name="transfer_accept"),
    path("confirmation/", change_views.confirmation, name="confirmation"),
    path("notice/<int:village_pk>/pdf/", change_views.notice_pdf, name="notice_pdf"),
    # Excel in and out
    path("import/", import_views.beneficiary_import, name="import"),
    path("import/template/", import_views.beneficiary_import_template, name="import_template"),
    path("import/<int:pk>/", import_views.beneficiary_import_job, name="import_job"),
    path("import/<int:pk>/confirm/", import_views.beneficiary_import_confirm, name="import_confirm"),
    path("export/", import_views.beneficiary_export, name="export"),
    path("export/<int:pk>/download/", import_views.beneficiary_export_download, name="export_download"),
]
