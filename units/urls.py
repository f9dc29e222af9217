from django.urls import path

from . import group_views, import_views, pairing_views, plan_views, views

app_name = "units"

urlpatterns = [
    path("", views.unit_list, name="list"),
    path("new/", views.unit_create, name="create"),
    path("<int:pk>/", views.unit_detail, name="detail"),
    path("<int:pk>/edit/", views.unit_edit, name="edit"),
    path("<int:pk>/toggle-active/", views.unit_toggle_active, name="toggle_active"),
    # leading groups
    path("<int:pk>/group/", group_views.group_detail, name="group"),
    path("<int:pk>/group/new/", group_views.group_create, name="group_create"),
    path("<int:pk>/group/edit/", group_views.group_edit, name="group_edit"),
    path("<int:pk>/group/pdf/", group_views.group_pdf, name="group_pdf"),
    path("<int:pk>/group/members/new/", group_views.group_member_add, name="group_member_add"),
    path("<int:pk>/group/members/<int:member_pk>/adjust/", group_views.group_member_adjust, name="group_member_adjust"),
    path("<int:pk>/group/members/<int:member_pk>/end/", group_views.group_member_end, name="group_member_end"),
    # pairings
    path("pairings/", pairing_views.pairing_list, name="pairings"),
    path("pairings/new/", pairing_views.pairing_create, name="pairing_create"),
    path("pairings/<int:pk>/", pairing_views.pairing_detail, name="pairing"),
    path("pairings/<int:pk>/edit/", pairing_views.pairing_edit, name="pairing_edit"),
    path("pairings/<int:pk>/end/", pairing_views.pairing_end, name="pairing_end"),
    path("pairings/<int:pk>/agreements/new/", pairing_views.pairing_agreement_add, name="agreement_add"),
    path("agreements/<int:pk>/file/", pairing_views.agreement_file, name="agreement_file"),
    # annual plans
    path("plans/", plan_views.plan_overview, name="plans"),
    path("<int:pk>/plans/<int:year>/", plan_views.plan_detail, name="plan"),
    path("<int:pk>/plans/<int:year>/edit/", plan_views.plan_edit, name="plan_edit"),
    # import
    path("import/", import_views.unit_import, name="import"),
    path("import/template/", import_views.unit_import_template, name="import_template"),
]
