from django.urls import path

from . import group_views, import_views, pairing_views, views

app_name = "units"

urlpatterns = [
    path("", views.unit_list, name="list"),
    path("new/", views.unit_create, name="create"),
    path("<int:pk>/", views.unit_detail, name="detail"),
    path("<int:pk>/edit/", views.unit_edit, name="edit"),
    path("<int:pk>/toggle-active/", views.unit_toggle_active, name="toggle_active"),
    # leading groups
    path("<int:pk>/group/", group_views.not_built, name="group"),
    # pairings
    path("pairings/", pairing_views.not_built, name="pairings"),
    path("pairings/<int:pk>/", pairing_views.not_built, name="pairing"),
    path("agreements/<int:pk>/file/", pairing_views.not_built, name="agreement_file"),
    # import
    path("import/", import_views.not_built, name="import"),
]
