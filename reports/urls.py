from django.urls import path

from . import completeness_views, summary_edit_views, summary_views, views

app_name = "reports"

urlpatterns = [
    path("quarterly/", views.report_list, name="quarterly"),
    path("quarterly/new/", views.report_create, name="report_create"),
    path("quarterly/<int:pk>/", views.report_detail, name="report"),
    path("quarterly/<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("quarterly/<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("quarterly/<int:pk>/return/", views.report_return, name="report_return"),
    path("quarterly/<int:pk>/accept/", views.report_accept, name="report_accept"),
    path("quarterly/<int:pk>/reopen/", views.report_reopen, name="report_reopen"),
    path("quarterly/<int:pk>/print/", views.report_print, name="report_print"),
    path("quarterly/<int:pk>/pdf/", views.report_pdf, name="report_pdf"),
    path("quarterly/<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("attachments/<int:pk>/", views.attachment_file, name="attachment"),
    path("attachments/<int:pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("completeness/", completeness_views.completeness, name="completeness"),
    path("completeness/export/", completeness_views.quarter_export, name="quarter_export"),
    path("settings/", completeness_views.reporting_settings, name="settings"),
    path("settings/units/", completeness_views.reporting_unit_set, name="reporting_unit_set"),
    path("settings/deadlines/", completeness_views.deadline_set, name="deadline_set"),
    # summaries: shape is annual, half or an occasion (army_day ...)
    path("summaries/", summary_views.summary_list, name="summaries"),
    path("summaries/<int:unit>/<int:year>/<slug:shape>/", summary_views.summary_detail, name="summary"),
    path("summaries/<int:unit>/<int:year>/<slug:shape>/pdf/", summary_views.summary_pdf, name="summary_pdf"),
    path("summaries/<int:unit>/<int:year>/<slug:shape>/xlsx/", summary_views.summary_xlsx, name="summary_xlsx"),
    path("summaries/<int:unit>/<int:year>/<slug:shape>/edit/", summary_edit_views.summary_edit, name="summary_edit"),
    path(
        "summaries/<int:unit>/<int:year>/<slug:shape>/finalize/",
        summary_edit_views.summary_finalize,
        name="summary_finalize",
    ),
    path("summaries/versions/<int:pk>/pdf/", summary_edit_views.version_pdf, name="version_pdf"),
]
