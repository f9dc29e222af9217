from django.urls import path

from . import budget_views, dashboard_views, import_views, log_views, views

app_name = "activities"

urlpatterns = [
    # the log
    path("", log_views.activity_list, name="list"),
    path("export/", log_views.activity_export, name="export"),
    path("occasions/", log_views.occasion_list, name="occasions"),
    path("occasions/<int:year>/<slug:occasion>/", log_views.occasion_detail, name="occasion"),
    # entry
    path("new/", views.activity_create, name="create"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/photos/", views.photo_add, name="photo_add"),
    path("<int:pk>/recipients/<int:recipient_pk>/correct/", views.recipient_correct, name="recipient_correct"),
    path("photos/<int:pk>/", views.photo_image, name="photo"),
    path("photos/<int:pk>/thumbnail/", views.photo_thumbnail, name="photo_thumbnail"),
    path("photos/<int:pk>/remove/", views.photo_remove, name="photo_remove"),
    path("recipient-search/", views.recipient_search, name="recipient_search"),
    path("unit-options/", views.unit_options, name="unit_options"),
    # import of past years
    path("import/", import_views.activity_import, name="import"),
    path("import/template/", import_views.activity_import_template, name="import_template"),
    # dashboard and 双拥经费
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("budget/", budget_views.budget_overview, name="budget"),
    path("budget/new/", budget_views.budget_create, name="budget_create"),
    path("budget/<int:pk>/edit/", budget_views.budget_edit, name="budget_edit"),
]
